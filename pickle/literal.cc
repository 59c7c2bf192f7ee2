// The language of ast.literal_eval (CPython 3.11), parsed without recursion:
// open containers, pending unary signs and pending `a + bj` operations live
// on an explicit stack, so nesting depth costs heap, never C++ stack.
//
// What literal_eval accepts, and so do we:
//   literal  := constant | '+'/'-' number | number ('+'|'-') imaginary
//             | tuple | list | dict | set | 'set' '(' ')'
// where `number` is an int, float or complex constant (not a bool, and not
// itself signed), the left side of `a + bj` may be signed, and parentheses
// group anything. A bare `1, 2` at the top level is a tuple.
//
// Errors: CPython reports syntax errors (SyntaxError) before it looks at
// meaning (ValueError "malformed node or string"). We do the same inside
// our grammar: a semantic problem ("--1", "1+2") is remembered and thrown
// only when the whole input parsed. Syntax outside the grammar (names,
// calls, other operators) is reported at once as "malformed node or string",
// which is what CPython says for valid Python that is not a literal.
#include "pickle/literal.h"

#include <charconv>
#include <cstdio>
#include <cmath>
#include <optional>
#include <vector>

#include "pickle/internal/bigint.h"
#include "pickle/internal/literal_lexer.h"
#include "pickle/internal/nodes.h"
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

// What literal_eval's checks need to know of a finished value besides the
// value: whether it is a plain number constant, a signed one, or `a+bj`.
enum class Shape : uint8_t { Other, Number, Signed, Sum };

struct Operand {
  Value value;
  Shape shape = Shape::Other;
  size_t offset = 0;
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
  // One open construct waiting for an operand.
  struct Frame {
    enum class Type : uint8_t { Top, Paren, List, Brace, Unary, BinOp };
    Type type;
    size_t offset = 0;
    // Top, Paren, List, Brace
    std::vector<Value> items;  // dict: keys and values alternate
    bool comma = false;        // a comma was seen (Paren: it is a tuple)
    int brace = 0;             // Brace: 0 undecided, 1 set, 2 dict
    bool want_value = false;   // Brace dict: a key and ':' were read
    // Unary: the signs, outermost first; BinOp: the left side and operator
    std::vector<std::pair<bool, size_t>> signs;  // (negative, offset)
    Operand left;
    bool subtract = false;
  };

