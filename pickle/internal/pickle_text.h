// pickle/internal/pickle_text.h: the text forms the Pickler writes for
// protocols 0 and 1 and for Python 2 readers. Each mirrors a CPython
// function, named in its comment.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace shelf::pickle::internal {

// UNICODE's argument for UTF-8 (surrogatepass) text: _pickle.c's
// raw_unicode_escape(): code points < 256 as one latin-1 byte, except '\\',
// NUL, '\n', '\r' and '\x1a', which become \u00XX like every code point up
// to U+FFFF; beyond that \UXXXXXXXX. Hex digits are lower case.
void append_raw_unicode_escape(std::string& out, std::string_view utf8);
// The same for the text whose code points are the Latin-1 bytes `latin1`.
void append_raw_unicode_escape_latin1(std::string& out, std::string_view latin1);

// Python 2's repr() of a str (PyString_Repr with smart quotes): STRING's
// argument as Python 2's pickle writes it.
std::string python2_str_repr(std::string_view bytes);

// pickle.encode_long(v): minimal two's-complement little-endian bytes,
// written to `out` (at most 8); returns the count (0 for v == 0).
int encode_long(int64_t v, char out[8]);

}  // namespace shelf::pickle::internal
