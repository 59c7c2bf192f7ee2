// The language of ast.literal_eval (CPython 3.11), parsed without recursion:
// open brackets, pending prefix operators and pending binary operators live
// on an explicit stack, so nesting depth costs heap, never C++ stack.
//
// What literal_eval accepts, and so do we:
//   literal  := constant | '+'/'-' number | number ('+'|'-') imaginary
//             | tuple | list | dict | set | 'set' '(' ')'
// where `number` is an int, float or complex constant (not a bool, and not
// itself signed), the left side of `a + bj` may be signed, and parentheses
// group anything. A bare `1, 2` at the top level is a tuple.
//
// Errors come in CPython's order. literal_eval first parses the text as a
// Python expression (SyntaxError), then walks the tree (ValueError
// "malformed node or string"). So the parser also reads the rest of
// Python's expression syntax (names, calls, subscripts, attributes,
// operators, starred items) loosely, remembering the first non-literal it
// met and reporting it only once the whole input has parsed. Among syntax
// errors, the tokenizer's (a bad number, an unterminated string, an
// unmatched bracket) win over the parser's, as in CPython's parser, which
// tokenizes the rest of the source before it reports "invalid syntax".
#include "pickle/literal.h"

#include <charconv>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <optional>
#include <vector>

#include "pickle/internal/bigint.h"
#include "pickle/internal/literal_lexer.h"
#include "pickle/internal/utf8.h"

namespace shelf::pickle {

namespace {
std::string located(const std::string& message, size_t line, size_t column) {
  return message + " (line " + std::to_string(line) + ", column " + std::to_string(column) + ")";
}
}  // namespace

LiteralError::LiteralError(const std::string& message, size_t offset, size_t line, size_t column)
    : std::runtime_error(located(message, line, column)),
      message_(message),
      offset_(offset),
      line_(line),
      column_(column) {}

namespace {

using internal::BigInt;
using internal::Lexer;
using internal::NumberForm;
using internal::SyntaxProblem;
using internal::Tok;
using internal::Token;

constexpr std::string_view kMalformed = "malformed node or string";

// What literal_eval's checks need to know of a finished operand besides its
// value: a plain number constant, a signed one, `a+bj`, or anything else.
enum class Shape : uint8_t { Other, Number, Signed, Sum };

struct Operand {
  Value value;
  Shape shape = Shape::Other;
  size_t offset = 0;
  bool name = false;          // a bare name (may be a keyword argument)
  bool double_star = false;   // **x, a dict display's unpacking item
  bool set_name = false;      // the name `set`, which set() may call
  bool starred = false;       // *x
};

class Parser {
 public:
  Parser(std::string_view text, Graph& graph, const LiteralOptions& options)
      : src_(text), lex_(text), g_(graph), options_(options) {}

  Value parse() {
    try {
      check_utf8();
      Value v = run();
      if (deferred_) throw *deferred_;
      return v;
    } catch (const SyntaxProblem& p) {
      throw error(p.message, p.offset);
    }
  }

 private:
  // An open construct waiting for operands.
  struct Frame {
    enum class Type : uint8_t { Top, Paren, List, Brace, Call, Subscript, Prefix, Binary };
    Type type;
    size_t offset = 0;
    // Top and brackets
    std::vector<Value> items;  // a dict's keys and values alternate
    bool comma = false;        // a comma was seen (Paren: it is a tuple)
    int brace = 0;             // Brace: 0 undecided, 1 set, 2 dict
    bool want_value = false;   // Brace dict: a key and ':' were read
    bool set_call = false;     // Call: the callee is the name `set`
    // Prefix: the operators, outermost first ('+', '-', or 'x' for ~ not * **)
    std::vector<std::pair<char, size_t>> ops;
    bool double_star = false;
    bool starred = false;
    // Binary: the left side and operator ('+', '-', or 'x' for the others)
    Operand left;
    char op = 0;
  };

  static bool is_container(Frame::Type t) { return t != Frame::Type::Prefix && t != Frame::Type::Binary; }

  LiteralError error(const std::string& message, size_t offset) const {
    return LiteralError(message, offset, line_of(offset), column_of(offset));
  }

  size_t line_of(size_t offset) const {
    size_t line = 1;
    for (size_t i = 0; i < offset && i < src_.size(); ++i)
      if (src_[i] == '\n' || (src_[i] == '\r' && !(i + 1 < src_.size() && src_[i + 1] == '\n'))) ++line;
    return line;
  }

