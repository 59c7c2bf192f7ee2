// pickle/args.cc: the argument readers. The grammar of each kind is that of
// pickletools' ArgumentDescriptors (docs/format.md, "The pickle stream");
// where pickle.py and _pickle.c read an argument differently, the comment
// says whom we follow.
#include "pickle/args.h"

#include <bit>
#include <clocale>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <locale.h>

#include "pickle/internal/utf8.h"

namespace shelf::pickle {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view strip(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// b'...' as Python shows bytes in its messages, cut at 60 bytes.
std::string quoted(std::string_view s) {
  std::string out = "b'";
  size_t n = 0;
  for (char ch : s) {
    if (++n > 60) {
      out += "...";
      break;
    }
    auto c = static_cast<unsigned char>(ch);
    if (c == '\\' || c == '\'') {
      out += '\\';
      out += ch;
    } else if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out + "'";
}

std::string hex_byte(unsigned char c) {
  static const char kHex[] = "0123456789abcdef";
  return std::string("0x") + kHex[c >> 4] + kHex[c & 15];
}

// The payload after a length: take() checks the length against the input
// before anything is copied.
std::string_view payload(ByteReader& in, uint64_t n) {
  if (n > static_cast<uint64_t>(std::numeric_limits<ptrdiff_t>::max()))
    fail(UnpicklingReason::kTruncated, "pickle data was truncated");
  auto size = static_cast<size_t>(n);
  return {in.take(size), size};
}

std::string_view checked_utf8(std::string_view s) {
  if (internal::valid_utf8_surrogatepass(s)) return s;
  size_t i = 0;
  while (i < s.size() && internal::utf8_next(s, i) >= 0) {
  }
  fail(UnpicklingReason::kBadArgument, "'utf-8' codec can't decode byte " +
                                           hex_byte(static_cast<unsigned char>(s[i])) + " in position " +
                                           std::to_string(i));
}

}  // namespace

void fail(UnpicklingReason reason, std::string detail) { throw DecodeFailure(reason, std::move(detail)); }

const char* ByteReader::take_slow(size_t) { fail(UnpicklingReason::kTruncated, "pickle data was truncated"); }

std::string_view ByteReader::take_line_slow() {
  fail(UnpicklingReason::kTruncated, "pickle data was truncated (no newline)");
}

// ---------------------------------------------------------------------------
// Integers

namespace {

// Sets out.value to the integer of `digits` (no sign, prefix or underscore)
// in `base`, or, when it does not fit in int64, leaves them in out.digits.
void accumulate(DecimalArg& out, std::string_view digits, int base) {
  // Accumulated as a negative number so INT64_MIN fits.
  int64_t acc = 0;
  const int64_t floor = std::numeric_limits<int64_t>::min();
  for (char c : digits) {
    int d = hex_value(c);
    if (acc < (floor + d) / base) {
      out.fits = false;
      out.digits = digits;
      out.base = base;
      return;
    }
    acc = acc * base - d;
  }
  if (!out.negative) {
    if (acc == floor) {
      out.fits = false;
      out.digits = digits;
      out.base = base;
      return;
    }
    acc = -acc;
  }
  out.value = acc;
  out.negative = out.negative && acc != 0;
}

bool is_digit_in(char c, int base) {
  int d = hex_value(c);
  return d >= 0 && d < base;
}

// Digits of `base` with single underscores between them; copied without
// the underscores into `scratch` when there are any.
std::optional<std::string_view> digits_with_underscores(std::string_view s, int base, std::string& scratch) {
  if (s.empty() || !is_digit_in(s.front(), base) || !is_digit_in(s.back(), base)) return std::nullopt;
  bool underscores = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (is_digit_in(s[i], base)) continue;
    if (s[i] != '_' || !is_digit_in(s[i + 1], base)) return std::nullopt;
    underscores = true;
  }
  if (!underscores) return s;
  scratch.clear();
  for (char c : s)
    if (c != '_') scratch += c;
  return std::string_view(scratch);
}

void check_digit_limit(const DecimalArg& out, size_t ndigits, size_t max_digits) {
  // CPython limits only the conversions that are quadratic: decimal ones.
  if (out.base == 10 && max_digits != 0 && ndigits > max_digits)
    fail(UnpicklingReason::kLimitExceeded, "Exceeds the limit (" + std::to_string(max_digits) +
                                               " digits) for integer string conversion: value has " +
                                               std::to_string(ndigits) + " digits");
}

// `text` without surrounding whitespace and its sign, which goes to
// out.negative: the start of int()'s syntax in every base.
std::string_view unsigned_part(std::string_view text, DecimalArg& out) {
  std::string_view s = strip(text);
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    out.negative = s.front() == '-';
    s.remove_prefix(1);
  }
  return s;
}

// Python's int(text, 0): surrounding whitespace, a sign, then 0x/0o/0b and
// digits of that base (an underscore may follow the prefix), or decimal
// digits without leading zeros (unless all are zeros); single underscores
// between digits.
std::optional<DecimalArg> python_int_base0(std::string_view text, std::string& scratch, size_t max_digits) {
  DecimalArg out;
  std::string_view s = unsigned_part(text, out);
  out.base = 10;
  if (s.size() >= 2 && s[0] == '0') {
    switch (s[1]) {
      case 'x': case 'X': out.base = 16; break;
      case 'o': case 'O': out.base = 8; break;
      case 'b': case 'B': out.base = 2; break;
      default: break;
    }
    if (out.base != 10) {
      s.remove_prefix(2);
      if (!s.empty() && s.front() == '_') s.remove_prefix(1);
    }
  }
  std::optional<std::string_view> digits = digits_with_underscores(s, out.base, scratch);
  if (!digits) return std::nullopt;
  if (out.base == 10 && digits->front() == '0' && digits->find_first_not_of('0') != std::string_view::npos)
    return std::nullopt;
  check_digit_limit(out, digits->size(), max_digits);
  accumulate(out, *digits, out.base);
  return out;
}

// C's strtol(text, &end, 0) when it reads all of `text` without overflow:
// leading whitespace, a sign, then 0x and hex digits, 0 and octal digits,
// or decimal digits.
std::optional<int64_t> c_strtol_base0(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && is_space(s[i])) ++i;
  DecimalArg out;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) out.negative = s[i++] == '-';
  int base = 10;
  if (i < s.size() && s[i] == '0') {
    base = 8;
    if (i + 2 < s.size() && (s[i + 1] == 'x' || s[i + 1] == 'X') && is_digit_in(s[i + 2], 16)) {
      base = 16;
      i += 2;
    }
  }
  std::string_view digits = s.substr(i);
  if (digits.empty()) return std::nullopt;
  for (char c : digits)
    if (!is_digit_in(c, base)) return std::nullopt;
  accumulate(out, digits, base);
  if (!out.fits) return std::nullopt;
  return out.value;
}

