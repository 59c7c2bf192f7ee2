// pickle/errors.h: the exceptions of the pickle engine, named as the seed
// names them: PickleError is the base of PicklingError (a value that cannot
// be pickled) and UnpicklingError (bytes that cannot be loaded).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "pickle/opcodes.h"

namespace shelf::pickle {

class PickleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class PicklingError : public PickleError {
 public:
  using PickleError::PickleError;
};

// Why a load failed. Stable: scripts and tests match on these, and
// reason_name() spells them. Never renumber.
enum class UnpicklingReason : uint8_t {
  kTruncated,        // the input ended inside an opcode or before STOP
  kUnknownOpcode,    // a byte that is no opcode (or one newer than allowed)
  kStackUnderflow,   // an opcode needed more items than the stack held
  kNoMark,           // an opcode needed a MARK and there was none
  kMemoMissing,      // GET of a memo key never PUT
  kBadArgument,      // an opcode's argument is malformed (bad digits, UTF-8, ...)
  kBadValue,         // the stack held the wrong kind of value for the opcode
  kLimitExceeded,    // a configured limit (depth, memory, memo, ...) was hit
  kForbiddenGlobal,  // the find_global policy refused a global
  kBadPersistentId,  // no persistent_load hook, or it rejected the id
  kBadBuffer,        // out-of-band buffer opcodes without (enough) buffers
};

// The reason's name as written above ("kTruncated") and a short phrase.
std::string_view reason_name(UnpicklingReason reason);
std::string_view reason_message(UnpicklingReason reason);

class UnpicklingError : public PickleError {
 public:
  // `what()` reads: "at byte 17 (BINGET 'h'): memo key 5 was never stored".
  UnpicklingError(UnpicklingReason reason, std::string detail, size_t offset, std::optional<Op> opcode);

  UnpicklingReason reason() const { return reason_; }
  // Offset of the failing opcode's first byte from the start of this pickle.
  size_t offset() const { return offset_; }
  // The failing opcode, when the failure is inside one.
  std::optional<Op> opcode() const { return opcode_; }
  // The message without the location prefix.
  const std::string& detail() const { return detail_; }

 private:
  UnpicklingReason reason_;
  std::string detail_;
  size_t offset_;
  std::optional<Op> opcode_;
};

}  // namespace shelf::pickle
