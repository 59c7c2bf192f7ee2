#include "pickle/internal/pickle_text.h"

#include <cstdint>
#include <cstring>

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

bool needs_escape_below_256(uint32_t cp) {
  return cp == '\\' || cp == 0 || cp == '\n' || cp == '\r' || cp == 0x1a;
}

}  // namespace

void append_raw_unicode_escape(std::string& out, std::string_view utf8) {
  const auto* p = reinterpret_cast<const unsigned char*>(utf8.data());
  const auto* end = p + utf8.size();
  while (p < end) {
    uint32_t cp = *p;
    if (cp < 0x80) {
      ++p;
    } else if (cp < 0xE0 && end - p >= 2) {
      cp = (cp & 0x1F) << 6 | (p[1] & 0x3F);
      p += 2;
    } else if (cp < 0xF0 && end - p >= 3) {
      cp = (cp & 0x0F) << 12 | (p[1] & 0x3F) << 6 | (p[2] & 0x3F);
      p += 3;
    } else if (end - p >= 4) {
      cp = (cp & 0x07) << 18 | (p[1] & 0x3F) << 12 | (p[2] & 0x3F) << 6 | (p[3] & 0x3F);
      p += 4;
    } else {
      ++p;  // malformed tail: Str nodes are validated, so never reached
    }
    if (cp >= 256 || needs_escape_below_256(cp)) {
      append_escape(out, cp);
    } else {
      out.push_back(static_cast<char>(cp));
    }
  }
}

void append_raw_unicode_escape_latin1(std::string& out, std::string_view latin1) {
  for (char c : latin1) {
    auto cp = static_cast<unsigned char>(c);
    if (needs_escape_below_256(cp)) {
      append_escape(out, cp);
    } else {
      out.push_back(c);
    }
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
