// tests/pickle/unpickler_test.cc: the Unpickler: every opcode, text
// arguments, Python 2 pickles, the find_global policies and data
// constructors, inert instances, identity, persistent ids, buffers, noload
// and extension codes. Sources, hostile input and CPython interop are in
// unpickler_input_test.cc.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "pickle/pickler.h"
#include "tests/pickle/unpickler_testing.h"
#include "tests/testutil/testutil.h"

namespace shelf::pickle {
namespace {

using namespace std::string_view_literals;
using namespace std::string_literals;
using namespace unpickler_testing;
using enum UnpicklingReason;

// --- every opcode ------------------------------------------------------------

struct OpRow {
  std::string_view op;
  std::string_view pickle;
  std::string_view expected;  // a Python literal, or "" to check `kind` only
  Kind kind = Kind::None;
  std::optional<UnpicklingReason> error = std::nullopt;
};

const OpRow kOpRows[] = {
    {"INT", "I42\n."sv, "42"},
    {"BININT", "J\377\377\377\377."sv, "-1"},
    {"BININT1", "K\005."sv, "5"},
    {"BININT2", "M\000\001."sv, "256"},
    {"LONG", "L123456789012345678901234567890L\n."sv, "123456789012345678901234567890"},
    {"LONG1", "\212\011\000\000\000\000\000\000\000\000\001."sv, "18446744073709551616"},
    {"LONG4", "\213\002\000\000\000\377\177."sv, "32767"},
    {"STRING", "S'abc'\n."sv, "'abc'"},
    {"BINSTRING", "T\003\000\000\000abc."sv, "'abc'"},
    {"SHORT_BINSTRING", "U\003abc."sv, "'abc'"},
    {"BINBYTES", "B\003\000\000\000abc."sv, "b'abc'"},
    {"SHORT_BINBYTES", "C\003abc."sv, "b'abc'"},
    {"BINBYTES8", "\216\003\000\000\000\000\000\000\000abc."sv, "b'abc'"},
    {"BYTEARRAY8", "\226\003\000\000\000\000\000\000\000abc."sv, "", Kind::ByteArray},
    {"NEXT_BUFFER", "\200\005\227."sv, "b'xyz'"},
    {"READONLY_BUFFER", "\200\005\227\230."sv, "b'xyz'"},
    {"NONE", "N."sv, "None"},
    {"NEWTRUE", "\210."sv, "True"},
    {"NEWFALSE", "\211."sv, "False"},
    {"UNICODE", "Vab\\u20ac\n."sv, "'ab\\u20ac'"},
    {"SHORT_BINUNICODE", "\214\002hi."sv, "'hi'"},
    {"BINUNICODE", "X\002\000\000\000hi."sv, "'hi'"},
    {"BINUNICODE8", "\215\002\000\000\000\000\000\000\000hi."sv, "'hi'"},
    {"FLOAT", "F1.5\n."sv, "1.5"},
    {"BINFLOAT", "G?\370\000\000\000\000\000\000."sv, "1.5"},
    {"EMPTY_LIST", "]."sv, "[]"},
    {"APPEND", "]K\001a."sv, "[1]"},
    {"APPENDS", "](K\001K\002e."sv, "[1, 2]"},
    {"LIST", "(K\001K\002l."sv, "[1, 2]"},
    {"EMPTY_TUPLE", ")."sv, "()"},
    {"TUPLE", "(K\001K\002t."sv, "(1, 2)"},
    {"TUPLE1", "K\001\205."sv, "(1,)"},
    {"TUPLE2", "K\001K\002\206."sv, "(1, 2)"},
    {"TUPLE3", "K\001K\002K\003\207."sv, "(1, 2, 3)"},
    {"EMPTY_DICT", "}."sv, "{}"},
    {"DICT", "(K\001K\002d."sv, "{1: 2}"},
    {"SETITEM", "}K\001K\002s."sv, "{1: 2}"},
    {"SETITEMS", "}(K\001K\002K\003K\004u."sv, "{1: 2, 3: 4}"},
    {"EMPTY_SET", "\217."sv, "set()"},
    {"ADDITEMS", "\217(K\001K\002\220."sv, "{1, 2}"},
    {"FROZENSET", "(K\001K\002\221."sv, "frozenset({1, 2})"},
    {"POP", "K\001K\0020."sv, "1"},
    {"DUP", "K\0012\206."sv, "(1, 1)"},
    {"MARK", "(K\001t."sv, "(1,)"},
    {"POP_MARK", "K\001(K\002K\0031."sv, "1"},
    {"GET", "K\001p0\n0g0\n."sv, "1"},
    {"BINGET", "K\001q\0000h\000."sv, "1"},
    {"LONG_BINGET", "K\001r\000\000\000\0000j\000\000\000\000."sv, "1"},
    {"PUT", "K\007p5\n0g5\n."sv, "7"},
    {"BINPUT", "K\007q\0050h\005."sv, "7"},
    {"LONG_BINPUT", "K\007r\005\000\001\0000j\005\000\001\000."sv, "7"},
    {"MEMOIZE", "K\001\2240h\000."sv, "1"},
    {"EXT1", "\202\001."sv, "", Kind::Global},
    {"EXT2", "\203\002\001."sv, "", Kind::Global},
    {"EXT4", "\204\003\000\001\000."sv, "", Kind::Global},
    {"GLOBAL", "cmod\nname\n."sv, "", Kind::Global},
    {"STACK_GLOBAL", "\214\003mod\214\004name\223."sv, "", Kind::Global},
    {"REDUCE", "cbuiltins\ncomplex\nK\001K\002\206R."sv, "(1+2j)"},
    {"BUILD", "cmod\nC\n)\201}K\001K\002sb."sv, "", Kind::Instance},
    {"INST", "(K\001imod\nC\n."sv, "", Kind::Instance},
    {"OBJ", "(cmod\nC\nK\001o."sv, "", Kind::Instance},
    {"NEWOBJ", "cbuiltins\nint\nK\005\205\201."sv, "5"},
    {"NEWOBJ_EX", "cmod\nC\n)}\222."sv, "", Kind::Instance},
    {"PROTO", "\200\004N."sv, "None"},
    {"STOP", "N."sv, "None"},
    {"FRAME", "\200\004\225\002\000\000\000\000\000\000\000N."sv, "None"},
    {"PERSID", "Pabc\n."sv, "", Kind::PersistentRef},
    {"BINPERSID", "Vabc\nQ."sv, "", Kind::PersistentRef},
};

}  // namespace

TEST_CASE("every opcode of pickletools loads", "[unpickler]") {
  REQUIRE(all_ops().size() == 68);
  std::set<std::string_view> covered;
  for (const OpRow& row : kOpRows) covered.insert(row.op);
  for (const OpInfo& info : all_ops()) {
    INFO(info.name);
    CHECK(covered.count(info.name) == 1);
  }
  for (const OpRow& row : kOpRows) {
    DYNAMIC_SECTION(row.op) {
      Graph g;
      UnpicklerOptions options;
      options.buffers = {g.bytes("xyz")};
      auto registry = std::make_shared<ExtensionRegistry>();
      registry->add("mod", "one", 1);
      registry->add("mod", "two", 0x102);
      registry->add("mod", "three", 0x10003);
      options.extensions = registry;
      if (row.error) {
        UnpicklingError e = error_of(row.pickle, options);
        CHECK(e.reason() == *row.error);
        REQUIRE(e.opcode().has_value());
        CHECK(op_info(*e.opcode()).name == row.op);
        continue;
      }
      Value v = loads(row.pickle, options);
      if (row.expected.empty()) {
        CHECK(v.kind() == row.kind);
      } else {
        INFO("got " << repr(v));
        CHECK(strictly_equal(v, lit(row.expected)));
      }
    }
  }
}

TEST_CASE("text-form arguments read as CPython reads them", "[unpickler]") {
  SECTION("INT and LONG: strtol and int(s, 0) syntax, 'L' suffix, 00/01 booleans") {
    CHECK(strictly_equal(loads("I-42\n."sv), Value(-42)));
    CHECK(strictly_equal(loads("I 42 \n."sv), Value(42)));
    CHECK(strictly_equal(loads("I4_2\n."sv), Value(42)));
    CHECK(strictly_equal(loads("I010\n."sv), Value(8)));     // strtol's octal
    CHECK(strictly_equal(loads("I0x10\n."sv), Value(16)));   // strtol's hex
    CHECK(strictly_equal(loads("I0o10\n."sv), Value(8)));    // int(s, 0)'s octal
    CHECK(strictly_equal(loads("L0b101L\n."sv), Value(5)));
    CHECK(strictly_equal(loads("I-0\n."sv), Value(false)));  // two characters reading 0
    CHECK(strictly_equal(loads("I0x1ffffffffffffffff\n."sv), lit("36893488147419103231")));
    CHECK(strictly_equal(loads("I-9223372036854775808\n."sv), lit("-9223372036854775808")));
    CHECK(strictly_equal(loads("I9223372036854775808\n."sv), lit("9223372036854775808")));
    CHECK(strictly_equal(loads("I00\n."sv), Value(false)));
    CHECK(strictly_equal(loads("I01\n."sv), Value(true)));
    CHECK(strictly_equal(loads("L12L\n."sv), Value(12)));
    CHECK(strictly_equal(loads("L-12\n."sv), Value(-12)));
    CHECK(strictly_equal(loads("L-123456789012345678901234567890L\n."sv), lit("-123456789012345678901234567890")));
    CHECK(strictly_equal(loads("L00\n."sv), Value(0)));  // no bool hack for LONG
    for (auto bad : {"I\n."sv, "I08\n."sv, "I0x\n."sv, "L010L\n."sv, "I1_\n."sv, "I1__0\n."sv, "I+\n."sv,
                     "L1LL\n."sv, "I1.0\n."sv})
      CHECK(reason_of(bad) == kBadArgument);
  }
  SECTION("INT, LONG, FLOAT, GET and PUT lines read as CPython 3 reads them") {
    // Every spelling _pickle.c (strtol, int(s, 0), PyOS_string_to_double,
    // C strings ending at a NUL) treats differently from Python's int()
    // and float(); CPython says what each loads as. Each line is tried as
    // INT, LONG, FLOAT, and as the key of a PUT and a GET.
    std::vector<std::string> lines = {
        "010", "08", "0_10", "00", "000", "0x_10", "0X10", " 0x10", "1__0", "-010", "+0x10", "1 ", "12 ",
        "0b2", "09", "0o", "0x", "-0", "+1", "0 ", " 1", "\t1", "007", "0_7", "1_", "_1", "01_0", "- 5",
        "0xffffffffffffffff", "-0x8000000000000000", "0777777777777777777777777", "9223372036854775808",
        "-9223372036854775809", "0o777", "0B1_1", "12\0xyz", std::string("3\0", 2) + "junk",
        "1.5", " 1.5", "1.5 ", "1_0.5", "1e500", "-1e500", "1e-500", "inf", "-Infinity", "nan", "+nan",
        "0x1p3", "1.5\0zz", ".5", "5.", "1e5", "1E+05", "infinit", "."};
    std::string script = "import pickle, sys\n"
                         "for line in sys.stdin.buffer.read().split(b'\\n\\n')[:-1]:\n"
                         "    for p in (b'I%s\\n.', b'L%s\\n.', b'F%s\\n.', b'Np%s\\n0g%s\\n.'):\n"
                         "        try: r = repr(pickle.loads(p.replace(b'%s', line)))\n"
                         "        except Exception: r = 'error'\n"
                         "        print(r)\n";
    std::string input;
    for (const std::string& line : lines) input += line + "\n\n";
    auto cpython = testutil::run_python("", script, input);
    if (!cpython) return;  // run_python has warned that python3 is missing
    REQUIRE(cpython->exit_code == 0);
    std::istringstream expected(cpython->out);
    for (const std::string& line : lines) {
      for (std::string pickle : {"I%s\n."s, "L%s\n."s, "F%s\n."s, "Np%s\n0g%s\n."s}) {
        for (size_t at; (at = pickle.find("%s")) != std::string::npos;) pickle.replace(at, 2, line);
        std::string want;
        std::getline(expected, want);
        INFO(testutil::to_hex(pickle) << " -> CPython " << want);
        std::string ours;
        try {
          ours = repr(loads(pickle));
        } catch (const UnpicklingError&) {
          ours = "error";
        }
        CHECK(ours == want);
      }
    }
  }
  SECTION("text integers follow CPython's 4300-digit limit") {
    std::string big = "I" + std::string(4300, '7') + "\n.";
    CHECK(loads(big).int_decimal() == std::string(4300, '7'));
    std::string too_big = "L" + std::string(4301, '7') + "L\n.";
    CHECK(reason_of(too_big) == kLimitExceeded);
    UnpicklerOptions unlimited;
    unlimited.limits.max_int_digits = 0;
    CHECK(loads(too_big, unlimited).int_decimal() == std::string(4301, '7'));
  }
  SECTION("FLOAT: float() syntax without whitespace, underscores or overflow, as _pickle.c") {
    CHECK(loads("F-2.5e3\n."sv).as_float() == -2500.0);
    CHECK(loads("F1.5\0junk\n."sv).as_float() == 1.5);  // a C string ends at NUL
    CHECK(loads("F.5\n."sv).as_float() == 0.5);
    CHECK(loads("F5.\n."sv).as_float() == 5.0);
    CHECK(loads("F0.1\n."sv).as_float() == 0.1);
    CHECK(std::isinf(loads("Finf\n."sv).as_float()));
    CHECK(loads("F-Infinity\n."sv).as_float() < 0);
    CHECK(std::isnan(loads("Fnan\n."sv).as_float()));
    CHECK(loads("F1e-500\n."sv).as_float() == 0.0);
    for (auto bad : {"F\n."sv, "F0x10\n."sv, "F1.5junk\n."sv, "F1e\n."sv, "F_1\n."sv, "F1,5\n."sv, "Finfinit\n."sv,
                     "F 1.5\n."sv, "F1.5 \n."sv, "F1_0.5\n."sv, "F1e500\n."sv})
      CHECK(reason_of(bad) == kBadArgument);
  }
  SECTION("STRING: quoted, Python 2 escapes (codecs.escape_decode)") {
    CHECK(strictly_equal(loads("S'\\x41\\101\\n\\q\\''\n."sv), lit("'AA\\n\\\\q\\''")));
    CHECK(strictly_equal(loads("S\"a\\\"b\"\n."sv), lit("'a\"b'")));
    CHECK(reason_of("S'\\x4'\n."sv) == kBadArgument);
    CHECK(reason_of("S'abc\"\n."sv) == kBadArgument);
    CHECK(reason_of("Sabc\n."sv) == kBadArgument);
  }
  SECTION("UNICODE: raw-unicode-escape") {
    CHECK(strictly_equal(loads("Va\\u20ac\\U0001f600\\x\\\\\n."sv), lit("'a\\u20ac\\U0001f600\\\\x\\\\\\\\'")));
    CHECK(strictly_equal(loads("V\351\n."sv), lit("'\\xe9'")));           // bytes are Latin-1
    CHECK(strictly_equal(loads("V\\ud800\n."sv), lit("'\\ud800'")));      // a lone surrogate
    CHECK(reason_of("V\\u12\n."sv) == kBadArgument);
    CHECK(reason_of("V\\U00110000\n."sv) == kBadArgument);
  }
  SECTION("BINUNICODE: UTF-8 with surrogatepass") {
    CHECK(strictly_equal(loads("X\003\000\000\000\355\240\200."sv), lit("'\\ud800'")));
    CHECK(reason_of("X\001\000\000\000\377."sv) == kBadArgument);
    CHECK(reason_of("\214\002\300\200."sv) == kBadArgument);  // overlong
  }
}

TEST_CASE("Python 2 str follows the encoding option", "[unpickler]") {
  const std::string_view p = "U\004caf\351."sv;  // 'caf\xe9'
  UnpicklerOptions options;
  CHECK(reason_of(p, options) == kBadArgument);
  CHECK(std::string(error_of(p).what()).find("'ascii' codec can't decode byte 0xe9 in position 3") !=
        std::string::npos);
  options.encoding = StringEncoding::kLatin1;
  CHECK(strictly_equal(loads(p, options), lit("'caf\\xe9'")));
  options.encoding = StringEncoding::kBytes;
  CHECK(strictly_equal(loads(p, options), lit("b'caf\\xe9'")));
  options.encoding = StringEncoding::kUtf8;
  CHECK(reason_of(p, options) == kBadArgument);
  CHECK(strictly_equal(loads("U\005caf\303\251."sv, options), lit("'caf\\xe9'")));
  CHECK(reason_of("U\003\355\240\200."sv, options) == kBadArgument);  // strict: no surrogates
  // Only STRING, BINSTRING, SHORT_BINSTRING: BINBYTES stays bytes.
  options.encoding = StringEncoding::kLatin1;
  CHECK(strictly_equal(loads("C\001\351."sv, options), lit("b'\\xe9'")));
}

TEST_CASE("fix_imports maps Python 2 names only below protocol 3", "[unpickler]") {
  CHECK(is_global(loads("c__builtin__\nunicode\n."sv), "builtins", "str"));
  CHECK(is_global(loads("\200\002ccopy_reg\n_reconstructor\n."sv), "copyreg", "_reconstructor"));
  CHECK(is_global(loads("\200\003c__builtin__\nunicode\n."sv), "__builtin__", "unicode"));
  UnpicklerOptions off;
  off.fix_imports = false;
  CHECK(is_global(loads("c__builtin__\nunicode\n."sv, off), "__builtin__", "unicode"));
  // The protocol is per pickle: a PROTO 3 earlier in the stream does not count.
  std::string two = "\200\003N.c__builtin__\nunicode\n."s;
  MemorySource source(two);
  Unpickler u(source);
  u.load();
  CHECK(is_global(u.load(), "builtins", "str"));
}

TEST_CASE("data constructors build native values; others stay inert", "[unpickler]") {
  struct Row {
    std::string_view pickle;
    std::string_view expected;  // "" when the result must stay an inert instance
  };
  const Row rows[] = {
      // Python 2: set([1, 2]) at protocols 0 and 2
      {"c__builtin__\nset\np0\n((lp1\nI1\naI2\natp2\nRp3\n."sv, "{1, 2}"},
      {"\200\002c__builtin__\nset\nq\000]q\001(K\001K\002e\205q\002Rq\003."sv, "{1, 2}"},
      {"cbuiltins\nfrozenset\n((K\001K\002ltR."sv, "frozenset({1, 2})"},
      {"cbuiltins\nset\n)R."sv, "set()"},
      {"cbuiltins\nset\n\217(K\003\220\205R."sv, "{3}"},
      {"cbuiltins\ncomplex\n(F1.5\ntR."sv, "(1.5+0j)"},
      {"cbuiltins\ncomplex\n)R."sv, "0j"},
      {"c__builtin__\ncomplex\n(F3.0\nF0.0\ntR."sv, "(3+0j)"},
      // CPython 3 bytes and bytearray at protocols 0-2
      {"c_codecs\nencode\np0\n(V\351\np1\nVlatin1\np2\ntp3\nRp4\n."sv, "b'\\xe9'"},
      {"c_codecs\nencode\n(Vabc\ntR."sv, "b'abc'"},
      {"c_codecs\nencode\n(V\351abcdefgh\377\nVlatin1\ntR."sv, "b'\\xe9abcdefgh\\xff'"},
      {"c_codecs\nencode\n(V\200\nVlatin1\ntR."sv, "b'\\x80'"},
      {"c_codecs\nencode\n(Vabc\nVascii\ntR."sv, "b'abc'"},
      {"c__builtin__\nbytes\n)R."sv, "b''"},
      {"\200\002c__builtin__\nbytes\nC\002hi\205R."sv, "b'hi'"},
      {"cbuiltins\nlist\n((K\001K\002ttR."sv, "[1, 2]"},
      {"cbuiltins\ntuple\n(]tR."sv, "()"},
      {"cbuiltins\ndict\n(((K\001K\002tltR."sv, "{1: 2}"},
      {"cbuiltins\nint\n(V12\ntR."sv, "12"},
      {"cbuiltins\nint\n(F2.9\ntR."sv, "2"},
      {"cbuiltins\nfloat\n(V1.5\ntR."sv, "1.5"},
      {"cbuiltins\nstr\n)R."sv, "''"},
      {"cbuiltins\nbool\n(K\002tR."sv, "True"},
      {"cbuiltins\nbool\n(]tR."sv, "False"},
      {"ccollections\nOrderedDict\n)R(K\001K\002K\003K\004u."sv, "{1: 2, 3: 4}"},
      {"ccollections\nOrderedDict\n(](K\001K\002tatR."sv, "{1: 2}"},
      {"ccopy_reg\n_reconstructor\n(c__builtin__\nlist\nc__builtin__\nobject\nNtR."sv, "[]"},
      {"ccopyreg\n_reconstructor\n(cbuiltins\nlist\ncbuiltins\nlist\n(K\001K\002ltR."sv, "[1, 2]"},
      // NEWOBJ is __new__: mutable types come out empty
      {"\200\002cbuiltins\nlist\n]K\001a\205\201."sv, "[]"},
      {"\200\002cbuiltins\ntuple\n]K\001a\205\201."sv, "(1,)"},
      // arguments the constructor does not take: inert, never a guess
      {"cbuiltins\ncomplex\n(V1+2j\ntR."sv, ""},
      {"cbuiltins\nset\n(K\005tR."sv, ""},
      {"cbuiltins\nbytes\n(K\005tR."sv, "b'\\x00\\x00\\x00\\x00\\x00'"},
      {"cbuiltins\nbytes\n(\211tR."sv, "b''"},
      {"cbuiltins\nbytes\n(V5\ntR."sv, ""},
      {"c_codecs\nencode\n(V\\u20ac\nVlatin1\ntR."sv, ""},
      {"c_codecs\nencode\n(Va\\u0100\nVlatin1\ntR."sv, ""},
      {"c_codecs\nencode\n(V\351\nVascii\ntR."sv, ""},
      {"cbuiltins\nint\n(V12\nK\020tR."sv, ""},
      {"ccopyreg\n_reconstructor\n(cmod\nC\ncbuiltins\nobject\nNtR."sv, ""},
      {"cbuiltins\ndict\n)}(K\001K\002u\222."sv, ""},
  };
  for (const Row& row : rows) {
    DYNAMIC_SECTION(testutil::to_hex(row.pickle)) {
      Value v = loads(row.pickle);
      INFO("got " << repr(v));
      if (row.expected.empty()) {
        CHECK(v.kind() == Kind::Instance);
      } else {
        CHECK(strictly_equal(v, lit(row.expected)));
      }
    }
  }
  SECTION("bytearray from bytes and from (str, 'latin-1')") {
    CHECK(loads("\200\003cbuiltins\nbytearray\nC\002hi\205R."sv).kind() == Kind::ByteArray);
    Value b = loads("c__builtin__\nbytearray\n(V\351\nVlatin-1\ntR."sv);
    REQUIRE(b.kind() == Kind::ByteArray);
    CHECK(b.as_bytes() == "\xe9");
  }
  SECTION("bytes(n) and bytearray(n) are checked against the memory limit") {
    CHECK(loads("cbuiltins\nbytearray\n(K\003tR."sv).as_bytes() == std::string(3, '\0'));
    CHECK(reason_of("cbuiltins\nbytes\n(J\377\377\377\377tR."sv) == kBadValue);  // negative count
    // 10**12 zero bytes from a 30-byte pickle
    CHECK(reason_of("cbuiltins\nbytes\n(\212\006\000\020\245\324\350\000tR."sv) == kLimitExceeded);
    CHECK(reason_of("cbuiltins\nbytearray\n(\212\011\000\000\000\000\000\000\000\000\001tR."sv) ==
          kLimitExceeded);
  }
  SECTION("set members and dict keys must be hashable") {
    UnpicklingError e = error_of("cbuiltins\nset\n(((lltR."sv);
    CHECK(e.reason() == kBadValue);
    CHECK(e.detail() == "unhashable type: 'list'");
    CHECK(op_info(*e.opcode()).name == "REDUCE");
    CHECK(error_of("}]K\001s."sv).detail() == "unhashable type: 'list'");
    CHECK(reason_of("(}K\001d."sv) == kBadValue);
    CHECK(reason_of("\217(]\220."sv) == kBadValue);
    CHECK(reason_of("((l\221."sv) == kBadValue);
    CHECK(reason_of("}(]\205K\002u."sv) == kBadValue);  // a tuple holding a list
  }
}

TEST_CASE("find_global policies", "[unpickler]") {
  const std::string_view set_p0 = "c__builtin__\nset\n((K\001ltR."sv;
  const std::string_view system = "cos\nsystem\n(Vls\ntR."sv;
  SECTION("build_data (default): data constructors build, the rest is inert") {
    CHECK(strictly_equal(loads(set_p0), lit("{1}")));
    Value v = loads(system);
    REQUIRE(v.kind() == Kind::Instance);
    CHECK(v.construction() == Construction::Reduce);
    CHECK(is_global(v.callable(), "os", "system"));
    CHECK(strictly_equal(v.args(), lit("('ls',)")));
  }
  SECTION("data_only refuses any other global, naming it") {
    UnpicklerOptions options;
    options.find_global = FindGlobal::data_only();
    CHECK(strictly_equal(loads(set_p0, options), lit("{1}")));
    UnpicklingError e = error_of(system, options);
    CHECK(e.reason() == kForbiddenGlobal);
    CHECK(e.detail() == "global 'os.system' is forbidden");
    CHECK(e.offset() == 0);
    CHECK(reason_of("\200\004\214\002os\214\006system\223."sv, options) == kForbiddenGlobal);
    CHECK(reason_of("(Vx\nios\nsystem\n."sv, options) == kForbiddenGlobal);
  }
  SECTION("refuse_all refuses data constructors too (after fix_imports)") {
    UnpicklerOptions options;
    options.find_global = FindGlobal::refuse_all();
    CHECK(error_of(set_p0, options).detail() == "global 'builtins.set' is forbidden");
    CHECK(strictly_equal(loads("(K\001l."sv, options), lit("[1]")));
  }
  SECTION("inert_all keeps every call inert") {
    UnpicklerOptions options;
    options.find_global = FindGlobal::inert_all();
    Value v = loads(set_p0, options);
    REQUIRE(v.kind() == Kind::Instance);
    CHECK(is_global(v.callable(), "builtins", "set"));
    CHECK(strictly_equal(v.args(), lit("([1],)")));
  }
  SECTION("a user policy is asked once per global, with Python 3 names") {
    std::vector<std::string> asked;
    UnpicklerOptions options;
    options.find_global = [&](std::string_view m, std::string_view n) {
      asked.push_back(std::string(m) + "." + std::string(n));
      return n == "set" ? GlobalAction::kInert : GlobalAction::kBuild;
    };
    Value v = loads("((c__builtin__\nset\n)Rc__builtin__\ncomplex\n)Rl."sv, options);
    CHECK(asked == std::vector<std::string>{"builtins.set", "builtins.complex"});
    CHECK(v[0].kind() == Kind::Instance);
    CHECK(v[1].kind() == Kind::Complex);
  }
  SECTION("a call of a non-global (a persistent reference, an inert object) is the policy's opaque_calls") {
    // [REDUCE(persistent_ref(b'key:1'), (b'tuple', 1))]: found by fuzz_load
    const std::string_view call_pid = "\200\002]q\000(U\005key:1q\001QU\005tupleq\002K\001\206q\003RK\003e."sv;
    const std::string_view call_obj = "cmod\nf\n)R)R."sv;  // mod.f()()
    Value v = loads(call_pid);
    REQUIRE(v[0].kind() == Kind::Instance);
    CHECK(v[0].callable().kind() == Kind::PersistentRef);
    CHECK(loads(call_obj).callable().kind() == Kind::Instance);
    UnpicklerOptions data_only;
    data_only.find_global = FindGlobal::data_only();
    UnpicklingError e = error_of(call_pid, data_only);
    CHECK(e.reason() == kForbiddenGlobal);
    CHECK(e.detail() == "a call of persistent_ref (not a global) is forbidden");
    CHECK(op_info(*e.opcode()).name == "REDUCE");
    CHECK(e.offset() == 30);
    UnpicklerOptions refuse_all;
    refuse_all.find_global = FindGlobal::refuse_all();
    CHECK(reason_of(call_pid, refuse_all) == kForbiddenGlobal);
    CHECK(reason_of("(K\001Qo."sv, refuse_all) == kForbiddenGlobal);                 // OBJ
    CHECK(reason_of("\200\002K\001Q)\201."sv, refuse_all) == kForbiddenGlobal);  // NEWOBJ
    // A user's function is asked about globals only; opaque calls are its
    // own answer (inert unless said otherwise).
    std::vector<std::string> asked;
    auto inert_logged = [&](std::string_view m, std::string_view n) {
      asked.push_back(std::string(m) + "." + std::string(n));
      return GlobalAction::kInert;
    };
    UnpicklerOptions mine;
    mine.find_global = inert_logged;
    CHECK(loads(call_obj, mine).kind() == Kind::Instance);
    CHECK(asked == std::vector<std::string>{"mod.f"});
    mine.find_global = FindGlobalPolicy(inert_logged, GlobalAction::kRefuse);
    CHECK(error_of(call_obj, mine).detail() == "a call of object (not a global) is forbidden");
  }
  SECTION("an empty module name fails, as CPython's __import__('')") {
    UnpicklingError e = error_of("c\nfoo\n."sv);
    CHECK(e.reason() == kBadValue);
    CHECK(e.detail() == "Empty module name");
    CHECK(reason_of("\200\004\214\000\214\003foo\223."sv) == kBadValue);
  }
  CHECK(is_data_constructor("builtins", "set"));
  CHECK(is_data_constructor("_codecs", "encode"));
  CHECK(is_data_constructor("copyreg", "_reconstructor"));
  CHECK(is_data_constructor("collections", "OrderedDict"));
  CHECK_FALSE(is_data_constructor("__builtin__", "set"));  // callers map names first
  CHECK_FALSE(is_data_constructor("os", "system"));
  CHECK_FALSE(is_data_constructor("builtins", "eval"));
}

TEST_CASE("inert instances record how they were built", "[unpickler]") {
  SECTION("REDUCE, then APPENDS, SETITEMS and BUILD on the object") {
    Value v = loads("cmod\nC\n(K\001tR(K\002K\003e(K\004K\005u}Vx\nK\006sb."sv);
    REQUIRE(v.kind() == Kind::Instance);
    CHECK(v.construction() == Construction::Reduce);
    CHECK(is_global(v.callable(), "mod", "C"));
    CHECK(strictly_equal(v.args(), lit("(1,)")));
    CHECK(v.kwargs().is_none());
    auto li = v.list_items();
    REQUIRE(li.size() == 2);
    CHECK(strictly_equal(li[1], Value(3)));
    auto di = v.dict_items();
    REQUIRE(di.size() == 1);
    CHECK(strictly_equal(di[0].second, Value(5)));
    REQUIRE(v.state().has_value());
    CHECK(strictly_equal(*v.state(), lit("{'x': 6}")));
  }
  SECTION("APPEND and SETITEM on an instance") {
    Value v = loads("cmod\nC\n)RK\001aK\002K\003s."sv);
    CHECK(v.list_items().size() == 1);
    CHECK(v.dict_items().size() == 1);
  }
  SECTION("NEWOBJ_EX keeps args and kwargs") {
    Value v = loads("\200\004\214\003mod\214\001C\223K\001\205}\214\001kK\002s\222."sv);
    CHECK(v.construction() == Construction::NewObjEx);
    CHECK(strictly_equal(v.args(), lit("(1,)")));
    CHECK(strictly_equal(v.kwargs(), lit("{'k': 2}")));
  }
  SECTION("INST and OBJ") {
    Value i = loads("(K\001K\002imod\nC\n."sv);
    CHECK(i.construction() == Construction::Inst);
    CHECK(strictly_equal(i.args(), lit("(1, 2)")));
    Value o = loads("(cmod\nC\nK\001o."sv);
    CHECK(o.construction() == Construction::Obj);
    CHECK(strictly_equal(o.args(), lit("(1,)")));
  }
  SECTION("a call's callable may be an instance, never plain data") {
    CHECK(loads("cmod\nf\n)R)R."sv).kind() == Kind::Instance);
    CHECK(reason_of("K\001)R."sv) == kBadValue);
    CHECK(reason_of("cmod\nC\nK\001\201."sv) == kBadValue);
    CHECK(reason_of("(K\001o."sv) == kBadValue);
  }
  SECTION("BUILD on data: a false state is a no-op, any other an error") {
    CHECK(strictly_equal(loads("]Nb."sv), lit("[]")));
    CHECK(strictly_equal(loads("]}b."sv), lit("[]")));
    CHECK(strictly_equal(loads("]N}\206b."sv), lit("[]")));
    CHECK(reason_of("]}K\001K\002sb."sv) == kBadValue);
  }
  SECTION("APPEND, SETITEM, ADDITEMS on the wrong kind") {
    CHECK(error_of("}K\001a."sv).detail() == "'dict' object has no attribute 'append'");
    CHECK(reason_of("](K\001e(K\001K\002e)(e."sv) == kBadValue);
    CHECK(reason_of("]K\001K\002s."sv) == kBadValue);
    CHECK(reason_of("](K\001\220."sv) == kBadValue);
    CHECK(reason_of("N\205(K\001K\002u."sv) == kBadValue);
  }
}

TEST_CASE("identity: memo and shared and recursive values in one graph", "[unpickler]") {
  Value self = loads("]q\000h\000a."sv);
  CHECK(self[0].is(self));
  Value d = loads("}q\000K\001h\000s."sv);
  CHECK(d.get(1)->is(d));
  Value t = loads("(]q\000h\000\205q\001a0h\001."sv);  // a tuple holding a list holding the tuple
  REQUIRE(t.kind() == Kind::Tuple);
  CHECK(t[0][0].is(t));
  Value e = loads("))\206."sv);
  CHECK(e[0].is(e[1]));  // one empty tuple, as CPython shares ()
  CHECK(strictly_equal(loads("N.trailing garbage"sv), Value()));
  SECTION("the memo is shared across loads of one Unpickler") {
    std::string stream = "\200\002]q\000K\001a.\200\002]q\001h\000a."s;
    MemorySource source(stream);
    Unpickler u(source);
    Value a = u.load();
    CHECK(u.position() == 9);
    Value b = u.load();
    CHECK(u.position() == stream.size());
    CHECK(b[0].is(a));
    CHECK(a.graph() == u.graph());
    CHECK(b.graph() == u.graph());
    CHECK(error_of_load(u) == kTruncated);
  }
  SECTION("memo keys may be sparse; MEMOIZE uses len(memo)") {
    Value v = loads("K\001r\377\377\377\3770K\002\224(j\377\377\377\377h\001t."sv);
    CHECK(strictly_equal(v, lit("(1, 2)")));
    CHECK(error_of("K\001q\007h\006."sv).detail() == "memo key 6 was never stored");
    CHECK(error_of("g-1\n."sv).reason() == kMemoMissing);
  }
}

// --- persistent ids, buffers, noload ------------------------------------------

TEST_CASE("persistent ids", "[unpickler]") {
  const std::string_view p = "\200\002]q\000(X\001\000\000\000aQK\001X\001\000\000\000b\206Qe."sv;
  SECTION("without a hook: PersistentRef nodes holding the pid") {
    Value v = loads(p);
    REQUIRE(v[0].kind() == Kind::PersistentRef);
    CHECK(strictly_equal(v[0].pid(), lit("'a'")));
    CHECK(strictly_equal(v[1].pid(), lit("(1, 'b')")));
    Value q = loads("Pobj-1\n."sv);
    CHECK(strictly_equal(q.pid(), lit("'obj-1'")));
    CHECK(reason_of("P\351\n."sv) == kBadArgument);
  }
  SECTION("a persistent_load hook replaces them") {
    UnpicklerOptions options;
    std::vector<std::string> seen;
    options.persistent_load = [&](const Value& pid, Graph& g) {
      seen.push_back(repr(pid));
      return g.list({repr(pid)});
    };
    Value v = loads(p, options);
    CHECK(seen == std::vector<std::string>{"'a'", "(1, 'b')"});
    CHECK(strictly_equal(v, lit("[[\"'a'\"], [\"(1, 'b')\"]]")));
  }
  SECTION("a hook rejects an id with UnpicklingError") {
    UnpicklerOptions options;
    options.persistent_load = [](const Value&, Graph&) -> Value {
      throw UnpicklingError(kBadPersistentId, "unknown id", 0, std::nullopt);
    };
    UnpicklingError e = error_of(p, options);
    CHECK(e.reason() == kBadPersistentId);
    CHECK(e.offset() == 12);
    CHECK(e.opcode() == Op::BINPERSID);
    CHECK(e.detail() == "unknown id");
  }
}

TEST_CASE("protocol 5 out-of-band buffers", "[unpickler]") {
  const std::string_view p = "\200\005(\227\227\230l."sv;
  CHECK(error_of(p).detail() == "pickle stream refers to out-of-band data but no *buffers* argument was given");
  CHECK(reason_of(p) == kBadBuffer);
  Graph g;
  UnpicklerOptions options;
  options.buffers = {g.buffer("one", false)};
  CHECK(error_of(p, options).detail() == "not enough out-of-band buffers");
  options.buffers.push_back(g.bytearray("two"));
  Value v = loads(p, options);
  REQUIRE(v.size() == 2);
  CHECK(v[0].kind() == Kind::Buffer);
  CHECK_FALSE(v[0].readonly());
  CHECK(v[1].kind() == Kind::Buffer);  // READONLY_BUFFER made the bytearray a read-only view
  CHECK(v[1].readonly());
  CHECK(v[1].as_bytes() == "two");
  CHECK(reason_of("K\001\230."sv) == kBadValue);
}

TEST_CASE("noload walks a pickle and builds nothing but its persistent ids", "[unpickler]") {
  std::string p = "\200\002]q\000(X\001\000\000\000aQcos\nsystem\n)R}K\001K\002\206Qse.N."s;
  MemorySource source(p);
  UnpicklerOptions options;
  options.find_global = FindGlobal::refuse_all();  // nothing is resolved
  options.persistent_load = [](const Value&, Graph&) -> Value {
    FAIL("noload called persistent_load");
    return {};
  };
  Unpickler u(source, options);
  NoloadResult r = u.noload();
  REQUIRE(r.persistent_ids.size() == 2);
  CHECK(strictly_equal(r.persistent_ids[0], lit("'a'")));
  CHECK(strictly_equal(r.persistent_ids[1], lit("(1, 2)")));
  CHECK(r.protocol == 2);
  CHECK(r.bytes_read == p.size() - 2);
  CHECK(u.position() == p.size() - 2);
  CHECK(u.load().is_none());  // and the stream goes on
  SECTION("noload checks what load checks") {
    for (std::string_view bad : {"(K\001u."sv, "h\001."sv, "\200\002K"sv, "\200\006."sv, "K\001\377."sv}) {
      UnpicklingError want = error_of(bad);
      MemorySource s(bad);
      try {
        Unpickler(s).noload();
        FAIL("noload accepted " << testutil::to_hex(bad));
      } catch (const UnpicklingError& e) {
        CHECK(std::string(e.what()) == want.what());
      }
    }
  }
}

TEST_CASE("EXT1/EXT2/EXT4 look codes up in the extension registry", "[unpickler]") {
  CHECK(error_of("\202\001."sv).detail() == "unregistered extension code 1");
  auto registry = std::make_shared<ExtensionRegistry>();
  registry->add("mod", "C", 1);
  registry->add("copy_reg", "_reconstructor", 300);
  registry->add("os", "system", 0x10000);
  UnpicklerOptions options;
  options.extensions = registry;
  CHECK(is_global(loads("\202\001."sv, options), "mod", "C"));
  // Names go through fix_imports (protocol < 3) and find_global, as GLOBAL's.
  CHECK(is_global(loads("\200\002\203\054\001."sv, options), "copyreg", "_reconstructor"));
  CHECK(is_global(loads("\200\003\203\054\001."sv, options), "copy_reg", "_reconstructor"));
  Value v = loads("\204\000\000\001\000)R."sv, options);
  CHECK(is_global(v.callable(), "os", "system"));
  CHECK(error_of("\202\002."sv, options).detail() == "unregistered extension code 2");
  CHECK(error_of("\204\000\000\000\200."sv, options).detail() == "EXT specifies code <= 0");
  options.find_global = FindGlobal::data_only();
  CHECK(error_of("\204\000\000\001\000."sv, options).detail() == "global 'os.system' is forbidden");
}

TEST_CASE("UnpicklerOptions::into loads into a graph that already holds values", "[unpickler]") {
  Graph g;
  Value held = g.list({1});
  UnpicklerOptions options;
  options.into = g;
  Value loaded = loads(dumps(lit("{'a': [1, 2], 'b': 'x'}")), options);
  CHECK(loaded.graph() == g);
  // One graph: the loaded value goes in as itself, not as a copy.
  held.append(loaded);
  CHECK(held[1].is(loaded));
  // A load that fails leaves the graph and its values as they were.
  CHECK_THROWS_AS(loads("]K\001K\002\377"sv, options), UnpicklingError);
  CHECK(repr(held) == "[1, {'a': [1, 2], 'b': 'x'}]");
  // Loads into one graph share nothing by accident: each is its own object.
  Value again = loads(dumps(lit("[1, 2]")), options);
  CHECK_FALSE(again.is(*loaded.get("a")));
  CHECK(again == *loaded.get("a"));
}

}  // namespace shelf::pickle

namespace shelf::pickle {
namespace {

// The UTF-8 check reads ASCII 32 and 8 bytes at a time: a character that is
// not ASCII, or a byte that is not UTF-8, must be seen wherever it falls.
TEST_CASE("str payloads are checked as UTF-8 at every position and length", "[unpickler]") {
  for (size_t length = 1; length <= 80; ++length) {
    for (size_t at = 0; at < length; ++at) {
      std::string ascii(length, 'a');
      std::string good = ascii.substr(0, at) + "\xc3\xa9" + ascii.substr(at + 1);  // U+00E9
      std::string bad = ascii.substr(0, at) + "\xff" + ascii.substr(at + 1);
      auto binunicode = [](const std::string& payload) {
        std::string p = "X";
        for (int shift = 0; shift < 32; shift += 8) p += static_cast<char>((payload.size() >> shift) & 0xff);
        return p + payload + ".";
      };
      INFO("length " << length << ", at " << at);
      CHECK(loads(binunicode(good)).as_str() == good);
      CHECK(reason_of(binunicode(bad)) == kBadArgument);
    }
  }
}

}  // namespace
}  // namespace shelf::pickle
