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
#if defined(__x86_64__)
#include <tmmintrin.h>
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

// A UTF-8 validator as a shift-based DFA (one table row per byte value,
// each row packing the next state of every state in 6-bit fields): one
// shift per byte on the dependency chain and no branch on the data, where
// a branch per code point mispredicts on mixed text (a 1 MiB bytes object
// pickled at protocol 2 is half one-byte, half two-byte characters at
// random). States are kept multiplied by 6, the shift of their field.
namespace utf8_dfa {

enum State : uint8_t { kAccept, kCont1, kCont2, kCont3, kAfterE0, kAfterED, kAfterF0, kAfterF4, kError };

constexpr State next_state(State from, uint8_t b, bool surrogatepass) {
  auto cont = [&](uint8_t lo, uint8_t hi, State to) { return b >= lo && b <= hi ? to : kError; };
  switch (from) {
    case kAccept:
      if (b < 0x80) return kAccept;
      if (b >= 0xC2 && b <= 0xDF) return kCont1;
      if (b == 0xE0) return kAfterE0;
      if (b == 0xED) return surrogatepass ? kCont2 : kAfterED;  // ED A0..BF: a surrogate
      if (b >= 0xE1 && b <= 0xEF) return kCont2;
      if (b == 0xF0) return kAfterF0;
      if (b >= 0xF1 && b <= 0xF3) return kCont3;
      if (b == 0xF4) return kAfterF4;
      return kError;  // a stray continuation, C0, C1 (overlong), F5..FF
    case kCont1: return cont(0x80, 0xBF, kAccept);
    case kCont2: return cont(0x80, 0xBF, kCont1);
    case kCont3: return cont(0x80, 0xBF, kCont2);
    case kAfterE0: return cont(0xA0, 0xBF, kCont1);  // E0 80..9F: overlong
    case kAfterED: return cont(0x80, 0x9F, kCont1);
    case kAfterF0: return cont(0x90, 0xBF, kCont2);  // F0 80..8F: overlong
    case kAfterF4: return cont(0x80, 0x8F, kCont2);  // F4 90..: above U+10FFFF
    case kError: return kError;
  }
  return kError;
}

struct Table {
  uint64_t row[256];
};

constexpr Table make_table(bool surrogatepass) {
  Table t{};
  for (int b = 0; b < 256; ++b)
    for (int s = kAccept; s <= kError; ++s)
      t.row[b] |= uint64_t{next_state(State(s), uint8_t(b), surrogatepass) * 6u} << (s * 6);
  return t;
}

inline constexpr Table kSurrogatepass = make_table(true);
inline constexpr Table kStrict = make_table(false);

// Runs the DFA over s[i..), skipping blocks of ASCII between characters.
inline bool valid(const Table& table, std::string_view s, size_t i) {
  constexpr uint64_t kHighBits = 0x8080808080808080ull;
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  uint64_t state = kAccept;
  // x86's shift takes its count mod 64, so the mask costs nothing there.
  auto step = [&](uint8_t b) { state = table.row[b] >> (state & 63); };
  while (i + 16 <= n) {
    uint64_t lo, hi;
    __builtin_memcpy(&lo, p + i, 8);
    __builtin_memcpy(&hi, p + i + 8, 8);
    if ((state & 63) == kAccept && !((lo | hi) & kHighBits)) {
      i += 16;
      continue;
    }
    for (int k = 0; k < 16; ++k) step(p[i + k]);
    if ((state & 63) == kError * 6) return false;
    i += 16;
  }
  for (; i < n; ++i) step(p[i]);
  return (state & 63) == kAccept;
}

}  // namespace utf8_dfa