  size_t column_of(size_t offset) const {
    size_t col = 1;
    for (size_t i = 0; i < offset && i < src_.size(); ++i) col = (src_[i] == '\n' || src_[i] == '\r') ? 1 : col + 1;
    return col;
  }

  // Source text is UTF-8 (what a Python str encodes to): no surrogates.
  void check_utf8() const {
    for (size_t i = 0; i < src_.size();) {
      if (static_cast<unsigned char>(src_[i]) < 0x80) {
        ++i;
        continue;
      }
      size_t at = i;
      int32_t cp = internal::utf8_next(src_, i);
      if (cp < 0 || (cp >= 0xD800 && cp <= 0xDFFF)) {
        char msg[120];
        std::snprintf(msg, sizeof msg, "(unicode error) 'utf-8' codec can't decode byte 0x%02x in position %zu",
                      static_cast<unsigned char>(src_[at]), at);
        throw SyntaxProblem{msg, at};
      }
    }
  }

  // A syntax error found by the parser. CPython tokenizes the rest of the
  // source first: a tokenizer error there is reported instead, and so is
  // a bracket never closed, when it was opened on a line before the last
  // token the parser had read.
  [[noreturn]] void invalid(const std::string& message, size_t offset) {
    SyntaxProblem mine{message, offset};
    size_t last_line = line_of(lex_.last_scanned());
    try {
      while (lex_.next().kind != Tok::End) {
      }
    } catch (const SyntaxProblem& later) {
      if (later.weak) throw mine;
      if (!later.unclosed || last_line > line_of(later.offset)) throw;
    }
    throw mine;
  }

  // CPython's second pass reads the expression that starts at the token
  // where parsing failed (its invalid_* rules try to make sense of it): a
  // name or bracket with its calls, subscripts and attributes. Reading it
  // may meet the end of input inside a bracket ("never closed").
  // REQUIRES: `t` was just returned by next().
  void skim_expression(const Token& t) {
    auto skip_bracket = [&] {
      size_t depth = lex_.open_brackets();
      while (lex_.open_brackets() >= depth) lex_.next();
    };
    if (t.kind == Tok::Open) skip_bracket();
    for (;;) {
      Token n = lex_.peek();
      if (n.kind == Tok::Open && n.bracket != '{') {
        lex_.next();
        skip_bracket();
      } else if (n.kind == Tok::Operator && text(n) == ".") {
        lex_.next();
        lex_.next();
      } else {
        break;
      }
    }
  }

  // The token `t` that made the syntax wrong: a string there is decoded
  // first (its bad escape is what CPython reports), then as invalid().
  [[noreturn]] void invalid_at(const std::string& message, const Token& t) {
    if (t.kind == Tok::String) {
      try {
        internal::decode_string(src_, t);
      } catch (const SyntaxProblem& p) {
        invalid(p.message, p.offset);
      }
    }
    invalid(message, t.begin);
  }

  void defer_malformed(const std::string& what, size_t offset) {
    if (!deferred_) deferred_ = error(std::string(kMalformed) + ": " + what, offset);
  }

  std::string_view text(const Token& t) const { return src_.substr(t.begin, t.end - t.begin); }

  static bool is_keyword(std::string_view w) {
    for (std::string_view kw : {"False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
                                "continue", "def", "del", "elif", "else", "except", "finally", "for", "from",
                                "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass",
                                "raise", "return", "try", "while", "with", "yield"})
      if (w == kw) return true;
    return false;
  }

  // Can `t` begin an expression (so that a missing comma is the likely
  // mistake, or an element may follow a comma)?
  bool starts_operand(const Token& t) const {
    switch (t.kind) {
      case Tok::Number:
      case Tok::String:
      case Tok::Open:
      case Tok::Plus:
      case Tok::Minus:
        return true;
      case Tok::Name: {
        std::string_view w = text(t);
        return !is_keyword(w) || w == "True" || w == "False" || w == "None" || w == "not" || w == "lambda" ||
               w == "await";
      }
      case Tok::Operator: {
        std::string_view op = text(t);
        return op == "*" || op == "**" || op == "~" || op == "...";
      }
      default:
        return false;
    }
  }