// C functions see a line only up to its first NUL.
std::string_view as_c_string(std::string_view line) { return line.substr(0, line.find('\0')); }

}  // namespace

DecimalArg parse_decimal(std::string_view text, std::string& scratch, size_t max_digits) {
  DecimalArg out;
  std::string_view s = unsigned_part(text, out);
  std::optional<std::string_view> digits = digits_with_underscores(s, 10, scratch);
  if (!digits) fail(UnpicklingReason::kBadArgument, "invalid literal for int() with base 10: " + quoted(text));
  check_digit_limit(out, digits->size(), max_digits);
  accumulate(out, *digits, 10);
  return out;
}

DecimalArg read_int_text(ByteReader& in, std::string& scratch, size_t max_digits) {
  std::string_view line = as_c_string(in.take_line());
  if (std::optional<int64_t> x = c_strtol_base0(line)) {
    DecimalArg out;
    out.value = *x;
    out.negative = *x < 0;
    // _pickle.c: a two-character line reading 0 or 1 is a protocol 0 bool.
    out.is_bool = line.size() == 2 && (*x == 0 || *x == 1);
    return out;
  }
  if (std::optional<DecimalArg> out = python_int_base0(line, scratch, max_digits)) return *out;
  fail(UnpicklingReason::kBadArgument, "could not convert string to int: " + quoted(line));
}

DecimalArg read_long_text(ByteReader& in, std::string& scratch, size_t max_digits) {
  std::string_view line = in.take_line();
  if (!line.empty() && line.back() == 'L') line.remove_suffix(1);
  line = as_c_string(line);
  if (std::optional<DecimalArg> out = python_int_base0(line, scratch, max_digits)) return *out;
  fail(UnpicklingReason::kBadArgument, "invalid literal for int() with base 0: " + quoted(line));
}