  LiteralError error(const std::string& message, size_t offset) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < offset && i < src_.size(); ++i) {
      if (src_[i] == '\n' || (src_[i] == '\r' && !(i + 1 < src_.size() && src_[i + 1] == '\n'))) {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return LiteralError(message, offset, line, col);
  }

  [[noreturn]] void syntax(const std::string& message, size_t offset) { throw SyntaxProblem{message, offset}; }

  // A general syntax error yields to a tokenizer error further on (an
  // unclosed bracket, an unterminated string), as CPython reports those
  // first.
  [[noreturn]] void invalid(const std::string& message, size_t offset) {
    for (;;) {
      Token t = lex_.next();  // throws the tokenizer's error, if any
      if (t.kind == Tok::End) break;
    }
    syntax(message, offset);
  }

  [[noreturn]] void malformed(const std::string& what, size_t offset) {
    throw error(std::string(kMalformed) + ": " + what, offset);
  }

  void defer_malformed(const std::string& what, size_t offset) {
    if (!deferred_) deferred_ = error(std::string(kMalformed) + ": " + what, offset);
  }

  bool starts_operand(const Token& t) const {
    switch (t.kind) {
      case Tok::Operator:  // *x, ~x, ... : valid Python, refused later
        return src_[t.begin] == '*' || src_[t.begin] == '~' || src_.substr(t.begin, 3) == "...";
      case Tok::Number:
      case Tok::String:
      case Tok::Name:
      case Tok::Open:
      case Tok::Plus:
      case Tok::Minus:
        return true;
      default:
        return false;
    }
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

  Value run();
  std::optional<Operand> read_operand(Token t);
  Value number(const Token& t);
  Value strings(Token first);
  void push_container(const Token& t);
  Value negate(const Value& v, size_t offset);

  std::string_view src_;
  Lexer lex_;
  Graph& g_;
  const LiteralOptions& options_;
  std::vector<Frame> stack_;
  size_t containers_ = 0;
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
    default: malformed("cannot negate", offset);
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
        syntax("Exceeds the limit (" + std::to_string(options_.max_int_digits) +
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

Value Parser::strings(Token first) {
  // Adjacent string tokens concatenate; bytes and str never mix.
  std::string text = internal::decode_string(src_, first);
  bool bytes = first.bytes;
  bool fstring = first.fstring;
  size_t fstring_at = first.begin;
  while (lex_.peek().kind == Tok::String) {
    Token t = lex_.next();
    if (t.bytes != bytes) syntax("cannot mix bytes and nonbytes literals", t.begin);
    if (t.fstring && !fstring) {
      fstring = true;
      fstring_at = t.begin;
    }
    text += internal::decode_string(src_, t);
  }
  if (fstring) malformed("f-string", fstring_at);
  return bytes ? g_.bytes(text) : g_.str(text);
}

void Parser::push_container(const Token& t) {
  if (++containers_ > options_.max_depth) {
    throw error("literal nesting exceeds the depth limit of " + std::to_string(options_.max_depth), t.begin);
  }
  Frame f;
  f.type = t.bracket == '(' ? Frame::Type::Paren : t.bracket == '[' ? Frame::Type::List : Frame::Type::Brace;
  f.offset = t.begin;
  stack_.push_back(std::move(f));
}

// Reads one operand that starts with `t`, or opens a frame for it (a
// bracket, a sign) and returns nullopt.
std::optional<Operand> Parser::read_operand(Token t) {
  switch (t.kind) {
    case Tok::Number: return Operand{number(t), Shape::Number, t.begin};
    case Tok::String: return Operand{strings(t), Shape::Other, t.begin};
    case Tok::Plus:
    case Tok::Minus: {
      bool neg = t.kind == Tok::Minus;
      if (!stack_.empty() && stack_.back().type == Frame::Type::Unary) {
        stack_.back().signs.push_back({neg, t.begin});
      } else {
        Frame f;
        f.type = Frame::Type::Unary;
        f.offset = t.begin;
        f.signs.push_back({neg, t.begin});
        stack_.push_back(std::move(f));
      }
      return std::nullopt;
    }
    case Tok::Open: {
      push_container(t);
      Token close = lex_.peek();
      if (close.kind == Tok::Close) {  // (), [], {}
        lex_.next();
        stack_.pop_back();
        --containers_;
        Value v = t.bracket == '(' ? g_.tuple(std::span<const Value>()) : t.bracket == '[' ? g_.list() : g_.dict();
        return Operand{v, Shape::Other, t.begin};
      }
      return std::nullopt;
    }
    case Tok::Name: {
      std::string_view name = src_.substr(t.begin, t.end - t.begin);
      if (name == "True") return Operand{Value(true), Shape::Other, t.begin};
      if (name == "False") return Operand{Value(false), Shape::Other, t.begin};
      if (name == "None") return Operand{Value(), Shape::Other, t.begin};
      if (name == "set" && lex_.peek().kind == Tok::Open && lex_.peek().bracket == '(') {
        lex_.next();
        Token close = lex_.next();
        if (close.kind == Tok::Close) return Operand{g_.set(), Shape::Other, t.begin};
        malformed("set() takes no arguments in a literal", t.begin);
      }
      if (lex_.peek().kind == Tok::String && lex_.peek().begin == t.end) invalid("invalid syntax", t.end);
      if (name == "inf" || name == "nan") malformed("name '" + std::string(name) + "' (use float('" +
                                                        std::string(name) + "') outside a literal)", t.begin);
      malformed("name '" + std::string(name) + "'", t.begin);
    }
    case Tok::Operator:
      if (src_.substr(t.begin, 3) == "...") malformed("Ellipsis (...) has no value in shelf", t.begin);
      if (src_[t.begin] == '*' || src_[t.begin] == '~') malformed("operator '" + std::string(1, src_[t.begin]) + "'", t.begin);
      invalid("invalid syntax", t.begin);
    default: break;
  }
  // Something that cannot start an operand, where one is required.
  if (!stack_.empty()) {
    Frame& f = stack_.back();
    if (f.type == Frame::Type::Brace && f.want_value)
      invalid("expression expected after dictionary key and ':'", f.items.empty() ? t.begin : t.begin);
  }
  invalid("invalid syntax", t.begin);
}

Value Parser::run() {
  {
    Frame top;
    top.type = Frame::Type::Top;
    stack_.push_back(std::move(top));
  }
  std::optional<Operand> pending;  // a container just closed
  for (;;) {
    // 1. An operand: the container just closed, or one read now (opening
    //    frames for brackets and signs on the way).
    Operand v;
    if (pending) {
      v = std::move(*pending);
      pending.reset();
    } else {
      std::optional<Operand> got;
      while (!got) got = read_operand(lex_.next());
      v = std::move(*got);
    }

    // 2. Apply the signs and the `a + bj` waiting for this operand.
    for (;;) {
      Frame& f = stack_.back();
      if (f.type == Frame::Type::Unary) {
        // literal_eval allows one sign, on an int, float or complex
        // constant (not a bool): _convert_signed_num.
        if (f.signs.size() > 1 || v.shape != Shape::Number) defer_malformed("unary operator", f.offset);
        Value r = v.value;
        for (size_t k = f.signs.size(); k-- > 0;) {
          Kind kind = r.kind();
          if (f.signs[k].first && (kind == Kind::Int || kind == Kind::Float || kind == Kind::Complex))
            r = negate(r, f.signs[k].second);
        }
        v = Operand{r, Shape::Signed, f.offset};
        stack_.pop_back();
        continue;
      }
      if (f.type == Frame::Type::BinOp) {
        // left +/- right with left a (signed) int or float and right a
        // complex constant: literal_eval's BinOp rule.
        const Operand& l = f.left;
        bool left_ok = (l.shape == Shape::Number || l.shape == Shape::Signed) &&
                       (l.value.kind() == Kind::Int || l.value.kind() == Kind::Float);
        bool right_ok = v.shape == Shape::Number && v.value.kind() == Kind::Complex;
        Value r;
        if (left_ok && right_ok) {
          double a;
          if (l.value.kind() == Kind::Float) {
            a = l.value.as_float();
          } else {
            a = l.value.fits_int64() ? static_cast<double>(l.value.as_int())
                                     : BigInt::from_le(l.value.int_bytes()).to_double();
            if (std::isinf(a)) defer_malformed("int too large to convert to float", l.offset);
          }
          auto c = v.value.as_complex();
          // int or float with complex goes through complex(a, 0.0), so
          // 1-0j is (1+0j) and -0.0+0j is 0j, as in CPython.
          r = f.subtract ? g_.complex(a - c.real(), 0.0 - c.imag()) : g_.complex(a + c.real(), 0.0 + c.imag());
        } else {
          defer_malformed("binary operator", f.offset);
        }
        v = Operand{r, Shape::Sum, l.offset};
        stack_.pop_back();
        continue;
      }
      break;
    }

    // 3. After an operand: a binary +/- opens a frame; the rest of Python's
    //    operators are valid syntax but no literal.
    Token t = lex_.peek();
    if (t.kind == Tok::Plus || t.kind == Tok::Minus) {
      lex_.next();
      Frame f;
      f.type = Frame::Type::BinOp;
      f.offset = t.begin;
      f.left = std::move(v);
      f.subtract = t.kind == Tok::Minus;
      stack_.push_back(std::move(f));
      continue;
    }
    if (t.kind == Tok::Operator) {
      std::string_view op = src_.substr(t.begin, 2);
      if (op[0] == ';' || (op[0] == '=' && op != "==")) invalid("invalid syntax", t.begin);
      malformed("operator '" + std::string(1, op[0]) + "'", t.begin);
    }
    if (t.kind == Tok::Open && t.bracket != '{') malformed("call or subscript", t.begin);
    if (t.kind == Tok::Name) {
      std::string_view word = src_.substr(t.begin, t.end - t.begin);
      for (std::string_view kw : {"if", "else", "and", "or", "not", "in", "is", "for"})
        if (word == kw) malformed("keyword '" + std::string(word) + "'", t.begin);
    }

    // 4. Hand the operand to the enclosing container: a separator follows,
    //    or the container closes and becomes the next operand.
    Frame& f = stack_.back();
    t = lex_.next();
    bool more = false;  // another element follows in the same container
    if (f.type == Frame::Type::Top) {
      if (t.kind == Tok::Comma) {
        f.comma = true;
        Token n = lex_.peek();
        more = n.kind != Tok::Newline && n.kind != Tok::End;
      } else if (t.kind != Tok::Newline && t.kind != Tok::End) {
        invalid("invalid syntax", t.begin);
      }
      f.items.push_back(std::move(v.value));
    } else {
      char closer = f.type == Frame::Type::Paren ? ')' : f.type == Frame::Type::List ? ']' : '}';
      bool was_key = false;
      if (f.type == Frame::Type::Brace) {
        if (f.brace == 0) f.brace = t.kind == Tok::Colon ? 2 : 1;
        was_key = f.brace == 2 && !f.want_value;
        if (!was_key) f.want_value = false;
        if ((was_key || f.brace == 1) && !v.value.hash())
          malformed("unhashable type: '" + std::string(v.value.type_name()) + "'", v.offset);
      }
      if (was_key) {
        if (t.kind != Tok::Colon) {
          if (t.kind == Tok::Comma || t.kind == Tok::Close) invalid("':' expected after dictionary key", t.begin);
          if (starts_operand(t)) invalid("invalid syntax. Perhaps you forgot a comma?", t.begin);
          invalid("invalid syntax", t.begin);
        }
        f.items.push_back(std::move(v.value));
        f.want_value = true;
        if (!starts_operand(lex_.peek()))
          invalid("expression expected after dictionary key and ':'", lex_.peek().begin);
        more = true;
      } else if (t.kind == Tok::Comma) {
        f.items.push_back(std::move(v.value));
        f.comma = true;
        Token n = lex_.peek();
        if (n.kind == Tok::Close) {
          lex_.next();
        } else {
          if (!starts_operand(n)) invalid("invalid syntax", n.begin);
          more = true;
        }
      } else if (t.kind == Tok::Close && t.bracket == closer) {
        f.items.push_back(std::move(v.value));
      } else if (starts_operand(t)) {
        invalid("invalid syntax. Perhaps you forgot a comma?", t.begin);
      } else {
        invalid("invalid syntax", t.begin);
      }
    }
    if (more) continue;

    // 5. The container is complete: build its value.
    Frame done = std::move(stack_.back());
    stack_.pop_back();
    if (done.type == Frame::Type::Top) {
      while (lex_.peek().kind == Tok::Newline) lex_.next();
      Token end = lex_.next();
      if (end.kind != Tok::End) invalid("invalid syntax", end.begin);
      if (!done.comma) return std::move(done.items[0]);
      return g_.tuple(std::span<const Value>(done.items));
    }
    --containers_;
    Operand built;
    built.offset = done.offset;
    switch (done.type) {
      case Frame::Type::Paren:
        if (done.comma) {
          built.value = g_.tuple(std::span<const Value>(done.items));
        } else {
          built = Operand{std::move(done.items[0]), v.shape, done.offset};  // grouping only
        }
        break;
      case Frame::Type::List: built.value = g_.list(std::span<const Value>(done.items)); break;
      default:
        if (done.brace == 2) {
          built.value = g_.dict();
          for (size_t k = 0; k + 1 < done.items.size(); k += 2) built.value.set_item(done.items[k], done.items[k + 1]);
        } else {
          built.value = g_.set();
          for (const Value& item : done.items) built.value.add(item);
        }
        break;
    }
    pending = std::move(built);
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
