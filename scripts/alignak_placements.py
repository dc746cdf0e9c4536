#!/usr/bin/env python3
"""Reference data: which scheduler Alignak 2.1.5 places each host on.

For every entry of the Alignak 2.1.5 test corpus (``entries.json``) that
Alignak accepts (``alignak_verify_exit == 0``), this script loads the
configuration with Alignak's own code and records

    {"schedulers": {scheduler_name: realm_name},   # every scheduler Alignak ends up with
     "hosts":      {host_name: scheduler_name}}    # null if no scheduler got the host's part

and writes one JSON object keyed by the entry's ``cfg`` path (keys sorted,
indent 1).  An entry whose extraction fails is recorded as ``{"error": ...}``.

How Alignak is driven (no daemon is started, nothing is contacted)
------------------------------------------------------------------
Alignak is imported from a source tree given by ``--alignak-src`` or the
``ALIGNAK_SRC`` environment variable (e.g. ``/tmp/alk``, tag 2.1.5).  Under
Python >= 3.10 a tiny shim puts the ``collections.abc`` ABCs back into
``collections`` (Alignak 2.1.5 still uses ``collections.Callable`` & co.).

Each entry is processed in a fresh child process (the parent runs them one
after another, never in parallel), with the corpus root as working directory,
exactly like ``alignak-arbiter -a CFG -e ENV``:

1. ``alignak.util.parse_daemon_args(True)`` parses ``-a CFG -e ENV`` (the
   arbiter's own command-line parser, so the daemon name, Alignak name, ...
   get the command-line defaults) and an ``alignak.daemons.arbiterdaemon.Arbiter``
   is built from the result -- without ``-V`` so that loading does not stop
   right after the check, and without ``main()``, so no HTTP server, pid file
   or daemon is started.
2. ``Arbiter.load_monitoring_config_file()`` does everything the arbiter does
   at start-up: reads the ``.ini`` environment (whose daemons replace the cfg
   daemons of the same name), the legacy cfg files, builds and checks the
   objects, then ``Config.cut_into_parts()`` (hosts packs per realm, spread
   over the realm's schedulers) and ``daemons_start(run_daemons=False)`` (a
   pure check).  A ``SystemExit`` here (rejected configuration) is recorded
   as an error.
3. ``alignak.dispatcher.Dispatcher(conf, arbiter.link_to_myself)`` followed by
   ``Dispatcher.prepare_dispatch()`` assigns every configuration part of every
   realm to a scheduler.  This is what the arbiter does once its daemons are
   reachable (``Arbiter.configuration_dispatch``); the step itself only uses
   the links' ``need_conf`` flags, which the Dispatcher constructor sets on
   every link, so no liveness needs to be emulated (Alignak's unit tests call
   it the same way, see ``tests/alignak_test.py::setup_with_file``).  The
   actual sending (``check_reachable`` / ``dispatch``) is not called.
4. The placement is read back from ``realm.parts[..].scheduler_link`` and
   ``realm.parts[..].hosts``; a scheduler's realm is ``realms[link.realm]``.

Determinism
-----------
Alignak names every object with ``uuid.uuid4()`` and ``Config.create_packs``
sorts each realm's host packs by (the lists of) their host uuids before
spreading them round-robin over the realm's schedulers; pack contents also
follow the iteration order of a ``set`` of uuid pairs.  So in a realm with
more than one scheduler Alignak's own placement changes from run to run.  To
get reproducible reference data the child replaces ``uuid.uuid4`` by a
generator seeded with ``--seed`` (default 0) and runs with
``PYTHONHASHSEED=0``.  ``--seeds N`` runs every entry with seeds 0..N-1 and
reports (on stderr) the entries whose host -> scheduler map depends on the
seed, and the per-scheduler host counts seen; only seed 0 is written.

Usage:
    ALIGNAK_SRC=/tmp/alk /tmp/alk/venv/bin/python scripts/alignak_placements.py \
        [--corpus /work/shared/corpus/alignak-2.1.5] \
        [--out tests/data/alignak-2.1.5-placements.json] [--seeds N] [--only CFG ...]

The Python used must have Alignak's requirements installed (the venv above).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

DEFAULT_CORPUS = '/work/shared/corpus/alignak-2.1.5'
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           'tests', 'data', 'alignak-2.1.5-placements.json')
CHILD_TIMEOUT = 600


# --------------------------------------------------------------------------- child side

def _install_shims(seed):
    """collections.Callable & co. for Alignak 2.1.5 on recent Pythons, and a seeded uuid4."""
    import collections
    import collections.abc
    import random
    import uuid
    for name in ('Callable', 'Mapping', 'MutableMapping', 'Sequence', 'Iterable',
                 'MutableSet', 'Set', 'Hashable'):
        if not hasattr(collections, name):
            setattr(collections, name, getattr(collections.abc, name))

    rng = random.Random(seed)

    def seeded_uuid4():
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    uuid.uuid4 = seeded_uuid4


def _short(text, limit=300):
    text = ' '.join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + '...'


def child_main(alignak_src, cfg, env, seed, result_path, log_path):
    """Load one entry with Alignak, prepare the dispatch, dump the placement."""
    import logging
    _install_shims(seed)
    sys.path.insert(0, alignak_src)

    # Alignak logs a lot; keep it in a file for post-mortem, away from stdout.
    handler = logging.FileHandler(log_path, mode='w')
    handler.setFormatter(logging.Formatter('%(levelname)s %(name)s: %(message)s'))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)

    def write(obj):
        with open(result_path, 'w') as out:
            json.dump(obj, out)

    from alignak.util import parse_daemon_args
    from alignak.daemons.arbiterdaemon import Arbiter
    from alignak.dispatcher import Dispatcher

    saved_argv = sys.argv
    sys.argv = ['alignak-arbiter', '-a', cfg] + (['-e', env] if env else [])
    try:
        args = parse_daemon_args(True)
    finally:
        sys.argv = saved_argv
    # Keep logging in our file handler rather than the one of the env's logger json.
    arbiter = Arbiter(**args.__dict__)
    logging.getLogger('alignak').handlers[:] = []
    logging.getLogger('alignak').propagate = True
    logging.getLogger('alignak').setLevel(logging.INFO)

    try:
        arbiter.load_monitoring_config_file()
    except SystemExit as exp:
        errors = list(getattr(arbiter.conf, 'configuration_errors', []) or [])
        reason = 'configuration rejected by Alignak (exit %s)' % (exp.code,)
        if errors:
            reason += ': ' + errors[0]
        write({'error': _short(reason)})
        return
    if not getattr(arbiter.conf, 'conf_is_correct', False):
        write({'error': 'configuration not correct after loading'})
        return
    if arbiter.link_to_myself is None:
        write({'error': 'arbiter did not find itself in the configuration'})
        return

    conf = arbiter.conf
    dispatcher = Dispatcher(conf, arbiter.link_to_myself)
    dispatcher.prepare_dispatch()

    schedulers = {}
    for link in conf.schedulers:
        realm = conf.realms[link.realm] if link.realm in conf.realms else None
        schedulers[link.get_name()] = realm.get_name() if realm is not None else None

    hosts = {}
    problems = []
    for realm in conf.realms:
        for part in realm.parts.values():
            link = getattr(part, 'scheduler_link', None)
            sched = link.get_name() if (link is not None and part.is_assigned) else None
            for host in part.hosts:
                name = host.get_name()
                if name in hosts and hosts[name] != sched:
                    problems.append('host %s in several parts' % name)
                hosts[name] = sched
    missing = [h.get_name() for h in conf.hosts if h.get_name() not in hosts]
    result = {'schedulers': schedulers, 'hosts': hosts}
    if problems or missing:
        result = {'error': _short('; '.join(problems + ['host %s in no part' % m
                                                         for m in missing]))}
    write(result)


# --------------------------------------------------------------------------- parent side

def run_entry(python, alignak_src, corpus, entry, seed, logdir):
    fd, result_path = tempfile.mkstemp(prefix='alk-place-', suffix='.json')
    os.close(fd)
    os.unlink(result_path)
    safe = entry['cfg'].replace('/', '_')
    log_path = os.path.join(logdir, '%s.seed%d.log' % (safe, seed))
    cmd = [python, os.path.abspath(__file__), '--child',
           '--alignak-src', alignak_src, '--cfg', entry['cfg'],
           '--seed', str(seed), '--result', result_path, '--log', log_path]
    if entry.get('env'):
        cmd += ['--env', entry['env']]
    env = dict(os.environ, PYTHONHASHSEED='0')
    try:
        proc = subprocess.run(cmd, cwd=corpus, env=env, capture_output=True, text=True,
                              timeout=CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {'error': 'timeout after %d s' % CHILD_TIMEOUT}
    try:
        with open(os.path.join(logdir, '%s.seed%d.out' % (safe, seed)), 'w') as out:
            out.write(proc.stdout + proc.stderr)
        if os.path.exists(result_path):
            with open(result_path) as res:
                return json.load(res)
        tail = (proc.stderr or proc.stdout or '').strip().splitlines()
        return {'error': _short('child exited %d without result: %s'
                                % (proc.returncode, tail[-1] if tail else ''))}
    finally:
        if os.path.exists(result_path):
            os.unlink(result_path)


def counts(result):
    per = {name: 0 for name in result.get('schedulers', {})}
    for sched in result.get('hosts', {}).values():
        per[sched] = per.get(sched, 0) + 1
    return per


def parent_main(opts):
    alignak_src = opts.alignak_src or os.environ.get('ALIGNAK_SRC')
    if not alignak_src or not os.path.isdir(os.path.join(alignak_src, 'alignak')):
        sys.exit('give the Alignak 2.1.5 source tree with --alignak-src or ALIGNAK_SRC')
    alignak_src = os.path.abspath(alignak_src)
    corpus = os.path.abspath(opts.corpus)
    with open(os.path.join(corpus, 'entries.json')) as fin:
        entries = json.load(fin)
    entries = [e for e in entries if e['alignak_verify_exit'] == 0]
    if opts.only:
        entries = [e for e in entries if e['cfg'] in opts.only]
    logdir = opts.logdir or tempfile.mkdtemp(prefix='alignak-placements-')
    os.makedirs(logdir, exist_ok=True)

    output = {}
    varying = []
    for num, entry in enumerate(entries):
        results = [run_entry(opts.python, alignak_src, corpus, entry, seed, logdir)
                   for seed in range(max(1, opts.seeds))]
        output[entry['cfg']] = results[0]
        status = 'error: ' + results[0]['error'] if 'error' in results[0] else \
            '%d hosts, %s' % (len(results[0]['hosts']), counts(results[0]))
        print('[%d/%d] %s: %s' % (num + 1, len(entries), entry['cfg'], status),
              file=sys.stderr, flush=True)
        if len(results) > 1 and any(r != results[0] for r in results[1:]):
            seen = sorted({json.dumps(counts(r), sort_keys=True) for r in results})
            varying.append((entry['cfg'], seen))

    if opts.seeds > 1:
        print('\nentries whose placement depends on the uuid seed (%d seeds): %d'
              % (opts.seeds, len(varying)), file=sys.stderr)
        for cfg, seen in varying:
            print('  %s: host counts seen %s' % (cfg, ' | '.join(seen)), file=sys.stderr)

    os.makedirs(os.path.dirname(os.path.abspath(opts.out)), exist_ok=True)
    with open(opts.out, 'w') as fout:
        json.dump(output, fout, indent=1, sort_keys=True)
        fout.write('\n')
    print('wrote %s (%d entries, logs in %s)' % (opts.out, len(output), logdir), file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--alignak-src', help='Alignak 2.1.5 source tree (default $ALIGNAK_SRC)')
    parser.add_argument('--corpus', default=DEFAULT_CORPUS)
    parser.add_argument('--out', default=DEFAULT_OUT)
    parser.add_argument('--python', default=sys.executable,
                        help='interpreter for the per-entry children (default: this one)')
    parser.add_argument('--seeds', type=int, default=1,
                        help='also run seeds 1..N-1 and report seed-dependent placements')
    parser.add_argument('--only', nargs='*', help='restrict to these cfg paths')
    parser.add_argument('--logdir', help='where to keep the Alignak logs of each run')
    # child mode
    parser.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--cfg', help=argparse.SUPPRESS)
    parser.add_argument('--env', help=argparse.SUPPRESS)
    parser.add_argument('--seed', type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument('--result', help=argparse.SUPPRESS)
    parser.add_argument('--log', help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        child_main(opts.alignak_src, opts.cfg, opts.env, opts.seed, opts.result, opts.log)
    else:
        parent_main(opts)


if __name__ == '__main__':
    main()
