#!/usr/bin/env python3
"""Writes the seed corpora of the libFuzzer targets (tests/fuzz/*.cc).

Usage: tests/fuzz/make_corpus.py OUTDIR

OUTDIR/pickles/   seeds of the pickle targets (load under each policy,
                  noload, dis, roundtrip):
  - CPython 3 pickles of varied values (scalars, containers, sharing and
    cycles, instances of classes using every __reduce__ form, datetime,
    Decimal, OrderedDict, PickleBuffer in and out of band, persistent ids,
    streams of several dumps) at protocols 0-5;
  - the same kind of values pickled by Python 2.7 (PYENV_VERSION=2.7.18),
    skipped with a message if it is not installed;
  - pickletester's DATA0..DATA6 and its malformed pickles (from the test
    tables generated from it: tests/pickle/pickletester_*.inc);
  - every pickle of tests/pickle/codec_cases.inc and dis_vectors.inc, and
    the hostile set of tests/pickle/hostile_vectors.inc.
OUTDIR/literals/  seeds of fuzz_literal: Python literals of the same values,
                  the literals of codec_cases.inc, odd spellings (prefixes,
                  escapes, underscores, implicit concatenation) and
                  malformed ones.

Files are named by the SHA-1 of their content, as libFuzzer names corpus
files, so regenerating is idempotent. The corpora are not committed (a few
MB); the regression inputs in tests/fuzz/regressions/ are, and
run_fuzzers.sh passes them as seeds too.
"""
import hashlib
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Values, pickled by python3 and python2 alike: a script run by either
# interpreter that prints one "<hex>" line per pickle, and "L <repr>" lines
# for literals.
VALUES_SCRIPT = r'''
import pickle, sys, collections, datetime, decimal, fractions
PY3 = sys.version_info[0] >= 3
if PY3:
    import copyreg
else:
    import copy_reg as copyreg
    chr = unichr
    range = xrange

out = []
def emit(b):
    out.append(b)

class Plain(object):
    def __init__(self):
        self.a = 1
        self.b = [1, 2]

class Slots(object):
    __slots__ = ('x', 'y')
    def __init__(self):
        self.x = 1
        self.y = 'two'

class WithReduce(object):
    def __reduce__(self):
        return (WithReduce, (), {'state': 1}, iter([1, 2]), iter([('k', 'v')]))

class WithNewArgs(object):
    def __new__(cls, *args):
        return object.__new__(cls)
    def __getnewargs__(self):
        return (1, 'x')

class WithNewArgsEx(object):
    def __new__(cls, *args, **kw):
        return object.__new__(cls)
    def __getnewargs_ex__(self):
        return ((1,), {'k': 2})

class Old:
    def __init__(self):
        self.v = 5

class Old2:
    def __getinitargs__(self):
        return (1, 2)
    def __init__(self, a=0, b=0):
        self.a = a

class ListSub(list):
    pass

class DictSub(dict):
    pass

big = 2 ** 64
values = [None, True, False, 0, 1, -1, 127, 128, 255, 256, 65535, 65536, 2 ** 31 - 1, -2 ** 31,
          2 ** 31, 2 ** 63 - 1, -2 ** 63, 2 ** 63, big, -big, 3 ** 100, -(7 ** 200), 1.5, -0.0,
          float('inf'), -float('inf'), float('nan'), 1e300, 5e-324, 0.1, 3 + 4j, -1j, b'', b'abc',
          bytes(bytearray(range(256))), bytearray(b'xy'), u'', u'abc', u'caf\xe9', u'\u20ac',
          u'a\nb\\c"\'', u'\x00\x7f\x80\xff', (), (1,), (1, 2), (1, 2, 3), tuple(range(10)), [],
          [1, [2, [3]]], {}, {'a': 1, 'b': [1, 2]}, {1: 2, (1, 2): 'x'}, set(), set([1, 2, 3]),
          frozenset(), frozenset(['a']), list(range(1005)), 'x' * 300, b'y' * 300,
          dict((i, str(i)) for i in range(1002)), set(range(1003)),
          collections.OrderedDict([('a', 1), ('b', 2)]), collections.deque([1, 2]),
          collections.defaultdict(list, {'a': [1]}), collections.Counter('abca'),
          datetime.date(2025, 1, 2), datetime.datetime(2025, 1, 2, 3, 4, 5, 6),
          datetime.timedelta(days=1, seconds=2), decimal.Decimal('1.25'), fractions.Fraction(1, 3),
          Plain(), Slots(), WithReduce(), WithNewArgs(), Old(), Old2(), ListSub([1, 2]),
          DictSub(a=1), complex, len, Plain, Exception('boom'), ValueError(1, 2),
          slice(1, 2, 3), range(5) if PY3 else xrange(5)]
if PY3:
    values += [WithNewArgsEx(), u'\U0001f600', u'\ud800', b'z' * 70, u'y' * 300,
               bytearray(b'q' * 300)]
shared = [1, 2]
values.append([shared, shared, (shared,)])
rec = []
rec.append(rec)
values.append(rec)
d = {}
d['self'] = d
values.append(d)
t = ([],)
t[0].append(t)
values.append(t)
inst = Plain()
inst.me = inst
values.append(inst)
deep = []
for _ in range(200):
    deep = [deep]
values.append(deep)
deep_t = ()
for _ in range(50):
    deep_t = (deep_t, 1)
values.append(deep_t)

for v in values:
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        try:
            emit(pickle.dumps(v, proto))
        except Exception:
            pass

# Streams: one Pickler, several dumps sharing the memo.
import io
for proto in range(pickle.HIGHEST_PROTOCOL + 1):
    f = io.BytesIO()
    p = pickle.Pickler(f, proto)
    p.dump(shared)
    p.dump([shared, 'x'])
    p.dump(shared)
    emit(f.getvalue())

# Persistent ids.
class PidPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Plain):
            return 'key:%d' % obj.a
        if isinstance(obj, Slots):
            return ('tuple', 1)
        return None
for proto in range(pickle.HIGHEST_PROTOCOL + 1):
    f = io.BytesIO()
    PidPickler(f, proto).dump([Plain(), Slots(), 3])
    emit(f.getvalue())

# Protocol 5 buffers, in band and out of band.
if sys.version_info >= (3, 8):
    buf = pickle.PickleBuffer(b'xyz')
    wbuf = pickle.PickleBuffer(bytearray(b'abcd'))
    emit(pickle.dumps([buf, wbuf], 5))
    emit(pickle.dumps([buf, wbuf, buf], 5, buffer_callback=lambda b: False))
    emit(pickle.dumps(wbuf, 5, buffer_callback=lambda b: False))

# Python 2 str at protocols 0-2 (Python 3 writes bytes differently).
if not PY3:
    for s in ['', 'abc', '\x00\xff' * 3, 'x' * 300]:
        for proto in range(3):
            emit(pickle.dumps(s, proto))

for b in out:
    sys.stdout.write(b.hex() if PY3 else b.encode('hex'))
    sys.stdout.write('\n')
'''

