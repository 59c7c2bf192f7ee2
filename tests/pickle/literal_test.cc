// parse_literal against ast.literal_eval: the accepted forms are checked in
// repr_test.cc through CPython's repr of each (repr_vectors.inc); here the
// errors CPython reports for the same generator's bad sources, positions,
// limits, and values built directly.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "pickle/literal.h"
#include "pickle/repr.h"
#include "pickle/value.h"

namespace shelf::pickle {
namespace {

struct ErrorVector {
  const char* source;
  const char* message;
  size_t line;  // 0: CPython gives no line
};

#define LITERAL_ERROR(src, msg, line) ErrorVector{src, msg, line},
const ErrorVector kErrors[] = {
#include "tests/pickle/repr_vectors.inc"
};
#undef LITERAL_ERROR

struct FuzzVector {
  const char* source;
  bool accepted;
  const char* repr;  // "" when not comparable (sets print in another order)
};

#define LITERAL_FUZZ(src, accepted, text) FuzzVector{src, accepted, text},
const FuzzVector kFuzz[] = {
#include "tests/pickle/repr_vectors.inc"
};
#undef LITERAL_FUZZ

LiteralError error_of(std::string_view text, const LiteralOptions& options = {}) {
  try {
    parse_literal(text, options);
  } catch (const LiteralError& e) {
    return e;
  }
  FAIL("accepted: " << text);
  return LiteralError("", 0, 0, 0);
}

TEST_CASE("literal errors match CPython's messages", "[literal]") {
  REQUIRE(std::size(kErrors) > 80);
  for (const auto& v : kErrors) {
    INFO("source: " << v.source);
    LiteralError e = error_of(v.source);
    std::string want = v.message;
    if (want == "malformed node or string") {
      // CPython names an AST node object; we say what the node is.
      CHECK(e.message().rfind(want, 0) == 0);
    } else {
      CHECK(e.message() == want);
    }
    if (v.line != 0) CHECK(e.line() == v.line);
  }
}

TEST_CASE("mutated literals: accepted exactly when CPython accepts them", "[literal]") {
  // Random edits of rich literals, judged by ast.literal_eval. Messages
  // are not compared here: on about 1% of such inputs CPython's parser
  // words its error differently (see literal.cc).
  REQUIRE(std::size(kFuzz) > 1500);
  for (const auto& v : kFuzz) {
    INFO("source: " << v.source);
    if (v.accepted) {
      Value parsed;
      REQUIRE_NOTHROW(parsed = parse_literal(v.source));
      if (*v.repr) CHECK(repr(parsed) == v.repr);
    } else {
      CHECK_THROWS_AS(parse_literal(v.source), LiteralError);
    }
  }
}

TEST_CASE("literal error positions", "[literal]") {
  LiteralError e = error_of("[1, 2,\n  3 4]");
  CHECK(e.message() == "invalid syntax. Perhaps you forgot a comma?");
  CHECK(e.line() == 2);
  CHECK(e.column() == 3);  // CPython points at the first of the two expressions
  CHECK(e.offset() == 9);
  CHECK(std::string(e.what()) == "invalid syntax. Perhaps you forgot a comma? (line 2, column 3)");

  e = error_of("{'a': [1, 2, (3, 'x\n')]}");
  CHECK(e.message() == "unterminated string literal (detected at line 1)");
  CHECK(e.column() == 18);

  e = error_of("(1,\n [2,\n  0x1g])");
  CHECK(e.message() == "invalid hexadecimal literal");
  CHECK(e.line() == 3);
  CHECK(e.column() == 6);

  e = error_of("'abc\\x4'");
  CHECK(e.column() == 5);  // at the backslash of the bad escape

  e = error_of("[1, (2, 3]");
  CHECK(e.message() == "closing parenthesis ']' does not match opening parenthesis '('");
  CHECK(e.column() == 10);

  e = error_of("(\n1,\n]");
  CHECK(e.message() == "closing parenthesis ']' does not match opening parenthesis '(' on line 1");

  e = error_of("[1, x]");
  CHECK(e.message() == "malformed node or string: name 'x'");
  CHECK(e.column() == 5);

  e = error_of("'''a\nb\n");
  CHECK(e.message() == "unterminated triple-quoted string literal (detected at line 2)");
  CHECK(e.line() == 1);
}

TEST_CASE("syntax errors win over malformed nodes, as in CPython", "[literal]") {
  CHECK(error_of("[--1, 2 3]").message() == "invalid syntax. Perhaps you forgot a comma?");
  CHECK(error_of("(-True, 'x").message() == "unterminated string literal (detected at line 1)");
  CHECK(error_of("(-True, 'x'").message() == "'(' was never closed");
  CHECK(error_of("[1+2, ]]").message() == "unmatched ']'");
  CHECK(error_of("[1+2]").message().rfind("malformed node or string", 0) == 0);
}

TEST_CASE("numbers", "[literal]") {
  CHECK(strictly_equal(parse_literal("0xdead_beef"), Value(0xdeadbeefLL)));
  CHECK(strictly_equal(parse_literal("-0o777"), Value(-511)));
  CHECK(strictly_equal(parse_literal("0b1111_0000"), Value(240)));
  CHECK(strictly_equal(parse_literal("1_000"), Value(1000)));
  CHECK(strictly_equal(parse_literal("-9223372036854775808"), Value(INT64_MIN)));
  CHECK(repr(parse_literal("9223372036854775808")) == "9223372036854775808");
  CHECK(repr(parse_literal("-(9223372036854775809)")) == "-9223372036854775809");
  CHECK(error_of("-(-1)").message().rfind("malformed node or string", 0) == 0);
  CHECK(repr(parse_literal("0x" + std::string(40, 'f'))) == "1461501637330902918203684832716283019655932542975");
  CHECK(repr(parse_literal("-0x" + std::string(40, 'f'))) == "-1461501637330902918203684832716283019655932542975");
  CHECK(strictly_equal(parse_literal("1."), Value(1.0)));
  CHECK(strictly_equal(parse_literal(".5"), Value(0.5)));
  CHECK(strictly_equal(parse_literal("1e5"), Value(1e5)));
  CHECK(strictly_equal(parse_literal("1_0.5"), Value(10.5)));
  CHECK(strictly_equal(parse_literal("-0.0"), Value(-0.0)));
  CHECK(std::isinf(parse_literal("1e400").as_float()));
  CHECK(std::isinf(parse_literal("1" + std::string(400, '0') + ".0").as_float()));
  CHECK(parse_literal("0." + std::string(400, '0') + "1").as_float() == 0.0);
  CHECK(parse_literal("1e-99999999999999999999").as_float() == 0.0);
  CHECK(std::isinf(parse_literal("1e99999999999999999999").as_float()));
  CHECK(parse_literal("1.5J").as_complex() == std::complex<double>(0, 1.5));
  CHECK(parse_literal("-1+2j").as_complex() == std::complex<double>(-1, 2));
  CHECK(parse_literal("1-2j").as_complex() == std::complex<double>(1, -2));
  CHECK(repr(parse_literal("-0j")) == "(-0-0j)");
  CHECK(repr(parse_literal("-0.0-0j")) == "(-0+0j)");
  // A decimal int past 4300 digits is refused, as CPython does; hex is not.
  CHECK(error_of(std::string(4301, '1')).message().rfind("Exceeds the limit (4300 digits)", 0) == 0);
  CHECK(parse_literal(std::string(4300, '1')).kind() == Kind::Int);
  LiteralOptions unlimited;
  unlimited.max_int_digits = 0;
  ReprOptions repr_unlimited;
  repr_unlimited.max_int_digits = 0;
  CHECK(repr(parse_literal(std::string(5000, '7'), unlimited), repr_unlimited) == std::string(5000, '7'));
  CHECK(parse_literal("0x" + std::string(100'000, 'f')).kind() == Kind::Int);
}

TEST_CASE("strings", "[literal]") {
  CHECK(parse_literal("'a' \"b\" '''c'''").as_str() == "abc");
  CHECK(parse_literal("r'\\n'").as_str() == "\\n");
  CHECK(parse_literal("b'\\x00\\xff'").as_bytes() == std::string("\x00\xff", 2));
  CHECK(parse_literal("'\\ud800'").as_str() == "\xed\xa0\x80");  // lone surrogate kept
  CHECK(parse_literal("'\\N{EM DASH}'").as_str() == "\xe2\x80\x94");
  CHECK(parse_literal("'\\N{CJK UNIFIED IDEOGRAPH-4E00}'").as_str() == "\xe4\xb8\x80");
  CHECK(error_of("'\\N{cjk unified ideograph-4e00}'").message().find("unknown Unicode character name") !=
        std::string::npos);
  CHECK(parse_literal("'''a\r\nb'''").as_str() == "a\nb");
  CHECK(parse_literal("'a\\\r\nb'").as_str() == "ab");
  CHECK(parse_literal("u'x'").kind() == Kind::Str);
  CHECK(parse_literal("BR'x'").kind() == Kind::Bytes);
  // A \N name outside shelf's table reads as unknown, with CPython's words.
  CHECK(error_of("'\\N{HANGUL SYLLABLE GA}'").message().find("unknown Unicode character name") !=
        std::string::npos);
  CHECK(error_of("'\\xff").message() == "unterminated string literal (detected at line 1)");
  CHECK(error_of("\xff").message().size() > 0);
}

TEST_CASE("containers and bare tuples", "[literal]") {
  CHECK(repr(parse_literal("1, 2")) == "(1, 2)");
  CHECK(repr(parse_literal("1,")) == "(1,)");
  CHECK(repr(parse_literal("()")) == "()");
  CHECK(repr(parse_literal("(1)")) == "1");
  CHECK(repr(parse_literal("set()")) == "set()");
  CHECK(repr(parse_literal("{1: {2}, 3: [()], 'k': ({},)}")) == "{1: {2}, 3: [()], 'k': ({},)}");
  CHECK(repr(parse_literal("{'a': 1, 'a': 2}")) == "{'a': 2}");
  CHECK(repr(parse_literal("{1: 'a', 1.0: 'b', True: 'c'}")) == "{1: 'c'}");
  CHECK(repr(parse_literal("[1, # one\n 2, # two\n]")) == "[1, 2]");
  CHECK(error_of("{[1]: 2}").message() == "malformed node or string: unhashable type: 'list'");
  CHECK(error_of("{{1}}").message() == "malformed node or string: unhashable type: 'set'");
  CHECK(error_of("...").message().rfind("malformed node or string", 0) == 0);  // CPython: Ellipsis
}

TEST_CASE("parse_literal into a given graph", "[literal]") {
  Graph g;
  Value v = parse_literal("[1, 'x']", g);
  Value holder = g.list({v});
  CHECK(holder[0].is(v));
}

TEST_CASE("literal depth limit", "[literal]") {
  std::string deep = std::string(10'000, '[') + std::string(10'000, ']');
  CHECK(repr(parse_literal(deep)) == deep);
  std::string deeper = std::string(10'001, '[') + std::string(10'001, ']');
  CHECK(error_of(deeper).message().find("depth limit") != std::string::npos);
  LiteralOptions opts;
  opts.max_depth = 200'000;
  std::string very = std::string(100'000, '(') + "1," + std::string(100'000, ')');
  Value v = parse_literal(very, opts);
  CHECK(v.kind() == Kind::Tuple);
  // A repr of a 100,000-deep list parses back.
  Graph g;
  Value l = g.list();
  for (int i = 1; i < 100'000; ++i) l = g.list({l});
  CHECK(strictly_equal(parse_literal(repr(l), opts), l));
  // Long runs of signs cost no stack either.
  CHECK(error_of(std::string(1'000'000, '-') + "1").message().rfind("malformed node or string", 0) == 0);
}

TEST_CASE("bad input never crashes", "[literal]") {
  // Every prefix of a rich literal either parses or fails cleanly.
  std::string rich =
      "{'a': [1, 2.5e-3, -3+4j, 0x_1F, 0o7, 0b1], b'k\\x00': (None, True, False, set()), "
      "r'''raw\\'''' : {1, 2}, \"\\N{BULLET}\\u00e9\\U0001F600\\101\": [[], ()], # c\n 'x' 'y': 1_0.5J}";
  REQUIRE_NOTHROW(parse_literal(rich));
  for (size_t n = 0; n < rich.size(); ++n) {
    try {
      parse_literal(rich.substr(0, n));
    } catch (const LiteralError&) {
    }
  }
  for (int c = 0; c < 256; ++c) {
    for (const char* tmpl : {"X", "[X]", "'X'", "b'X'", "1X", "0xX", "'\\X'"}) {
      std::string s = tmpl;
      s[s.find('X')] = static_cast<char>(c);
      try {
        parse_literal(s);
      } catch (const LiteralError&) {
      }
    }
  }
}

}  // namespace
}  // namespace shelf::pickle
