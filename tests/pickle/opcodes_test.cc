#include "pickle/opcodes.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>

using namespace shelf::pickle;

TEST_CASE("the opcode table has 68 unique rows", "[opcodes]") {
  CHECK(kOpcodeCount == 68);
  std::set<uint8_t> bytes;
  std::set<std::string_view> names;
  for (const OpInfo& info : all_ops()) {
    CHECK(bytes.insert(static_cast<uint8_t>(info.op)).second);
    CHECK(names.insert(info.name).second);
    CHECK(info.protocol <= 5);
    CHECK(&op_info(info.op) == &info);
    CHECK(op_from_byte(static_cast<uint8_t>(info.op)) == info.op);
  }
  int unknown = 0;
  for (int b = 0; b < 256; ++b)
    if (!op_from_byte(static_cast<uint8_t>(b))) ++unknown;
  CHECK(unknown == 256 - 68);
  CHECK(op_info(Op::BINPUT).name == "BINPUT");
  CHECK(op_info(Op::FRAME).arg == ArgKind::uint8);
  CHECK(op_info(Op::APPENDS).pops_mark);
}