// pickletools' reading, for the disassembler: int(s) in base 10.
DecimalArg read_decimalnl_short(ByteReader& in, std::string& scratch, size_t max_digits) {
  std::string_view line = in.take_line();
  if (line.size() == 2 && line[0] == '0' && (line[1] == '0' || line[1] == '1')) {
    DecimalArg out;
    out.is_bool = true;
    out.value = line[1] - '0';
    return out;
  }
  return parse_decimal(line, scratch, max_digits);
}

DecimalArg read_decimalnl_long(ByteReader& in, std::string& scratch, size_t max_digits) {
  std::string_view line = in.take_line();
  if (!line.empty() && line.back() == 'L') line.remove_suffix(1);
  return parse_decimal(line, scratch, max_digits);
}

std::string_view read_long1(ByteReader& in) { return payload(in, read_uint1(in)); }

std::string_view read_long4(ByteReader& in) {
  int32_t n = read_int4(in);
  if (n < 0) fail(UnpicklingReason::kBadArgument, "LONG pickle has negative byte count");
  return payload(in, static_cast<uint64_t>(n));
}

// ---------------------------------------------------------------------------
// Floats

bool parse_float(std::string_view text, double& out) {
  std::string_view s = strip(text);
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  auto equals_nocase = [&](std::string_view word) {
    if (s.size() != word.size()) return false;
    for (size_t i = 0; i < s.size(); ++i)
      if ((s[i] | 0x20) != word[i]) return false;
    return true;
  };
  if (equals_nocase("inf") || equals_nocase("infinity")) {
    out = negative ? -HUGE_VAL : HUGE_VAL;
    return true;
  }
  if (equals_nocase("nan")) {
    out = std::copysign(std::numeric_limits<double>::quiet_NaN(), negative ? -1.0 : 1.0);
    return true;
  }
  // digits ['.' [digits]] | '.' digits, then [e [sign] digits]; '_' only
  // between two digits. Validated here so strtod's extras (hex floats,
  // locale) never apply.
  char buf[512];
  std::string big;
  char* dst = buf;
  size_t cap = sizeof buf - 2;
  if (s.size() + 2 > sizeof buf) {
    big.resize(s.size() + 2);
    dst = big.data();
    cap = big.size() - 2;
  }
  size_t n = 0;
  dst[n++] = negative ? '-' : '+';
  size_t i = 0;
  auto digits = [&]() {
    size_t start = i;
    while (i < s.size()) {
      if (is_digit(s[i])) {
        dst[n++] = s[i++];
      } else if (s[i] == '_' && i > start && i + 1 < s.size() && is_digit(s[i + 1])) {
        ++i;
      } else {
        break;
      }
    }
    return i > start;
  };
  bool mantissa = digits();
  if (i < s.size() && s[i] == '.') {
    dst[n++] = s[i++];
    if (digits()) mantissa = true;
  }
  if (!mantissa) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    dst[n++] = s[i++];
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) dst[n++] = s[i++];
    if (!digits()) return false;
  }
  if (i != s.size() || n > cap) return false;
  dst[n] = '\0';
  static locale_t c_locale = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
  // Correctly rounded; overflow gives +-inf and underflow 0.0, as float().
  out = strtod_l(dst, nullptr, c_locale);
  return true;
}

double read_floatnl(ByteReader& in) {
  std::string_view line = in.take_line();
  double v;
  if (!parse_float(line, v)) fail(UnpicklingReason::kBadArgument, "could not convert string to float: " + quoted(line));
  return v;
}

double read_float_text(ByteReader& in) {
  std::string_view line = as_c_string(in.take_line());
  // PyOS_string_to_double: float()'s syntax without its whitespace and
  // underscores, and an overflow is an error rather than inf.
  double v;
  if (line.find_first_of(" \t\n\r\f\v_") != std::string_view::npos || !parse_float(line, v))
    fail(UnpicklingReason::kBadArgument, "could not convert string to float: " + quoted(line));
  bool names_infinity = line.find_first_of("iI") != std::string_view::npos;
  if (std::isinf(v) && !names_infinity)
    fail(UnpicklingReason::kBadArgument, "value too large to convert to float: " + quoted(line));
  return v;
}

DecimalArg read_memo_key_text(ByteReader& in, std::string& scratch, size_t max_digits) {
  return parse_decimal(as_c_string(in.take_line()), scratch, max_digits);
}

