#!/usr/bin/env python3
"""Writes tests/pickle/dis_vectors.inc: golden pickletools.dis output.

Run with CPython 3.11 (the reference), from the repository root:
    python3 tools/gen_dis_vectors.py > tests/pickle/dis_vectors.inc
Python 2 pickles (STRING, BINSTRING, INST, OBJ, ...) come from
`PYENV_VERSION=2.7.18 python`; without it those rows are left out (and the
script says so on stderr).

Each row: a name (rows named stream_* hold several pickles, listed one after
another with one memo, as pickletools' _memo_test does), the pickle as hex, pickletools' `annotate` argument, the
text dis() printed (all of it, or the lines printed before it raised), and
for a failure the exception pickletools raised plus what our UnpicklingError
must carry: the reason, the byte offset and the opcode.
"""
import ast
import collections
import copyreg
import io
import os
import pickle
import pickletools
import subprocess
import sys

import test.pickletester as pickletester

ROWS = []


def add(name, data, annotate=0):
    ROWS.append((name, bytes(data), annotate))


# --- values pickled by this Python (3.11), every protocol -----------------

class PidPickler(pickle.Pickler):
    """Gives strings starting with 'pid:' a persistent id."""

    def persistent_id(self, obj):
        if isinstance(obj, str) and obj.startswith("pid:"):
            return obj[4:]
        return None


def dumps_pid(obj, proto):
    f = io.BytesIO()
    PidPickler(f, proto).dump(obj)
    return f.getvalue()


def values3():
    shared = [1, 2]
    rec_list = []
    rec_list.append(rec_list)
    rec_dict = {}
    rec_dict["self"] = rec_dict
    rec_tuple = ([],)
    rec_tuple[0].append(rec_tuple)
    doctest_L = []
    doctest_T = (doctest_L,)
    doctest_L.append(doctest_T)
    return [
        ("none", None), ("true", True), ("false", False),
        ("int0", 0), ("int1", 1), ("int_neg1", -1), ("int255", 255),
        ("int256", 256), ("int65535", 65535), ("int65536", 65536),
        ("int_max31", 2**31 - 1), ("int_min31", -2**31), ("int_2p31", 2**31),
        ("int_2p63", 2**63), ("int_min63m1", -2**63 - 1), ("int_2p64", 2**64),
        ("int_1e30", 10**30), ("int_neg1e30", -10**30), ("int_2p1000", 2**1000),
        ("float0", 0.0), ("float_neg0", -0.0), ("float1_5", 1.5),
        ("float1e16", 1e16), ("float1e_300", 1e-300), ("float_inf", float("inf")),
        ("float_ninf", float("-inf")), ("float_nan", float("nan")),
        ("float0_1", 0.1), ("float_big", 123456789.123), ("float1e22", 1e22),
        ("float5e_324", 5e-324), ("float1e100", 1e100),
        ("complex", 1 + 2j),
        ("str_empty", ""), ("str_abc", "abc"), ("str_quote1", "it's"),
        ("str_quote2", 'a"b'), ("str_quotes", "q'\"both"),
        ("str_escapes", "tab\t\n\r\\"), ("str_controls", "\x00\x7f\x80\xff"),
        ("str_latin1", "caf\xe9"), ("str_euro", "\u20ac"),
        ("str_astral", "\U0001f600"), ("str_surrogate", "a\ud800b"),
        ("str_nonprint", "\u2028\u00ad\U000e0001"), ("str_long", "a" * 300),
        ("bytes_empty", b""), ("bytes_abc", b"abc"), ("bytes_all", bytes(range(256))),
        ("bytes_quotes", b"'\"'"), ("bytes_long", b"\x00" * 300),
        ("bytearray", bytearray(b"xyz")), ("bytearray_empty", bytearray()),
        ("tuple0", ()), ("tuple1", (1,)), ("tuple2", (1, 2)), ("tuple3", (1, 2, 3)),
        ("tuple4", (1, 2, 3, 4)), ("list0", []), ("list1", [1]),
        ("list5", list(range(5))), ("dict0", {}), ("dict1", {"a": 1}),
        ("dict2", {1: 2, 3: 4}), ("set0", set()), ("set2", {1, 2}),
        ("frozenset0", frozenset()), ("frozenset1", frozenset({1})),
        ("nested", [1, [2, (3, {4: [5]})], {"k": (6,)}]),
        ("shared", [shared, shared, (shared,)]),
        ("rec_list", rec_list), ("rec_dict", rec_dict), ("rec_tuple", rec_tuple),
        ("seed", {"a": [1, 2.0, 3, 4 + 6j], "b": ("string", "Unicode string"),
                  "c": None}),
        ("ordered_dict", collections.OrderedDict([(1, 2)])),
        ("example", pickletools._Example(42)),
        ("range", range(1, 7)),
        ("many_strings", ["s%d" % i for i in range(300)]),
        # pickletools' own doctests (_dis_test).
        ("doctest_x", [1, 2, (3, 4), {b"abc": "def"}]),
        ("doctest_dis", pickletools.dis),
        ("doctest_examples", [pickletools._Example(42)] * 2),
        ("doctest_L", doctest_L), ("doctest_T", doctest_T),
    ]


