// pickle/internal/bigint.h: the little arbitrary-precision arithmetic pickle
// needs: conversions between text, two's-complement bytes and doubles, and
// Python's numeric hash. Not a general bignum library.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shelf::pickle::internal {

// Sign and magnitude, magnitude as base-2^32 limbs, least significant first,
// no leading zero limbs (zero is an empty magnitude, never negative).
struct BigInt {
  bool negative = false;
  std::vector<uint32_t> limbs;

  static BigInt from_int64(int64_t v);
  // Two's-complement little-endian bytes (b"" is zero).
  static BigInt from_le(std::string_view bytes);
  // Digits only (no sign, no prefix, no underscores) in base 2..36; nullopt
  // when a character is not a digit of the base or `digits` is empty.
  static std::optional<BigInt> from_digits(std::string_view digits, int base);
  // An integral finite double.
  static BigInt from_double(double integral);

  bool is_zero() const { return limbs.empty(); }
  bool fits_int64() const;
  int64_t to_int64() const;  // REQUIRES fits_int64()
  // Minimal two's-complement little-endian bytes: pickle.encode_long.
  std::string to_le() const;
  std::string to_decimal() const;
  // Python's hash(int): sign * (|x| mod (2^61 - 1)), -1 mapped to -2.
  int64_t python_hash() const;
  // Nearest double (round half to even); +-inf when out of range.
  double to_double() const;
  size_t bit_length() const;

  void normalize();
  int compare(const BigInt& other) const;  // -1, 0, 1
};

// Python's hash(float) and hash(int64), compatible with BigInt::python_hash.
int64_t python_hash_double(double v);
int64_t python_hash_large_int64(int64_t v);  // |v| >= 2**61 - 1
inline int64_t python_hash_int64(int64_t v) {
  // Inline: the hash of every int dict key a pickle holds.
  constexpr int64_t kMod = (int64_t{1} << 61) - 1;  // CPython's _PyHASH_MODULUS
  if (v > -kMod && v < kMod) [[likely]]
    return v == -1 ? -2 : v;
  return python_hash_large_int64(v);
}

// Decimal digits of a double per Python's repr(float).
std::string python_float_repr(double v);

}  // namespace shelf::pickle::internal
