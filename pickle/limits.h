// pickle/limits.h: bounds on what a load may cost. Every length, count and
// index read from input is checked against what remains of the input and
// against these before anything is allocated. The defaults admit anything
// CPython itself produces for data of sane size; docs/security.md explains
// each.
#pragma once

#include <cstddef>
#include <cstdint>

namespace shelf::pickle {

struct Limits {
  // Items on the stack plus MARKs open at once. A 100,000-deep nesting
  // loads within the default; pickles deeper than this are refused.
  size_t max_depth = 1'000'000;
  // Memo entries (PUT/BINPUT/LONG_BINPUT/MEMOIZE) held at once.
  size_t max_memo = 100'000'000;
  // Opcodes executed per load (0: no limit).
  uint64_t max_ops = 0;
  // Memory the loaded graph may hold: `memory_ratio` times the input size
  // plus `memory_slack` bytes. GET/DUP amplification is bounded by this too,
  // since every reference costs a slot.
  size_t memory_ratio = 64;
  size_t memory_slack = size_t{64} << 20;
  // Digits in a text-form integer (INT, LONG), as CPython's
  // sys.int_info.default_max_str_digits.
  size_t max_int_digits = 4300;
};

}  // namespace shelf::pickle