LITERALS_SCRIPT = r'''
import sys
values = [None, True, False, 0, 1, -1, 255, 2**31, 2**64, -2**63, 3**100, 1.5, -0.0, 0.1, 1e300,
          5e-324, 1e16, 3+4j, -1j, 1j, b'', b'abc', bytes(range(256)), '', 'abc', 'caf\xe9',
          '\u20ac', '\U0001f600', 'a\nb\\c"\'', '\ud800', '\x00\x7f', (), (1,), (1, 2), [],
          [1, [2, [3]]], {}, {'a': 1, 'b': [1, 2]}, {1: 2, (1, 2): 'x'}, {1, 2, 3},
          [1.0, 2, True, None, 'x', b'y', (1j,)]]
for v in values:
    print(repr(v))
'''

EXTRA_LITERALS = [
    "0x_ff", "0o17", "0b1010", "1_000_000", "0_0", "00", "1e5", "1E-5", ".5", "5.", "1_0.0_1e+1_0",
    "1J", "1.5j", "-1+2j", "+1-2j", "-(1)", "- 1", "--1", "+-1", "-1-0j", "1+1j+1j", "(1+2j)",
    "'a' 'b'", "b'a' b'b'", "'a' b'b'", "r'\\n'", "R'\\x'", "rb'\\0'", "Br'x'", "u'x'", "U'x'",
    "f'x'", "'''tri\nple'''", '"""a"b"""', "'\\N{BULLET}'", "'\\N{bad}'", "'\\u20ac\\U0001F600\\x41\\101'",
    "b'\\u20ac'", "'\\q'", "'\\\nx'", "[1,\n 2,  # comment\n 3]", "(\n1\n)", "1 \\\n+ 2j",
    "{1: 2, 1: 3}", "{1, 1.0, True}", "{(): [], '': {}}", "{**x}", "[*x]", "(1,)", "(,)", "()",
    "[,]", "{,}", "{:}", "1 if 2 else 3", "x", "None.x", "True()", "(1)(2)", "[1][0]", "1 + 1",
    "1 * 2", "not 1", "set()", "frozenset()", "'a' + 'b'", "9" * 5000, "0x" + "f" * 5000,
    "[" * 300 + "]" * 300, "(" * 600 + ")" * 600, "[" * 50, "'unterminated", "'''unterminated",
    "\x00", "\xff", "\t1", "  1  ", "1 2", "# only a comment", "", "\n", "1\n2", "1;2", "1,",
    "1,2", "'\\x4'", "'\\777'", "b'\\xff\\x00'", "b'\xc3\xa9'", "'\udcff'", "0_", "1__0", "1e",
    "0b2", "0o8", "09", "1.2.3", "1jj", "inf", "nan", "-inf",
]

