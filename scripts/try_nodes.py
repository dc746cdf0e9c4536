#!/usr/bin/env python3
"""Try it: the bundled example monitored for real, on this machine, and a failover.

Copies fixtures/example into a temporary directory as a *loopback variant*: every daemon at
127.0.0.1 on a free port and checked every second (dead after two failed pings), every host
at 127.0.0.1, every command `/bin/true` (so no check, notification or event handler touches
the network or sends mail). Builds the shard set, starts one `monitorc node` per daemon (real
Nagios 4 engines for the schedulers) and the arbiter, shows where the hosts run, kills the
node of scheduler-paris-1 and shows its spare taking over. Everything is stopped at the end.

Usage: scripts/try_nodes.py [--monitorc PATH] [--keep]
Needs nagios4 (`apt-get install nagios4-core`) and a built monitorc
(`cargo build --release`).
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DAEMONS = ("scheduler", "poller", "reactionner", "broker", "receiver", "arbiter")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loopback_copy(dst):
    """The example with daemons, hosts and commands made local; returns {daemon: port}."""
    src = os.path.join(ROOT, "fixtures", "example")
    shutil.copytree(src, dst)
    ports = {}
    block = re.compile(r"define\s+(\w+)\s*\{(.*?)\n\s*\}", re.S)
    for folder, _, files in os.walk(dst):
        for name in files:
            if not name.endswith(".cfg") or name == "resource.cfg":
                continue
            path = os.path.join(folder, name)
            text = open(path, encoding="utf-8", errors="surrogateescape").read()

            def local(m):
                kind, body = m.group(1), m.group(2)
                extra = ""
                if kind in DAEMONS:
                    n = re.search(r"^\s*%s_name\s+(\S+)" % kind, body, re.M)
                    if n and kind != "arbiter":
                        port = free_port()
                        ports["%s/%s" % (kind, n.group(1))] = port
                        extra = ("\n    address 127.0.0.1\n    port %d\n    check_interval 1\n"
                                 "    timeout 2\n    max_check_attempts 2" % port)
                elif kind == "host":
                    extra = "\n    address 127.0.0.1"
                elif kind == "command":
                    extra = "\n    command_line /bin/true"
                # Scalars: the last value wins.
                return "define %s {%s%s\n}" % (kind, body, extra)

            new = block.sub(local, text)
            open(path, "w", encoding="utf-8", errors="surrogateescape").write(new)
    return ports


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return json.load(r)
    except Exception:
        return None


def until(what, secs, cond):
    start = time.time()
    while not cond():
        if time.time() - start > secs:
            sys.exit("timed out waiting until %s" % what)
        time.sleep(0.2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--monitorc", default=os.path.join(ROOT, "target", "release", "monitorc"))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    if not os.path.exists("/usr/sbin/nagios4"):
        sys.exit("needs nagios4: apt-get install nagios4-core")
    work = tempfile.mkdtemp(prefix="monitorc-try-")
    procs = []
    try:
        tree = os.path.join(work, "example")
        ports = loopback_copy(tree)
        shards = os.path.join(work, "shards")
        subprocess.run([args.monitorc, "build", os.path.join(tree, "monitorc.cfg"), "-o", shards],
                       check=True, stdout=subprocess.DEVNULL)
        manifest_hosts = {}
        resource = os.path.join(work, "resource.cfg")
        open(resource, "w").write("$USER1$=/bin\n")
        root_opts = []
        if os.geteuid() == 0:
            # Run as root, Nagios would drop to `nagios`, who cannot enter this directory.
            root_opts = ["--engine-set", "nagios_user=root", "--engine-set", "nagios_group=root"]
        log = open(os.path.join(work, "daemons.log"), "w")
        for daemon, port in sorted(ports.items()):
            state = os.path.join(work, "nodes", daemon.replace("/", "-"))
            procs.append((daemon, subprocess.Popen(
                [args.monitorc, "node", "--listen", "127.0.0.1:%d" % port, "--state", state,
                 "--resource-file", resource, "--status-interval", "1"] + root_opts,
                stderr=log)))
        arbiter_port = free_port()
        procs.append(("arbiter", subprocess.Popen(
            [args.monitorc, "arbiter", shards, "--listen", "127.0.0.1:%d" % arbiter_port],
            stderr=log)))
        arbiter = "http://127.0.0.1:%d" % arbiter_port

        def status():
            return get(arbiter + "/v1/status")

        def loaded():
            s = status()
            return s is not None and all(x["loaded"] for x in s["shards"])

        until("every daemon runs its shard", 60, loaded)
        s = status()
        print("%d daemons, %d shards, all loaded:" % (len(s["daemons"]), len(s["shards"])))
        for shard in s["shards"]:
            print("  %-36s on %s" % (shard["shard"], shard["holder"]))
        for daemon, port in sorted(ports.items()):
            if daemon.startswith("scheduler/"):
                p = get("http://127.0.0.1:%d/v1/ping" % port) or {}
                engine = p.get("engine", {})
                print("  node %-30s engine %-8s pid %s" % (daemon, engine.get("state"), engine.get("pid")))
        victim = "scheduler/scheduler-paris-1"
        print("\nkilling the node of %s (its Nagios dies with it)" % victim)
        killed = time.time()
        for daemon, p in procs:
            if daemon == victim:
                p.send_signal(signal.SIGKILL)

        def taken_over():
            s = status()
            if s is None:
                return False
            shard = [x for x in s["shards"] if x["shard"] == victim][0]
            return shard["holder"] not in (None, victim) and shard["loaded"]

        until("the spare runs the shard", 60, taken_over)
        shard = [x for x in status()["shards"] if x["shard"] == victim][0]
        print("%s now runs on %s, %.1f s after the kill" % (victim, shard["holder"], time.time() - killed))
        spare = shard["holder"].split("/", 1)[1]
        spare_dir = os.path.join(work, "nodes", "scheduler-" + spare)
        until("the spare's engine writes its status", 30,
              lambda: os.path.exists(os.path.join(spare_dir, "engine", "status.dat")))
        hosts = open(os.path.join(spare_dir, "engine", "status.dat")).read().count("hoststatus {")
        print("the spare's Nagios runs %d hosts" % hosts)
        print("\nlogs: %s" % os.path.join(work, "daemons.log") if args.keep else "")
    finally:
        for _, p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for _, p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
