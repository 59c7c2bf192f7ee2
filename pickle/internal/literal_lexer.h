// pickle/internal/literal_lexer.h: Python's tokenizer, cut down to what
// ast.literal_eval's language needs, for pickle/literal.cc. Never installed.
//
// It follows CPython 3.11's tokenizer where the two meet: the same number
// and string forms, newlines ignored inside brackets, comments, backslash
// continuation, and the same error messages ("invalid decimal literal",
// "unterminated string literal (detected at line 1)", "unmatched ')'").
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace shelf::pickle::internal {

// A syntax error at a byte offset of the source; literal.cc turns it into a
// LiteralError with line and column.
struct SyntaxProblem {
  std::string message;
  size_t offset;
  bool unclosed = false;  // "'(' was never closed": the input ended in brackets
  // CPython's tokenizer reports this one only to a parser that reads the
  // token, not when it scans ahead for errors (a bad line continuation,
  // an unexpected end of input): see Parser::invalid in literal.cc.
  bool weak = false;
};

enum class Tok : uint8_t {
  End,      // end of input (after every bracket was closed)
  Newline,  // a line break outside brackets, ending a logical line
  Number,
  String,
  Name,
  Open,     // ( [ {
  Close,    // ) ] }
  Comma,
  Colon,
  Plus,
  Minus,
  Operator,  // another Python operator or delimiter: * ** . ... < == ; += ...
  Invalid,   // a character that is no Python token ($ ? `)
};

enum class NumberForm : uint8_t { Int, Float, Imaginary };

struct Token {
  Tok kind = Tok::End;
  size_t begin = 0, end = 0;  // the token's bytes in the source
  char bracket = 0;           // Open / Close: the bracket character
  // Number
  NumberForm form = NumberForm::Int;
  int base = 10;  // Int: 2, 8, 10 or 16; digits start after the prefix
  // String
  bool raw = false, bytes = false, fstring = false;
  size_t body_begin = 0, body_end = 0;  // between the quotes
};

class Lexer {
 public:
  explicit Lexer(std::string_view source);

  // The next token. Throws SyntaxProblem for what CPython's tokenizer
  // rejects, including brackets never closed at the end of input.
  Token next();
  Token peek();
  // Puts back the token next() just returned (at most one, and only when
  // nothing was peeked since).
  void unget(const Token& t) {
    peeked_ = t;
    has_peek_ = true;
  }

  // Brackets currently open (after the last token scanned, peeked or not).
  size_t open_brackets() const { return brackets_.size(); }
  // Where the last token scanned (peeked or not) begins.
  size_t last_scanned() const { return last_scanned_; }

  std::string_view source() const { return src_; }

 private:
  struct Bracket {
    char ch;
    size_t offset;
  };
  Token scan();
  Token scan_number(size_t start);
  Token scan_string(size_t start, size_t quote_at, std::string_view prefix);
  void verify_end_of_number(size_t at, const char* kind);
  [[noreturn]] void fail(std::string message, size_t offset) const;
  size_t line_of(size_t offset) const;
  bool at(size_t i, char c) const { return i < src_.size() && src_[i] == c; }
  char ch(size_t i) const { return i < src_.size() ? src_[i] : '\0'; }

  std::string_view src_;
  size_t pos_ = 0;
  bool line_start_ = false;     // at the start of a line outside brackets
  bool line_has_token_ = false;  // a token was emitted on this logical line
  bool has_peek_ = false;
  size_t last_scanned_ = 0;
  Token peeked_;
  std::vector<Bracket> brackets_;
};

// The value of a String token: UTF-8 text (lone surrogates from \ud800
// escapes as 3-byte forms) or bytes, after escapes, as CPython's
// parse_string does. Throws SyntaxProblem with CPython's message for a bad
// escape or a non-ASCII character in a bytes literal.
std::string decode_string(std::string_view source, const Token& token);

}  // namespace shelf::pickle::internal
