#!/usr/bin/env python3
"""Writes tests/pickle/repr_vectors.inc: what CPython 3.11 prints and parses.

Run with CPython 3.11:  python3 tools/gen_repr_vectors.py > tests/pickle/repr_vectors.inc

Tables (each row is a C++ initializer; strings are ASCII C literals with
octal escapes, so the file is plain ASCII whatever the values hold):
- FLOAT_VECTOR(bits, "repr(float)"): special and random doubles.
- COMPLEX_VECTOR(real bits, imag bits, "repr(complex)").
- LITERAL_VECTOR("source", "repr(ast.literal_eval(source))", round_trips):
  ints, strings, bytes, containers, and every number and string form the
  parser accepts; round_trips tells whether repr() reads back as the same
  value (not for inf, nan or complex parts of -0.0).
- LITERAL_ERROR("source", "message", line): sources ast.literal_eval
  refuses, with CPython's message (SyntaxError.msg, or "malformed node or
  string" for its ValueError) and line.
- LITERAL_FUZZ("source", accepted, "repr or empty"): random mutations of
  rich literals (a fixed seed), and whether ast.literal_eval accepted them;
  repr is given where it is comparable (no sets, whose order differs).
- BLOCK_HASH(first, fnv1a64 of the UTF-8 of repr(s)): s holds the 4096
  code points from `first` (lone surrogates included), so every code
  point's printability and escape is checked against CPython.
"""
import ast
import random
import struct
import sys
import warnings

assert sys.version_info[:2] == (3, 11), "generate with CPython 3.11"
warnings.simplefilter("ignore")
random.seed(20240611)


def c_str(s):
    if isinstance(s, str):
        data = s.encode("utf-8", "surrogatepass")
    else:
        data = s
    out = []
    for b in data:
        if b in (0x22, 0x5C) or b < 0x20 or b >= 0x7F or b == 0x3F:  # ? avoids trigraphs
            out.append("\\%03o" % b)
        else:
            out.append(chr(b))
    return '"' + "".join(out) + '"'


def bits(d):
    return "0x%016xull" % struct.unpack("<Q", struct.pack("<d", d))[0]


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def floats():
    special = [0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1e16, 1e-5, 1e-4, 5e-324, -5e-324,
               2.2250738585072014e-308, 1.7976931348623157e308, -1.7976931348623157e308,
               float("inf"), float("-inf"), float("nan"), 100000.0, 1e22, 1e23,
               123456789012345678.0, 9999999999999998.0, 1e15, 1e17, 0.001, 0.0001,
               0.00001, 1.5, 2.5, 3.14159, 1 / 3, 2 / 3, 2.0 ** 53, 2.0 ** 63, 2.0 ** 64,
               1e100, 1e-100, 4.35, 0.3, 1e300 * 10, 123.456, 1234567890123456.7]
    out = list(special)
    for _ in range(1500):
        out.append(struct.unpack("<d", struct.pack("<Q", random.getrandbits(64)))[0])
    for _ in range(500):
        out.append(random.uniform(-1e6, 1e6))
        out.append(float(random.randint(-10 ** 17, 10 ** 17)))
        out.append(round(random.random(), random.randint(0, 17)) * 10.0 ** random.randint(-20, 20))
    return out


def complexes():
    parts = [0.0, -0.0, 1.0, -1.0, 2.5, 1e16, 1e-5, 100000.0, float("inf"), float("-inf"),
             float("nan"), -float("nan"), 5e-324, 1e22, 0.1]
    out = [(r, i) for r in parts for i in parts]
    for _ in range(100):
        out.append((random.uniform(-1e3, 1e3), random.uniform(-1e3, 1e3)))
    return out


def int_sources():
    vals = [0, 1, -1, 255, 256, 2 ** 31 - 1, 2 ** 31, -2 ** 31, -2 ** 31 - 1, 2 ** 63 - 1, 2 ** 63,
            -2 ** 63, -2 ** 63 - 1, 2 ** 64 - 1, 2 ** 64, -2 ** 64, 10 ** 18, 10 ** 19, 10 ** 100,
            -10 ** 100, 2 ** 1000, -(2 ** 1000) + 1, 10 ** 4299, -10 ** 4299 + 1]
    for _ in range(60):
        vals.append(random.randint(-10 ** random.randint(1, 60), 10 ** random.randint(1, 60)))
    return [str(v) for v in vals]