double read_float8(ByteReader& in) {
  uint64_t bits;
  std::memcpy(&bits, in.take(8), sizeof bits);
  if constexpr (std::endian::native == std::endian::little) bits = __builtin_bswap64(bits);
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

// ---------------------------------------------------------------------------
// Strings

std::string_view escape_decode(std::string_view raw, std::string& scratch) {
  if (raw.find('\\') == std::string_view::npos) return raw;
  scratch.clear();
  scratch.reserve(raw.size());
  size_t i = 0;
  while (i < raw.size()) {
    char c = raw[i++];
    if (c != '\\') {
      scratch += c;
      continue;
    }
    if (i == raw.size()) fail(UnpicklingReason::kBadArgument, "Trailing \\ in string");
    char e = raw[i++];
    switch (e) {
      case '\n': break;
      case '\\': scratch += '\\'; break;
      case '\'': scratch += '\''; break;
      case '"': scratch += '"'; break;
      case 'b': scratch += '\b'; break;
      case 'f': scratch += '\f'; break;
      case 't': scratch += '\t'; break;
      case 'n': scratch += '\n'; break;
      case 'r': scratch += '\r'; break;
      case 'v': scratch += '\v'; break;
      case 'a': scratch += '\a'; break;
      case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
        int v = e - '0';
        for (int k = 0; k < 2 && i < raw.size() && raw[i] >= '0' && raw[i] <= '7'; ++k) v = v * 8 + (raw[i++] - '0');
        scratch += static_cast<char>(v & 0xff);  // CPython keeps the low byte of \400-\777
        break;
      }
      case 'x': {
        int hi = i < raw.size() ? hex_value(raw[i]) : -1;
        int lo = i + 1 < raw.size() ? hex_value(raw[i + 1]) : -1;
        if (hi < 0 || lo < 0)
          fail(UnpicklingReason::kBadArgument, "invalid \\x escape at position " + std::to_string(i - 2));
        scratch += static_cast<char>(hi * 16 + lo);
        i += 2;
        break;
      }
      default:
        // Unknown escapes stay as written, backslash included.
        scratch += '\\';
        --i;
        break;
    }
  }
  return scratch;
}

std::string_view read_stringnl(ByteReader& in, std::string& scratch) {
  std::string_view line = in.take_line();
  // pickle.py and _pickle.c: the same quote at both ends, nothing else.
  if (line.size() < 2 || line.front() != line.back() || (line.front() != '\'' && line.front() != '"'))
    fail(UnpicklingReason::kBadArgument, "the STRING opcode argument must be quoted");
  return escape_decode(line.substr(1, line.size() - 2), scratch);
}

std::string_view read_stringnl_noescape(ByteReader& in) { return in.take_line(); }

std::pair<std::string_view, std::string_view> read_stringnl_noescape_pair(ByteReader& in, std::string& scratch) {
  std::string_view module = in.take_line();
  if (!in.stable_views()) {
    scratch.assign(module);
    module = scratch;
  }
  std::string_view name = in.take_line();
  return {module, name};
}

std::string_view read_string1(ByteReader& in) { return payload(in, read_uint1(in)); }

std::string_view read_string4(ByteReader& in) {
  int32_t n = read_int4(in);
  if (n < 0) fail(UnpicklingReason::kBadArgument, "BINSTRING pickle has negative byte count");
  return payload(in, static_cast<uint64_t>(n));
}

std::string_view read_bytes1(ByteReader& in) { return payload(in, read_uint1(in)); }
std::string_view read_bytes4(ByteReader& in) { return payload(in, read_uint4(in)); }
std::string_view read_bytes8(ByteReader& in) { return payload(in, read_uint8(in)); }
std::string_view read_bytearray8(ByteReader& in) { return payload(in, read_uint8(in)); }

