// Tokens of Python literal syntax, after CPython 3.11's Parser/tokenizer.c
// (tok_get) and the escape decoders behind Parser/string_parser.c.
#include "pickle/internal/literal_lexer.h"

#include <cstring>

#include "pickle/internal/unicode_tables.h"
#include "pickle/internal/utf8.h"

namespace shelf::pickle::internal {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int hex_value(char c) { return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10; }
bool ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}
bool ident_char(char c) { return ident_start(c) || is_digit(c); }
bool is_newline(char c) { return c == '\n' || c == '\r'; }

char closer_of(char open) { return open == '(' ? ')' : open == '[' ? ']' : '}'; }

}  // namespace

Lexer::Lexer(std::string_view source) : src_(source) {
  // ast.literal_eval strips leading spaces and tabs before parsing, so the
  // first line may be indented.
  while (pos_ < src_.size() && (src_[pos_] == ' ' || src_[pos_] == '\t')) ++pos_;
}

void Lexer::fail(std::string message, size_t offset) const { throw SyntaxProblem{std::move(message), offset}; }

size_t Lexer::line_of(size_t offset) const {
  size_t line = 1;
  for (size_t i = 0; i < offset && i < src_.size(); ++i) {
    if (src_[i] == '\n' || (src_[i] == '\r' && !at(i + 1, '\n'))) ++line;
  }
  return line;
}

Token Lexer::peek() {
  if (!has_peek_) {
    peeked_ = scan();
    last_scanned_ = peeked_.begin;
    has_peek_ = true;
  }
  return peeked_;
}

Token Lexer::next() {
  if (has_peek_) {
    has_peek_ = false;
    return peeked_;
  }
  Token t = scan();
  last_scanned_ = t.begin;
  return t;
}

Token Lexer::scan() {
  for (;;) {
    if (line_start_) {
      // A new line outside brackets: blank and comment-only lines vanish;
      // indentation before anything else is an error, as in eval mode.
      size_t i = pos_;
      while (i < src_.size() && (src_[i] == ' ' || src_[i] == '\t' || src_[i] == '\f')) ++i;
      if (i < src_.size() && src_[i] == '#') {
        while (i < src_.size() && !is_newline(src_[i])) ++i;
      }
      if (i < src_.size() && is_newline(src_[i])) {
        pos_ = i + (src_[i] == '\r' && at(i + 1, '\n') ? 2 : 1);
        continue;
      }
      if (i > pos_ && i < src_.size()) throw SyntaxProblem{"unexpected indent", i, false, true};
      pos_ = i;
      line_start_ = false;
    }
    while (pos_ < src_.size() && (src_[pos_] == ' ' || src_[pos_] == '\t' || src_[pos_] == '\f')) ++pos_;
    if (pos_ >= src_.size()) break;
    char c = src_[pos_];
    if (c == '#') {
      while (pos_ < src_.size() && !is_newline(src_[pos_])) ++pos_;
      continue;
    }
    if (c == '\\') {
      size_t after = pos_ + 1;
      if (at(after, '\r') && at(after + 1, '\n')) {
        after += 2;
      } else if (at(after, '\n') || at(after, '\r')) {
        after += 1;
      } else {
        throw SyntaxProblem{"unexpected character after line continuation character", pos_, false, true};
      }
      if (after >= src_.size()) throw SyntaxProblem{"unexpected EOF while parsing", pos_, false, true};
      pos_ = after;
      continue;
    }
    if (is_newline(c)) {
      size_t at_nl = pos_;
      pos_ += c == '\r' && at(pos_ + 1, '\n') ? 2 : 1;
      if (!brackets_.empty()) continue;
      line_start_ = true;
      if (!line_has_token_) continue;
      line_has_token_ = false;
      Token t;
      t.kind = Tok::Newline;
      t.begin = at_nl;
      t.end = pos_;
      return t;
    }
    line_has_token_ = true;
    size_t start = pos_;
    Token t;
    t.begin = start;
    if (is_digit(c) || (c == '.' && is_digit(ch(pos_ + 1)))) return scan_number(start);
    if (ident_start(c)) {
      size_t i = pos_;
      while (i < src_.size() && ident_char(src_[i])) ++i;
      std::string_view word = src_.substr(pos_, i - pos_);
      if (i < src_.size() && (src_[i] == '\'' || src_[i] == '"') && word.size() <= 2) {
        // A string prefix: r, u, b, f and the two-letter mixes of r with b
        // or f, any case. Anything else before a quote is a name.
        bool ok = true;
        int r = 0, u = 0, b = 0, f = 0;
        for (char p : word) {
          switch (p | 0x20) {
            case 'r': ++r; break;
            case 'u': ++u; break;
            case 'b': ++b; break;
            case 'f': ++f; break;
            default: ok = false;
          }
        }
        ok = ok && r <= 1 && u <= 1 && b <= 1 && f <= 1 && (u == 0 || word.size() == 1) && b + f <= 1;
        if (ok) return scan_string(start, i, word);
      }
      pos_ = i;
      t.kind = Tok::Name;
      t.end = i;
      return t;
    }
    if (c == '\'' || c == '"') return scan_string(start, start, {});
    ++pos_;
    t.end = pos_;
    switch (c) {
      case '(':
      case '[':
      case '{':
        brackets_.push_back({c, start});
        t.kind = Tok::Open;
        t.bracket = c;
        return t;
      case ')':
      case ']':
      case '}': {
        if (brackets_.empty()) fail(std::string("unmatched '") + c + "'", start);
        Bracket open = brackets_.back();
        if (closer_of(open.ch) != c) {
          std::string msg = std::string("closing parenthesis '") + c + "' does not match opening parenthesis '" +
                            open.ch + "'";
          size_t open_line = line_of(open.offset);
          if (open_line != line_of(start)) msg += " on line " + std::to_string(open_line);
          fail(msg, start);
        }
        brackets_.pop_back();
        t.kind = Tok::Close;
        t.bracket = c;
        return t;
      }
      case ',': t.kind = Tok::Comma; return t;
      default: break;
    }
    // Operators, longest match first, as the tokenizer reads them.
    static constexpr std::string_view kOperators[] = {
        "**=", "//=", ">>=", "<<=", "...", "!=", "%=", "&=", "**", "*=", "+=", "-=", "->", "//", "/=", ":=",
        "<<", "<=", "==", ">=", ">>", "@=", "^=", "|=", "%", "&", "*", "+", "-", ".", "/", ":", ";", "<",
        "=", ">", "@", "^", "|", "~"};
    for (std::string_view op : kOperators) {
      if (src_.substr(start).starts_with(op)) {
        pos_ = start + op.size();
        t.end = pos_;
        t.kind = op == "+" ? Tok::Plus : op == "-" ? Tok::Minus : op == ":" ? Tok::Colon : Tok::Operator;
        return t;
      }
    }
    t.kind = Tok::Invalid;  // $ ? ` and control characters
    return t;
  }
  if (!brackets_.empty()) {
    const Bracket& open = brackets_.back();
    throw SyntaxProblem{std::string("'") + open.ch + "' was never closed", open.offset, true};
  }
  Token t;
  t.kind = Tok::End;
  t.begin = t.end = pos_;
  return t;
}

