// docs/pickle.md, "repr, literals and dis": the examples, compiled and run.
#include <string>

#include <catch2/catch.hpp>

#include "pickle/dis.h"
#include "pickle/literal.h"
#include "pickle/pickler.h"
#include "pickle/repr.h"
#include "pickle/value.h"

namespace {

TEST_CASE("docs example: parse_literal and repr", "[docs]") {
  // [doc:literal]
  using namespace shelf::pickle;

  Value v = parse_literal("{'x': [1, 2.5, -3+4j], 'y': b'\\x00' b'\\xff', 'z': {0x10, 1e3}}");
  std::string text = repr(v);
  // {'x': [1, 2.5, (-3+4j)], 'y': b'\x00\xff', 'z': {16, 1000.0}}

  try {
    parse_literal("[1, 2,\n 3 +]");
  } catch (const LiteralError& e) {
    // e.line() == 2, e.column() == 5: where the bad token starts
  }
  // [/doc:literal]
  CHECK(text == "{'x': [1, 2.5, (-3+4j)], 'y': b'\\x00\\xff', 'z': {16, 1000.0}}");
  try {
    parse_literal("[1, 2,\n 3 +]");
    FAIL("parsed");
  } catch (const LiteralError& e) {
    CHECK(e.line() == 2);
    CHECK(e.column() == 5);
  }
}

TEST_CASE("docs example: dis", "[docs]") {
  // [doc:dis]
  using namespace shelf::pickle;

  Graph g;
  Value l = g.list();
  l.append(l);
  std::string listing = dis(dumps(l, 2));
  //     0: \x80 PROTO      2
  //     2: ]    EMPTY_LIST
  //     3: q    BINPUT     0
  //     5: h    BINGET     0
  //     7: a    APPEND
  //     8: .    STOP
  // highest protocol among opcodes = 2
  // [/doc:dis]
  CHECK(listing ==
        "    0: \\x80 PROTO      2\n"
        "    2: ]    EMPTY_LIST\n"
        "    3: q    BINPUT     0\n"
        "    5: h    BINGET     0\n"
        "    7: a    APPEND\n"
        "    8: .    STOP\n"
        "highest protocol among opcodes = 2\n");
}

}  // namespace
