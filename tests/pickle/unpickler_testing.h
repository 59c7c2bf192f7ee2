// tests/pickle/unpickler_testing.h: helpers shared by the Unpickler's test
// files (unpickler_test.cc, unpickler_input_test.cc).
#pragma once

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string_view>
#include <vector>

#include "pickle/literal.h"
#include "pickle/repr.h"
#include "pickle/unpickler.h"
#include "tests/testutil/testutil.h"

namespace shelf::pickle::unpickler_testing {

// A Python literal; "frozenset({...})", which literal_eval lacks, too.
inline Value lit(std::string_view text) {
  if (text.starts_with("frozenset(")) {
    Graph g;
    std::string_view inner = text.substr(10, text.size() - 11);
    std::vector<Value> items;
    if (!inner.empty())
      for (Value v : parse_literal(inner, g).elements()) items.push_back(v);
    return g.frozenset(items);
  }
  return parse_literal(text);
}

inline UnpicklingError error_of(std::string_view data, const UnpicklerOptions& options = {}) {
  INFO("pickle: " << testutil::to_hex(data));
  try {
    Value v = loads(data, options);
    FAIL("loaded: " << repr(v));
  } catch (const UnpicklingError& e) {
    return e;
  }
  throw std::logic_error("unreachable");
}

inline UnpicklingReason reason_of(std::string_view data, const UnpicklerOptions& options = {}) {
  return error_of(data, options).reason();
}

inline UnpicklingReason error_of_load(Unpickler& u) {
  try {
    u.load();
  } catch (const UnpicklingError& e) {
    return e.reason();
  }
  FAIL("loaded without error");
  throw std::logic_error("unreachable");
}

inline bool is_global(const Value& v, std::string_view module, std::string_view name) {
  return v.kind() == Kind::Global && v.module() == module && v.name() == name;
}

}  // namespace shelf::pickle::unpickler_testing
