#include "pickle/internal/pickle_text.h"

#include <array>
#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "pickle/internal/utf8.h"

namespace shelf::pickle::internal {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void append_escape(std::string& out, uint32_t cp) {
  if (cp >= 0x10000) {
    out += "\\U";
    for (int shift = 28; shift >= 0; shift -= 4) out.push_back(kHex[(cp >> shift) & 15]);
  } else {
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out.push_back(kHex[(cp >> shift) & 15]);
  }
}

constexpr bool needs_escape_below_256(uint32_t cp) {
  return cp == '\\' || cp == 0 || cp == '\n' || cp == '\r' || cp == 0x1a;
}

// Where the run of text from text[i] that raw-unicode-escape writes as its
// Latin-1 bytes ends: at a byte that needs an escape or, in UTF-8, at the
// lead of a code point from U+0100 on (C4..FF). 16 bytes a step where
// SSE2 is: in binary data a byte needs an escape 5 times in 256.
constexpr uint8_t kEscaped = 1;
constexpr uint8_t kWideLead = 2;
constexpr std::array<uint8_t, 256> kRunEnd = [] {
  std::array<uint8_t, 256> ends{};
  for (uint32_t b = 0; b < 256; ++b) ends[b] = (needs_escape_below_256(b) ? kEscaped : 0) | (b >= 0xC4 ? kWideLead : 0);
  return ends;
}();

size_t find_latin1_run_end(std::string_view text, size_t i, bool utf8) {
  const uint8_t ends = utf8 ? kEscaped | kWideLead : kEscaped;
#if defined(__SSE2__)
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i newline = _mm_set1_epi8('\n');
  const __m128i carriage_return = _mm_set1_epi8('\r');
  const __m128i substitute = _mm_set1_epi8(0x1a);
  const __m128i nul = _mm_setzero_si128();
  // In UTF-8: x >= C4, unsigned, as max(x, C4) == x.
  const __m128i first_wide = _mm_set1_epi8(static_cast<char>(0xC4));
  for (; i + 16 <= text.size(); i += 16) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + i));
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, backslash), _mm_cmpeq_epi8(x, newline)),
                               _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, carriage_return), _mm_cmpeq_epi8(x, substitute)),
                                            _mm_cmpeq_epi8(x, nul)));
    if (utf8) hit = _mm_or_si128(hit, _mm_cmpeq_epi8(_mm_max_epu8(x, first_wide), x));
    if (int mask = _mm_movemask_epi8(hit)) return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  while (i < text.size() && !(kRunEnd[static_cast<unsigned char>(text[i])] & ends)) ++i;
  return i;
}

}  // namespace

void append_raw_unicode_escape(std::string& out, std::string_view utf8) {
  // Runs of code points below 256 that need no escape (all of a bytes
  // object's text, but for five byte values) go out as Latin-1 in one step.
  size_t i = 0;
  while (i < utf8.size()) {
    size_t run = find_latin1_run_end(utf8, i, /*utf8=*/true);
    if (run > i) {
      size_t at = out.size();
      out.resize(at + (run - i));
      out.resize(at + utf8_to_latin1(utf8.substr(i, run - i), out.data() + at));
      i = run;
      if (i == utf8.size()) break;
    }
    size_t next = i;
    int32_t cp = utf8_next(utf8, next);  // Str nodes are validated: never -1
    append_escape(out, static_cast<uint32_t>(cp));
    i = next;
  }
}

void append_raw_unicode_escape_latin1(std::string& out, std::string_view latin1) {
  size_t i = 0;
  while (i < latin1.size()) {
    size_t run = find_latin1_run_end(latin1, i, /*utf8=*/false);
    out.append(latin1.data() + i, run - i);
    if (run == latin1.size()) break;
    append_escape(out, static_cast<unsigned char>(latin1[run]));
    i = run + 1;
  }
}

std::string python2_str_repr(std::string_view bytes) {
  char quote = '\'';
  if (bytes.find('\'') != std::string_view::npos && bytes.find('"') == std::string_view::npos) quote = '"';
  std::string out;
  out.reserve(bytes.size() + 2);
  out.push_back(quote);
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    if (ch == quote || ch == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (ch == '\t') {
      out += "\\t";
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (c < ' ' || c >= 0x7f) {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(ch);
    }
  }
  out.push_back(quote);
  return out;
}

int encode_long(int64_t v, char out[8]) {
  if (v == 0) return 0;
  auto u = static_cast<uint64_t>(v);
  int n = 8;
  // Drop top bytes that merely repeat the sign of the byte below them.
  while (n > 1) {
    auto top = static_cast<uint8_t>(u >> (8 * (n - 1)));
    auto next_sign = static_cast<uint8_t>(u >> (8 * (n - 2) + 7)) & 1;
    if ((top == 0x00 && next_sign == 0) || (top == 0xFF && next_sign == 1)) {
      --n;
    } else {
      break;
    }
  }
  for (int i = 0; i < n; ++i) out[i] = static_cast<char>(u >> (8 * i));
  return n;
}

}  // namespace shelf::pickle::internal
