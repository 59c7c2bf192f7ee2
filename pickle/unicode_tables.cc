#include "pickle/internal/unicode_tables.h"

#include <algorithm>
#include <cctype>
#include <iterator>

namespace shelf::pickle::internal {
namespace {

struct Range {
  uint32_t first, last;  // inclusive
};

struct NamedChar {
  std::string_view name;  // upper case, as unicodedata spells it
  uint32_t cp;
};

#define PRINTABLE_RANGE(first, last) Range{first, last},
#define UNICODE_NAME(name, cp)
#define CJK_RANGE(first, last)
constexpr Range kPrintable[] = {
#include "pickle/internal/unicode_tables.inc"
};
#undef PRINTABLE_RANGE
#undef UNICODE_NAME
#undef CJK_RANGE

#define PRINTABLE_RANGE(first, last)
#define UNICODE_NAME(name, cp) NamedChar{name, cp},
#define CJK_RANGE(first, last)
constexpr NamedChar kNames[] = {
#include "pickle/internal/unicode_tables.inc"
};
#undef PRINTABLE_RANGE
#undef UNICODE_NAME
#undef CJK_RANGE

#define PRINTABLE_RANGE(first, last)
#define UNICODE_NAME(name, cp)
#define CJK_RANGE(first, last) Range{first, last},
constexpr Range kCjk[] = {
#include "pickle/internal/unicode_tables.inc"
};
#undef PRINTABLE_RANGE
#undef UNICODE_NAME
#undef CJK_RANGE

bool in_ranges(const Range* begin, const Range* end, uint32_t cp) {
  // First range whose last >= cp; cp is inside when it is also >= first.
  const Range* it = std::lower_bound(begin, end, cp, [](const Range& r, uint32_t c) { return r.last < c; });
  return it != end && it->first <= cp;
}

char upper(char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); }

}  // namespace

bool is_printable(uint32_t cp) {
  if (cp < 0x7F) return cp >= 0x20;
  return in_ranges(std::begin(kPrintable), std::end(kPrintable), cp);
}

std::optional<uint32_t> lookup_unicode_name(std::string_view name) {
  // CPython matches the algorithmic CJK names case-sensitively, with 4 or 5
  // upper-case hex digits ("CJK UNIFIED IDEOGRAPH-04E00" is accepted too).
  constexpr std::string_view kCjkPrefix = "CJK UNIFIED IDEOGRAPH-";
  if (name.starts_with(kCjkPrefix)) {
    std::string_view hex = name.substr(kCjkPrefix.size());
    if (hex.size() < 4 || hex.size() > 5) return std::nullopt;
    uint32_t cp = 0;
    for (char c : hex) {
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) return std::nullopt;
      cp = cp * 16 + static_cast<uint32_t>(d);
    }
    if (!in_ranges(std::begin(kCjk), std::end(kCjk), cp)) return std::nullopt;
    return cp;
  }

  // Other names match without regard to case. The longest name in the
  // database has 88 characters; the bound keeps the buffer on the stack.
  char buf[128];
  if (name.empty() || name.size() > sizeof buf) return std::nullopt;
  for (size_t i = 0; i < name.size(); ++i) buf[i] = upper(name[i]);
  std::string_view key(buf, name.size());
  const NamedChar* it = std::lower_bound(std::begin(kNames), std::end(kNames), key,
                                         [](const NamedChar& n, std::string_view k) { return n.name < k; });
  if (it == std::end(kNames) || it->name != key) return std::nullopt;
  return it->cp;
}

}  // namespace shelf::pickle::internal
