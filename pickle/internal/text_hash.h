// pickle/internal/text_hash.h: the hash of a byte string, shared by the
// value graph (str and bytes keys) and the store (record keys). Never
// installed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace shelf::pickle::internal {

// The key of text_hash, random per process, as CPython randomizes the
// hashes of str and bytes: with a known key, a hostile pickle could pick
// dict keys that all collide (a word equal to k1 zeroes a multiplication,
// whatever follows it) and make loading quadratic.
struct TextHashKey {
  uint64_t k0, k1;
};
const TextHashKey& text_hash_key();

// The hash of a str's (or bytes') data, for dict keys and set members, and
// of record keys in the store's identity map: equal text hashes equal
// (within a process), and it is cheap for the short keys most dicts and
// shelves have (one or two loads and two multiplications up to 16 bytes;
// wyhash's mixer).
inline uint64_t text_hash(std::string_view text) {
  const TextHashKey& key = text_hash_key();
  const uint64_t k0 = key.k0, k1 = key.k1;
  auto fold = [](uint64_t a, uint64_t b) {
    unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
    return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
  };
  auto load64 = [](const char* p) {
    uint64_t v;
    __builtin_memcpy(&v, p, 8);
    return v;
  };
  auto load32 = [](const char* p) {
    uint32_t v;
    __builtin_memcpy(&v, p, 4);
    return uint64_t{v};
  };
  const char* p = text.data();
  const size_t n = text.size();
  uint64_t seed = k0 ^ n;
  uint64_t a = 0, b = 0;
  if (n > 16) {
    size_t left = n;
    while (left > 16) {
      seed = fold(load64(p) ^ k1, load64(p + 8) ^ seed);
      p += 16;
      left -= 16;
    }
    // The last 16 bytes, overlapping the last block when fewer are left.
    a = load64(p + left - 16);
    b = load64(p + left - 8);
  } else if (n >= 8) {
    a = load64(p);
    b = load64(p + n - 8);
  } else if (n >= 4) {
    a = load32(p);
    b = load32(p + n - 4);
  } else if (n > 0) {
    a = (uint64_t{static_cast<uint8_t>(p[0])} << 16) | (uint64_t{static_cast<uint8_t>(p[n >> 1])} << 8) |
        static_cast<uint8_t>(p[n - 1]);
  }
  return fold(k1 ^ n, fold(a ^ k1, b ^ seed));
}

}  // namespace shelf::pickle::internal
