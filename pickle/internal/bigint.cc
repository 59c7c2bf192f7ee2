#include "pickle/internal/bigint.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace shelf::pickle::internal {
namespace {

constexpr uint64_t kHashModulus = (uint64_t{1} << 61) - 1;  // CPython's _PyHASH_MODULUS
constexpr int kHashBits = 61;
constexpr int64_t kHashInf = 314159;

void negate_twos(std::vector<uint8_t>& bytes) {
  unsigned carry = 1;
  for (auto& b : bytes) {
    unsigned v = static_cast<uint8_t>(~b) + carry;
    b = static_cast<uint8_t>(v);
    carry = v >> 8;
  }
}

// limbs = limbs * mul + add
void mul_add(std::vector<uint32_t>& limbs, uint32_t mul, uint32_t add) {
  uint64_t carry = add;
  for (auto& limb : limbs) {
    uint64_t v = uint64_t{limb} * mul + carry;
    limb = static_cast<uint32_t>(v);
    carry = v >> 32;
  }
  if (carry) limbs.push_back(static_cast<uint32_t>(carry));
}

// limbs /= div, returns the remainder.
uint32_t div_small(std::vector<uint32_t>& limbs, uint32_t div) {
  uint64_t rem = 0;
  for (size_t i = limbs.size(); i-- > 0;) {
    uint64_t cur = (rem << 32) | limbs[i];
    limbs[i] = static_cast<uint32_t>(cur / div);
    rem = cur % div;
  }
  while (!limbs.empty() && limbs.back() == 0) limbs.pop_back();
  return static_cast<uint32_t>(rem);
}

}  // namespace

void BigInt::normalize() {
  while (!limbs.empty() && limbs.back() == 0) limbs.pop_back();
  if (limbs.empty()) negative = false;
}

BigInt BigInt::from_int64(int64_t v) {
  BigInt r;
  r.negative = v < 0;
  uint64_t mag = r.negative ? uint64_t{0} - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  while (mag) {
    r.limbs.push_back(static_cast<uint32_t>(mag));
    mag >>= 32;
  }
  return r;
}

BigInt BigInt::from_le(std::string_view bytes) {
  BigInt r;
  if (bytes.empty()) return r;
  std::vector<uint8_t> mag(bytes.begin(), bytes.end());
  r.negative = (mag.back() & 0x80) != 0;
  if (r.negative) negate_twos(mag);
  r.limbs.assign((mag.size() + 3) / 4, 0);
  for (size_t i = 0; i < mag.size(); ++i) r.limbs[i / 4] |= uint32_t{mag[i]} << (8 * (i % 4));
  r.normalize();
  return r;
}

std::optional<BigInt> BigInt::from_digits(std::string_view digits, int base) {
  if (digits.empty() || base < 2 || base > 36) return std::nullopt;
  BigInt r;
  // Consume several digits per pass: base^chunk must fit in 32 bits.
  uint32_t chunk_mul = 1;
  uint32_t chunk_val = 0;
  const uint64_t limit = uint64_t{1} << 32;
  for (char c : digits) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'z') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'Z') d = c - 'A' + 10;
    else return std::nullopt;
    if (d >= base) return std::nullopt;
    if (uint64_t{chunk_mul} * static_cast<uint64_t>(base) >= limit) {
      mul_add(r.limbs, chunk_mul, chunk_val);
      chunk_mul = 1;
      chunk_val = 0;
    }
    chunk_mul *= static_cast<uint32_t>(base);
    chunk_val = chunk_val * static_cast<uint32_t>(base) + static_cast<uint32_t>(d);
  }
  mul_add(r.limbs, chunk_mul, chunk_val);
  r.normalize();
  return r;
}

