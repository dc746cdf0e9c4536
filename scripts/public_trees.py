#!/usr/bin/env python3
"""Compares `nagios4 -v` with `monitorc check --engine nagios` on administrators' public trees.

    scripts/public_trees.py ROOT [MONITORC]

ROOT holds one folder per tree, each with a `monitorc-main.cfg` (a main config of `cfg_file=` /
`cfg_dir=` lines naming the tree's object files, and `zz-missing.cfg` for objects the tree
references but does not publish). `scripts/public-trees.tsv` lists the trees measured (GitHub
repository, commit, folder): fetch each, unpack it under ROOT/NAME, write its main config.
Files must be readable by the `nagios` user (Nagios drops root). Nagios only verifies (`-v`):
no check is run.

Prints, per tree, both verdicts and the object counts Nagios prints, and a last line with how
many trees agree (same verdict and, where both accept, the same counts).
"""
import json
import os
import subprocess
import sys

NAGIOS = "/usr/sbin/nagios4"
# `nagios4 -v` count words -> monitorc summary keys.
COUNTS = {
    "services": "services",
    "hosts": "hosts",
    "host groups": "hostgroups",
    "service groups": "servicegroups",
    "contacts": "contacts",
    "contact groups": "contactgroups",
    "commands": "commands",
    "time periods": "timeperiods",
    "host escalations": "hostescalations",
    "service escalations": "serviceescalations",
    "host dependencies": "hostdependencies",
    "service dependencies": "servicedependencies",
}


def nagios(main):
    out = subprocess.run([NAGIOS, "-v", main], capture_output=True, text=True, errors="replace")
    counts = {}
    for line in out.stdout.splitlines():
        words = line.strip().rstrip(".").split()
        if len(words) >= 3 and words[0] == "Checked" and words[1].isdigit():
            counts[" ".join(words[2:])] = int(words[1])
    errors = [l.strip() for l in out.stdout.splitlines() if l.startswith("Error")]
    return out.returncode == 0, counts, errors


def monitorc(binary, main):
    out = subprocess.run([binary, "check", main, "--engine", "nagios", "--format", "json"],
                         capture_output=True, text=True, errors="replace")
    doc = json.loads(out.stdout)
    errors = ["%s %s" % (d["code"], d["message"]) for d in doc["diagnostics"]
              if d["severity"] == "error"]
    return not errors, doc["summary"], errors


def main():
    root = sys.argv[1]
    binary = sys.argv[2] if len(sys.argv) > 2 else "target/release/monitorc"
    agree = total = 0
    for name in sorted(os.listdir(root)):
        cfg = os.path.join(root, name, "monitorc-main.cfg")
        if not os.path.isfile(cfg):
            continue
        total += 1
        n_ok, n_counts, n_errors = nagios(cfg)
        m_ok, summary, m_errors = monitorc(binary, cfg)
        diffs = []
        if n_ok != m_ok:
            diffs.append("verdict: nagios %s, monitorc %s" % (
                "accepts" if n_ok else "refuses", "accepts" if m_ok else "refuses"))
        elif n_ok:
            for word, key in COUNTS.items():
                if word in n_counts and n_counts[word] != summary.get(key):
                    diffs.append("%s: nagios %d, monitorc %s" % (key, n_counts[word], summary.get(key)))
        agree += not diffs
        print("%-14s nagios %-7s monitorc %-7s hosts %5s services %5s  %s" % (
            name, "accepts" if n_ok else "refuses", "accepts" if m_ok else "refuses",
            n_counts.get("hosts", summary.get("hosts")),
            n_counts.get("services", summary.get("services")),
            "agree" if not diffs else "; ".join(diffs)))
        if diffs:
            for e in n_errors[:2]:
                print("    nagios:   %s" % e[:160])
            for e in m_errors[:2]:
                print("    monitorc: %s" % e[:160])
    print("%d of %d trees agree" % (agree, total))


if __name__ == "__main__":
    main()
