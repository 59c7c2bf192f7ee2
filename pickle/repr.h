// pickle/repr.h: what CPython 3's repr() writes for a value.
//
// Built-in values print exactly as CPython 3.11 prints them (floats,
// str/bytes quoting and escapes with CPython's Unicode printability table,
// complex, sets, [...] / {...} for recursion, big ints). Nodes Python would
// print as an object of some class (Global, Instance, PersistentRef,
// Buffer) use a notation that cannot be mistaken for Python data; see
// docs/pickle.md.
#pragma once

#include <cstddef>
#include <string>

#include "pickle/value.h"

namespace shelf::pickle {

struct ReprOptions {
  // Output longer than this throws ReprError (a list holding the same list
  // twice, 30 levels deep, prints 2^30 times: GET amplification).
  size_t max_output = size_t{256} << 20;
  // Nesting deeper than this throws ReprError (CPython raises RecursionError).
  size_t max_depth = 100'000;
};

class ReprError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string repr(const Value& value, const ReprOptions& options = {});

// True when every node `value` reaches is a built-in data value (no Global,
// Instance, PersistentRef or Buffer): what repr() prints as Python would.
bool is_plain_data(const Value& value);

}  // namespace shelf::pickle
