#include "pickle/internal/text_hash.h"

#include <random>

namespace shelf::pickle::internal {

const TextHashKey& text_hash_key() {
  static const TextHashKey key = [] {
    std::random_device entropy;
    auto word = [&] { return (uint64_t{entropy()} << 32) | entropy(); };
    // Odd: neither multiplier can be zero.
    return TextHashKey{word() | 1, word() | 1};
  }();
  return key;
}

}  // namespace shelf::pickle::internal