// valid_utf8_surrogatepass from s[i] on, where the text is not all ASCII
// (out of line: the all-ASCII path stays small).
[[gnu::noinline]] inline bool valid_utf8_surrogatepass_from(std::string_view s, size_t i) {
  return utf8_dfa::valid(utf8_dfa::kSurrogatepass, s, i);
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

// True when every byte of `s` is ASCII: a word at a time.
inline bool is_ascii(std::string_view s) {
  uint64_t bits = 0;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t word;
    __builtin_memcpy(&word, s.data() + i, 8);
    bits |= word;
  }
  for (; i < s.size(); ++i) bits |= static_cast<unsigned char>(s[i]);
  return (bits & 0x8080808080808080ull) == 0;
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
inline bool valid_utf8_strict(std::string_view s) { return utf8_dfa::valid(utf8_dfa::kStrict, s, 0); }

// UTF-8 to Latin-1, as str.encode('latin-1') of a str that loaded from a
// pickle: protocols 0-2 write every bytes object as _codecs.encode(str,
// 'latin1'), and binary data mixes one- and two-byte characters at random,
// so nothing below branches on the form of a character.
namespace utf8_latin1 {

// From p[i] to p[n]: every byte writes the character it would start, and
// the output advances past it unless it was a continuation. Sets `wide`
// when a character is above U+00FF. Returns the end of the output.
inline char* scalar(const uint8_t* p, size_t i, size_t n, char* out, bool& wide) {
  uint32_t above = 0;
  for (; i + 1 < n; ++i) {
    uint32_t byte = p[i];
    uint32_t continuation = (byte >> 6) == 2;
    above |= (byte >= 0xC4) & (continuation ^ 1);
    uint32_t two_byte = ((byte & 0x03) << 6) | (p[i + 1] & 0x3F);
    uint32_t lead = 0u - (byte >> 7);
    *out = static_cast<char>((byte & ~lead) | (two_byte & lead));
    out += continuation ^ 1;
  }
  if (i < n) {
    uint32_t last = p[i];  // ASCII, or the end of a character
    above |= last >= 0xC4 && (last & 0xC0) != 0x80;
    *out = static_cast<char>(last);
    out += last < 0x80;
  }
  wide |= above != 0;
  return out;
}

#if defined(__x86_64__)
// For each 8-bit mask of the bytes to keep: their indexes for PSHUFB (0x80,
// a zero, in the unused lanes), and how many there are.
struct CompactTable {
  uint8_t index[256][8];
  uint8_t count[256];
};

constexpr CompactTable make_compact_table() {
  CompactTable t{};
  for (int mask = 0; mask < 256; ++mask) {
    int kept = 0;
    for (int bit = 0; bit < 8; ++bit)
      if (mask & (1 << bit)) t.index[mask][kept++] = static_cast<uint8_t>(bit);
    t.count[mask] = static_cast<uint8_t>(kept);
    for (int k = kept; k < 8; ++k) t.index[mask][k] = 0x80;
  }
  return t;
}

inline constexpr CompactTable kCompact = make_compact_table();

// 16 bytes per step: the character each byte would start, computed for all
// lanes, then the continuation lanes squeezed out with PSHUFB, eight lanes
// at a time. The output never runs ahead of the input, so every 8-byte
// store stays within n bytes of `out`.
[[gnu::target("ssse3")]] inline char* ssse3(const uint8_t* p, size_t n, char* out, bool& wide) {
  const __m128i low2 = _mm_set1_epi8(0x03);
  const __m128i low6 = _mm_set1_epi8(0x3F);
  const __m128i first_too_wide = _mm_set1_epi8(static_cast<char>(0xC4));
  const __m128i first_lead = _mm_set1_epi8(static_cast<char>(0xC0));
  __m128i too_wide = _mm_setzero_si128();
  size_t i = 0;
  for (; i + 17 <= n; i += 16) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    __m128i next = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 1));
    too_wide = _mm_or_si128(too_wide, _mm_cmpeq_epi8(_mm_max_epu8(x, first_too_wide), x));
    __m128i high = _mm_cmplt_epi8(x, _mm_setzero_si128());  // 80..FF, signed
    __m128i two_byte = _mm_or_si128(_mm_slli_epi16(_mm_and_si128(x, low2), 6), _mm_and_si128(next, low6));
    __m128i value = _mm_or_si128(_mm_and_si128(high, two_byte), _mm_andnot_si128(high, x));
    // 80..BF (signed, below C0): continuations
    auto keep = ~static_cast<unsigned>(_mm_movemask_epi8(_mm_cmplt_epi8(x, first_lead))) & 0xFFFF;
    unsigned lo = keep & 0xFF;
    unsigned hi = keep >> 8;
    __m128i lo_index = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(kCompact.index[lo]));
    __m128i hi_index = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(kCompact.index[hi]));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_shuffle_epi8(value, lo_index));
    out += kCompact.count[lo];
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_shuffle_epi8(_mm_srli_si128(value, 8), hi_index));
    out += kCompact.count[hi];
  }
  wide |= _mm_movemask_epi8(too_wide) != 0;
  return scalar(p, i, n, out, wide);
}
#endif

}  // namespace utf8_latin1

