# Python 2.7. Loads a configuration with Shinken 2.4.3's own configuration code, in-process, and
# prints its verdict as JSON: {"correct": bool, "hosts": N, "services": N, "errors": [...]}.
#
#   SHINKEN_SRC=DIR python2.7 scripts/shinken_verdict.py MAIN.cfg
#
# DIR holds the `shinken` package (the Shinken-2.4.3 sdist from PyPI, unpacked). The steps are
# those of Shinken's arbiter when it loads a configuration (`Arbiter.load_config_file`), without
# modules, daemons or network: pycurl and the HTTP client are replaced by inert stand-ins, which
# only the daemon links use.
import json
import logging
import os
import sys
import types

sys.path.insert(0, os.environ['SHINKEN_SRC'])


class _Inert(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return lambda *args, **kwargs: None


sys.modules['pycurl'] = _Inert('pycurl')
_http = types.ModuleType('shinken.http_client')


class _HTTPError(Exception):
    pass


class _HTTPClient(object):
    def __init__(self, *args, **kwargs):
        pass


_http.HTTPExceptions = _HTTPError
_http.HTTPException = _HTTPError
_http.HTTPClient = _HTTPClient
sys.modules['shinken.http_client'] = _http

from shinken.log import logger  # noqa: E402

messages = []


class _Collect(logging.Handler):
    def emit(self, record):
        if record.levelno >= logging.ERROR:
            messages.append(record.getMessage())


logger.handlers = [_Collect()]
logger.setLevel(logging.WARNING)

from shinken.objects.config import Config  # noqa: E402

STEPS = [
    'early_arbiter_linking', 'create_objects', 'load_triggers', 'linkify_templates',
    'apply_inheritance', 'explode', 'apply_implicit_inheritance', 'fill_default',
    'remove_templates', 'compute_hash', 'override_properties', 'linkify', 'apply_dependencies',
    'set_initial_state', 'hack_old_nagios_parameters', 'explode_global_conf',
    'propagate_timezone_option', 'create_business_rules', 'create_business_rules_dependencies',
    'is_correct',
]


def main():
    conf = Config()
    conf.read_config_silent = 1
    result = {'correct': True, 'reason': ''}
    try:
        raw = conf.read_config_buf(conf.read_config([os.path.abspath(sys.argv[1])]))
        conf.create_objects_for_type(raw, 'arbiter')
        conf.create_objects_for_type(raw, 'module')
        for step in STEPS:
            if step == 'create_objects':
                conf.create_objects(raw)
                if not conf.conf_is_correct:
                    raise SystemExit('create_objects')
            else:
                getattr(conf, step)()
        result['correct'] = bool(conf.conf_is_correct)
    except SystemExit as e:
        result['correct'] = False
        result['reason'] = str(e)
    except Exception as e:  # Shinken crashes on some inputs: that is a refusal too
        result['correct'] = False
        result['reason'] = 'exception %s: %s' % (type(e).__name__, e)
    result['hosts'] = len(getattr(conf, 'hosts', []) or [])
    result['services'] = len(getattr(conf, 'services', []) or [])
    result['errors'] = messages[:20]
    print(json.dumps(result, sort_keys=True))


main()