// A number may not run into a name ("1a", "0x1g"), except into the keywords
// CPython 3.11 lets follow with only a warning ("1if x else y").
void Lexer::verify_end_of_number(size_t at_pos, const char* kind) {
  if (at_pos >= src_.size() || !ident_char(src_[at_pos])) return;
  std::string_view rest = src_.substr(at_pos);
  for (std::string_view kw : {"and", "else", "for", "if", "in", "is", "not", "or"}) {
    if (rest.starts_with(kw)) return;
  }
  fail(std::string("invalid ") + kind + " literal", at_pos);
}

Token Lexer::scan_number(size_t start) {
  Token t;
  t.kind = Tok::Number;
  t.begin = start;
  size_t i = start;
  // Digits with single underscores between them; returns false when an
  // underscore is not followed by a digit.
  auto decimal_tail = [&]() {
    for (;;) {
      while (is_digit(ch(i))) ++i;
      if (ch(i) != '_') return;
      ++i;
      if (!is_digit(ch(i))) fail("invalid decimal literal", i);
    }
  };
  auto finish = [&](NumberForm form) {
    t.form = form;
    t.end = i;
    pos_ = i;
    return t;
  };
  auto fraction_exponent_imag = [&](bool seen_point) {
    if (seen_point) {
      if (is_digit(ch(i))) decimal_tail();
    }
    NumberForm form = NumberForm::Float;
    if (ch(i) == 'e' || ch(i) == 'E') {
      size_t e = i++;
      if (ch(i) == '+' || ch(i) == '-') {
        ++i;
        if (!is_digit(ch(i))) fail("invalid decimal literal", i);
      } else if (!is_digit(ch(i))) {
        // "1else": the e starts a keyword; anything else is an error.
        verify_end_of_number(e, "decimal");
        i = e;
        if (!seen_point) form = NumberForm::Int;
        return finish(form);
      }
      decimal_tail();
    }
    if (ch(i) == 'j' || ch(i) == 'J') {
      ++i;
      verify_end_of_number(i, "imaginary");
      return finish(NumberForm::Imaginary);
    }
    verify_end_of_number(i, "decimal");
    return finish(form);
  };

  if (ch(i) == '.') {
    ++i;
    return fraction_exponent_imag(true);
  }
  if (ch(i) == '0' && std::strchr("xXoObB", ch(i + 1)) != nullptr && ch(i + 1) != '\0') {
    char p = static_cast<char>(ch(i + 1) | 0x20);
    int base = p == 'x' ? 16 : p == 'o' ? 8 : 2;
    const char* kind = p == 'x' ? "hexadecimal" : p == 'o' ? "octal" : "binary";
    auto in_base = [&](char c) { return base == 16 ? is_hex(c) : c >= '0' && c < '0' + base; };
    i += 2;
    for (;;) {
      if (ch(i) == '_') ++i;
      if (!in_base(ch(i))) {
        if (base != 16 && is_digit(ch(i)))
          fail(std::string("invalid digit '") + ch(i) + "' in " + kind + " literal", i);
        fail(std::string("invalid ") + kind + " literal", i);
      }
      while (in_base(ch(i))) ++i;
      if (ch(i) != '_') break;
    }
    if (base != 16 && is_digit(ch(i))) fail(std::string("invalid digit '") + ch(i) + "' in " + kind + " literal", i);
    verify_end_of_number(i, kind);
    t.base = base;
    return finish(NumberForm::Int);
  }
  if (ch(i) == '0') {
    // Zeros (with underscores) may lead a float or imaginary number, or
    // be the int 0; other digits after them make "0123" an error.
    while (ch(i) == '0') {
      ++i;
      if (ch(i) == '_') {
        ++i;
        if (!is_digit(ch(i))) fail("invalid decimal literal", i);
      }
    }
    bool nonzero = false;
    if (is_digit(ch(i))) {
      nonzero = true;
      decimal_tail();
    }
    char c = ch(i);
    if (c == '.') {
      ++i;
      return fraction_exponent_imag(true);
    }
    if (c == 'e' || c == 'E' || c == 'j' || c == 'J') return fraction_exponent_imag(false);
    if (nonzero)
      fail("leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers",
           start);
    verify_end_of_number(i, "decimal");
    return finish(NumberForm::Int);
  }
  decimal_tail();
  char c = ch(i);
  if (c == '.') {
    ++i;
    return fraction_exponent_imag(true);
  }
  if (c == 'e' || c == 'E' || c == 'j' || c == 'J') return fraction_exponent_imag(false);
  verify_end_of_number(i, "decimal");
  return finish(NumberForm::Int);
}