# C string literals ("...") of the generated test tables, decoded.
C_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def c_unescape(s):
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c != '\\':
            out += c.encode('latin-1')
            i += 1
            continue
        n = s[i + 1]
        if n in '01234567':
            j = i + 1
            while j < len(s) and j < i + 4 and s[j] in '01234567':
                j += 1
            out.append(int(s[i + 1:j], 8) & 0xff)
            i = j
        elif n == 'x':
            j = i + 2
            while j < len(s) and s[j] in '0123456789abcdefABCDEF':
                j += 1
            out.append(int(s[i + 2:j], 16) & 0xff)
            i = j
        else:
            out += {'n': b'\n', 't': b'\t', 'r': b'\r', '0': b'\0', '\\': b'\\', '"': b'"',
                    "'": b"'", '?': b'?'}[n]
            i += 2
    return bytes(out)


def read(rel):
    path = os.path.join(ROOT, rel)
    if not os.path.exists(path):
        print('make_corpus: %s missing, skipped' % rel, file=sys.stderr)
        return ''
    with open(path, encoding='latin-1') as f:
        return f.read()


def table_pickles():
    found = []
    # pickletester cases and data: {"...."sv, ...}: first C string of a row.
    for rel in ('tests/pickle/pickletester_cases.inc', 'tests/pickle/pickletester_data.inc'):
        for line in read(rel).splitlines():
            if not line.startswith('{'):
                continue
            strings = [m.group(1) for m in C_STRING.finditer(line)]
            if not strings:
                continue
            # data rows are {"DATA0", "bytes"sv}: the bytes are the last string.
            raw = strings[-1] if rel.endswith('_data.inc') else strings[0]
            found.append(c_unescape(raw))
    # hex rows: codec cases, dis vectors, hostile vectors.
    for rel in ('tests/pickle/codec_cases.inc', 'tests/pickle/dis_vectors.inc',
                'tests/pickle/hostile_vectors.inc'):
        for m in re.finditer(r'"((?:[0-9a-f]{2})+)"', read(rel)):
            found.append(bytes.fromhex(m.group(1)))
    return found


def table_literals():
    text = read('tests/pickle/codec_cases.inc')
    found = []
    for m in re.finditer(r'CODEC_CASE\(\w+, \w+,\s*\n\s*"((?:[^"\\]|\\.)*)"', text):
        found.append(c_unescape(m.group(1)))
    return found


def run(version, script):
    if version:
        # pyenv's binary itself: under a running python3 the `python` shim
        # may resolve to that python3, whatever PYENV_VERSION says.
        root = os.environ.get('PYENV_ROOT', os.path.expanduser('~/.pyenv'))
        cmd = [os.path.join(root, 'versions', version, 'bin', 'python'), '-c', script]
    else:
        cmd = [sys.executable, '-c', script]
    try:
        r = subprocess.run(cmd, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        err = getattr(e, 'stderr', b'') or b''
        print('make_corpus: python %s failed, skipped: %s %s' % (version or '3', e, err.decode()[-500:]),
              file=sys.stderr)
        return b''
    return r.stdout


def write_all(directory, items):
    os.makedirs(directory, exist_ok=True)
    names = set()
    for data in items:
        name = hashlib.sha1(data).hexdigest()
        if name in names:
            continue
        names.add(name)
        with open(os.path.join(directory, name), 'wb') as f:
            f.write(data)
    return len(names)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    pickles = []
    for version in ('', '2.7.18'):
        for line in run(version, VALUES_SCRIPT).split():
            pickles.append(bytes.fromhex(line.decode()))
    # pickletester's DATA pickles of the running interpreter (DATA0..DATA6
    # in 3.11; the .inc above has the same ones, this adds any newer).
    try:
        from test import pickletester
        for name in dir(pickletester):
            if re.fullmatch(r'DATA\d+|DATA_\w+', name) and isinstance(getattr(pickletester, name), bytes):
                pickles.append(getattr(pickletester, name))
    except ImportError:
        print('make_corpus: test.pickletester not importable, skipped', file=sys.stderr)
    pickles += table_pickles()
    literals = [line for line in run('', LITERALS_SCRIPT).split(b'\n') if line]
    literals += [s.encode('utf-8', 'surrogatepass') if isinstance(s, str) else s for s in EXTRA_LITERALS]
    literals += table_literals()
    n_pickles = write_all(os.path.join(out, 'pickles'), pickles)
    n_literals = write_all(os.path.join(out, 'literals'), literals)
    print('make_corpus: %d pickles, %d literals in %s' % (n_pickles, n_literals, out))


if __name__ == '__main__':
    main()