def doctest_T_value():
    L = []
    T = (L,)
    L.append(T)
    return T


def stream_rows():
    """Pickles of one Pickler's successive dump()s: dis(f, memo=memo)."""
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        f = io.BytesIO()
        p = pickle.Pickler(f, proto)
        x = [1, 2, 3]
        p.dump(x)  # pickletools' _memo_test
        p.dump(x)
        p.dump((x, "s"))
        add("stream_memo_p%d" % proto, f.getvalue())


def stream_text(data):
    f = io.BytesIO(data)
    memo = {}
    out = io.StringIO()
    while f.tell() < len(data):
        pickletools.dis(f, out=out, memo=memo)
    return out.getvalue()


def py3_rows():
    for name, value in values3():
        for proto in range(pickle.HIGHEST_PROTOCOL + 1):
            try:
                data = pickle.dumps(value, proto)
            except Exception as e:  # e.g. recursive tuple edge cases
                print("skip %s proto %d: %r" % (name, proto, e), file=sys.stderr)
                continue
            add("py3_%s_p%d" % (name, proto), data)
    add("py3_list1001_p2", pickle.dumps(list(range(1001)), 2))
    add("py3_dict1001_p1", pickle.dumps({i: None for i in range(1001)}, 1))
    add("py3_bigset_p4", pickle.dumps(set(range(1001)), 4))
    for proto in range(6):
        add("py3_pid_p%d" % proto, dumps_pid(["pid:x", "y", ["pid:z"]], proto))
    # Protocol 5 buffers: out of band (NEXT_BUFFER, READONLY_BUFFER), in band.
    oob = lambda b: False
    add("py3_buffer_readonly_p5",
        pickle.dumps(pickle.PickleBuffer(b"abc"), 5, buffer_callback=oob))
    add("py3_buffer_writable_p5",
        pickle.dumps(pickle.PickleBuffer(bytearray(b"abc")), 5, buffer_callback=oob))
    add("py3_buffer_inband_p5", pickle.dumps(pickle.PickleBuffer(bytearray(b"ab")), 5))
    # Extension codes: EXT1, EXT2, EXT4.
    for code in (1, 0x1234, 0x12345678):
        copyreg.add_extension("pickletools", "_Example", code)
        try:
            add("py3_ext_%x_p2" % code, pickle.dumps(pickletools._Example, 2))
        finally:
            copyreg.remove_extension("pickletools", "_Example", code)
    # Optimized pickles: no unused PUTs.
    add("py3_optimized_p0", pickletools.optimize(pickle.dumps([1, [2], (3,)], 0)))
    add("py3_optimized_p4", pickletools.optimize(pickle.dumps([1, [2], (3,)], 4)))
    # Annotated listings (pickletools' annotate column hint).
    add("py3_doctest_T_annotate1_p3", pickle.dumps(doctest_T_value(), 3), 1)
    for annotate in (-5, 1, 20, 60):
        add("py3_annotate%d_p3" % annotate,
            pickle.dumps([1, "a", (2, None), {b"k": 1.5}], 3), annotate)
        add("py3_annotate%d_p0" % annotate,
            pickle.dumps({"x": [1, 2], "y": (3,)}, 0), annotate)


# --- values pickled by Python 2.7 ------------------------------------------

