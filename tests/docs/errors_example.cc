// docs/pickle.md, "Errors" and "Limits": the examples, compiled and run.
#include <iostream>
#include <string>

#include <catch2/catch.hpp>

#include "pickle/errors.h"
#include "pickle/limits.h"
#include "pickle/pickler.h"
#include "pickle/unpickler.h"
#include "pickle/value.h"

namespace {

TEST_CASE("docs example: UnpicklingError", "[docs]") {
  // [doc:errors]
  using namespace shelf::pickle;

  std::string bad("\x80\x05]h\x07.", 6);  // BINGET of memo key 7, never stored
  try {
    loads(bad);
  } catch (const UnpicklingError& e) {
    // e.reason() == UnpicklingReason::kMemoMissing (reason_name(): "kMemoMissing"),
    // e.offset() == 3, e.opcode() == Op::BINGET, e.detail(): the message alone.
    std::cerr << e.what() << "\n";  // at byte 3 (BINGET 'h'): ...
  }
  // [/doc:errors]
  try {
    loads(bad);
    FAIL("loaded");
  } catch (const UnpicklingError& e) {
    CHECK(e.reason() == UnpicklingReason::kMemoMissing);
    CHECK(e.offset() == 3);
    CHECK(e.opcode() == Op::BINGET);
    CHECK(reason_name(e.reason()) == "kMemoMissing");
    CHECK(std::string(e.what()).starts_with("at byte 3 (BINGET 'h'): "));
  }
}

TEST_CASE("docs example: limits", "[docs]") {
  // [doc:limits]
  using namespace shelf::pickle;

  Graph g;
  Value deep = g.list();
  for (int i = 0; i < 500; ++i) deep = g.list({deep});
  std::string bytes = dumps(deep);  // PicklerOptions::max_depth: 1000 by default

  UnpicklerOptions careful;
  careful.limits.max_depth = 100;        // stack items plus open MARKs
  careful.limits.memory_ratio = 16;      // graph memory <= 16 x input + slack
  try {
    loads(bytes, careful);
  } catch (const UnpicklingError& e) {
    // e.reason() == UnpicklingReason::kLimitExceeded
  }
  // [/doc:limits]
  try {
    loads(bytes, careful);
    FAIL("loaded");
  } catch (const UnpicklingError& e) {
    CHECK(e.reason() == UnpicklingReason::kLimitExceeded);
  }
  CHECK(loads(bytes) == deep);
}

}  // namespace