def text_samples():
    samples = ["", "a", "abc", "'", '"', "'\"", "it's", 'say "hi"', "both ' and \"", "\\", "\\\\n",
               "\t\n\r", "\x00\x01\x1f\x7f", "\x80\x9f\xa0\xad\xff", "caf\xe9", "\u0100\u2028\u2029",
               "\u200b\u200e\ufeff\ufffd\uffff", "\U0001F600\U0001F1E6", "\U000E0001\U0010FFFF",
               "\ud800", "\udc80x", "\ud83d\ude00", "\u4e00\u3000\u00a0", "\u0300a\u0301",
               "tab\there", "\x0b\x0c", "a\u0085b", "\U00020000\U0003134a\U000e0100"]
    for _ in range(60):
        n = random.randint(0, 12)
        samples.append("".join(chr(random.choice([random.randint(0, 0x7F), random.randint(0x80, 0x7FF),
                                                   random.randint(0x800, 0xFFFF),
                                                   random.randint(0x10000, 0x10FFFF)]))
                               for _ in range(n)))
    return samples


def bytes_samples():
    out = [b"", b"a", b"'", b'"', b"'\"", b"\\", b"\t\n\r\x0b\x0c", bytes(range(256)), b"it's",
           b'"q"', b"\x7f\x80\xff"]
    for _ in range(40):
        out.append(bytes(random.getrandbits(8) for _ in range(random.randint(0, 10))))
    return out


def container_sources():
    return [
        "()", "(1,)", "(1, 2)", "((),)", "[]", "[1]", "[1, 2.5, 'x', b'y', None, True, False]",
        "{}", "{'a': 1}", "{'a': [1, 2.0, 3, 4+6j], 'b': ('string', u'Unicode string'), 'c': None}",
        "{1: {2: {3: {}}}}", "[[[[[]]]]]", "(((1,),),)", "{(1, 2): [3], 'k': {'n': None}}",
        "set()", "{1}", "{1, 2, 3}", "{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}", "[set(), {1}]",
        "{True: False, None: 0}", "{'a': 1, 'b': 2, 'a': 3}", "{1: 1, 1.0: 2, True: 3}",
        "[1e16, 1e-5, -0.0, 100000.0, 0.1]", "[1j, -1j, 1+2j, 1-2j, -1+2j, -1-2j, 0j, -0j]",
        "[bytearray]" if False else "[b'', '', (), [], {}]",
        "(1, (2, (3, (4, (5, (6, (7, (8, (9, (10,))))))))))",
        "{'\\u00e9': '\\U0001f600', b'k': 'v'}", "{1: 2, 3: (4, {5: [6, {7}]})}",
    ]


def literal_forms():
    return [
        "0", "00", "0_0", "007.5", "1_000_000", "0x_ff", "0XFF", "0o17", "0O_7", "0b1010", "0B_1",
        "0xdeadbeefdeadbeefdeadbeef", "-0x8000000000000000", "+5", "-5", "-(5)", "(-5)", "((7))",
        "1.", ".5", "1.e5", "1e5", "1E-5", "1_0.5", "1_0e1_0", "1e400", "-1e400", "1e-400",
        "0.1e-0", "01.5", "01e5", "1j", "1J", "1.5j", "01j", ".5j", "1e3j", "1_0j", "-1j", "+1j",
        "1+2j", "1-2j", "-1+2j", "-1-2j", "1.5+0j", "+1+1j", "(1+2j)", "-0.0+1j", "0x10+1j",
        "True", "False", "None", "'a' 'b'", "'a'  \"b\" '''c'''", "b'a' b'b' rb'\\\\'",
        "u'x'", "U'x'", "r'\\n'", "R'\\n'", "rb'\\x00'", "Rb'x'", "bR'x'", "BR'x'", "Br'x'",
        "b'\\x00\\xff'", "'\\x41\\u0042\\U00000043'", "'\\101\\0\\7\\400'", "b'\\101\\777'",
        "'\\a\\b\\f\\n\\r\\t\\v'", "'\\q\\8\\9'", "b'\\q\\u1234'", "'\\N{BULLET}\\N{bullet}'",
        "'\\N{LATIN SMALL LETTER E WITH ACUTE}'", "'\\N{CJK UNIFIED IDEOGRAPH-4E00}'",
        "'\\N{GREEK SMALL LETTER ALPHA}\\N{EURO SIGN}\\N{SNOWMAN}'", "'\\N{GRINNING FACE}'",
        "'line\\\ncontinued'", "'''a\nb'''", '"""x\ny"""', "'''it's'''", "'\\''", '"\\""',
        "'\\\\'", "'caf\u00e9'", "'\u4e00\U0001F600'", "r'\\''", "r'a\\\nb'",
        "1,", "1, 2", "1, 2,", " 1", "\t1", "\n1", "1\n", "1 # comment", "[1, # c\n 2]",
        "(\n1,\n2\n)", "{\n'a':\n1}", "[1,\n]", "  (1)", "[1 \\\n, 2]",
        "set()", "set( )", "set(\n)", "{1, 2,}", "{1: 2,}", "[1, 2,]", "(1, 2,)",
        "[[]]", "[(), [], {}, set()]",
    ]


