#!/usr/bin/env python3
"""Verdict fuzz against Nagios 4: mutants of a tree, each checked by `nagios4 -v` and by
`monitorc check --engine nagios`; prints how many get the same verdict (accepted by both or
refused by both) and the mutations that disagree, grouped by kind.

    scripts/verdict_fuzz.py TREE_DIR MAIN_CFG [--count N] [--seed S] [--monitorc BIN]

TREE_DIR is copied once per mutant into a scratch folder; MAIN_CFG is the main config
relative to it. Use a tree whose paths are relative (the bench generator's, or a copy of
Debian's sample with its cfg_file paths rewritten). Only `nagios4 -v` is run: it reads the
configuration and executes no check.
"""

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict

ATTR = re.compile(r"^(\s+)(\S+)(\s+)(.*)$")


def mutate(lines, rnd):
    """One mutation of one file's lines: (kind, new lines)."""
    attrs = [i for i, l in enumerate(lines) if ATTR.match(l) and not l.strip().startswith(("#", ";"))]
    defines = [i for i, l in enumerate(lines) if l.lstrip().startswith("define ")]
    kind = rnd.choice(
        ["drop-line", "typo-value", "typo-key", "dup-block", "bool-word", "drop-close", "plus-value", "unknown-attr"]
    )
    out = list(lines)
    if kind == "drop-line" and attrs:
        del out[rnd.choice(attrs)]
    elif kind == "typo-value" and attrs:
        i = rnd.choice(attrs)
        m = ATTR.match(out[i])
        out[i] = f"{m.group(1)}{m.group(2)}{m.group(3)}{m.group(4)}x"
    elif kind == "typo-key" and attrs:
        i = rnd.choice(attrs)
        m = ATTR.match(out[i])
        out[i] = f"{m.group(1)}{m.group(2)}x{m.group(3)}{m.group(4)}"
    elif kind == "dup-block" and defines:
        s = rnd.choice(defines)
        e = next((j for j in range(s, len(out)) if out[j].strip() == "}"), None)
        if e is not None:
            out[e + 1 : e + 1] = out[s : e + 1]
    elif kind == "bool-word" and attrs:
        i = rnd.choice(attrs)
        m = ATTR.match(out[i])
        if m.group(4).strip() in ("0", "1"):
            out[i] = f"{m.group(1)}{m.group(2)}{m.group(3)}{'yes' if m.group(4).strip() == '1' else 'no'}"
        else:
            return mutate(lines, rnd)
    elif kind == "drop-close":
        closes = [i for i, l in enumerate(out) if l.strip() == "}"]
        if closes:
            del out[rnd.choice(closes)]
    elif kind == "plus-value" and attrs:
        i = rnd.choice(attrs)
        m = ATTR.match(out[i])
        out[i] = f"{m.group(1)}{m.group(2)}{m.group(3)}+{m.group(4)}"
    elif kind == "unknown-attr" and defines:
        out.insert(rnd.choice(defines) + 1, "    poller_tag  x")
    else:
        return mutate(lines, rnd)
    return kind, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tree")
    ap.add_argument("main")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--monitorc", default="target/release/monitorc")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    files = []
    for root, _, names in os.walk(a.tree):
        files += [os.path.relpath(os.path.join(root, n), a.tree) for n in names if n.endswith(".cfg")]
    files.sort()
    files = [f for f in files if f != a.main]
    agree = 0
    by_kind = Counter()
    disagree = defaultdict(list)
    scratch = tempfile.mkdtemp()
    # Nagios reads the tree as its own user once it has dropped root.
    os.chmod(scratch, 0o755)
    try:
        for n in range(a.count):
            work = os.path.join(scratch, "t")
            shutil.rmtree(work, ignore_errors=True)
            shutil.copytree(a.tree, work)
            f = rnd.choice(files)
            path = os.path.join(work, f)
            with open(path, encoding="utf-8", errors="surrogateescape") as fh:
                lines = fh.read().split("\n")
            kind, new = mutate(lines, rnd)
            with open(path, "w", encoding="utf-8", errors="surrogateescape") as fh:
                fh.write("\n".join(new))
            by_kind[kind] += 1
            nag = subprocess.run(["nagios4", "-v", a.main], cwd=work, capture_output=True, text=True)
            mc = subprocess.run(
                [os.path.abspath(a.monitorc), "check", a.main, "--engine", "nagios", "--format", "short"],
                cwd=work,
                capture_output=True,
                text=True,
            )
            n_ok, m_ok = nag.returncode == 0, mc.returncode == 0
            if n_ok == m_ok:
                agree += 1
            else:
                errs = [l.strip() for l in nag.stdout.splitlines() if "Error" in l][:2]
                mine = [l for l in mc.stdout.splitlines() if "error[" in l][:2]
                disagree[kind].append((n, f, "nagios accepts" if n_ok else "nagios refuses", errs, mine))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"{agree} of {a.count} mutants get the same verdict ({100.0 * agree / a.count:.1f} %)")
    print("mutations:", dict(by_kind))
    for kind, cases in sorted(disagree.items()):
        print(f"\n{kind}: {len(cases)} disagree")
        for n, f, verdict, errs, mine in cases[:4]:
            print(f"  #{n} {f}: {verdict}; nagios {errs}; monitorc {mine}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
