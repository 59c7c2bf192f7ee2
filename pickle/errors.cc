#include "pickle/errors.h"

#include <array>
#include <cstdio>

namespace shelf::pickle {
namespace {

struct ReasonText {
  UnpicklingReason reason;
  std::string_view name;
  std::string_view message;
};

// In enumerator order; errors_test.cc checks one row per enumerator.
constexpr std::array<ReasonText, 11> kReasons = {{
    {UnpicklingReason::kTruncated, "kTruncated", "pickle data was truncated"},
    {UnpicklingReason::kUnknownOpcode, "kUnknownOpcode", "invalid load key"},
    {UnpicklingReason::kStackUnderflow, "kStackUnderflow", "stack underflow"},
    {UnpicklingReason::kNoMark, "kNoMark", "could not find MARK"},
    {UnpicklingReason::kMemoMissing, "kMemoMissing", "memo key was never stored"},
    {UnpicklingReason::kBadArgument, "kBadArgument", "malformed opcode argument"},
    {UnpicklingReason::kBadValue, "kBadValue", "wrong kind of value on the stack"},
    {UnpicklingReason::kLimitExceeded, "kLimitExceeded", "limit exceeded"},
    {UnpicklingReason::kForbiddenGlobal, "kForbiddenGlobal", "global forbidden by policy"},
    {UnpicklingReason::kBadPersistentId, "kBadPersistentId", "persistent id not loadable"},
    {UnpicklingReason::kBadBuffer, "kBadBuffer", "out-of-band buffer missing"},
}};

std::string locate(size_t offset, std::optional<Op> opcode, const std::string& detail) {
  std::string out = "at byte " + std::to_string(offset);
  if (opcode) {
    const OpInfo& info = op_info(*opcode);
    char code[8];
    uint8_t byte = static_cast<uint8_t>(info.op);
    if (byte >= 0x20 && byte < 0x7f && byte != '\'' && byte != '\\')
      std::snprintf(code, sizeof code, "'%c'", byte);
    else
      std::snprintf(code, sizeof code, "'\\x%02x'", byte);
    out += " (" + std::string(info.name) + " " + code + ")";
  }
  return out + ": " + detail;
}

}  // namespace

std::string_view reason_name(UnpicklingReason reason) { return kReasons[static_cast<size_t>(reason)].name; }
std::string_view reason_message(UnpicklingReason reason) { return kReasons[static_cast<size_t>(reason)].message; }

UnpicklingError::UnpicklingError(UnpicklingReason reason, std::string detail, size_t offset, std::optional<Op> opcode)
    : PickleError(locate(offset, opcode, detail)),
      reason_(reason),
      detail_(std::move(detail)),
      offset_(offset),
      opcode_(opcode) {}

}  // namespace shelf::pickle