Token Lexer::scan_string(size_t start, size_t quote_at, std::string_view prefix) {
  Token t;
  t.kind = Tok::String;
  t.begin = start;
  for (char p : prefix) {
    switch (p | 0x20) {
      case 'r': t.raw = true; break;
      case 'b': t.bytes = true; break;
      case 'f': t.fstring = true; break;
      default: break;
    }
  }
  char quote = src_[quote_at];
  bool triple = at(quote_at + 1, quote) && at(quote_at + 2, quote);
  size_t i = quote_at + (triple ? 3 : 1);
  t.body_begin = i;
  for (;;) {
    if (i >= src_.size()) {
      // CPython names the line where it gave up: the last line of the input
      // (a final line break does not start a new one).
      size_t line = line_of(src_.size());
      if (!src_.empty() && is_newline(src_.back())) --line;
      if (triple) {
        fail("unterminated triple-quoted string literal (detected at line " + std::to_string(line) + ")", start);
      }
      fail("unterminated string literal (detected at line " + std::to_string(line) + ")", start);
    }
    char c = src_[i];
    if (c == '\\') {
      // Even in a raw string a backslash keeps the next character (a quote,
      // or a line break) from ending the string.
      i += at(i + 1, '\r') && at(i + 2, '\n') ? 3 : 2;
      continue;
    }
    if (!triple && is_newline(c)) {
      fail("unterminated string literal (detected at line " + std::to_string(line_of(i)) + ")", start);
    }
    if (c == quote && (!triple || (at(i + 1, quote) && at(i + 2, quote)))) {
      t.body_end = i;
      i += triple ? 3 : 1;
      break;
    }
    ++i;
  }
  t.end = i;
  pos_ = i;
  return t;
}