PY2_SCRIPT = r'''
import pickle, cPickle, sys, binascii
class Old:
    def __init__(self): self.a = 1
class OldArgs:
    def __init__(self, x): self.x = x
    def __getinitargs__(self): return (self.x,)
class New(object):
    def __init__(self): self.b = 2
values = [
    ("str", 'abc'), ("str_quote", "it's"), ("str_escape", 'a\nb\\c'),
    ("str_latin1", 'caf\xe9'), ("str_long", 'x' * 300),
    ("unicode", u'uni\u20ac'), ("unicode_escape", u'a\\b\n\x00'),
    ("long", 10 ** 30), ("long1", 1L), ("long_neg", -(2 ** 70)), ("long0", 0L),
    ("int", 7), ("int_big", 2 ** 40), ("bool", True), ("float", 1.5),
    ("float_small", 1e-310), ("dict", {'a': [1, 2]}), ("tuple", (1, 'a')),
    ("old", Old()), ("old_args", OldArgs(5)), ("new", New()),
    ("set", set([1])), ("seed", {'a': [1, 2.0, 3, 4+6j],
                                 'b': ('string', u'Unicode string'), 'c': None}),
]
for name, v in values:
    for modname, mod in (("pickle", pickle), ("cpickle", cPickle)):
        for proto in (0, 1, 2):
            sys.stdout.write("%s_%s_p%d %s\n" % (name, modname, proto,
                             binascii.hexlify(mod.dumps(v, proto))))
'''