  Value run();
  std::optional<Operand> read_operand(const Token& t);
  Value number(const Token& t);
  Value strings(const Token& first);
  void push_bracket(const Token& t, Frame::Type type);
  void push_prefix(char op, size_t offset);
  Value negate(const Value& v, size_t offset);
  Operand reduce(Frame& f, Operand v);
  bool postfix_or_binary(Operand& v);
  bool add_to_container(Frame& f, Operand& v);
  [[noreturn]] void comma_hint(size_t first, const Token& second);
  Operand close_container(Frame& done, Operand& v);

  std::string_view src_;
  Lexer lex_;
  Graph& g_;
  const LiteralOptions& options_;
  std::vector<Frame> stack_;
  size_t brackets_ = 0;
  std::optional<LiteralError> deferred_;
};

Value Parser::negate(const Value& v, size_t offset) {
  switch (v.kind()) {
    case Kind::Float: return Value(-v.as_float());
    case Kind::Complex: {
      auto c = v.as_complex();
      return g_.complex(-c.real(), -c.imag());
    }
    case Kind::Int: {
      if (v.fits_int64() && v.as_int() != INT64_MIN) return Value(-v.as_int());
      BigInt b = BigInt::from_le(v.int_bytes());
      b.negative = !b.negative;
      b.normalize();
      return g_.integer_from_le(b.to_le());
    }
    default: defer_malformed("unary operator", offset); return v;
  }
}

Value Parser::number(const Token& t) {
  std::string digits;
  size_t from = t.begin + (t.base != 10 ? 2 : 0);
  for (size_t i = from; i < t.end; ++i) {
    char c = src_[i];
    if (c != '_' && c != 'j' && c != 'J') digits += c;
  }
  if (t.form == NumberForm::Int) {
    if (t.base == 10) {
      if (options_.max_int_digits != 0 && digits.size() > options_.max_int_digits) {
        invalid("Exceeds the limit (" + std::to_string(options_.max_int_digits) +
                   " digits) for integer string conversion: value has " + std::to_string(digits.size()) +
                   " digits; use sys.set_int_max_str_digits() to increase the limit - Consider hexadecimal "
                   "for huge integer literals to avoid decimal conversion limits.",
               t.begin);
      }
      return g_.integer_from_digits(digits, 10, false);
    }
    // Power-of-two bases: build the bytes directly, in linear time.
    int bits = t.base == 16 ? 4 : t.base == 8 ? 3 : 1;
    std::string le((digits.size() * static_cast<size_t>(bits)) / 8 + 2, '\0');
    size_t bitpos = 0;
    for (size_t k = digits.size(); k-- > 0;) {
      char c = digits[k];
      unsigned d = c <= '9' ? static_cast<unsigned>(c - '0') : static_cast<unsigned>((c | 0x20) - 'a' + 10);
      for (int b = 0; b < bits; ++b, ++bitpos)
        if (d & (1u << b)) le[bitpos / 8] = static_cast<char>(le[bitpos / 8] | (1 << (bitpos % 8)));
    }
    return g_.integer_from_le(le);  // the top byte stays 0: never negative
  }
  double d = 0;
  auto res = std::from_chars(digits.data(), digits.data() + digits.size(), d);
  if (res.ec == std::errc::result_out_of_range) {
    // Overflow to inf or underflow to 0, as float() does: tell which by
    // the decimal exponent of the first significant digit.
    long long exp10 = 0;
    size_t e = digits.find_first_of("eE");
    if (e != std::string::npos) {
      auto er = std::from_chars(digits.data() + e + 1 + (digits[e + 1] == '+'), digits.data() + digits.size(), exp10);
      if (er.ec == std::errc::result_out_of_range) exp10 = digits[e + 1] == '-' ? -(1LL << 40) : (1LL << 40);
    }
    std::string_view mant(digits.data(), e == std::string::npos ? digits.size() : e);
    size_t point = mant.find('.');
    std::string_view ip = mant.substr(0, point), fp = point == std::string::npos ? "" : mant.substr(point + 1);
    size_t lead = ip.find_first_not_of('0');
    long long mag = lead != std::string_view::npos ? static_cast<long long>(ip.size() - lead)
                                                   : -static_cast<long long>(fp.find_first_not_of('0'));
    d = exp10 + mag > 0 ? HUGE_VAL : 0.0;
  }
  if (t.form == NumberForm::Imaginary) return g_.complex(0.0, d);
  return Value(d);
}

Value Parser::strings(const Token& first) {
  // Adjacent string tokens concatenate. CPython checks that bytes and str
  // do not mix before it decodes any escape.
  std::vector<Token> run{first};
  while (lex_.peek().kind == Tok::String) run.push_back(lex_.next());
  bool fstring = false;
  for (const Token& t : run) {
    if (t.bytes != first.bytes) invalid("cannot mix bytes and nonbytes literals", t.begin);
    if (t.fstring && !fstring) {
      fstring = true;
      defer_malformed("f-string", t.begin);
    }
  }
  if (fstring) return Value();  // a placeholder: the parse will fail
  std::string text;
  try {
    for (const Token& t : run) text += internal::decode_string(src_, t);
  } catch (const SyntaxProblem& p) {
    invalid(p.message, p.offset);
  }
  return first.bytes ? g_.bytes(text) : g_.str(text);
}

void Parser::push_bracket(const Token& t, Frame::Type type) {
  if (++brackets_ > options_.max_depth) {
    throw error("literal nesting exceeds the depth limit of " + std::to_string(options_.max_depth), t.begin);
  }
  Frame f;
  f.type = type;
  f.offset = t.begin;
  stack_.push_back(std::move(f));
}

void Parser::push_prefix(char op, size_t offset) {
  if (stack_.back().type != Frame::Type::Prefix) {
    Frame f;
    f.type = Frame::Type::Prefix;
    f.offset = offset;
    stack_.push_back(std::move(f));
  }
  stack_.back().ops.push_back({op, offset});
}

// Reads one operand that starts with `t`, or opens a frame for a bracket
// or a prefix operator and returns nullopt.
std::optional<Operand> Parser::read_operand(const Token& t) {
  Frame& top = stack_.back();
  switch (t.kind) {
    case Tok::Number: return Operand{number(t), Shape::Number, t.begin};
    case Tok::String: return Operand{strings(t), Shape::Other, t.begin};
    case Tok::Plus:
    case Tok::Minus: push_prefix(t.kind == Tok::Plus ? '+' : '-', t.begin); return std::nullopt;
    case Tok::Open: {
      if (lex_.peek().kind == Tok::Close) {  // (), [], {}
        if (brackets_ + 1 > options_.max_depth) push_bracket(t, Frame::Type::Paren);  // throws
        lex_.next();
        Value v = t.bracket == '(' ? g_.tuple(std::span<const Value>()) : t.bracket == '[' ? g_.list() : g_.dict();
        return Operand{v, Shape::Other, t.begin};
      }
      push_bracket(t, t.bracket == '(' ? Frame::Type::Paren : t.bracket == '[' ? Frame::Type::List : Frame::Type::Brace);
      return std::nullopt;
    }
    case Tok::Name: {
      std::string_view w = text(t);
      if (w == "True") return Operand{Value(true), Shape::Other, t.begin};
      if (w == "False") return Operand{Value(false), Shape::Other, t.begin};
      if (w == "None") return Operand{Value(), Shape::Other, t.begin};
      Token n = lex_.peek();
      if (n.kind == Tok::String && n.begin == t.end) invalid_at("invalid syntax", n);  // ur'x'
      if (w == "not" || w == "await") {
        defer_malformed("operator '" + std::string(w) + "'", t.begin);
        push_prefix('x', t.begin);
        return std::nullopt;
      }
      if (w == "lambda") {
        // Its parameters are a grammar of their own: skip to the ':' and
        // read the body as the operand of a prefix operator.
        defer_malformed("lambda", t.begin);
        size_t depth = lex_.open_brackets();
        for (;;) {
          Token p = lex_.next();
          if (p.kind == Tok::Colon && lex_.open_brackets() == depth) break;
          if (p.kind == Tok::End || p.kind == Tok::Newline || lex_.open_brackets() < depth)
            invalid_at("invalid syntax", p);
        }
        push_prefix('x', t.begin);
        return std::nullopt;
      }
      if (is_keyword(w)) break;
      Operand v{Value(), Shape::Other, t.begin};
      v.name = true;
      if (w == "set" && n.kind == Tok::Open && n.bracket == '(') {
        v.set_name = true;  // set() is a literal; set(x) is not
      } else {
        defer_malformed(w == "inf" || w == "nan" ? "name '" + std::string(w) + "' (float('" + std::string(w) +
                                                       "') has no literal)"
                                                 : "name '" + std::string(w) + "'",
                        t.begin);
      }
      return v;
    }
    case Tok::Operator: {
      std::string_view op = text(t);
      if (op == "*" || op == "**" || op == "~") {
        // No starred item at the top level: eval mode's `expressions`.
        if (op != "~" && top.type == Frame::Type::Top) break;
        defer_malformed(op == "~" ? "operator '~'" : "starred item", t.begin);
        push_prefix('x', t.begin);
        if (op == "**") stack_.back().double_star = true;
        if (op == "*") stack_.back().starred = true;
        return std::nullopt;
      }
      if (op == "...") {
        // CPython gives Ellipsis; the value graph has no such value.
        defer_malformed("Ellipsis (...) has no value in shelf", t.begin);
        return Operand{Value(), Shape::Other, t.begin};
      }
      break;
    }
    default: break;
  }
  // Slices leave parts out: a[:], a[1:], a[::2].
  if (top.type == Frame::Type::Subscript &&
      (t.kind == Tok::Colon || (top.want_value && (t.kind == Tok::Close || t.kind == Tok::Comma)))) {
    lex_.unget(t);
    return Operand{Value(), Shape::Other, t.begin};
  }
  if (top.type == Frame::Type::Brace && top.want_value && (t.kind == Tok::Close || t.kind == Tok::Comma))
    invalid_at("expression expected after dictionary key and ':'", t);
  invalid_at("invalid syntax", t);
}

Operand Parser::reduce(Frame& f, Operand v) {
  if (f.type == Frame::Type::Prefix) {
    // literal_eval allows one + or -, on an int, float or complex constant
    // (not a bool): _convert_signed_num.
    if (f.ops.size() != 1 || f.ops[0].first == 'x' || v.shape != Shape::Number) defer_malformed("unary operator", f.offset);
    Value r = v.value;
    for (size_t k = f.ops.size(); k-- > 0;) {
      Kind kind = r.kind();
      if (f.ops[k].first == '-' && (kind == Kind::Int || kind == Kind::Float || kind == Kind::Complex))
        r = negate(r, f.ops[k].second);
    }
    Operand out{r, Shape::Signed, f.offset};
    out.double_star = f.double_star;
    out.starred = f.starred;
    return out;
  }
  // Binary: left +/- right with left a (signed) int or float and right a
  // complex constant is literal_eval's BinOp rule; anything else was
  // already reported as malformed.
  const Operand& l = f.left;
  Operand out{Value(), Shape::Sum, l.offset};
  if (f.op == 'x') return out;
  bool left_ok = (l.shape == Shape::Number || l.shape == Shape::Signed) &&
                 (l.value.kind() == Kind::Int || l.value.kind() == Kind::Float);
  bool right_ok = v.shape == Shape::Number && v.value.kind() == Kind::Complex;
  if (!left_ok || !right_ok) {
    defer_malformed("binary operator", f.offset);
    return out;
  }
  double a;
  if (l.value.kind() == Kind::Float) {
    a = l.value.as_float();
  } else {
    a = l.value.fits_int64() ? static_cast<double>(l.value.as_int()) : BigInt::from_le(l.value.int_bytes()).to_double();
    if (std::isinf(a)) defer_malformed("int too large to convert to float", l.offset);
  }
  auto c = v.value.as_complex();
  // int or float with complex goes through complex(a, 0.0): 1-0j is (1+0j)
  // and -0.0+0j is 0j, as in CPython.
  out.value = f.op == '-' ? g_.complex(a - c.real(), 0.0 - c.imag()) : g_.complex(a + c.real(), 0.0 + c.imag());
  return out;
}

// After an operand: calls, subscripts and attributes apply to it; then a
// binary operator opens a frame for its right side. Returns true when a
// frame was opened (an operand must be read next).
bool Parser::postfix_or_binary(Operand& v) {
  for (;;) {
    Token t = lex_.peek();
    if (t.kind == Tok::Open && t.bracket == '(') {
      lex_.next();
      bool set_call = v.set_name;
      if (!set_call) defer_malformed("call", t.begin);
      if (lex_.peek().kind == Tok::Close) {
        lex_.next();
        v = Operand{set_call ? g_.set() : Value(), Shape::Other, v.offset};
        continue;
      }
      push_bracket(t, Frame::Type::Call);
      stack_.back().set_call = set_call;
      return true;
    }
    if (t.kind == Tok::Open && t.bracket == '[') {
      lex_.next();
      if (lex_.peek().kind == Tok::Close) {
        // x[] is no subscript; CPython reads `x` and `[]` as two items.
        Token close = lex_.next();
        if (stack_.back().type != Frame::Type::Top) comma_hint(v.offset, close);
        invalid_at("invalid syntax", close);
      }
      defer_malformed("subscript", t.begin);
      push_bracket(t, Frame::Type::Subscript);
      return true;
    }
    if (t.kind == Tok::Operator && text(t) == ".") {
      lex_.next();
      Token n = lex_.next();
      if (n.kind != Tok::Name || is_keyword(text(n))) invalid_at("invalid syntax", n);
      defer_malformed("attribute", t.begin);
      v = Operand{Value(), Shape::Other, v.offset};
      continue;
    }
    break;
  }
  Token t = lex_.peek();
  char op = 0;
  if (t.kind == Tok::Plus || t.kind == Tok::Minus) {
    op = t.kind == Tok::Plus ? '+' : '-';
  } else if (t.kind == Tok::Operator) {
    std::string_view o = text(t);
    for (std::string_view b : {"*", "**", "/", "//", "%", "@", "<<", ">>", "&", "|", "^", "<", ">", "<=", ">=", "==",
                               "!=", ":="})
      if (o == b) op = 'x';
  } else if (t.kind == Tok::Name) {
    std::string_view w = text(t);
    if (w == "and" || w == "or" || w == "if" || w == "else" || w == "in" || w == "is" || w == "for" || w == "not")
      op = 'x';
  }
  if (op == 0) return false;
  lex_.next();
  if (op == 'x') {
    defer_malformed("operator '" + std::string(text(t)) + "'", t.begin);
    std::string_view w = text(t);
    if (w == "not") {  // only as `not in`
      Token n = lex_.next();
      if (n.kind != Tok::Name || text(n) != "in") invalid_at("invalid syntax", n);
    } else if (w == "is" && lex_.peek().kind == Tok::Name && text(lex_.peek()) == "not") {
      lex_.next();
    }
  }
  Frame f;
  f.type = Frame::Type::Binary;
  f.offset = t.begin;
  f.left = std::move(v);
  f.op = op;
  stack_.push_back(std::move(f));
  return true;
}

// Hands the operand to the innermost container and reads the separator
// after it. Returns true when another element follows in the same
// container, false when the container is complete.
bool Parser::add_to_container(Frame& f, Operand& v) {
  Token t = lex_.next();
  if (f.type == Frame::Type::Top) {
    bool more = false;
    if (t.kind == Tok::Comma) {
      f.comma = true;
      Token n = lex_.peek();
      more = n.kind != Tok::Newline && n.kind != Tok::End;
    } else if (t.kind != Tok::Newline && t.kind != Tok::End) {
      if (starts_operand(t) && t.kind != Tok::String) skim_expression(t);
      invalid_at("invalid syntax", t);
    }
    f.items.push_back(std::move(v.value));
    return more;
  }
  if (f.type == Frame::Type::Brace) {
    if (v.double_star) {
      // {**a}: an item of a dict display with no key.
      if (f.brace == 1 || f.want_value) invalid_at("invalid syntax", t);
      f.brace = 2;
    } else {
      if (f.brace == 0) f.brace = t.kind == Tok::Colon ? 2 : 1;
      bool was_key = f.brace == 2 && !f.want_value;
      if ((was_key || f.brace == 1) && !v.value.hash())
        defer_malformed("unhashable type: '" + std::string(v.value.type_name()) + "'", v.offset);
      if (!was_key && f.brace == 2 && v.starred)
        invalid("cannot use a starred expression in a dictionary value", v.offset);
      if (was_key) {
        if (t.kind != Tok::Colon) {
          if (f.items.empty()) invalid_at("invalid syntax", t);
          invalid("':' expected after dictionary key", v.offset);
        }
        f.items.push_back(std::move(v.value));
        f.want_value = true;
        return true;
      }
      f.want_value = false;
      f.items.push_back(std::move(v.value));
    }
  } else if (f.type == Frame::Type::Call && t.kind == Tok::Operator && text(t) == "=" && v.name) {
    return true;  // a keyword argument: its value follows
  } else if (f.type == Frame::Type::Subscript && t.kind == Tok::Colon) {
    f.want_value = true;  // a slice: the next part may be left out
    return true;
  } else {
    f.items.push_back(std::move(v.value));
  }
  if (f.type == Frame::Type::Subscript) f.want_value = false;
  if (t.kind == Tok::Comma) {
    f.comma = true;
    if (lex_.peek().kind == Tok::Close) {  // a trailing comma; the lexer checked the bracket matches
      lex_.next();
      return false;
    }
    if (f.type == Frame::Type::Subscript) f.want_value = true;
    return true;
  }
  if (t.kind == Tok::Close) return false;  // the lexer checked it matches
  // No hint after a soft keyword, which may begin a statement (match x).
  size_t end = v.offset;
  while (end < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[end])) || src_[end] == '_')) ++end;
  std::string_view name = src_.substr(v.offset, end - v.offset);
  bool soft = v.name && (name == "_" || name == "match" || name == "case");
  if (starts_operand(t) && !soft) comma_hint(v.offset, t);
  invalid_at("invalid syntax", t);
}

