// pickle/internal/utf8.h: UTF-8 as Python's str stores it in a pickle.
//
// CPython pickles str with the 'surrogatepass' error handler, so a lone
// surrogate (U+D800..U+DFFF) is legal there as its 3-byte form. Everything
// else is strict UTF-8: no overlongs, nothing above U+10FFFF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace shelf::pickle::internal {

// Decodes the code point at `s[i]`, advancing i. Returns -1 (and leaves i)
// on a malformed sequence. REQUIRES i < s.size().
inline int32_t utf8_next(std::string_view s, size_t& i) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t b0 = byte(i);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  size_t n;
  int32_t cp;
  int32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return -1;
  }
  if (i + n > s.size()) return -1;
  for (size_t k = 1; k < n; ++k) {
    uint8_t b = byte(i + k);
    if ((b & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF) return -1;
  i += n;
  return cp;
}

// valid_utf8_surrogatepass from s[i] on, where the text is not all ASCII
// (out of line: the all-ASCII path stays small).
[[gnu::noinline]] inline bool valid_utf8_surrogatepass_from(std::string_view s, size_t i) {
  constexpr uint64_t kHighBits = 0x8080808080808080ull;
  const char* p = s.data();
  const size_t n = s.size();
  while (i < n) {
    // Skip ASCII runs eight bytes at a time.
    while (i + 8 <= n) {
      uint64_t word;
      __builtin_memcpy(&word, p + i, 8);
      if (word & kHighBits) break;
      i += 8;
    }
    if (i >= n) break;
    // Code points one by one, two-byte forms (Latin-1 and most European
    // text) inline, until eight ASCII bytes send the loop back to the
    // word-at-a-time scan.
    do {
      auto b0 = static_cast<uint8_t>(p[i]);
      if (b0 < 0x80) {
        if (i + 8 <= n) {
          uint64_t word;
          __builtin_memcpy(&word, p + i, 8);
          if (!(word & kHighBits)) break;
        }
        ++i;
      } else if (b0 >= 0xC2 && b0 <= 0xDF && i + 1 < n && (static_cast<uint8_t>(p[i + 1]) & 0xC0) == 0x80) {
        i += 2;  // U+0080..U+07FF: never overlong, never a surrogate
      } else if (utf8_next(s, i) < 0) {
        return false;
      }
    } while (i < n);
  }
  return true;
}

// Whether any of the 32 bytes at `p` is not ASCII: two 16-byte loads where
// SSE2 is there (every x86-64), four words elsewhere.
inline bool any_high_bit_32(const char* p) {
#if defined(__SSE2__)
  __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16));
  return _mm_movemask_epi8(_mm_or_si128(lo, hi)) != 0;
#else
  uint64_t w[4];
  __builtin_memcpy(w, p, 32);
  return ((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ull) != 0;
#endif
}

// True when `s` is UTF-8 with lone surrogates allowed ('surrogatepass').
inline bool valid_utf8_surrogatepass(std::string_view s) {
  constexpr uint64_t kHighBits = 0x8080808080808080ull;
  const char* p = s.data();
  const size_t n = s.size();
  if (n < 8) {
    // Short text (dict keys, names): one pass when it is all ASCII.
    uint8_t any = 0;
    for (size_t k = 0; k < n; ++k) any |= static_cast<uint8_t>(p[k]);
    return any < 0x80 || valid_utf8_surrogatepass_from(s, 0);
  }
  // Most text is ASCII: 32, then eight bytes at a time, then the last
  // eight (overlapping bytes already checked).
  size_t i = 0;
  while (i + 32 <= n) {
    if (any_high_bit_32(p + i)) return valid_utf8_surrogatepass_from(s, i);
    i += 32;
  }
  while (i + 8 <= n) {
    uint64_t word;
    __builtin_memcpy(&word, p + i, 8);
    if (word & kHighBits) return valid_utf8_surrogatepass_from(s, i);
    i += 8;
  }
  if (i == n) return true;
  uint64_t word;
  __builtin_memcpy(&word, p + n - 8, 8);
  return !(word & kHighBits) || valid_utf8_surrogatepass_from(s, i);
}

// True when `s` is strict UTF-8 (no surrogates), as str.encode('utf-8')
// produces: what shelve keys and LMDB keys must be.
inline bool valid_utf8_strict(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    int32_t cp = utf8_next(s, i);
    if (cp < 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  }
  return true;
}

inline void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace shelf::pickle::internal