// Writes the Latin-1 form of `text` (UTF-8, valid) to `out`, which holds
// text.size() bytes; returns its length, or SIZE_MAX when a character is
// above U+00FF.
inline size_t utf8_to_latin1(std::string_view text, char* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  bool wide = false;
  char* end;
#if defined(__x86_64__)
  static const bool has_ssse3 = __builtin_cpu_supports("ssse3");
  end = has_ssse3 ? utf8_latin1::ssse3(p, text.size(), out, wide) : utf8_latin1::scalar(p, 0, text.size(), out, wide);
#else
  end = utf8_latin1::scalar(p, 0, text.size(), out, wide);
#endif
  return wide ? SIZE_MAX : static_cast<size_t>(end - out);
}

// Writes the UTF-8 of `cp` (up to four bytes) at `out`; returns the end.
inline char* utf8_write(uint32_t cp, char* out) {
  if (cp < 0x80) {
    *out++ = static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out++ = static_cast<char>(0xC0 | (cp >> 6));
    *out++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out++ = static_cast<char>(0xE0 | (cp >> 12));
    *out++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out++ = static_cast<char>(0xF0 | (cp >> 18));
    *out++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out++ = static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

inline void utf8_append(std::string& out, uint32_t cp) {
  char buf[4];
  out.append(buf, utf8_write(cp, buf));
}

// Writes the UTF-8 of the str whose code points are the Latin-1 bytes
// `latin1` at `out`, which holds 2 * latin1.size() bytes; returns the end.
// All-ASCII words go eight bytes at a time; other bytes without a branch
// (random bytes would mispredict half of them): each writes two bytes, and
// an ASCII byte's second is overwritten by the next.
inline char* latin1_to_utf8(std::string_view latin1, char* out) {
  const char* src = latin1.data();
  const char* end = src + latin1.size();
  auto convert = [&out](unsigned char b) {
    out[0] = static_cast<char>(b < 0x80 ? b : 0xC0 | b >> 6);
    out[1] = static_cast<char>(0x80 | (b & 0x3F));
    out += 1 + (b >> 7);
  };
  for (; end - src >= 8; src += 8) {
    uint64_t word;
    __builtin_memcpy(&word, src, 8);
    if ((word & 0x8080808080808080u) == 0) {
      __builtin_memcpy(out, &word, 8);
      out += 8;
      continue;
    }
    for (int k = 0; k < 8; ++k) convert(static_cast<unsigned char>(src[k]));
  }
  for (; src != end; ++src) convert(static_cast<unsigned char>(*src));
  return out;
}

inline std::string latin1_to_utf8(std::string_view latin1) {
  std::string out(latin1.size() * 2, '\0');
  out.resize(static_cast<size_t>(latin1_to_utf8(latin1, out.data()) - out.data()));
  return out;
}

}  // namespace shelf::pickle::internal