BigInt BigInt::from_double(double integral) {
  BigInt r;
  if (integral == 0 || !std::isfinite(integral)) return r;
  r.negative = integral < 0;
  int exp;
  double m = std::frexp(std::fabs(integral), &exp);  // |x| = m * 2^exp, m in [0.5, 1)
  uint64_t mant = static_cast<uint64_t>(std::ldexp(m, 53));
  exp -= 53;
  if (exp < 0) {
    mant >>= -exp;
    exp = 0;
  }
  r.limbs = {static_cast<uint32_t>(mant), static_cast<uint32_t>(mant >> 32)};
  // Shift left by exp bits.
  size_t limb_shift = static_cast<size_t>(exp) / 32;
  unsigned bit_shift = static_cast<unsigned>(exp) % 32;
  if (bit_shift) {
    uint32_t carry = 0;
    for (auto& limb : r.limbs) {
      uint32_t next = limb >> (32 - bit_shift);
      limb = (limb << bit_shift) | carry;
      carry = next;
    }
    if (carry) r.limbs.push_back(carry);
  }
  r.limbs.insert(r.limbs.begin(), limb_shift, 0);
  r.normalize();
  return r;
}

size_t BigInt::bit_length() const {
  if (limbs.empty()) return 0;
  return (limbs.size() - 1) * 32 + (32 - static_cast<size_t>(__builtin_clz(limbs.back())));
}

bool BigInt::fits_int64() const {
  size_t bits = bit_length();
  if (bits < 64) return true;
  if (bits > 64 || !negative) return false;
  // Only -2^63 has 64 magnitude bits and fits.
  return limbs[0] == 0 && limbs[1] == 0x80000000u;
}

int64_t BigInt::to_int64() const {
  uint64_t mag = 0;
  for (size_t i = limbs.size(); i-- > 0;) mag = (mag << 32) | limbs[i];
  return negative ? static_cast<int64_t>(uint64_t{0} - mag) : static_cast<int64_t>(mag);
}

std::string BigInt::to_le() const {
  if (limbs.empty()) return {};
  std::vector<uint8_t> bytes;
  bytes.reserve(limbs.size() * 4 + 1);
  for (uint32_t limb : limbs)
    for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<uint8_t>(limb >> (8 * i)));
  while (bytes.size() > 1 && bytes.back() == 0) bytes.pop_back();
  if (bytes.back() & 0x80) bytes.push_back(0);  // room for the sign bit
  if (negative) {
    negate_twos(bytes);
    // -2^(8k-1) needs no extra byte: drop a redundant 0xff.
    while (bytes.size() > 1 && bytes.back() == 0xff && (bytes[bytes.size() - 2] & 0x80)) bytes.pop_back();
  }
  return std::string(bytes.begin(), bytes.end());
}

std::string BigInt::to_decimal() const {
  if (limbs.empty()) return "0";
  std::vector<uint32_t> work = limbs;
  std::vector<uint32_t> groups;  // base 10^9, least significant first
  while (!work.empty()) groups.push_back(div_small(work, 1000000000u));
  std::string out = negative ? "-" : "";
  out += std::to_string(groups.back());
  for (size_t i = groups.size() - 1; i-- > 0;) {
    char buf[10];
    std::snprintf(buf, sizeof buf, "%09u", groups[i]);
    out += buf;
  }
  return out;
}

int64_t BigInt::python_hash() const {
  uint64_t x = 0;
  for (size_t i = limbs.size(); i-- > 0;) {
    // x = (x * 2^32 + limb) mod P, as CPython's long_hash does per digit.
    for (int part = 1; part >= 0; --part) {
      uint32_t half = (limbs[i] >> (16 * part)) & 0xffff;
      x = ((x << 16) & kHashModulus) | (x >> (kHashBits - 16));
      x += half;
      if (x >= kHashModulus) x -= kHashModulus;
    }
  }
  int64_t h = negative ? -static_cast<int64_t>(x) : static_cast<int64_t>(x);
  return h == -1 ? -2 : h;
}