def error_sources():
    return [
        "", " ", "01", "1_", "1__0", "1a", "0x", "0xg", "0b", "0b102", "0o8", "0o", "1e", "1e+",
        "1.__x", "1.e", "inf", "nan", "x", "--1", "-+1", "-(True)", "-'a'", "+None", "1+2",
        "1j+2j", "1+2j+3j", "1-(2j)" if False else "2j-1", "set([1])", "frozenset()",
        "Set()", "f'x'", "F'x'", "fr'x'", "ur'x'", "bu'x'", "b'\u00e9'", "'a' b'b'", "b'a' 'b'",
        "'abc", "'''abc", '"abc', "'a\nb'", "r'\\'", "'\\x4'", "'\\x'", "'\\u12'", "'\\U00110000'",
        "'\\N{NOPE}'", "'\\N{'", "'\\N'", "'\\N{}'", "(,)", "[1,,2]", "[1, 2", "(1", "{1:",
        "{1:}", "{**a}", "{*a}", "{1, 2: 3}", "{1: 2, 3}", "1 2", "[1 2]", "]", ")", "}",
        "[1)", "(1]", "{1]", "1;", "1\n2", "lambda: 1", "[1] [0]", "{}[1]", "(1)(2)",
        "a.b", "'x'.y", "1 if 1 else 2", "not 1", "1 < 2", "[x for x in y]", "`1`",
        "1 # c\n2", "\\", "1 \\ 2", "$", "?", "'\\\n", "[1,\n", "{'a': 1, 'b'}", "(1, *a)",
        "-", "+", "- ", "--", "1 \\\n", "True False", "None()", "set(1)", "set(x=1)",
    ]


FUZZ_SEEDS = [
    "{'a': [1, 2.0, 3, 4+6j], 'b': ('string', u'Unicode string'), 'c': None}",
    "[1, -2, 0x1F, 0o7, 0b11, 1_000, 1.5e-3, .5, 1., 2j, -1+2j, (3-4j)]",
    "(b'x\\x00', r'\\n', '''tri\nple''', \"dq'\", 'a' 'b', set(), {1, 2}, {})",
    "[[], (), {}, (1,), [None, True, False]]", "1, 2,",
    "'\\N{BULLET}\\u00e9\\U0001F600\\101\\x41'",
    "{(1, 2): {'k': [1, {2: 3}]}}  # comment\n", "[1,\n 2, # c\n 3]",
]
FUZZ_ALPHABET = list("()[]{},:+-*.'\"\\#\n jJeExXoObB_0123456789abfNruTFS ") + [
    "None", "True", "set()", "'''", "\\x", "\\u", "\\N{", "1e", "0x", "lambda", "...", "not", "if"]


def walk(v):
    yield v
    if isinstance(v, (list, tuple, set, frozenset)):
        for x in v:
            yield from walk(x)
    elif isinstance(v, dict):
        for k, x in v.items():
            yield from walk(k)
            yield from walk(x)


