#include "pickle/opcodes.h"

#include <array>

namespace shelf::pickle {
namespace {

constexpr std::array<OpInfo, kOpcodeCount> kOps = {{
#define OP(name, byte, arg, proto, mark, pops, pushes, doc) \
  {Op::name, #name, ArgKind::arg, proto, mark, pops, pushes, doc},
#include "pickle/opcodes.def"
#undef OP
}};

constexpr std::array<int16_t, 256> make_byte_index() {
  std::array<int16_t, 256> index{};
  for (auto& slot : index) slot = -1;
  for (size_t i = 0; i < kOps.size(); ++i) index[static_cast<uint8_t>(kOps[i].op)] = static_cast<int16_t>(i);
  return index;
}

constexpr std::array<int16_t, 256> kByteIndex = make_byte_index();

}  // namespace

std::span<const OpInfo> all_ops() { return kOps; }

const OpInfo* op_info_for_byte(uint8_t byte) {
  int16_t i = kByteIndex[byte];
  return i < 0 ? nullptr : &kOps[static_cast<size_t>(i)];
}

const OpInfo& op_info(Op op) { return *op_info_for_byte(static_cast<uint8_t>(op)); }

std::optional<Op> op_from_byte(uint8_t byte) {
  const OpInfo* info = op_info_for_byte(byte);
  if (info == nullptr) return std::nullopt;
  return info->op;
}

std::string_view arg_kind_name(ArgKind kind) {
  switch (kind) {
#define KIND(k) \
  case ArgKind::k: \
    return #k;
    KIND(none) KIND(uint1) KIND(uint2) KIND(uint4) KIND(uint8) KIND(int4) KIND(long1) KIND(long4)
    KIND(decimalnl_short) KIND(decimalnl_long) KIND(floatnl) KIND(float8) KIND(stringnl)
    KIND(stringnl_noescape) KIND(stringnl_noescape_pair) KIND(string1) KIND(string4) KIND(bytes1)
    KIND(bytes4) KIND(bytes8) KIND(bytearray8) KIND(unicodestringnl) KIND(unicodestring1)
    KIND(unicodestring4) KIND(unicodestring8)
#undef KIND
  }
  return "?";
}

}  // namespace shelf::pickle
