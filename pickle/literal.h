// pickle/literal.h: Python literal syntax to values: the language of
// ast.literal_eval (numbers in every form, string prefixes and escapes,
// implicit concatenation, tuples, lists, dicts, sets, True/False/None,
// signed and complex numbers such as -1+2j).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include "pickle/value.h"

namespace shelf::pickle {

class LiteralError : public std::runtime_error {
 public:
  LiteralError(const std::string& message, size_t offset, size_t line, size_t column);
  size_t offset() const { return offset_; }  // bytes from the start
  size_t line() const { return line_; }      // 1-based
  size_t column() const { return column_; }  // 1-based, in bytes

 private:
  size_t offset_, line_, column_;
};

struct LiteralOptions {
  size_t max_depth = 10'000;  // nesting of containers
};

// Parses one literal (surrounding whitespace allowed) into a new graph.
// Throws LiteralError pointing at the offending position.
Value parse_literal(std::string_view text, const LiteralOptions& options = {});
// The same, building in `graph`.
Value parse_literal(std::string_view text, Graph& graph, const LiteralOptions& options = {});

}  // namespace shelf::pickle
