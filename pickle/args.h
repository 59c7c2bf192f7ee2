// pickle/args.h: the argument readers, one per ArgKind of opcodes.def,
// shared by the Unpickler (load and noload) and the disassembler, so a scan
// and a load can never read the same bytes differently. The kinds are
// pickletools' ArgumentDescriptors, whose docs describe each encoding;
// docs/format.md ("The pickle stream") gives the overview.
//
// Contract for every reader:
// - It reads the argument that starts at the reader's position (just after
//   the opcode byte) and leaves the position just after it; `in.tell()`
//   before and after gives the bytes consumed.
// - On bad input it throws DecodeFailure: kTruncated when the input ends
//   inside the argument (or a newline-terminated argument has no newline),
//   kBadArgument when the bytes are malformed, kLimitExceeded when a text
//   integer has more digits than allowed. A DecodeFailure carries no
//   location: the caller, which knows the opcode's offset, adds it (the
//   Unpickler turns it into UnpicklingError; dis does the same).
// - A returned view points into the input, or into `scratch` when the
//   argument had to be decoded (escapes, underscores, a copied line). It is
//   valid until the next read from `in` or the next use of `scratch`; over a
//   plain ByteReader of memory, views into the input last as the input does.
// - Nothing is allocated in proportion to a length read from the input
//   before the input has been seen to hold that many bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "pickle/errors.h"
#include "pickle/opcodes.h"

namespace shelf::pickle {

// What readers (and the Unpickler's handlers) throw: why, without where.
class DecodeFailure : public std::runtime_error {
 public:
  DecodeFailure(UnpicklingReason reason, std::string detail)
      : std::runtime_error(detail), reason_(reason), detail_(std::move(detail)) {}
  UnpicklingReason reason() const { return reason_; }
  const std::string& detail() const { return detail_; }

 private:
  UnpicklingReason reason_;
  std::string detail_;
};

[[noreturn]] void fail(UnpicklingReason reason, std::string detail);

// A forward-only reader of bytes. Over contiguous memory the fast paths are
// inline pointer arithmetic; the Unpickler's framed and streaming readers
// (pickle/framing.h) derive from it and override only the slow paths.
class ByteReader {
 public:
  // Reads `data`, which must outlive the reader and every view it returns.
  explicit ByteReader(std::string_view data)
      : p_(data.data()), end_(data.data() + data.size()), origin_(reinterpret_cast<uintptr_t>(data.data())) {}
  virtual ~ByteReader() = default;
  ByteReader(const ByteReader&) = delete;
  ByteReader& operator=(const ByteReader&) = delete;

  // The next `n` bytes, consumed. Throws DecodeFailure (kTruncated) when
  // the input holds fewer.
  const char* take(size_t n) {
    if (static_cast<size_t>(end_ - p_) >= n) [[likely]] {
      const char* at = p_;
      p_ += n;
      return at;
    }
    return take_slow(n);
  }

  // The bytes up to the next '\n', which is consumed but not returned.
  // Throws DecodeFailure (kTruncated) when no '\n' follows.
  std::string_view take_line() {
    if (p_ != end_) [[likely]] {
      const void* nl = std::memchr(p_, '\n', static_cast<size_t>(end_ - p_));
      if (nl != nullptr) [[likely]] {
        std::string_view line(p_, static_cast<size_t>(static_cast<const char*>(nl) - p_));
        p_ = static_cast<const char*>(nl) + 1;
        return line;
      }
    }
    return take_line_slow();
  }

  // Bytes consumed since the reader was made (or since the Unpickler began
  // the current pickle).
  size_t tell() const { return reinterpret_cast<uintptr_t>(p_) - origin_; }

  // True when views returned by take()/take_line() stay valid after the next
  // read (memory input); false for buffered streams.
  bool stable_views() const { return stable_; }

 protected:
  ByteReader() = default;
  // Called when fewer than `n` bytes lie in [p_, end_); the default (plain
  // memory) throws kTruncated.
  virtual const char* take_slow(size_t n);
  virtual std::string_view take_line_slow();

  // Reads continue at `offset` of the input from `base` on (a new buffer or
  // frame): tell() stays one subtraction, as the opcode loop calls it for
  // every opcode.
  void set_base(const char* base, size_t offset) { origin_ = reinterpret_cast<uintptr_t>(base) - offset; }