namespace {

// Positions in CPython's escape errors count the body as its decoder sees
// it: every non-ASCII character has been rewritten as a 10-byte \UXXXXXXXX.
size_t cpython_position(std::string_view body, size_t upto) {
  size_t pos = 0;
  for (size_t i = 0; i < upto && i < body.size(); ++i) {
    auto b = static_cast<unsigned char>(body[i]);
    if (b < 0x80) {
      ++pos;
    } else if ((b & 0xC0) != 0x80) {
      pos += 10;  // a lead byte: one character
    }
  }
  return pos;
}

[[noreturn]] void unicode_error(std::string_view body, size_t body_offset, size_t esc, size_t end,
                                const char* what) {
  size_t a = cpython_position(body, esc);
  size_t b = cpython_position(body, end);
  std::string msg = "(unicode error) 'unicodeescape' codec can't decode ";
  if (b - a <= 1) {
    msg += "byte 0x5c in position " + std::to_string(a);
  } else {
    msg += "bytes in position " + std::to_string(a) + "-" + std::to_string(b - 1);
  }
  msg += ": ";
  msg += what;
  throw SyntaxProblem{msg, body_offset + esc};
}

void append_newline_normalized(std::string& out, std::string_view body, size_t& i) {
  // Source line breaks read as \n whatever the file used.
  if (body[i] == '\r') {
    out += '\n';
    i += i + 1 < body.size() && body[i + 1] == '\n' ? 2 : 1;
  } else {
    out += body[i++];
  }
}

}  // namespace

std::string decode_string(std::string_view source, const Token& token) {
  std::string_view body = source.substr(token.body_begin, token.body_end - token.body_begin);
  std::string out;
  out.reserve(body.size());
  if (token.bytes) {
    for (size_t i = 0; i < body.size(); ++i) {
      if (static_cast<unsigned char>(body[i]) >= 0x80)
        throw SyntaxProblem{"bytes can only contain ASCII literal characters", token.begin};
    }
  }
  size_t i = 0;
  while (i < body.size()) {
    char c = body[i];
    if (c != '\\' || token.raw) {
      if (c == '\r') {
        append_newline_normalized(out, body, i);
      } else if (c == '\\') {
        // Raw: the backslash stays, and so does what it protected.
        out += c;
        ++i;
        if (i < body.size()) append_newline_normalized(out, body, i);
      } else {
        out += c;
        ++i;
      }
      continue;
    }
    size_t esc = i;
    ++i;  // the body never ends in a lone backslash: the lexer saw to that
    char e = body[i++];
    switch (e) {
      case '\n': break;
      case '\r':
        if (i < body.size() && body[i] == '\n') ++i;
        break;
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
        uint32_t v = static_cast<uint32_t>(e - '0');
        for (int k = 0; k < 2 && i < body.size() && body[i] >= '0' && body[i] <= '7'; ++k)
          v = v * 8 + static_cast<uint32_t>(body[i++] - '0');
        if (token.bytes) {
          out += static_cast<char>(v & 0xFF);  // CPython keeps the low byte
        } else {
          utf8_append(out, v);
        }
        break;
      }
      case 'x':
        if (token.bytes) {
          if (i + 1 < body.size() && is_hex(body[i]) && is_hex(body[i + 1])) {
            out += static_cast<char>(hex_value(body[i]) * 16 + hex_value(body[i + 1]));
            i += 2;
          } else {
            throw SyntaxProblem{"(value error) invalid \\x escape at position " + std::to_string(esc),
                                token.body_begin + esc};
          }
          break;
        }
        [[fallthrough]];
      case 'u':
      case 'U': {
        if (token.bytes) {  // no \u or \U in bytes: both characters stay
          out += '\\';
          out += e;
          break;
        }
        int count = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        const char* what = e == 'x' ? "truncated \\xXX escape"
                           : e == 'u' ? "truncated \\uXXXX escape"
                                      : "truncated \\UXXXXXXXX escape";
        uint32_t v = 0;
        for (int k = 0; k < count; ++k) {
          if (i >= body.size() || !is_hex(body[i])) unicode_error(body, token.body_begin, esc, i, what);
          v = v * 16 + static_cast<uint32_t>(hex_value(body[i++]));
        }
        if (v > 0x10FFFF) unicode_error(body, token.body_begin, esc, i, "illegal Unicode character");
        utf8_append(out, v);
        break;
      }
      case 'N': {
        if (token.bytes) {
          out += "\\N";
          break;
        }
        const char* malformed = "malformed \\N character escape";
        if (i >= body.size() || body[i] != '{') unicode_error(body, token.body_begin, esc, i, malformed);
        size_t name_begin = ++i;
        while (i < body.size() && body[i] != '}') ++i;
        if (i >= body.size() || i == name_begin) unicode_error(body, token.body_begin, esc, i, malformed);
        std::string_view name = body.substr(name_begin, i - name_begin);
        ++i;
        auto cp = lookup_unicode_name(name);
        if (!cp) unicode_error(body, token.body_begin, esc, i, "unknown Unicode character name");
        utf8_append(out, *cp);
        break;
      }
      default:
        // An unknown escape keeps its backslash ("\q" is two characters).
        out += '\\';
        --i;
        append_newline_normalized(out, body, i);
        break;
    }
  }
  return out;
}

}  // namespace shelf::pickle::internal
