# tests/interop/interop.py: the CPython side of tests/interop/cpython_test.cc.
#
# Runs unchanged under Python 2.7 and 3.6-3.13. One process handles a whole
# batch: the first line of stdin names the job, the rest is its input, one
# record per line, fields separated by tabs, binary data as hex. Output is
# one record per line too.
#
#   dump      -> D <case> <module> <protocol> <hex>   for every case, every
#                pickle module (py2: pickle and cPickle) and every protocol
#   oracle    <- <id> <encoding> <hex>
#             -> C <case> <repr-hex>                   repr of every case, then
#                <id> OK <repr-hex> | <id> ERR <message>
#                repr() of pickle.loads(data, encoding=...) (Python 3 only)
#   check     <- <id> <case> <encoding> <hex>
#             -> <id> OK | <id> FAIL <why>
#                loads the pickle (py2: with pickle and cPickle) and compares
#                it with this interpreter's own value of <case>: same types,
#                same values, same shape of sharing and cycles.
#
# The case table below is the single source of the values; the C++ side
# never spells them. Write values so that they mean the same in Python 2 and
# 3: b'' is bytes (Python 2 str), u'' is text.
import binascii
import math
import pickle
import struct
import sys

PY2 = sys.version_info[0] == 2
if PY2:
    import cPickle
    text_type = unicode  # noqa: F821
    int_types = (int, long)  # noqa: F821
else:
    text_type = str
    int_types = (int,)


def _allbytes():
    return b''.join(struct.pack('B', i) for i in range(256))


def _selfref_list():
    l = []
    l.append(l)
    return l


def _selfref_dict():
    d = {}
    d[u'self'] = d
    return d


def _recursive_tuple():
    # A tuple that reaches itself through a list: CPython's POP_MARK/GET.
    l = [1]
    t = (l, u'x')
    l.append(t)
    return t


def _mutual():
    a = [u'a']
    b = {u'b': a}
    a.append(b)
    return [a, b]


def _shared():
    inner = [1, 2]
    d = {u'k': inner}
    return [inner, inner, (inner, d), d]


def _shared_text():
    s = u'shared text ' * 3
    b = b'shared bytes ' * 3
    return [s, s, b, b, (s, b)]


def _deep(n):
    v = []
    for _ in range(n):
        v = [v]
    return v


def _deep_dict(n):
    v = {}
    for i in range(n):
        v = {i: v}
    return v


SEED = {u'a': [1, 2.0, 3, 4 + 6j], u'b': (b'string', u'Unicode string'), u'c': None}

