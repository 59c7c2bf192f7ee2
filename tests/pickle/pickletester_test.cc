// tests/pickle/pickletester_test.cc: CPython's Lib/test/pickletester.py
// against our Unpickler: every malformed pickle it feeds to an unpickler
// (one table, tools/gen_pickletester_cases.py) is rejected with the stated
// reason at the stated opcode, over memory and over a stream; its valid
// pickles (DATA0..DATA4, the Python 2 DATA_* pickles) load to the values its
// tests expect.
#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "pickle/literal.h"
#include "pickle/unpickler.h"
#include "tests/testutil/testutil.h"

namespace shelf::pickle {
namespace {

using namespace std::string_view_literals;
using namespace std::string_literals;
using enum UnpicklingReason;

// Loads that CPython rejects but that we keep as inert data: nothing is
// executed, so a NEWOBJ of builtins.len cannot be known to be no class.
constexpr std::optional<UnpicklingReason> kInert = std::nullopt;

struct BadPickle {
  std::string_view data;
  std::optional<UnpicklingReason> reason;
  std::string_view op;  // the failing opcode; "" when the input ends between opcodes
};

const BadPickle kBadPickles[] = {
#include "tests/pickle/pickletester_cases.inc"
    // Cases pickletester builds in code rather than as literals.
    {"I9223372036854775807JUNK\n."sv, kBadArgument, "INT"},                  // maxint64
    {"Va\np-1\n."sv, kBadArgument, "PUT"},                                   // negative_put
    {"\200\003B\377\377\377\377xyzq\000."sv, kTruncated, "BINBYTES"},        // negative_32b_binbytes
    {"\200\003X\377\377\377\377xyzq\000."sv, kTruncated, "BINUNICODE"},      // negative_32b_binunicode
    {"\200\004\216\4\0\0\0\1\0\0\0\342\202\254\000."sv, kTruncated, "BINBYTES8"},    // large_32b_binbytes8
    {"\200\005\226\4\0\0\0\1\0\0\0\342\202\254\000."sv, kTruncated, "BYTEARRAY8"},   // large_32b_bytearray8
    {"\200\004\215\4\0\0\0\1\0\0\0\342\202\254\000."sv, kTruncated, "BINUNICODE8"},  // large_32b_binunicode8
};

struct Failure {
  UnpicklingReason reason;
  size_t offset;
  std::optional<Op> opcode;
  std::string what;
};

std::optional<Failure> failure_of(Source& source) {
  try {
    Unpickler(source).load();
  } catch (const UnpicklingError& e) {
    return Failure{e.reason(), e.offset(), e.opcode(), e.what()};
  }
  return std::nullopt;
}

// The one helper every bad-input row goes through: the load fails with
// `reason` at an opcode's first byte, the message names that offset, and a
// stream fails exactly as memory does.
Failure check_unpickle_fails(std::string_view data, UnpicklingReason reason) {
  INFO("pickle: " << testutil::to_hex(data));
  MemorySource memory(data);
  std::optional<Failure> f = failure_of(memory);
  REQUIRE(f.has_value());
  INFO("error: " << f->what);
  CHECK(f->reason == reason);
  CHECK(f->offset <= data.size());
  if (f->opcode) {
    REQUIRE(f->offset < data.size());
    CHECK(static_cast<uint8_t>(data[f->offset]) == static_cast<uint8_t>(*f->opcode));
  }
  CHECK(f->what.rfind("at byte " + std::to_string(f->offset), 0) == 0);

  std::istringstream in{std::string(data)};
  IstreamSource stream(in);
  std::optional<Failure> g = failure_of(stream);
  REQUIRE(g.has_value());
  CHECK(g->reason == f->reason);
  CHECK(g->offset == f->offset);
  CHECK(g->opcode == f->opcode);
  CHECK(g->what == f->what);
  return *f;
}

Value loads_checked(std::string_view data, const UnpicklerOptions& options = {}) {
  INFO("pickle: " << testutil::to_hex(data));
  return loads(data, options);
}

std::string_view data(std::string_view name) {
  static const std::map<std::string_view, std::string_view> kData = {
#include "tests/pickle/pickletester_data.inc"
  };
  return kData.at(name);
}

bool is_global(const Value& v, std::string_view module, std::string_view name) {
  return v.kind() == Kind::Global && v.module() == module && v.name() == name;
}

}  // namespace

TEST_CASE("every malformed pickle of pickletester is an UnpicklingError", "[pickletester][errors]") {
  for (const BadPickle& row : kBadPickles) {
    DYNAMIC_SECTION(testutil::to_hex(row.data)) {
      if (!row.reason) {
        Value v = loads_checked(row.data);
        CHECK(v.kind() == Kind::Instance);
        continue;
      }
      Failure f = check_unpickle_fails(row.data, *row.reason);
      if (row.op.empty()) {
        CHECK_FALSE(f.opcode.has_value());
      } else {
        REQUIRE(f.opcode.has_value());
        CHECK(op_info(*f.opcode).name == row.op);
      }
    }
  }
}

// The table must hold every case of the installed pickletester.py, 3.11's
// and 3.13's: a new CPython case shows up here until the table is
// regenerated.
TEST_CASE("the table covers the installed pickletester.py", "[pickletester]") {
  const std::string_view script = R"PY(
import ast, os, sys
path = os.path.join(os.path.dirname(os.__file__), 'test', 'pickletester.py')
tree = ast.parse(open(path).read())
for fn in ast.walk(tree):
    if not isinstance(fn, ast.FunctionDef) or not fn.name.startswith('test_'):
        continue
    for node in ast.walk(fn):
        items = []
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == 'badpickles' for t in node.targets):
            items = [e.value for e in node.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, bytes)]
        if isinstance(node, ast.Call) and getattr(node.func, 'attr', '') == 'check_unpickling_error':
            arg = node.args[1] if len(node.args) > 1 else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, bytes):
                items = [arg.value]
        for b in items:
            print(b.hex())
)PY";
  for (std::string_view version : {""sv, "3.13.0"sv}) {
    auto result = testutil::run_python(version, script);
    if (!result) continue;
    REQUIRE(result->exit_code == 0);
    std::istringstream lines(result->out);
    std::string line;
    size_t count = 0;
    while (std::getline(lines, line)) {
      std::string bytes = testutil::hex(line);
      bool found = false;
      for (const BadPickle& row : kBadPickles) found = found || row.data == bytes;
      INFO("python " << version << ": " << line);
      CHECK(found);
      ++count;
    }
    CHECK(count > 150);
  }
}

