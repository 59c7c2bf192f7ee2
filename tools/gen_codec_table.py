#!/usr/bin/env python3
"""Writes tests/pickle/codec_cases.inc: the codec table (STYLE.md section 6).

Run with CPython 3.11 (the oracle for byte identity):

    python3 tools/gen_codec_table.py > tests/pickle/codec_cases.inc

Each row has a name, how to build the value (MAKE), the value as a Python
literal (ast.literal_eval's language; pickle/literal.h parses it), the
expected pickle of every protocol 0..5 as pickle.dumps(value, protocol=p)
writes it (the C _pickle), and pickletools.dis of the protocol 2 and 4
pickles (empty for large rows).

MAKE is Literal for a plain literal. A few values have no literal form and
use a maker applied to the parsed literal: Bytearray (bytearray(lit)),
Frozenset (frozenset(lit)) and Nan (float('nan'); the literal is ignored).

Expected bytes are hex digits; a run of one byte repeated N >= 32 times is
written "(xx*N)" to keep the >64 KiB rows small (testutil's hex() expands
it).

A literal cannot share objects, but CPython shares some by value anyway:
the empty str and bytes, one-character str below U+0100 and one-byte bytes
are singletons, so ['a', 'a'] pickles with a memo GET while ['ab', 'ab']
does not. Rows below cover both.
"""
import ast
import io
import pickle
import pickletools
import sys

assert sys.version_info[:2] == (3, 11), "generate with CPython 3.11"

PROTOCOLS = range(6)
DIS_PROTOCOLS = (2, 4)
DIS_MAX_BYTES = 600  # larger rows carry no dis text

# (name, maker, literal)
CASES = []


def case(name, literal, maker="Literal"):
    CASES.append((name, maker, literal))


# --- None and bools ---
case("none", "None")
case("true", "True")
case("false", "False")
case("bools", "[True, False, True]")

# --- ints: every encoding boundary ---
for name, lit in [
    ("int_0", "0"), ("int_1", "1"), ("int_neg1", "-1"), ("int_255", "255"),
    ("int_256", "256"), ("int_neg255", "-255"), ("int_65535", "65535"),
    ("int_65536", "65536"), ("int_2p31m1", "2147483647"),
    ("int_neg2p31", "-2147483648"), ("int_2p31", "2147483648"),
    ("int_neg2p31m1", "-2147483649"), ("int_2p32", "4294967296"),
    ("int_2p63m1", "9223372036854775807"), ("int_neg2p63", "-9223372036854775808"),
    ("int_2p63", "9223372036854775808"), ("int_neg2p63m1", "-9223372036854775809"),
    ("int_2p64", "18446744073709551616"), ("int_neg2p64", "-18446744073709551616"),
    ("int_128", "128"), ("int_neg128", "-128"), ("int_neg129", "-129"),
    ("int_hex", "0xdeadbeefcafebabe1234"),
]:
    case(name, lit)
case("int_huge", str(3 ** 2000))            # LONG4 (> 255 bytes)
case("int_huge_neg", str(-(7 ** 1000)))
case("int_2p2040", str(2 ** 2040))           # exactly 256 bytes of LONG
case("int_2p2039", str(2 ** 2039 - 1))       # 255 bytes
case("ints_mixed", "[0, -1, 1, 255, 256, -256, 65535, 65536, 2**31 - 1]".replace("2**31 - 1", "2147483647"))

# --- floats ---
for name, lit in [
    ("float_0", "0.0"), ("float_neg0", "-0.0"), ("float_1_5", "1.5"),
    ("float_1e16", "1e16"), ("float_1e15", "1e15"), ("float_1e_5", "1e-5"),
    ("float_1e_4", "0.0001"), ("float_third", "0.3333333333333333"),
    ("float_max", "1.7976931348623157e308"), ("float_min", "5e-324"),
    ("float_inf", "1e400"), ("float_neg_inf", "-1e400"), ("float_100000", "100000.0"),
    ("float_pi", "3.141592653589793"), ("float_neg", "-2.5e-300"),
]:
    case(name, lit)