CASES = [
    # name, value factory
    ('none', lambda: None),
    ('true', lambda: True),
    ('false', lambda: False),
    ('ints_small', lambda: [0, 1, -1, 127, 128, 255, 256, -128, -129, -256, -257,
                            65535, 65536, -65536, -65537]),
    ('ints_32', lambda: [2**31 - 1, 2**31, -2**31, -2**31 - 1, 2**32 - 1, 2**32]),
    ('ints_64', lambda: [2**63 - 1, 2**63, -2**63, -2**63 - 1, 2**64 - 1, 2**64, -2**64]),
    ('int_max63', lambda: 2**63 - 1),
    ('int_min64', lambda: -2**63),
    ('int_big', lambda: 10**100),
    ('int_big_neg', lambda: -10**100 + 7),
    ('int_huge', lambda: 2**4000 - 12345),
    ('int_huge_neg', lambda: -(3**2000)),
    ('int_powers', lambda: [2**i for i in range(0, 130, 7)] + [-(2**i) for i in range(0, 130, 7)]),
    ('floats', lambda: [0.0, 1.0, -1.5, 0.1, 2.5, 1e16, 1e-5, 1e22, 1e-300, 5e-324,
                        1.7976931348623157e308, 100000.0, 123456789.0, 3.141592653589793]),
    ('float_inf', lambda: float('inf')),
    ('float_ninf', lambda: float('-inf')),
    ('float_nan', lambda: float('nan')),
    ('float_negzero', lambda: -0.0),
    ('float_specials', lambda: [float('inf'), float('-inf'), float('nan'), -0.0, 0.0]),
    ('complex', lambda: 4 + 6j),
    # complex() rather than literals: Python 2 folds -1j differently.
    ('complexes', lambda: [complex(0.0, 1.0), complex(-0.0, -1.0), complex(1.5, -2.5),
                           complex(0.0, -0.0), complex(-0.0, 0.0),
                           complex(float('inf'), float('nan')), complex(1e300, -1e-300)]),
    ('bytes_empty', lambda: b''),
    ('bytes_short', lambda: b'string'),
    ('bytes_all256', _allbytes),
    ('bytes_escapes', lambda: b'\x00\'"\\\n\r\t\x7f\x80\xff'),
    ('bytes_256', lambda: b'z' * 256),
    ('bytes_64k', lambda: b'\x00\x01' * 35000),
    ('text_empty', lambda: u''),
    ('text_short', lambda: u'Unicode string'),
    ('text_latin1', lambda: u''.join(map(unichr if PY2 else chr, range(256)))),  # noqa: F821
    ('text_escapes', lambda: u'\x00\x07\x1b\'"\\\r\n\t\x7f\x80\x9f\xa0\xad\u2028\u200b\ufeff\uffff'),
    ('text_quotes', lambda: [u"'", u'"', u'\'"', u"it's", u'say "hi"']),
    ('text_bmp', lambda: u'\u20ac \u00e9\u00e8 \u4e2d\u6587 \u0416 \u05d0 \ud55c'),
    ('text_astral', lambda: u'\U0001F600 \U00010000 \U0010FFFF \U0001D11E'),
    ('text_surrogates', lambda: [u'\ud800', u'\udfff', u'a\udc80b']),
    ('text_backslash_u', lambda: u'\\u0041 \\U00000041 \\x41 \\'),
    ('text_256', lambda: u'y' * 256),
    ('text_64k', lambda: u'\u00e9\u4e2d' * 30000),
    ('bytearray_empty', lambda: bytearray()),
    ('bytearray', lambda: bytearray(b'abc\x00\xff')),
    ('bytearray_64k', lambda: bytearray(b'q' * 70000)),
    ('tuples', lambda: [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), ((), ((),))]),
    ('tuple_empty', lambda: ()),
    ('tuple_nested', lambda: (1, (2, (3, (4, (5,)))))),
    ('list_empty', lambda: []),
    ('list_nested', lambda: [1, [2, [3, [4, []]]]]),
    ('dict_empty', lambda: {}),
    ('dict_mixed_keys', lambda: {1: u'int', u'text': 2, b'bytes': 3.0, (1, 2): None,
                                 2.5: [], None: True, frozenset([1, 2]): 0}),
    ('seed', lambda: SEED),
    ('set_empty', lambda: set()),
    ('set_ints', lambda: set([1, 2, 3, 100, -5])),
    ('set_text', lambda: set([u'a', u'b', u'c', u'hello'])),
    ('set_tuples', lambda: set([(1, 2), (3, 4)])),
    ('frozenset_empty', lambda: frozenset()),
    ('frozenset_ints', lambda: frozenset([7, 8, 9])),
    ('frozenset_nested', lambda: frozenset([frozenset(), frozenset([1])])),
    ('sets_in_list', lambda: [set([1]), frozenset([2]), set(), frozenset()]),
    ('selfref_list', _selfref_list),
    ('selfref_dict', _selfref_dict),
    ('recursive_tuple', _recursive_tuple),
    ('mutual_recursion', _mutual),
    ('shared_containers', _shared),
    ('shared_text_bytes', _shared_text),
    ('list_10k_ints', lambda: list(range(10000))),
    ('list_10k_text', lambda: [u'item %d' % i for i in range(10000)]),
    ('list_1001', lambda: list(range(1001))),
    ('dict_2500', lambda: dict((i, u'v%d' % i) for i in range(2500))),
    ('set_2500', lambda: set(range(2500))),
    ('list_big_items', lambda: [b'x' * 70000, u'y' * 70000, 1]),
    ('deep_list_200', lambda: _deep(200)),
    ('deep_dict_100', lambda: _deep_dict(100)),
    ('mixed', lambda: [None, True, False, 0, -1, 1.5, u'x', b'y', bytearray(b'z'), (1, u'a'),
                       [], {}, set([1]), frozenset([2]), 3 - 4j]),
]