TEST_CASE("pickletester DATA0..DATA4 load to create_data()", "[pickletester]") {
  Graph g;
  const Value prefix = parse_literal(
      "[0, 1, 2.0, (3+0j), 1, -1, 255, -255, -256, 65535, -65535, -65536,"
      " 2147483647, -2147483647, -2147483648]",
      g);
  for (std::string_view name : {"DATA0"sv, "DATA1"sv, "DATA2"sv, "DATA3"sv, "DATA4"sv}) {
    DYNAMIC_SECTION(name) {
      Value x = loads_checked(data(name));
      REQUIRE(x.kind() == Kind::List);
      REQUIRE(x.size() == 18);
      for (size_t i = 0; i < prefix.size(); ++i) {
        INFO("item " << i);
        CHECK(strictly_equal(x[i], prefix[i]));
      }
      Value y = x[15];
      CHECK(x[16].is(y));
      CHECK(strictly_equal(x[17], Value(5)));
      REQUIRE(y.kind() == Kind::Tuple);
      REQUIRE(y.size() == 4);
      CHECK(y[0].as_str() == "abc");
      CHECK(y[0].is(y[1]));
      Value c = y[2];
      CHECK(c.is(y[3]));
      REQUIRE(c.kind() == Kind::Instance);
      if (name == "DATA0" || name == "DATA1") {
        // copy_reg._reconstructor(C, object, None): C is no data type.
        CHECK(c.construction() == Construction::Reduce);
        CHECK(is_global(c.callable(), "copyreg", "_reconstructor"));
        REQUIRE(c.args().size() == 3);
        CHECK(is_global(c.args()[0], "__main__", "C"));
        CHECK(is_global(c.args()[1], "builtins", "object"));
        CHECK(c.args()[2].is_none());
      } else {
        CHECK(c.construction() == Construction::NewObj);
        CHECK(is_global(c.callable(), "__main__", "C"));
        CHECK(c.args().size() == 0);
      }
      REQUIRE(c.state().has_value());
      CHECK(*c.state() == parse_literal("{'foo': 1, 'bar': 2}"));
    }
  }
}

