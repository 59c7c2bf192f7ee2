// tests/fuzz/fuzz_literal.cc: parse_literal (ast.literal_eval's language).
//
// What parses must print, and what it prints must, when it parses back
// (repr of inf, nan and some complex values is not literal syntax, in
// CPython too), be equal to it (Python's ==: repr(-0j) is "(-0-0j)", which
// evaluates to 0j, in CPython too). It must also survive a pickle round
// trip at every protocol unchanged (strictly_equal).
#include "pickle/literal.h"
#include "pickle/pickler.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace shelf;
  std::string_view text = fuzz::as_view(bytes, size);
  pickle::LiteralOptions options;
  options.max_depth = 500;  // pickling below recurses; keep it within Pickler's max_depth
  pickle::Value v;
  try {
    v = pickle::parse_literal(text, options);
  } catch (const pickle::LiteralError& e) {
    SHELF_FUZZ_CHECK(e.offset() <= size, e.what());
    SHELF_FUZZ_CHECK(e.line() >= 1 && e.column() >= 1, e.what());
    return 0;
  }
  fuzz::exercise_value(v);

  std::string printed;
  try {
    printed = pickle::repr(v, fuzz::fuzz_repr_options());
  } catch (const pickle::ReprError&) {
    return 0;
  }
  try {
    pickle::Value again = pickle::parse_literal(printed, options);
    SHELF_FUZZ_CHECK(again == v, "input: " + std::string(text) + "\nrepr: " + printed);
  } catch (const pickle::LiteralError& e) {
    // Only non-literal spellings may fail: inf, nan.
    SHELF_FUZZ_CHECK(printed.find("inf") != std::string::npos || printed.find("nan") != std::string::npos,
                     "repr: " + printed + "\nerror: " + e.what());
  }

  for (int protocol = 0; protocol <= pickle::kHighestProtocol; ++protocol) {
    std::string pickled;
    try {
      pickled = pickle::dumps(v, protocol);
    } catch (const pickle::PicklingError&) {
      // As CPython: an int past 4300 decimal digits has no protocol 0-1
      // form (the text form is what the loader would refuse).
      continue;
    }
    pickle::Value back;
    try {
      back = pickle::loads(pickled);
    } catch (const pickle::UnpicklingError& e) {
      fuzz::fail(__FILE__, __LINE__, "a pickled literal failed to load",
                 "protocol " + std::to_string(protocol) + "\nrepr: " + printed + "\n" + e.what());
    }
    SHELF_FUZZ_CHECK(fuzz::same_value(back, v),
                     "protocol " + std::to_string(protocol) + "\nrepr: " + printed + "\nback: " + fuzz::safe_repr(back));
  }
  return 0;
}