// Two expressions in brackets with no comma between: CPython's hint, given
// once it has read the second expression (a bracket is read to its end).
// If the input ends first, the unclosed bracket is reported instead.
// REQUIRES: `second` was just returned by next().
void Parser::comma_hint(size_t first, const Token& second) {
  const char* hint = "invalid syntax. Perhaps you forgot a comma?";
  if (second.kind == Tok::String) invalid_at(hint, second);
  skim_expression(second);
  invalid(hint, first);
}

Operand Parser::close_container(Frame& done, Operand& last) {
  --brackets_;
  Operand built{Value(), Shape::Other, done.offset};
  if (done.type == Frame::Type::Paren && !done.comma) {
    if (last.starred) invalid("cannot use starred expression here", last.offset);
    // Grouping only: (1) is still the constant 1, (-1) a signed number.
    return Operand{std::move(done.items[0]), last.shape, done.offset};
  }
  if (done.type == Frame::Type::Call && done.set_call) defer_malformed("set() takes no arguments in a literal", done.offset);
  if (deferred_) return built;  // the parse will fail; build nothing
  switch (done.type) {
    case Frame::Type::Paren: built.value = g_.tuple(std::span<const Value>(done.items)); break;
    case Frame::Type::List: built.value = g_.list(std::span<const Value>(done.items)); break;
    case Frame::Type::Brace:
      if (done.brace == 2) {
        built.value = g_.dict();
        for (size_t k = 0; k + 1 < done.items.size(); k += 2) built.value.set_item(done.items[k], done.items[k + 1]);
      } else {
        built.value = g_.set();
        for (const Value& item : done.items) built.value.add(item);
      }
      break;
    default: break;
  }
  return built;
}

