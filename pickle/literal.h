// pickle/literal.h: Python literal syntax to values: the language of
// ast.literal_eval (numbers in every form, string prefixes and escapes,
// implicit concatenation, tuples, lists, dicts, sets, True/False/None,
// signed and complex numbers such as -1+2j).
//
// Accepted exactly when CPython 3.11's ast.literal_eval accepts, with the
// same value, except:
// - `...` (Ellipsis) is refused: the value graph has no Ellipsis.
// - \N{NAME} knows the names of the blocks listed in
//   tools/gen_unicode_tables.py (Latin, Greek, Cyrillic, punctuation,
//   currency, arrows, math, box drawing, shapes, symbols, dingbats,
//   emoticons) and every CJK UNIFIED IDEOGRAPH-XXXX; other names (Hangul
//   syllables, most scripts, aliases) are "unknown Unicode character name".
// - A non-ASCII character outside a string reads as part of a name (so
//   "malformed node or string"), where CPython says "invalid character"
//   for one that cannot be in an identifier (such as a euro sign).
// - Brackets may nest up to LiteralOptions::max_depth (CPython stops at
//   200), so that repr() of deep values reads back.
// Errors carry CPython's message (SyntaxError.msg; "malformed node or
// string: <what>" where CPython raises ValueError, "unhashable type" where
// it raises TypeError). On odd inputs CPython's parser sometimes words a
// syntax error differently (about 1% of random edits of valid literals);
// the position is where we found the problem, in bytes, which may differ
// from CPython's column.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include "pickle/value.h"

namespace shelf::pickle {

class LiteralError : public std::runtime_error {
 public:
  // what() reads "invalid syntax (line 1, column 4)"; message() is the
  // part before the position, worded as CPython's SyntaxError.msg (or
  // "malformed node or string: ..." where CPython raises ValueError).
  LiteralError(const std::string& message, size_t offset, size_t line, size_t column);
  const std::string& message() const { return message_; }
  size_t offset() const { return offset_; }  // bytes from the start
  size_t line() const { return line_; }      // 1-based
  size_t column() const { return column_; }  // 1-based, in bytes

 private:
  std::string message_;
  size_t offset_, line_, column_;
};

struct LiteralOptions {
  // Nesting of brackets. CPython's tokenizer stops at 200; we allow more
  // so that repr() of deep values parses back.
  size_t max_depth = 10'000;
  // A decimal int literal with more digits is an error, as in CPython 3.11
  // (sys.get_int_max_str_digits(), default 4300): converting decimal text
  // takes time quadratic in its length. Hex, octal and binary literals of
  // any length are fine. 0 = no limit.
  size_t max_int_digits = 4300;
};

// Parses one literal (surrounding whitespace allowed) into a new graph.
// Throws LiteralError pointing at the offending position.
Value parse_literal(std::string_view text, const LiteralOptions& options = {});
// The same, building in `graph`.
Value parse_literal(std::string_view text, Graph& graph, const LiteralOptions& options = {});

}  // namespace shelf::pickle