  const char* p_ = nullptr;
  const char* end_ = nullptr;
  uintptr_t origin_ = 0;  // tell() == p_ - origin_ (modulo 2^64)
  bool stable_ = true;
};

// --- fixed-size integers (little-endian, as struct '<') --------------------

inline uint8_t read_uint1(ByteReader& in) { return static_cast<uint8_t>(*in.take(1)); }

inline uint16_t read_uint2(ByteReader& in) {
  const auto* p = reinterpret_cast<const uint8_t*>(in.take(2));
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}

inline uint32_t read_uint4(ByteReader& in) {
  const auto* p = reinterpret_cast<const uint8_t*>(in.take(4));
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

inline uint64_t read_uint8(ByteReader& in) {
  const auto* p = reinterpret_cast<const uint8_t*>(in.take(8));
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

inline int32_t read_int4(ByteReader& in) { return static_cast<int32_t>(read_uint4(in)); }

// --- integers in text and in two's complement ------------------------------

// A decimal integer read from a line (INT, LONG, GET, PUT).
struct DecimalArg {
  bool is_bool = false;  // decimalnl_short spelled exactly "00" or "01"
  bool fits = true;      // `value` holds it; else `digits` and `negative` do
  bool negative = false;
  int64_t value = 0;        // also 0 / 1 for the "00" / "01" forms
  std::string_view digits;  // !fits: digits of `base`, no sign, prefix or underscores
  int base = 10;
};

// decimalnl_short: a line holding a decimal integer as Python's int(s)
// reads it (surrounding whitespace, a sign, '_' between digits), with
// pickletools' hack: exactly "00" and "01" are False and True.
// More than `max_digits` digits (0: no limit) is kLimitExceeded, as
// CPython's int_max_str_digits.
DecimalArg read_decimalnl_short(ByteReader& in, std::string& scratch, size_t max_digits);

// decimalnl_long: as above, after dropping one trailing 'L' (Python 2's
// long suffix; optional, as in CPython 3); no "00"/"01" hack.
DecimalArg read_decimalnl_long(ByteReader& in, std::string& scratch, size_t max_digits);

// INT as the Unpickler reads it, which is how CPython 3's _pickle.c does:
// C's strtol(line, 0) when it reads the whole line without overflow
// (0x hex, leading-0 octal; a two-character line reading 0 or 1 is a bool,
// so "-0" is False), else Python's int(line, 0) (underscores, 0o, 0b);
// the line ends at a NUL, as a C string does. kBadArgument otherwise.
DecimalArg read_int_text(ByteReader& in, std::string& scratch, size_t max_digits);
// LONG as _pickle.c reads it: one trailing 'L' dropped, then int(line, 0).
DecimalArg read_long_text(ByteReader& in, std::string& scratch, size_t max_digits);

// GET and PUT keys as _pickle.c reads them: int(line) in base 10, the
// line ending at a NUL.
DecimalArg read_memo_key_text(ByteReader& in, std::string& scratch, size_t max_digits);

// long1 / long4: the two's-complement little-endian bytes of an integer
// (b"" is 0). long4's signed length must not be negative (kBadArgument).
std::string_view read_long1(ByteReader& in);
std::string_view read_long4(ByteReader& in);

// --- floats ----------------------------------------------------------------

// floatnl: a line holding a float as Python's float(s) reads it (whitespace,
// sign, inf/infinity/nan in any case, '_' between digits); out-of-range
// magnitudes become inf or 0.0 as float() gives them.
double read_floatnl(ByteReader& in);
// FLOAT as _pickle.c reads it (PyOS_string_to_double): float()'s syntax
// without surrounding whitespace or underscores, an overflow is an error
// (not inf), and the line ends at a NUL. kBadArgument otherwise.
double read_float_text(ByteReader& in);
// float8: an IEEE 754 double, big-endian.
double read_float8(ByteReader& in);

// --- strings ---------------------------------------------------------------

// stringnl (STRING): a quoted line ('...' or "..."; the same quote at both
// ends, else kBadArgument), unquoted and decoded as codecs.escape_decode
// does: the raw bytes of a Python 2 str.
std::string_view read_stringnl(ByteReader& in, std::string& scratch);
// stringnl_noescape (PERSID): the raw line.
std::string_view read_stringnl_noescape(ByteReader& in);
// stringnl_noescape_pair (GLOBAL, INST): two raw lines, module and name.
std::pair<std::string_view, std::string_view> read_stringnl_noescape_pair(ByteReader& in,
                                                                          std::string& scratch);

// string1 / string4 (SHORT_BINSTRING / BINSTRING): raw bytes; string4's
// signed length must not be negative.
std::string_view read_string1(ByteReader& in);
std::string_view read_string4(ByteReader& in);
// bytes1 / bytes4 / bytes8 / bytearray8: raw bytes after an unsigned length.
std::string_view read_bytes1(ByteReader& in);
std::string_view read_bytes4(ByteReader& in);
std::string_view read_bytes8(ByteReader& in);
std::string_view read_bytearray8(ByteReader& in);

// unicodestringnl (UNICODE): a line decoded as 'raw-unicode-escape'
// (\uXXXX, \UXXXXXXXX; every other byte is a Latin-1 code point), returned
// as UTF-8 (lone surrogates as 3 bytes, as the value graph stores str).
std::string_view read_unicodestringnl(ByteReader& in, std::string& scratch);
// unicodestring1 / 4 / 8: UTF-8 after an unsigned length, checked as
// 'surrogatepass' decodes it (kBadArgument otherwise).
std::string_view read_unicodestring1(ByteReader& in);
std::string_view read_unicodestring4(ByteReader& in);
std::string_view read_unicodestring8(ByteReader& in);

// --- any kind, for the disassembler ----------------------------------------

struct ArgValue {
  ArgKind kind = ArgKind::none;
  uint64_t uint = 0;      // uint1, uint2, uint4, uint8
  int32_t int4 = 0;       // int4
  DecimalArg decimal;     // decimalnl_short, decimalnl_long
  double real = 0;        // floatnl, float8
  // long1/long4: two's-complement LE bytes; stringnl: the decoded bytes;
  // stringnl_noescape: the raw line; stringnl_noescape_pair: the module;
  // string*/bytes*/bytearray8: the bytes; unicodestring*: UTF-8.
  std::string_view text;
  std::string_view name;  // stringnl_noescape_pair: the name
};

// Reads the argument of kind `kind` with the reader for that kind above.
ArgValue read_arg(ArgKind kind, ByteReader& in, std::string& scratch, size_t max_int_digits = 4300);

// --- helpers shared with the disassembler ------------------------------------

// codecs.escape_decode: Python 2 string-literal escapes to bytes. Throws
// DecodeFailure kBadArgument on a bad \x escape or a trailing backslash.
std::string_view escape_decode(std::string_view raw, std::string& scratch);

// Python's int(text) (base 10) for a whole line; see read_decimalnl_short.
DecimalArg parse_decimal(std::string_view text, std::string& scratch, size_t max_digits);

// Python's float(text); false when `text` is not a float literal.
bool parse_float(std::string_view text, double& out);

}  // namespace shelf::pickle