std::string_view read_unicodestringnl(ByteReader& in, std::string& scratch) {
  std::string_view line = in.take_line();
  bool plain = true;
  for (char c : line)
    if (c == '\\' || static_cast<unsigned char>(c) >= 0x80) {
      plain = false;
      break;
    }
  if (plain) return line;
  // CPython's raw-unicode-escape decoder: a backslash starts an escape only
  // when followed by 'u' or 'U'; otherwise it and the next byte are kept.
  // Every other byte is a code point below 256 (protocols 0 and 1 write a
  // bytes object's Latin-1 text this way: a MiB of random bytes in the
  // benchmarks). No output outgrows twice its input: an escape of 6 or 10
  // bytes is at most 4 bytes of UTF-8, a kept backslash and byte 3.
  scratch.resize(line.size() * 2);
  char* out = scratch.data();
  size_t i = 0;
  while (i < line.size()) {
    size_t backslash = std::min(line.find('\\', i), line.size());
    out = internal::latin1_to_utf8(line.substr(i, backslash - i), out);
    i = backslash;
    if (i == line.size()) break;
    if (++i == line.size()) {
      *out++ = '\\';
      break;
    }
    auto e = static_cast<unsigned char>(line[i++]);
    if (e != 'u' && e != 'U') {
      *out++ = '\\';
      out = internal::utf8_write(e, out);
      continue;
    }
    size_t count = e == 'u' ? 4 : 8;
    size_t start = i - 2;
    uint32_t cp = 0;
    for (size_t k = 0; k < count; ++k, ++i) {
      if (i >= line.size())
        fail(UnpicklingReason::kBadArgument, std::string("'rawunicodeescape' codec can't decode bytes in position ") +
                                                 std::to_string(start) + "-" + std::to_string(line.size() - 1) +
                                                 (e == 'u' ? ": truncated \\uXXXX escape"
                                                           : ": truncated \\UXXXXXXXX escape"));
      int h = hex_value(line[i]);
      if (h < 0)
        fail(UnpicklingReason::kBadArgument, std::string("'rawunicodeescape' codec can't decode bytes in position ") +
                                                 std::to_string(start) + "-" + std::to_string(i) +
                                                 (e == 'u' ? ": truncated \\uXXXX escape"
                                                           : ": truncated \\UXXXXXXXX escape"));
      cp = (cp << 4) | static_cast<uint32_t>(h);
    }
    if (cp > 0x10FFFF)
      fail(UnpicklingReason::kBadArgument, "'rawunicodeescape' codec can't decode bytes in position " +
                                               std::to_string(start) + "-" + std::to_string(i - 1) +
                                               ": \\Uxxxxxxxx out of range");
    out = internal::utf8_write(cp, out);
  }
  scratch.resize(static_cast<size_t>(out - scratch.data()));
  return scratch;
}

std::string_view read_unicodestring1(ByteReader& in) { return checked_utf8(payload(in, read_uint1(in))); }
std::string_view read_unicodestring4(ByteReader& in) { return checked_utf8(payload(in, read_uint4(in))); }
std::string_view read_unicodestring8(ByteReader& in) { return checked_utf8(payload(in, read_uint8(in))); }

// ---------------------------------------------------------------------------

ArgValue read_arg(ArgKind kind, ByteReader& in, std::string& scratch, size_t max_int_digits) {
  ArgValue a;
  a.kind = kind;
  switch (kind) {
    case ArgKind::none: break;
    case ArgKind::uint1: a.uint = read_uint1(in); break;
    case ArgKind::uint2: a.uint = read_uint2(in); break;
    case ArgKind::uint4: a.uint = read_uint4(in); break;
    case ArgKind::uint8: a.uint = read_uint8(in); break;
    case ArgKind::int4: a.int4 = read_int4(in); break;
    case ArgKind::long1: a.text = read_long1(in); break;
    case ArgKind::long4: a.text = read_long4(in); break;
    case ArgKind::decimalnl_short: a.decimal = read_decimalnl_short(in, scratch, max_int_digits); break;
    case ArgKind::decimalnl_long: a.decimal = read_decimalnl_long(in, scratch, max_int_digits); break;
    case ArgKind::floatnl: a.real = read_floatnl(in); break;
    case ArgKind::float8: a.real = read_float8(in); break;
    case ArgKind::stringnl: a.text = read_stringnl(in, scratch); break;
    case ArgKind::stringnl_noescape: a.text = read_stringnl_noescape(in); break;
    case ArgKind::stringnl_noescape_pair: {
      auto [module, name] = read_stringnl_noescape_pair(in, scratch);
      a.text = module;
      a.name = name;
      break;
    }
    case ArgKind::string1: a.text = read_string1(in); break;
    case ArgKind::string4: a.text = read_string4(in); break;
    case ArgKind::bytes1: a.text = read_bytes1(in); break;
    case ArgKind::bytes4: a.text = read_bytes4(in); break;
    case ArgKind::bytes8: a.text = read_bytes8(in); break;
    case ArgKind::bytearray8: a.text = read_bytearray8(in); break;
    case ArgKind::unicodestringnl: a.text = read_unicodestringnl(in, scratch); break;
    case ArgKind::unicodestring1: a.text = read_unicodestring1(in); break;
    case ArgKind::unicodestring4: a.text = read_unicodestring4(in); break;
    case ArgKind::unicodestring8: a.text = read_unicodestring8(in); break;
  }
  return a;
}

}  // namespace shelf::pickle