def fuzz_cases(n):
    rnd = random.Random(7)
    out = []
    for _ in range(n):
        s = list(rnd.choice(FUZZ_SEEDS))
        for _ in range(rnd.randint(1, 3)):
            i = rnd.randint(0, len(s))
            op = rnd.random()
            if op < 0.4 and s:
                del s[min(i, len(s) - 1)]
            elif op < 0.8:
                s.insert(i, rnd.choice(FUZZ_ALPHABET))
            elif s:
                s[min(i, len(s) - 1)] = rnd.choice(FUZZ_ALPHABET)
        out.append("".join(s))
    return out


def emit():
    print("// Generated by tools/gen_repr_vectors.py from CPython %s. Do not edit; regenerate."
          % sys.version.split()[0])
    print("#ifdef FLOAT_VECTOR")
    for d in floats():
        print("FLOAT_VECTOR(%s, %s)" % (bits(d), c_str(repr(d))))
    print("#endif")
    print("#ifdef COMPLEX_VECTOR")
    for r, i in complexes():
        print("COMPLEX_VECTOR(%s, %s, %s)" % (bits(r), bits(i), c_str(repr(complex(r, i)))))
    print("#endif")

    sources = int_sources()
    sources += [ascii(s) for s in text_samples()]
    sources += [repr(b) for b in bytes_samples()]
    sources += container_sources() + literal_forms()
    # Every printable/escaped neighbourhood once as a small string too.
    print("#ifdef LITERAL_VECTOR")
    for src in sources:
        value = ast.literal_eval(src)
        text = repr(value)
        if isinstance(value, (set, frozenset)) or (isinstance(value, list) and any(
                isinstance(v, (set, frozenset)) for v in value)):
            # Sets print in hash order in CPython, insertion order here: keep
            # only sources where the two agree (small ints in ascending order).
            order = [x for x in (value if isinstance(value, set) else [])]
            if isinstance(value, set) and order != sorted(order):
                continue
        # Whether repr() parses back to the same value in CPython too: not
        # for inf and nan, nor for complex parts of -0.0 ("(-0-1j)" reads
        # back as 0-1j).
        try:
            again = ast.literal_eval(text)
            same = repr(again) == text and type(again) is type(value)
        except (ValueError, SyntaxError):
            same = False
        if same and "j" in text and "-0" in text:
            same = False
        print("LITERAL_VECTOR(%s, %s, %s)" % (c_str(src), c_str(text), "true" if same else "false"))
    print("#endif")

    print("#ifdef LITERAL_ERROR")
    for src in error_sources():
        try:
            ast.literal_eval(src)
        except SyntaxError as e:
            print("LITERAL_ERROR(%s, %s, %d)" % (c_str(src), c_str(e.msg), e.lineno or 0))
            continue
        except ValueError:
            print("LITERAL_ERROR(%s, %s, %d)" % (c_str(src), c_str("malformed node or string"), 1))
            continue
        except Exception as e:  # noqa: BLE001 - record what CPython does, whatever it is
            print("LITERAL_ERROR(%s, %s, %d)" % (c_str(src), c_str(type(e).__name__), 0))
            continue
        raise SystemExit("source unexpectedly accepted: %r" % src)
    print("#endif")

    print("#ifdef LITERAL_FUZZ")
    for src in fuzz_cases(2000):
        try:
            value = ast.literal_eval(src)
        except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
            print("LITERAL_FUZZ(%s, false, %s)" % (c_str(src), c_str("")))
            continue
        text = repr(value)
        if "Ellipsis" in text:
            continue  # shelf has no Ellipsis (documented)
        comparable = not any(isinstance(x, (set, frozenset)) for x in walk(value))
        print("LITERAL_FUZZ(%s, true, %s)" % (c_str(src), c_str(text if comparable else "")))
    print("#endif")

    print("#ifdef BLOCK_HASH")
    for first in range(0, 0x110000, 4096):
        s = "".join(chr(c) for c in range(first, first + 4096))
        print("BLOCK_HASH(0x%06X, 0x%016xull)" % (first, fnv1a64(repr(s).encode("utf-8"))))
    print("#endif")


if __name__ == "__main__":
    emit()
