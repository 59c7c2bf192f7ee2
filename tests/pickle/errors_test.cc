// tests/pickle/errors_test.cc: the reason table of pickle/errors.cc and the
// shape of UnpicklingError's message.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <string_view>

#include "pickle/errors.h"
#include "pickle/unpickler.h"

namespace shelf::pickle {
namespace {

using namespace std::string_view_literals;
using namespace std::string_literals;

// Every enumerator, in declaration order. A new enumerator must be added
// here and to the table in errors.cc, in the same place.
constexpr std::pair<UnpicklingReason, std::string_view> kAllReasons[] = {
    {UnpicklingReason::kTruncated, "kTruncated"},
    {UnpicklingReason::kUnknownOpcode, "kUnknownOpcode"},
    {UnpicklingReason::kStackUnderflow, "kStackUnderflow"},
    {UnpicklingReason::kNoMark, "kNoMark"},
    {UnpicklingReason::kMemoMissing, "kMemoMissing"},
    {UnpicklingReason::kBadArgument, "kBadArgument"},
    {UnpicklingReason::kBadValue, "kBadValue"},
    {UnpicklingReason::kLimitExceeded, "kLimitExceeded"},
    {UnpicklingReason::kForbiddenGlobal, "kForbiddenGlobal"},
    {UnpicklingReason::kBadPersistentId, "kBadPersistentId"},
    {UnpicklingReason::kBadBuffer, "kBadBuffer"},
};

UnpicklingError error_of(std::string_view data, const UnpicklerOptions& options = {}) {
  try {
    loads(data, options);
  } catch (const UnpicklingError& e) {
    return e;
  }
  FAIL("loaded without error");
  throw;
}

}  // namespace

TEST_CASE("the reason table has one row per enumerator in order", "[errors]") {
  std::set<std::string_view> messages;
  for (size_t i = 0; i < std::size(kAllReasons); ++i) {
    auto [reason, name] = kAllReasons[i];
    INFO(name);
    CHECK(static_cast<size_t>(reason) == i);  // the list above is complete and ordered
    CHECK(reason_name(reason) == name);
    CHECK_FALSE(reason_message(reason).empty());
    messages.insert(reason_message(reason));
  }
  CHECK(messages.size() == std::size(kAllReasons));
  // The last enumerator is the last row: nothing was added after it.
  CHECK(static_cast<size_t>(UnpicklingReason::kBadBuffer) + 1 == std::size(kAllReasons));
}

TEST_CASE("UnpicklingError's message names the offset and the opcode", "[errors]") {
  UnpicklingError e(UnpicklingReason::kMemoMissing, "memo key 5 was never stored", 17, Op::BINGET);
  CHECK(std::string(e.what()) == "at byte 17 (BINGET 'h'): memo key 5 was never stored");
  CHECK(e.reason() == UnpicklingReason::kMemoMissing);
  CHECK(e.offset() == 17);
  CHECK(e.opcode() == Op::BINGET);
  CHECK(e.detail() == "memo key 5 was never stored");
  const PickleError& base = e;  // UnpicklingError is a PickleError
  CHECK(std::string(base.what()) == e.what());

  CHECK(std::string(UnpicklingError(UnpicklingReason::kBadArgument, "x", 0, Op::PROTO).what()) ==
        "at byte 0 (PROTO '\\x80'): x");
  CHECK(std::string(UnpicklingError(UnpicklingReason::kTruncated, "pickle data was truncated", 3, std::nullopt)
                        .what()) == "at byte 3: pickle data was truncated");
}

TEST_CASE("a real load reports offset and opcode in that format", "[errors]") {
  // 0: PROTO 2, then seven (NONE, POP) pairs, NONE at 16, BINGET 5 at 17.
  std::string p = "\x80\x02"s;
  for (int i = 0; i < 7; ++i) p += "N0";
  p += "Nh\x05.";
  UnpicklingError e = error_of(p);
  CHECK(std::string(e.what()) == "at byte 17 (BINGET 'h'): memo key 5 was never stored");

  CHECK(std::string(error_of("N\xff."sv).what()) == "at byte 1: invalid load key, '\\xff'.");
  CHECK(error_of("N\xff."sv).reason() == UnpicklingReason::kUnknownOpcode);
  CHECK_FALSE(error_of("N\xff."sv).opcode().has_value());
  CHECK(std::string(error_of(""sv).what()) == "at byte 0: pickle data was truncated");
  CHECK(std::string(error_of("\x80\x06."sv).what()) == "at byte 0 (PROTO '\\x80'): unsupported pickle protocol: 6");
  CHECK(error_of("\x80\x06."sv).reason() == UnpicklingReason::kUnknownOpcode);
  CHECK(std::string(error_of("K\x01(."sv).what()) == "at byte 3 (STOP '.'): unexpected MARK found");

  UnpicklerOptions strict;
  strict.find_global = FindGlobal::data_only();
  UnpicklingError g = error_of("\x80\x02" "cos\nsystem\n."sv, strict);
  CHECK(g.reason() == UnpicklingReason::kForbiddenGlobal);
  CHECK(std::string(g.what()) == "at byte 2 (GLOBAL 'c'): global 'os.system' is forbidden");
}

}  // namespace shelf::pickle
