#!/usr/bin/env python3
"""Replays a corpus directory through CPython's pickle.loads and through
`shelfctl decode`, and compares the two where both accept the bytes.

Usage: tests/fuzz/cpython_oracle.py SHELFCTL DIR [DIR...] [--show N]

CPython is the oracle the fuzz targets cannot have in-process: for every
file, pickle.loads (the C _pickle) runs under a find_class that resolves
only the data constructors the engine builds natively (the same list as
pickle/internal/data_constructors.cc) and refuses every other global, and
with no persistent_load: exactly what `shelfctl decode` (policy data_only)
accepts. Nothing else is ever resolved, so a hostile corpus is safe to
replay. CPython runs with a 4 GB address-space limit and 10 s per input.

Outcomes per file:
  equal        both load it, same value
  DIFFERENT    both load it, different values (a bug on one side)
  only-cpython CPython loads it, shelfctl refuses
  only-shelf   shelfctl loads it, CPython refuses
  both-refuse  neither loads it
Values are compared by evaluating shelfctl's repr and comparing with
CPython's value (order-insensitive for sets, NaN equal to NaN); where the
repr cannot be evaluated, the two reprs are compared as text.
Exit status: 1 if any file is DIFFERENT, else 0. only-* outcomes are
listed for review (CPython accepts things a strict loader may refuse, such
as a STOP with a MARK still open, and the reverse) but do not fail.
"""
import _compat_pickle
import collections
import io
import math
import os
import pickle
import resource
import signal
import subprocess
import sys

DATA_CTORS = {
    ('builtins', n) for n in ('bool', 'bytearray', 'bytes', 'complex', 'dict', 'float', 'frozenset', 'int',
                              'list', 'set', 'str', 'tuple')
} | {('_codecs', 'encode'), ('collections', 'OrderedDict'), ('copyreg', '_reconstructor')}


class Refused(Exception):
    pass


class DataOnlyUnpickler(pickle.Unpickler):
    def __init__(self, data):
        super().__init__(io.BytesIO(data))
        # The C Unpickler does not show its protocol to find_class: the
        # leading PROTO says it (a later PROTO is rare enough to ignore).
        self.protocol = data[1] if data[:1] == b'\x80' and len(data) > 1 else 0

    def find_class(self, module, name):
        mapped = (module, name)
        if self.protocol < 3:
            if mapped in _compat_pickle.NAME_MAPPING:
                mapped = _compat_pickle.NAME_MAPPING[mapped]
            elif module in _compat_pickle.IMPORT_MAPPING:
                mapped = (_compat_pickle.IMPORT_MAPPING[module], name)
        if mapped not in DATA_CTORS:
            raise Refused('%s.%s' % mapped)
        return super().find_class(module, name)


def cpython_load(data):
    return DataOnlyUnpickler(data).load()


def same(a, b, depth=0):
    """Deep equality: NaN equals NaN, kinds must match, sets unordered."""
    if depth > 200:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, complex):
        return same(a.real, b.real) and same(a.imag, b.imag)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y, depth + 1) for x, y in zip(a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(same(x, y, depth + 1) for x, y in zip(a.items(), b.items()))
    return a == b


def evaluate(text):
    names = {'__builtins__': {}, 'nan': float('nan'), 'inf': float('inf'), 'set': set, 'frozenset': frozenset,
             'bytearray': bytearray, 'OrderedDict': collections.OrderedDict}
    return eval(text, names)


def timeout(signum, frame):
    raise TimeoutError('CPython took more than 10 s')


def main():
    args = sys.argv[1:]
    show = 20
    if '--show' in args:
        i = args.index('--show')
        show = int(args[i + 1])
        del args[i:i + 2]
    if len(args) < 2:
        sys.exit(__doc__)
    shelfctl, dirs = args[0], args[1:]
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
    signal.signal(signal.SIGALRM, timeout)
    sys.setrecursionlimit(20000)
    counts = collections.Counter()
    listed = collections.defaultdict(list)
    for d in dirs:
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            with open(path, 'rb') as f:
                data = f.read()
            ours_value = cpython_ok = None
            # The alarm may fire anywhere in here, the handling of another
            # error included: it is caught once, outside.
            try:
                signal.alarm(10)
                try:
                    value = cpython_load(data)
                    cpython_ok = True
                    cpython_repr = repr(value)
                except (Exception, RecursionError) as e:
                    cpython_ok = False
                    cpython_error = '%s: %s' % (type(e).__name__, str(e)[:200])
                finally:
                    signal.alarm(0)
            except TimeoutError as e:
                cpython_ok = False
                cpython_error = str(e)
            r = subprocess.run([shelfctl, 'decode', path], capture_output=True)
            ours_ok = r.returncode == 0
            ours = r.stdout.decode('utf-8', 'surrogateescape').rstrip('\n')
            if cpython_ok and ours_ok:
                if ours == cpython_repr:
                    outcome = 'equal'
                else:
                    try:
                        ours_value = evaluate(ours)
                        outcome = 'equal' if same(value, ours_value) else 'DIFFERENT'
                    except Exception:
                        outcome = 'DIFFERENT'
                detail = 'cpython: %s\n    shelf:   %s' % (cpython_repr[:300], ours[:300])
            elif cpython_ok:
                outcome = 'only-cpython'
                detail = 'cpython: %s\n    shelf:   %s' % (cpython_repr[:300], r.stderr.decode(errors='replace')[:300])
            elif ours_ok:
                outcome = 'only-shelf'
                detail = 'cpython: %s\n    shelf:   %s' % (cpython_error, ours[:300])
            else:
                outcome = 'both-refuse'
                detail = ''
            counts[outcome] += 1
            if outcome != 'equal' and outcome != 'both-refuse':
                listed[outcome].append('%s\n    %s' % (path, detail))
    total = sum(counts.values())
    print('cpython_oracle: %d inputs: %s' % (total, ', '.join('%s %d' % kv for kv in sorted(counts.items()))))
    for outcome in ('DIFFERENT', 'only-cpython', 'only-shelf'):
        for line in listed[outcome][:show]:
            print('%s %s' % (outcome, line))
        if len(listed[outcome]) > show:
            print('%s ... %d more' % (outcome, len(listed[outcome]) - show))
    return 1 if counts['DIFFERENT'] else 0


if __name__ == '__main__':
    sys.exit(main())
