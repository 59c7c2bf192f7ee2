// pickle/opcodes.h: the opcode table (opcodes.def) as C++.
//
// Every other part of the engine names opcodes through `Op` and learns their
// argument kind, protocol and stack effect through `op_info()`, so the
// Pickler, the Unpickler and the disassembler cannot disagree.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace shelf::pickle {

// How an opcode's argument is encoded in the stream. The names are
// pickletools' ArgumentDescriptor names; docs/format.md describes each.
enum class ArgKind : uint8_t {
  none,
  uint1,
  uint2,
  uint4,
  uint8,
  int4,
  long1,
  long4,
  decimalnl_short,
  decimalnl_long,
  floatnl,
  float8,
  stringnl,
  stringnl_noescape,
  stringnl_noescape_pair,
  string1,
  string4,
  bytes1,
  bytes4,
  bytes8,
  bytearray8,
  unicodestringnl,
  unicodestring1,
  unicodestring4,
  unicodestring8,
};

enum class Op : uint8_t {
#define OP(name, byte, arg, proto, mark, pops, pushes, doc) name = byte,
#include "pickle/opcodes.def"
#undef OP
};

struct OpInfo {
  Op op;
  std::string_view name;  // CPython's spelling, e.g. "BINPUT"
  ArgKind arg;
  uint8_t protocol;       // the protocol that introduced it
  bool pops_mark;         // consumes the items above the topmost MARK, and the MARK
  uint8_t pops;           // items popped (below the MARK when pops_mark)
  uint8_t pushes;         // items pushed
  std::string_view doc;
};

inline constexpr int kOpcodeCount = 0
#define OP(name, byte, arg, proto, mark, pops, pushes, doc) +1
#include "pickle/opcodes.def"
#undef OP
    ;

// All opcodes in table order.
std::span<const OpInfo> all_ops();

// The row of `op`. REQUIRES: `op` is one of the table's values.
const OpInfo& op_info(Op op);

// The opcode whose byte is `byte`, or nullopt when no opcode has it.
std::optional<Op> op_from_byte(uint8_t byte);

// The row for `byte`, or nullptr: the Unpickler's hot-path form of op_from_byte.
const OpInfo* op_info_for_byte(uint8_t byte);

std::string_view arg_kind_name(ArgKind kind);

}  // namespace shelf::pickle