case("float_nan", "float('nan')", "Nan")

# --- complex ---
case("complex_1j", "1j")
case("complex_mixed", "(1.5-2j)")
case("complex_neg0", "(-0-0j)")
case("complex_inf", "(1e400+1e400j)")
case("complex_list", "[1j, 2j, (3+4j)]")

# --- bytes ---
case("bytes_empty", "b''")
case("bytes_1", "b'a'")
case("bytes_abc", "b'abc'")
case("bytes_all256", repr(bytes(range(256))))
case("bytes_high", r"b'\x80\xff\x00\n\r\\'")
case("bytes_255", repr(b"z" * 255))
case("bytes_256", repr(b"z" * 256))
case("bytes_65536", repr(b"q" * 65536))
case("bytes_shared_singletons", "[b'', b'', b'x', b'x', b'xy', b'xy']")

# --- str ---
case("str_empty", "''")
case("str_1", "'a'")
case("str_abc", "'abc'")
case("str_escapes", repr("a\\b\nc\r\x00\x1a\t\"'"))
case("str_latin1", r"'\xe9\xff\x80\xa0'")
case("str_bmp", r"'\u0100\u20ac\uffff\u4e2d\u6587'")
case("str_astral", r"'\U0001f600\U0010ffff\U00010000'")
case("str_surrogates", r"'\udc80\ud800x\udfff'")
case("str_all_latin1", repr("".join(map(chr, range(256)))))
case("str_255", repr("s" * 255))
case("str_256", repr("s" * 256))
case("str_65535", repr("u" * 65535))
case("str_65536", repr("u" * 65536))
case("str_shared_singletons", r"['', '', 'a', 'a', '\xe9', '\xe9', '\u0100', '\u0100', 'ab', 'ab']")
case("str_and_bytes_singletons", "['a', b'a', 'a', b'a', '', b'', '', b'']")
case("str_latin1_name", "['latin1', b'ab', b'cd', 'latin1']")

# --- bytearray ---
case("bytearray_empty", "b''", "Bytearray")
case("bytearray_1", "b'x'", "Bytearray")
case("bytearray_abc", r"b'a\x00\xff'", "Bytearray")
case("bytearray_300", repr(b"w" * 300), "Bytearray")
case("bytearray_65536", repr(b"w" * 65536), "Bytearray")

# --- tuples ---
case("tuple_0", "()")
case("tuple_1", "(1,)")
case("tuple_2", "(1, 2)")
case("tuple_3", "(1, 2, 3)")
case("tuple_4", "(1, 2, 3, 4)")
case("tuple_nested", "((), ((),), ((), ()), (1, (2, (3, (4,)))))")
case("tuple_300", repr(tuple(range(300))))
case("tuple_of_str", "('a', 'bc', 'a', 'bc')")

# --- lists ---
case("list_0", "[]")
case("list_1", "[1]")
case("list_2", "[1, 2]")
# Batching is about counts, so the items are the smallest there are.
for n in (1000, 1001, 2500):
    case("list_%d" % n, repr([None] * n))
case("list_1001_ints", repr(list(range(1001))))
case("list_nested", "[[], [[]], [[], [[]]], [1, [2, [3, [4]]]]]")
case("list_mixed", "[None, True, 1, 1.0, 1j, b'b', 's', (), [], {}]")

# --- dicts ---
case("dict_0", "{}")
case("dict_1", "{1: 2}")
case("dict_2", "{1: 2, 3: 4}")
for n in (1000, 1001, 2500):
    case("dict_%d" % n, repr(dict.fromkeys(range(n))))
case("dict_str_keys", "{'a': 1, 'b': [2, 3], 'c': {'d': None}}")
case("dict_tuple_keys", "{(1, 2): 'x', (): 'y', ('a',): 'z'}")
case("seed_example",
     "{'a': [1, 2.0, 3, 4+6j], 'b': ('string', u'Unicode string'), 'c': None}")