double BigInt::to_double() const {
  size_t bits = bit_length();
  if (bits == 0) return 0.0;
  if (bits > 1024) return negative ? -HUGE_VAL : HUGE_VAL;
  // Take the top 64 bits plus a sticky bit, then let the FPU round once.
  uint64_t top = 0;
  bool sticky = false;
  size_t shift = bits > 64 ? bits - 64 : 0;
  for (size_t bit = 0; bit < bits; ++bit) {
    bool set = (limbs[bit / 32] >> (bit % 32)) & 1;
    if (bit < shift) sticky |= set;
    else top |= uint64_t{set} << (bit - shift);
  }
  // Fold the sticky bit into the lowest bit of a 63-bit mantissa so that
  // the single conversion below rounds correctly (round-to-odd).
  if (shift > 0) {
    sticky |= top & 1;
    top = (top >> 1) | (sticky ? 1 : 0);
    shift += 1;
  }
  double r = std::ldexp(static_cast<double>(top), static_cast<int>(shift));
  return negative ? -r : r;
}

int BigInt::compare(const BigInt& other) const {
  if (negative != other.negative) return negative ? -1 : 1;
  int mag;
  if (limbs.size() != other.limbs.size()) {
    mag = limbs.size() < other.limbs.size() ? -1 : 1;
  } else {
    mag = 0;
    for (size_t i = limbs.size(); i-- > 0;) {
      if (limbs[i] != other.limbs[i]) {
        mag = limbs[i] < other.limbs[i] ? -1 : 1;
        break;
      }
    }
  }
  return negative ? -mag : mag;
}

int64_t python_hash_large_int64(int64_t v) { return BigInt::from_int64(v).python_hash(); }

int64_t python_hash_double(double v) {
  // CPython's _Py_HashDouble: the exact rational value reduced mod P.
  if (std::isinf(v)) return v > 0 ? kHashInf : -kHashInf;
  if (std::isnan(v)) return 0;  // CPython 3.10+ hashes nan by identity; any constant keeps ==.
  int e;
  double m = std::frexp(v, &e);
  int sign = 1;
  if (m < 0) {
    sign = -1;
    m = -m;
  }
  uint64_t x = 0;
  while (m) {
    x = ((x << 28) & kHashModulus) | x >> (kHashBits - 28);
    m *= 268435456.0;  // 2**28
    e -= 28;
    uint64_t y = static_cast<uint64_t>(m);
    m -= static_cast<double>(y);
    x += y;
    if (x >= kHashModulus) x -= kHashModulus;
  }
  e = e >= 0 ? e % kHashBits : kHashBits - 1 - ((-1 - e) % kHashBits);
  x = ((x << e) & kHashModulus) | x >> (kHashBits - e);
  int64_t h = static_cast<int64_t>(x) * sign;
  return h == -1 ? -2 : h;
}

std::string python_float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  // Shortest round-trip digits, then Python's layout: scientific when the
  // decimal exponent is < -4 or >= 16, else positional with at least ".0".
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t epos = sci.find('e');
  int exp10 = std::stoi(sci.substr(epos + 1));
  std::string digits;
  for (size_t i = 0; i < epos; ++i)
    if (sci[i] != '.') digits += sci[i];
  std::string out = neg ? "-" : "";
  if (exp10 < -4 || exp10 >= 16) {
    out += digits[0];
    if (digits.size() > 1) {
      out += '.';
      out += digits.substr(1);
    }
    char ebuf[16];
    std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    out += ebuf;
  } else if (exp10 < 0) {
    out += "0.";
    out.append(static_cast<size_t>(-exp10 - 1), '0');
    out += digits;
  } else {
    size_t int_len = static_cast<size_t>(exp10) + 1;
    if (digits.size() <= int_len) {
      out += digits;
      out.append(int_len - digits.size(), '0');
      out += ".0";
    } else {
      out += digits.substr(0, int_len);
      out += '.';
      out += digits.substr(int_len);
    }
  }
  return out;
}

}  // namespace shelf::pickle::internal