CASE_BY_NAME = dict(CASES)


def write_line(*fields):
    line = u'\t'.join(f if isinstance(f, text_type) else f.decode('ascii') if isinstance(f, bytes)
                      else text_type(f) for f in fields) + u'\n'
    out.write(line.encode('utf-8'))


def tohex(data):
    return binascii.hexlify(data)


def pickle_modules():
    if PY2:
        return [('pickle', pickle.dumps), ('cPickle', cPickle.dumps)]
    return [('pickle', pickle.dumps)]


def job_dump(lines):
    for name, make in CASES:
        value = make()
        for modname, dumps in pickle_modules():
            for proto in range(pickle.HIGHEST_PROTOCOL + 1):
                write_line(u'D', name, modname, proto, tohex(dumps(value, proto)))


def repr_hex(value):
    return tohex(repr(value).encode('utf-8', 'surrogatepass'))


def job_oracle(lines):
    for name, make in CASES:
        write_line(u'C', name, repr_hex(make()))
    for line in lines:
        ident, encoding, data = line.split(u'\t')
        try:
            value = pickle.loads(binascii.unhexlify(data), encoding=encoding)
            write_line(ident, u'OK', repr_hex(value))
        except Exception as e:  # the C++ side reports it
            write_line(ident, u'ERR', (type(e).__name__ + u': ' + text_type(e)).replace(u'\n', u' '))


def same_float(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def same(a, b, memo):
    """Deep comparison: types, values (nan == nan, -0.0 != 0.0), and the
    shape of sharing: if `a` reaches one object twice, so must `b`."""
    if id(a) in memo:
        return memo[id(a)] is b
    ta, tb = type(a), type(b)
    if ta in int_types and tb in int_types and ta is not bool and tb is not bool:
        return a == b  # Python 2 int vs long is no difference
    if ta is not tb:
        raise AssertionError('type %s != %s' % (ta.__name__, tb.__name__))
    if ta is float:
        return same_float(a, b)
    if ta is complex:
        return same_float(a.real, b.real) and same_float(a.imag, b.imag)
    if ta in (list, tuple, dict, set, frozenset, bytearray):
        memo[id(a)] = b
        if ta is bytearray:
            return a == b
        if len(a) != len(b):
            raise AssertionError('%s length %d != %d' % (ta.__name__, len(a), len(b)))
        if ta in (list, tuple):
            for x, y in zip(a, b):
                if not same(x, y, memo):
                    return False
            return True
        if ta is dict:
            keys_b = dict((k, k) for k in b)
            for k, v in a.items():
                if k not in b:
                    raise AssertionError('missing key %r' % (k,))
                if type(keys_b[k]) is not type(k) or not same(v, b[k], memo):
                    return False
            return True
        return a == b and all(any(type(x) is type(y) and x == y for y in b) for x in a)
    return a == b


def job_check(lines):
    loaders = [('pickle', pickle.loads)]
    if PY2:
        loaders.append(('cPickle', cPickle.loads))
    for line in lines:
        ident, name, encoding, data = line.split(u'\t')
        data = binascii.unhexlify(data)
        expected = CASE_BY_NAME[name]()
        verdict = u'OK'
        for lname, loads in loaders:
            try:
                if PY2:
                    got = loads(data)
                else:
                    got = loads(data, encoding=encoding)
                ok = same(expected, got, {})
                why = u'values differ'
            except Exception as e:
                ok = False
                why = type(e).__name__ + u': ' + text_type(e)
            if not ok:
                try:
                    shown = repr(got)[:200]
                except Exception:
                    shown = u'?'
                verdict = u'FAIL\t%s: %s; got %s' % (lname, why.replace(u'\n', u' '), shown)
                break
        write_line(ident, verdict)


def main():
    global out
    out = sys.stdout if PY2 else sys.stdout.buffer
    sys.setrecursionlimit(10000)
    raw = sys.stdin.read() if PY2 else sys.stdin.buffer.read()
    lines = raw.decode('utf-8').splitlines()
    job, rest = lines[0], lines[1:]
    {'dump': job_dump, 'oracle': job_oracle, 'check': job_check}[job](rest)
    out.flush()


main()