def py2_rows():
    # The shim, not "python": under pyenv our own bin directory leads PATH.
    env = dict(os.environ, PYENV_VERSION="2.7.18")
    python = os.path.expanduser("~/.pyenv/shims/python")
    if not os.path.exists(python):
        python = "python"
    try:
        out = subprocess.run([python, "-c", PY2_SCRIPT], env=env, check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        print("Python 2.7 unavailable, its rows are left out: %s" % e,
              file=sys.stderr)
        return
    for line in out.splitlines():
        name, hexdata = line.split()
        add("py2_" + name, bytes.fromhex(hexdata))


# --- pickletester: its DATAn pickles and its malformed pickles --------------

def pickletester_rows():
    for name in sorted(dir(pickletester)):
        value = getattr(pickletester, name)
        if name.startswith("DATA") and isinstance(value, bytes):
            add("pickletester_" + name, value)
    # The bad pickles of these tests, read from the installed source.
    tests = ("test_bad_stack", "test_bad_mark", "test_truncated_data",
             "test_badly_quoted_string", "test_badly_escaped_string",
             "test_negative_put", "test_negative_32b_binput", "test_bad_reduce",
             "test_bad_newobj", "test_bad_newobj_ex", "test_dup",
             "test_frame_readline", "test_compat_unpickle")
    tree = ast.parse(open(pickletester.__file__, encoding="utf-8").read())
    seen = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in tests:
            n = 0
            for sub in ast.walk(node):
                if (isinstance(sub, ast.Constant) and isinstance(sub.value, bytes)
                        and sub.value not in seen):
                    seen.add(sub.value)
                    add("%s_%d" % (node.name[5:], n), sub.value)
                    n += 1


# --- hand-written pickles: every opcode, pickletools' own checks ------------

def hand_rows():
    h = [
        ("int_false", b"I00\n."), ("int_true", b"I01\n."),
        ("int_neg", b"I-5\n."), ("int_space", b"I 7\n."),
        ("int_plus", b"I+7\n."), ("int_underscore", b"I1_000\n."),
        ("int_hex", b"I0x10\n."), ("int_bad", b"Iabc\n."),
        ("int_long_suffix", b"I1234L\n."),
        ("long_suffix", b"L12345678901234567890L\n."), ("long_nosuffix", b"L5\n."),
        ("long_bad", b"Lx\n."),
        ("long_4301_digits", b"L" + b"9" * 4301 + b"\n."),
        ("long_4300_digits", b"L" + b"9" * 4300 + b"\n."),
        ("long4_huge", b"\x80\x02\x8b" + (2000).to_bytes(4, "little") + b"\x7f" * 2000 + b"."),
        ("long4_4300_digits", b"\x80\x02" + pickle.dumps(10**4300 - 1, 2)[2:]),
        ("long4_4301_digits", b"\x80\x02" + pickle.dumps(10**4300, 2)[2:]),
        ("long1_neg", b"\x80\x02\x8a\x01\xff."), ("long1_zero", b"\x80\x02\x8a\x00."),
        ("float_nl", b"F1.5\n."), ("float_nl_exp", b"F1e300\n."),
        ("float_nl_inf", b"Finf\n."), ("float_nl_nan", b"Fnan\n."),
        ("float_nl_bad", b"Fx\n."),
        ("binfloat_nan", b"G\x7f\xf8\x00\x00\x00\x00\x00\x01."),
        ("string_single", b"S'abc'\n."), ("string_double", b'S"abc"\n.'),
        ("string_escapes", b"S'a\\n\\x41\\'b'\n."),
        ("string_nonascii", b"S'caf\xe9'\n."),
        ("string_bad_escape", b"S'\\x4'\n."), ("string_one_quote", b"S'\n."),
        ("binstring", b"T\x03\x00\x00\x00a\xe9c."),
        ("binstring_negative", b"T\xff\xff\xff\xff."),
        ("short_binstring", b"U\x02\xff\x00."),
        ("binbytes8", b"\x80\x04\x8e\x03\x00\x00\x00\x00\x00\x00\x00abc."),
        ("binbytes8_huge", b"\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\x7fabc."),
        ("binbytes_huge", b"\x80\x03B\xff\xff\xff\xffabc."),
        ("binunicode8", b"\x80\x04\x8d\x03\x00\x00\x00\x00\x00\x00\x00abc."),
        ("binunicode_bad_utf8", b"X\x01\x00\x00\x00\xff."),
        ("binunicode_surrogate", b"X\x03\x00\x00\x00\xed\xa0\x80."),
        ("short_binunicode_trunc", b"\x8c\x05ab"),
        ("unicode_raw_escape", b"Va\\u20acb\\\\\n."),
        ("unicode_bad_escape", b"V\\u12\n."),
        ("bytearray8_empty", b"\x80\x05\x96\x00\x00\x00\x00\x00\x00\x00\x00."),
        ("global_plain", b"cmod\nname\n."), ("global_no_nl", b"cmod\nname"),
        ("global_nonascii", b"cm\xc3\xa9\nn\n."),
        ("global_latin1", b"cm\xe9\nn\n."),
        ("global_backslash", b"cm\\x41\nn\\\n."),
        ("persid", b"Pabc\n."), ("persid_escape", b"Pa\\nb\n."), ("persid_nonascii", b"P\xc3\xa9\n."),
        ("binpersid", b"U\x01xQ."),
        ("inst", b"(imod\ncls\n."), ("obj", b"(cmod\ncls\no."),
        ("dup", b"N2t."), ("dup_mark", b"(2."),
        ("pop", b"NN0."), ("pop_mark_via_pop", b"N(0."), ("pop_mark", b"N(NN1."),
        ("pop_empty", b"0."),
        ("get", b"Np0\ng0\n0."), ("get_missing", b"Ng0\n."),
        ("binget_missing", b"Nh\x05."), ("long_binget_missing", b"Nj\x00\x00\x01\x00."),
        ("put_twice", b"Np1\np1\n."), ("binput_twice", b"Nq\x01q\x01."),
        ("put_mark", b"(p0\n."), ("binput_mark", b"(q\x00."),
        ("put_empty", b"p0\n."), ("memoize_empty", b"\x94."),
        ("memoize_mark", b"(\x94."), ("memoize_twice", b"N\x94\x94."),
        ("memoize_after_put", b"Nq\x00\x94q\x01."),
        ("memoize_after_put1", b"Nq\x01\x94."),
        ("put_false", b"Np00\ng0\n."), ("put_true_get1", b"Np01\ng1\n."),
        ("put_negative", b"Va\np-1\n."),
        ("long_binput_max", b"Nr\xff\xff\xff\xffj\xff\xff\xff\xff0."),
        ("stop_extra", b"NN."), ("stop_mark_left", b"N(."), ("stop_mark_only", b"(."),
        ("stop_nothing", b"."), ("empty", b""), ("no_stop", b"N"),
        ("unknown_opcode", b"N\xff."), ("unknown_opcode_first", b"\x00."),
        ("unknown_newline", b"N\n."),
        ("trailing_bytes", b"N.garbage"),
        ("tuple_no_mark", b"t."), ("list_no_mark", b"Nl."),
        ("appends_no_mark", b"]e."), ("pop_mark_no_mark", b"1."),
        ("marks_nested", b"((((NNtttt."),
        ("mark_popped_by_append", b"](a)t."),
        ("mark_popped_then_list", b"]N(Nal."),
        ("proto_big", b"\x80\xff."), ("proto0", b"\x80\x00N."),
        ("frame", b"\x80\x04\x95\x02\x00\x00\x00\x00\x00\x00\x00N."),
        ("frame_trunc", b"\x80\x04\x95\x02\x00\x00"),
        ("ext_trunc", b"\x83\x01"),
        ("stack_global", b"\x8c\x01m\x8c\x01n\x93."),
        ("newobj_ex", b"\x80\x04cm\nC\n)}\x92."),
        ("emptyset_additems", b"\x8f(K\x01K\x02\x90."),
        ("frozenset_op", b"(K\x01\x91."),
        ("next_buffer_readonly", b"\x80\x05\x97\x98."),
        ("binint_neg", b"J\xff\xff\xff\xff."), ("binint2", b"M\xff\xff."),
        ("deep_marks", b"(" * 50 + b"N" + b"t" * 50 + b"."),
        # Argument forms where readers are easily laxer or stricter than
        # Python's int(), float() and codecs.
        ("int_leading_zeros", b"I007\n."), ("int_000", b"I000\n."),
        ("int_neg01", b"I-01\n."), ("int_trailing_space", b"I5 \n."),
        ("int_big_zeros", b"I000000000000000000000012345678901234567890\n."),
        ("int_neg_big", b"I-12345678901234567890\n."),
        ("int_4301_digits", b"I" + b"1" * 4301 + b"\n."),
        ("int_double_underscore", b"I1__0\n."), ("int_empty", b"I\n."),
        ("long_space_l", b"L5 L\n."), ("long_only_l", b"LL\n."), ("long_neg0", b"L-0L\n."),
        ("long_lower_l", b"L5l\n."),
        ("float_underscore", b"F1_0.5\n."), ("float_spaces", b"F 1.5 \n."),
        ("float_huge", b"F1e500\n."), ("float_hex", b"F0x1p3\n."),
        ("float_infinity", b"F-Infinity\n."), ("float_tiny", b"F1e-400\n."),
        ("float_neg0", b"F-0.0\n."), ("float_empty", b"F\n."),
        ("float_17digits", b"F0.10000000000000001\n."),
        ("unicode_astral", b"V\\U0001f600\n."), ("unicode_too_big", b"V\\U00110000\n."),
        ("unicode_backslash_x", b"V\\x41\n."), ("unicode_latin1", b"V\xe9\xff\n."),
        ("unicode_surrogate_escape", b"V\\ud800\n."),
        ("binunicode_surrogate_pair", b"X\x06\x00\x00\x00\xed\xa0\xbd\xed\xb8\x80."),
        ("binunicode_overlong", b"X\x02\x00\x00\x00\xc0\x80."),
        ("binunicode_controls", b"\x8c\x04\x00\x07\xc2\x85."),
        ("string_octal", b"S'\\101\\0'\n."), ("string_unknown_escape", b"S'\\z'\n."),
        ("string_quote_mismatch", b"S'abc\"\n."), ("string_inner_quotes", b"S'a'b'\n."),
        ("short_binstring_high", b"U\x04\x85\xa0\xad\xff."),
        ("global_empty", b"c\nn\n."), ("global_spaces", b"ca b\nc d\n."),
        ("put_big", b"Np99999999999999999999\ng99999999999999999999\n0."),
        ("put_space", b"Np 5\ng5\n0."), ("put_neg0", b"Np-0\ng0\n0."),
        ("put_bool_then_int", b"Np01\np1\n."),
        ("ext4_negative", b"\x84\xff\xff\xff\xff."),
        ("long_binget_max", b"Nr\xff\xff\xff\xff0j\xff\xff\xff\xff."),
        ("frame_huge", b"\x80\x04\x95\xff\xff\xff\xff\xff\xff\xff\xffN."),
        ("long1_255", b"\x80\x02\x8a\xff" + b"\x80" * 255 + b"."),
        ("long4_negative_len", b"\x80\x02\x8b\xff\xff\xff\xff."),
        ("pop_below_mark", b"N(N00."),
        ("dup_of_mark_then_tuple", b"(2t."),
        ("setitems_odd", b"}(Nu."),
        ("binput_after_pop_mark", b"(N1q\x00."),
    ]
    for name, data in h:
        add("hand_" + name, data)


# --- output ----------------------------------------------------------------

def reason_for(exc):
    msg = str(exc)
    if isinstance(exc, IndexError):
        return "kNoMark"  # pickletools' MARK bookkeeping ran off the stack
    if isinstance(exc, UnicodeDecodeError):
        return "kBadArgument"
    if msg == "pickle exhausted before seeing STOP" or msg.startswith(
            ("not enough data", "no newline found")) or (
            msg.startswith("expected ") and " remain" in msg):
        return "kTruncated"
    if msg.startswith("at position") and msg.endswith("unknown"):
        return "kUnknownOpcode"
    if msg.startswith("tries to pop") or msg.startswith("stack is empty"):
        return "kStackUnderflow"
    if msg.startswith("no MARK exists"):
        return "kNoMark"
    if msg.endswith("has never been stored into"):
        return "kMemoMissing"
    if msg.startswith("Exceeds the limit"):
        return "kLimitExceeded"
    if msg.startswith(("stack not empty after STOP", "can't store markobject")):
        return "kBadValue"
    return "kBadArgument"


def run(data, annotate):
    """pickletools.dis output, the exception, and the failing opcode."""
    out = io.StringIO()
    exc = None
    try:
        pickletools.dis(data, out=out, annotate=annotate)
    except Exception as e:  # noqa: BLE001 -- recorded, whatever it is
        exc = e
    text = out.getvalue()
    if exc is None:
        return text, None
    # Locate the failing opcode: the opcodes genops yields, up to its failure.
    ops = []
    try:
        for op, _arg, pos, end in pickletools._genops(data, yield_end_pos=True):
            ops.append((op, pos, end))
    except Exception:  # noqa: BLE001
        pass
    # Complete opcode lines; an error raised while building a line leaves
    # its "%5d: " prefix printed without a newline.
    printed = sum(1 for line in text.split("\n")[:-1] if line[5:6] == ":")
    msg = str(exc)
    # Raised by dis() itself before printing the opcode's line: the MARK
    # bookkeeping (IndexError) and repr() of an int over 4300 digits.
    before_print = len(ops) > printed and (
        isinstance(exc, IndexError) or msg.startswith("Exceeds the limit"))
    dis_level = before_print or msg.startswith((
        "tries to pop", "no MARK exists", "memo key", "stack is empty",
        "can't store markobject", "stack not empty after STOP"))
    if dis_level:
        if before_print:
            op, pos, _ = ops[printed]
        else:
            op, pos, _ = ops[printed - 1]
        offset, opname = pos, op.name
    elif msg == "pickle exhausted before seeing STOP":
        offset, opname = len(data), ""
    else:
        offset = ops[-1][2] if ops else 0
        op = pickletools.code2op.get(chr(data[offset])) if offset < len(data) else None
        opname = op.name if op else ""
    return text, (type(exc).__name__, msg, reason_for(exc), offset, opname)


def c_string(s):
    """A C++ string literal (UTF-8), split at newlines for readability."""
    out = ['"']
    for ch in s.encode("utf-8"):
        c = chr(ch)
        if c == "\n":
            out.append('\\n"\n    "')
        elif c in '"\\':
            out.append("\\" + c)
        elif 0x20 <= ch < 0x7f and c != "?":
            out.append(c)
        else:
            out.append("\\%03o" % ch)
    out.append('"')
    text = "".join(out)
    if text.endswith('\n    ""'):
        text = text[:-7]
    return text


def main():
    py3_rows()
    stream_rows()
    py2_rows()
    pickletester_rows()
    hand_rows()
    print("// Generated by tools/gen_dis_vectors.py from CPython %s's "
          "pickletools.dis;" % sys.version.split()[0])
    print("// do not edit. Row: {name, pickle hex, annotate, printed text,")
    print("// pickletools' exception type and message (\"\" when none),"
          " our reason,")
    print("// offset and opcode name of the failure}.")
    names = set()
    for name, data, annotate in ROWS:
        assert name not in names, name
        names.add(name)
        if name.startswith("stream_"):
            text, failure = stream_text(data), None
        else:
            text, failure = run(data, annotate)
        etype, emsg, reason, offset, opname = failure or ("", "", "", 0, "")
        print("{%s,\n    %s,\n    %d,\n    %s,\n    %s, %s, %s, %d, %s}," % (
            c_string(name), c_string(data.hex()), annotate, c_string(text),
            c_string(etype), c_string(emsg), c_string(reason), offset,
            c_string(opname)))


if __name__ == "__main__":
    main()