TEST_CASE("pickletester's Python 2 pickles", "[pickletester]") {
  SECTION("DATA_SET, DATA_SET2: __builtin__.set builds a set") {
    CHECK(strictly_equal(loads_checked(data("DATA_SET")), parse_literal("{1, 2}")));
    CHECK(strictly_equal(loads_checked(data("DATA_SET2")), parse_literal("{3}")));
  }
  SECTION("DATA_XRANGE: xrange is builtins.range, kept inert") {
    Value r = loads_checked(data("DATA_XRANGE"));
    REQUIRE(r.kind() == Kind::Instance);
    CHECK(is_global(r.callable(), "builtins", "range"));
    CHECK(strictly_equal(r.args(), parse_literal("(0, 5, 1)")));
  }
  SECTION("DATA_COOKIE: Cookie is http.cookies; str loads as ASCII str") {
    Value c = loads_checked(data("DATA_COOKIE"));
    REQUIRE(c.kind() == Kind::Instance);
    CHECK(c.construction() == Construction::NewObj);
    CHECK(is_global(c.callable(), "http.cookies", "SimpleCookie"));
    auto items = c.dict_items();
    REQUIRE(items.size() == 1);
    CHECK(items[0].first.as_str() == "key");
    Value morsel = items[0].second;
    CHECK(is_global(morsel.callable(), "http.cookies", "Morsel"));
    REQUIRE(morsel.state().has_value());
    CHECK(morsel.state()->get("value")->as_str() == "value");
  }
  SECTION("exceptions.X is builtins.X; StandardError is Exception") {
    for (std::string_view exc : {"ArithmeticError"sv, "ZeroDivisionError"sv, "StandardError"sv}) {
      std::string p(data("exception_pickle"));
      p.replace(p.find('?'), 1, exc);
      Value e = loads_checked(p);
      REQUIRE(e.kind() == Kind::Instance);
      CHECK(is_global(e.callable(), "builtins", exc == "StandardError" ? "Exception" : exc));
      CHECK(e.args().size() == 0);
    }
  }
  SECTION("DATA_UEERR") {
    Value e = loads_checked(data("DATA_UEERR"));
    CHECK(is_global(e.callable(), "builtins", "UnicodeEncodeError"));
    CHECK(strictly_equal(e.args(), parse_literal("('ascii', 'foo', 0, 1, 'bad')")));
  }
}