Value Parser::run() {
  {
    Frame top;
    top.type = Frame::Type::Top;
    stack_.push_back(std::move(top));
  }
  std::optional<Operand> pending;  // a container just closed
  for (;;) {
    Operand v;
    if (pending) {
      v = std::move(*pending);
      pending.reset();
    } else {
      std::optional<Operand> got;
      while (!got) got = read_operand(lex_.next());
      v = std::move(*got);
    }
    while (!is_container(stack_.back().type)) {
      Frame f = std::move(stack_.back());
      stack_.pop_back();
      v = reduce(f, std::move(v));
    }
    if (postfix_or_binary(v)) continue;
    if (add_to_container(stack_.back(), v)) continue;

    Frame done = std::move(stack_.back());
    stack_.pop_back();
    if (done.type == Frame::Type::Top) {
      while (lex_.peek().kind == Tok::Newline) lex_.next();
      Token end = lex_.next();
      if (end.kind != Tok::End) invalid_at("invalid syntax", end);
      if (!done.comma) return std::move(done.items[0]);
      if (deferred_) return Value();
      return g_.tuple(std::span<const Value>(done.items));
    }
    pending = close_container(done, v);
  }
}

}  // namespace

Value parse_literal(std::string_view text, const LiteralOptions& options) {
  Graph graph;
  return parse_literal(text, graph, options);
}

Value parse_literal(std::string_view text, Graph& graph, const LiteralOptions& options) {
  return Parser(text, graph, options).parse();
}

}  // namespace shelf::pickle