# --- sets and frozensets (small ints iterate in literal order) ---
case("set_0", "set()")
case("set_1", "{1}")
case("set_3", "{1, 2, 3}")
case("set_mixed", "{9, 2.5, (1, 2)}")
for n in (1000, 1001):
    case("set_%d" % n, "{" + ", ".join(map(str, range(n))) + "}")
case("frozenset_0", "[]", "Frozenset")
case("frozenset_3", "[1, 2, 3]", "Frozenset")
case("frozenset_1001", repr(list(range(1001))), "Frozenset")
case("set_of_tuples", "{(1,), (1, 2), ()}")

# --- framing: many small items across 64 KiB frames ---
case("frames_small_strs", repr(["x" * 200 + str(i) for i in range(330)]))
case("frames_mixed_large",
     "[" + repr(b"q" * 65530) + ", 1, 2, 3, " + repr("x" * 65536) + ", 'y']")


def value_of(maker, literal):
    if maker == "Nan":
        return float("nan")
    v = ast.literal_eval(literal)
    if maker == "Bytearray":
        return bytearray(v)
    if maker == "Frozenset":
        return frozenset(v)
    return v


def set_order_ok(literal):
    """True when every set in the literal iterates in the literal's order,
    so a value built in literal order pickles as CPython's does."""
    tree = ast.parse(literal, mode="eval")
    for node in ast.walk(tree):
        if isinstance(node, ast.Set):
            elts = [ast.literal_eval(e) for e in node.elts]
            if list(set(elts)) != elts:
                return False
    return True


def hex_rle(data):
    out = []
    i = 0
    n = len(data)
    while i < n:
        j = i
        while j < n and data[j] == data[i]:
            j += 1
        if j - i >= 32:
            out.append("(%02x*%d)" % (data[i], j - i))
        else:
            out.append(data[i:j].hex())
        i = j
    return "".join(out)


def c_string(text, width=100):
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogatepass")
    pieces = []
    cur = []
    for b in text:
        c = chr(b)
        if c == "\\":
            cur.append("\\\\")
        elif c == '"':
            cur.append('\\"')
        elif c == "\n":
            cur.append("\\n")
            pieces.append("".join(cur))
            cur = []
            continue
        elif 0x20 <= b < 0x7F:
            cur.append(c)
        else:
            cur.append("\\%03o" % b)
        if len(cur) >= width:
            pieces.append("".join(cur))
            cur = []
    if cur or not pieces:
        pieces.append("".join(cur))
    return "\n     ".join('"%s"' % p for p in pieces)


def dis_text(data):
    out = io.StringIO()
    pickletools.dis(data, out=out)
    return out.getvalue()


def main():
    names = set()
    print("// Generated by tools/gen_codec_table.py with CPython %d.%d.%d; do not edit."
          % sys.version_info[:3])
    print("// CODEC_CASE(name, maker, literal, {hex protocol 0..5}, dis protocol 2, dis protocol 4)")
    for name, maker, literal in CASES:
        assert name not in names, name
        names.add(name)
        if maker == "Literal":
            assert set_order_ok(literal), name + ": set literal not in iteration order"
        value = value_of(maker, literal)
        pickles = [pickle.dumps(value, protocol=p) for p in PROTOCOLS]
        # The C pickler is the reference; the pure-Python one agrees on
        # everything here but batch boundaries of dicts and sets.
        print("CODEC_CASE(%s, %s," % (name, maker))
        print("     %s," % c_string(literal))
        print("     {" + ",\n      ".join('"%s"' % hex_rle(p) for p in pickles) + "},")
        dis = []
        for p in DIS_PROTOCOLS:
            dis.append(dis_text(pickles[p]) if len(pickles[p]) <= DIS_MAX_BYTES else "")
        print("     %s," % c_string(dis[0]))
        print("     %s)" % c_string(dis[1]))


if __name__ == "__main__":
    main()