TEST_CASE("pickletester's small valid pickles", "[pickletester]") {
  auto lit = [](std::string_view text) { return parse_literal(text); };
  struct Good {
    std::string_view data;
    std::string_view expected;
    StringEncoding encoding = StringEncoding::kAscii;
  };
  const Good goods[] = {
      {"I9223372036854775807\n."sv, "9223372036854775807"},  // maxint64
      {"N."sv, "None"},                                        // constants
      {"\210."sv, "True"},
      {"\211."sv, "False"},
      {"I01\n."sv, "True"},
      {"I00\n."sv, "False"},
      {"\200\003U\000q\000."sv, "''"},                            // empty_bytestring
      {"\200\003C\004\342\202\254\000."sv, "b'\\xe2\\x82\\xac\\x00'"},  // short_binbytes
      {"\200\003B\004\000\000\000\342\202\254\000."sv, "b'\\xe2\\x82\\xac\\x00'"},
      {"\200\004\214\004\342\202\254\000."sv, "'\\u20ac\\x00'"},  // short_binunicode
      {"\200\004\216\4\0\0\0\0\0\0\0\342\202\254\000."sv, "b'\\xe2\\x82\\xac\\x00'"},  // binbytes8
      {"\200\004\215\4\0\0\0\0\0\0\0\342\202\254\000."sv, "'\\u20ac\\x00'"},          // binunicode8
      {"\200\005\226\003\000\000\000\000\000\000\000xxx."sv, "b'xxx'"},  // bytearray8 (== bytes)
      {"((Kdtp0\nh\000l.))"sv, "[(100,), (100,)]"},                    // misc_get
      {"S''\n."sv, "''"},                                                // correctly_quoted_string
      {"S\"\"\n."sv, "''"},
      {"S\"\\n\"\n."sv, "'\\n'"},
      {"S'\\n'\n."sv, "'\\n'"},
      {"\200\004\225\005\000\000\000\000\000\000\000I42\n."sv, "42"},  // frame_readline
      {"cbuiltins\nint\n)R."sv, "0"},                                   // bad_reduce (the good one)
      {"cbuiltins\nint\n)\201."sv, "0"},                                // bad_newobj
      {"cbuiltins\nint\n)}\222."sv, "0"},                               // bad_newobj_ex
      {"S'a\\x00\\xa0'\n."sv, "b'a\\x00\\xa0'", StringEncoding::kBytes},  // python2_str_as_bytes
      {"U\003a\000\240."sv, "b'a\\x00\\xa0'", StringEncoding::kBytes},
      {"\200\002U\003a\000\240."sv, "b'a\\x00\\xa0'", StringEncoding::kBytes},
      {"V\\u03c0\n."sv, "'\\u03c0'", StringEncoding::kBytes},  // python2_unicode_as_str
      {"X\002\000\000\000\317\200."sv, "'\\u03c0'", StringEncoding::kBytes},
      {"\200\002X\002\000\000\000\317\200."sv, "'\\u03c0'", StringEncoding::kBytes},
      {"\200\003X\001\000\000\000ar\377\377\377\377."sv, "'a'"},  // negative_32b_binput, fine on 64 bits
  };
  for (const Good& row : goods) {
    DYNAMIC_SECTION(testutil::to_hex(row.data)) {
      UnpicklerOptions options;
      options.encoding = row.encoding;
      Value v = loads_checked(row.data, options);
      Value want = lit(row.expected);
      if (v.kind() == Kind::ByteArray) {
        CHECK(v.as_bytes() == want.as_bytes());
      } else {
        CHECK(strictly_equal(v, want));
      }
    }
  }
  SECTION("long_python2_str_as_bytes") {
    std::string p = "T"s + std::string("\x2c\x01\x00\x00", 4) + std::string(300, 'x') + ".";
    UnpicklerOptions options;
    options.encoding = StringEncoding::kBytes;
    CHECK(loads_checked(p, options).as_bytes() == std::string(300, 'x'));
  }
  SECTION("get, binget, long_binget, dup: the same list twice") {
    for (std::string_view p : {"((lp100000\ng100000\nt."sv, "(]q\377h\377t."sv,
                               "(]r\000\000\001\000j\000\000\001\000t."sv, "((l2t."sv}) {
      Value t = loads_checked(p);
      REQUIRE(t.size() == 2);
      CHECK(t[0].kind() == Kind::List);
      CHECK(t[0].is(t[1]));
    }
  }
  SECTION("load_classic_instance: INST and OBJ, with BUILD") {
    for (std::string_view p : {"(i__main__\nC\np0\n(dp1\nb."sv, "(c__main__\nC\nq\000oq\001}q\002b."sv,
                               "\200\002(c__main__\nC\nq\000oq\001}q\002b."sv}) {
      Value c = loads_checked(p);
      REQUIRE(c.kind() == Kind::Instance);
      CHECK(c.construction() == (p[1] == 'i' ? Construction::Inst : Construction::Obj));
      CHECK(is_global(c.callable(), "__main__", "C"));
      CHECK(c.args().size() == 0);
      REQUIRE(c.state().has_value());
      CHECK(c.state()->kind() == Kind::Dict);
    }
  }
  SECTION("compat_unpickle: Python 2 names map to Python 3 ones") {
    CHECK(is_global(loads_checked("\200\002c__builtin__\nreduce\n."sv), "functools", "reduce"));
    CHECK(is_global(loads_checked("\200\002cwhichdb\nwhichdb\n."sv), "dbm", "whichdb"));
    Value r = loads_checked("\200\002c__builtin__\nxrange\nK\001K\007K\001\207R."sv);
    CHECK(is_global(r.callable(), "builtins", "range"));
    for (std::string_view name : {"UserDict"sv, "IterableUserDict"sv}) {
      std::string p = "\200\002(cUserDict\n"s + std::string(name) + "\no}U\004data}K\001K\002ssb."s;
      Value u = loads_checked(p);
      CHECK(is_global(u.callable(), "collections", "UserDict"));
      CHECK(strictly_equal(*u.state(), lit("{'data': {1: 2}}")));
    }
  }
}

}  // namespace shelf::pickle
