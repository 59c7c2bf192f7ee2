// repr() as CPython 3.11 writes it. The printer walks the graph with its own
// stack of frames, one per container being printed, so nesting depth costs
// heap, not C++ stack; the frames on the stack are exactly the containers
// CPython's Py_ReprEnter would find active, which is how recursion is
// detected.
#include "pickle/repr.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <unordered_set>
#include <vector>

#include "pickle/internal/bigint.h"
#include "pickle/internal/nodes.h"
#include "pickle/internal/unicode_tables.h"
#include "pickle/internal/utf8.h"

namespace shelf::pickle {
namespace {

using internal::BigInt;
using internal::BigIntNode;
using internal::BufferNode;
using internal::ByteArrayNode;
using internal::ComplexNode;
using internal::GlobalNode;
using internal::HashEntry;
using internal::HashNode;
using internal::InstanceNode;
using internal::ListNode;
using internal::Node;
using internal::PersistentRefNode;
using internal::Slot;
using internal::TextNode;
using internal::TupleNode;

constexpr char kHex[] = "0123456789abcdef";

// Python's float repr ('r' format): shortest digits that round-trip, laid
// out positionally when the decimal exponent is in [-5, 16), else as
// d.ddde+XX. `add_dot_0` gives floats their ".0" (repr(float) does,
// complex parts do not); `sign` writes "+" for non-negative values and nan
// (complex's imaginary part). nan never shows a sign, as in CPython.
void append_float(std::string& out, double v, bool add_dot_0, bool sign) {
  if (std::isnan(v)) {
    out += sign ? "+nan" : "nan";
    return;
  }
  if (std::isinf(v)) {
    out += v < 0 ? "-inf" : sign ? "+inf" : "inf";
    return;
  }
  char sci[40];
  auto res = std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific);
  const char* p = sci;
  const char* end = res.ptr;
  if (*p == '-') {
    out += '-';
    ++p;
  } else if (sign) {
    out += '+';
  }
  // sci is d[.ddd]e(+|-)XX: gather the digits and the exponent.
  char digits[24];
  size_t nd = 0;
  const char* e = p;
  for (; e < end && *e != 'e'; ++e)
    if (*e != '.') digits[nd++] = *e;
  int exp10 = 0;
  std::from_chars(e + 1 + (e[1] == '+'), end, exp10);

  if (exp10 < -4 || exp10 >= 16) {
    out += digits[0];
    if (nd > 1) {
      out += '.';
      out.append(digits + 1, nd - 1);
    }
    out += 'e';
    out += exp10 < 0 ? '-' : '+';
    int mag = exp10 < 0 ? -exp10 : exp10;
    if (mag < 10) out += '0';
    char eb[8];
    auto er = std::to_chars(eb, eb + sizeof eb, mag);
    out.append(eb, er.ptr);
  } else if (exp10 < 0) {
    out += "0.";
    out.append(static_cast<size_t>(-exp10 - 1), '0');
    out.append(digits, nd);
  } else {
    size_t int_len = static_cast<size_t>(exp10) + 1;
    if (nd <= int_len) {
      out.append(digits, nd);
      out.append(int_len - nd, '0');
      if (add_dot_0) out += ".0";
    } else {
      out.append(digits, int_len);
      out += '.';
      out.append(digits + int_len, nd - int_len);
    }
  }
}

void append_complex(std::string& out, double re, double im) {
  // complex_repr: a real part of +0.0 is left out, with the parentheses.
  if (re == 0.0 && !std::signbit(re)) {
    append_float(out, im, false, false);
    out += 'j';
    return;
  }
  out += '(';
  append_float(out, re, false, false);
  append_float(out, im, false, true);
  out += "j)";
}

void append_hex_escape(std::string& out, char kind, uint32_t value, int digits) {
  out += '\\';
  out += kind;
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out += kHex[(value >> shift) & 0xF];
}

// CPython picks ' unless the text holds ' and no ".
char choose_quote(std::string_view s) {
  if (s.empty()) return '\'';  // an empty view may have no data pointer for memchr
  bool single = std::memchr(s.data(), '\'', s.size()) != nullptr;
  bool dbl = std::memchr(s.data(), '"', s.size()) != nullptr;
  return single && !dbl ? '"' : '\'';
}

// The ASCII escapes unicode_repr and bytes_repr share. Returns false for a
// byte that is printed as it is.
bool append_ascii_escape(std::string& out, unsigned char c, char quote) {
  if (c == static_cast<unsigned char>(quote) || c == '\\') {
    out += '\\';
    out += static_cast<char>(c);
  } else if (c == '\t') {
    out += "\\t";
  } else if (c == '\n') {
    out += "\\n";
  } else if (c == '\r') {
    out += "\\r";
  } else if (c < 0x20 || c >= 0x7F) {
    append_hex_escape(out, 'x', c, 2);
  } else {
    return false;
  }
  return true;
}

bool plain_ascii(unsigned char c, char quote) {
  return c >= 0x20 && c < 0x7F && c != static_cast<unsigned char>(quote) && c != '\\';
}

void append_str(std::string& out, std::string_view s) {
  char quote = choose_quote(s);
  out.reserve(out.size() + s.size() + 2);
  out += quote;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && plain_ascii(static_cast<unsigned char>(s[i]), quote)) ++i;
    out.append(s.data() + start, i - start);
    if (i == s.size()) break;
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      append_ascii_escape(out, c, quote);
      ++i;
      continue;
    }
    size_t at = i;
    int32_t cp = internal::utf8_next(s, i);
    if (cp < 0) throw ReprError("str holds malformed UTF-8 at byte " + std::to_string(at));
    auto u = static_cast<uint32_t>(cp);
    if (internal::is_printable(u)) {
      out.append(s.data() + at, i - at);
    } else if (u <= 0xFF) {
      append_hex_escape(out, 'x', u, 2);
    } else if (u <= 0xFFFF) {
      append_hex_escape(out, 'u', u, 4);  // lone surrogates land here: \udc80
    } else {
      append_hex_escape(out, 'U', u, 8);
    }
  }
  out += quote;
}

void append_bytes(std::string& out, std::string_view s) {
  char quote = choose_quote(s);
  out.reserve(out.size() + s.size() + 3);
  out += 'b';
  out += quote;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && plain_ascii(static_cast<unsigned char>(s[i]), quote)) ++i;
    out.append(s.data() + start, i - start);
    if (i == s.size()) break;
    append_ascii_escape(out, static_cast<unsigned char>(s[i]), quote);
    ++i;
  }
  out += quote;
}

void append_big_int(std::string& out, const BigIntNode* node, size_t max_digits) {
  BigInt b = BigInt::from_le(node->bytes);
  const char* kLimitMessage =
      "Exceeds the limit (%zu digits) for integer string conversion; "
      "use sys.set_int_max_str_digits() to increase the limit";
  auto too_long = [&] {
    char msg[200];
    std::snprintf(msg, sizeof msg, kLimitMessage, max_digits);
    throw ReprError(msg);
  };
  // A number of n bits has at least floor((n - 1) * log10(2)) + 1 digits:
  // refuse before the quadratic conversion when that is already too many.
  if (max_digits != 0) {
    size_t bits = b.bit_length();
    if (bits > 0 && static_cast<double>(bits - 1) * 0.30102999566398 + 1 > static_cast<double>(max_digits) + 1)
      too_long();
  }
  std::string text = b.to_decimal();
  if (max_digits != 0 && text.size() - (b.negative ? 1 : 0) > max_digits) too_long();
  out += text;
}

bool dotted_identifier(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  char prev = '.';
  for (char c : s) {
    bool digit = c >= '0' && c <= '9';
    bool ok = digit || c == '_' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!ok || (prev == '.' && (digit || c == '.'))) return false;
    prev = c;
  }
  return true;
}

// `module.name` when both are dotted identifiers, else both as str reprs.
void append_global_name(std::string& out, const GlobalNode* g) {
  if (dotted_identifier(g->module) && dotted_identifier(g->name)) {
    out += g->module;
    out += '.';
    out += g->name;
  } else {
    append_str(out, g->module);
    out += ' ';
    append_str(out, g->name);
  }
}

std::string_view construction_name(Construction how) {
  switch (how) {
    case Construction::Reduce: return "REDUCE";
    case Construction::NewObj: return "NEWOBJ";
    case Construction::NewObjEx: return "NEWOBJ_EX";
    case Construction::Inst: return "INST";
    case Construction::Obj: return "OBJ";
  }
  return "?";
}

class Printer {
 public:
  explicit Printer(const ReprOptions& options) : options_(options) {}

  std::string run(const Slot& root) {
    visit(root);
    check_output();
    while (!stack_.empty()) {
      const Slot* child = next_child(stack_.back());
      if (child == nullptr) {
        Frame& done = stack_.back();
        out_ += done.close;
        active_.erase(done.node);
        stack_.pop_back();
      } else {
        visit(*child);
      }
      check_output();
    }
    return std::move(out_);
  }

 private:
  // One piece of an instance's or persistent ref's notation: text, then
  // (when slot is set) a value.
  struct Part {
    std::string text;
    const Slot* slot = nullptr;
  };

  // A container being printed. Seq walks `items`, Set and Dict walk
  // `entries` (skipping erased ones), Parts walks `parts`.
  struct Frame {
    enum class Shape : uint8_t { Seq, Set, Dict, Parts };
    Shape shape;
    const Node* node;
    const Slot* items = nullptr;
    const HashEntry* entries = nullptr;
    size_t size = 0;
    size_t pos = 0;
    bool started = false;     // Set, Dict: an element was written
    bool value_next = false;  // Dict: the key of entries[pos] was written
    const char* close = "";
    std::vector<Part> parts;
  };

  void check_output() const {
    if (out_.size() > options_.max_output)
      throw ReprError("repr output exceeds the limit of " + std::to_string(options_.max_output) + " bytes");
  }

  // Writes what comes before the next child (a separator) and returns it,
  // or returns nullptr when the frame has no more children.
  const Slot* next_child(Frame& f) {
    switch (f.shape) {
      case Frame::Shape::Seq:
        if (f.pos == f.size) return nullptr;
        if (f.pos > 0) out_ += ", ";
        return &f.items[f.pos++];
      case Frame::Shape::Set:
        while (f.pos < f.size && f.entries[f.pos].erased) ++f.pos;
        if (f.pos == f.size) return nullptr;
        if (f.started) out_ += ", ";
        f.started = true;
        return &f.entries[f.pos++].key;
      case Frame::Shape::Dict:
        if (f.value_next) {
          f.value_next = false;
          out_ += ": ";
          return &f.entries[f.pos++].value;
        }
        while (f.pos < f.size && f.entries[f.pos].erased) ++f.pos;
        if (f.pos == f.size) return nullptr;
        if (f.started) out_ += ", ";
        f.started = true;
        f.value_next = true;
        return &f.entries[f.pos].key;
      case Frame::Shape::Parts:
        while (f.pos < f.parts.size()) {
          Part& part = f.parts[f.pos++];
          out_ += part.text;
          if (part.slot != nullptr) return part.slot;
        }
        return nullptr;
    }
    return nullptr;
  }

  // Pushes a frame for `node` unless it is already being printed; then
  // writes the recursion marker instead.
  Frame* open(const Node* node, Frame::Shape shape, std::string_view opening, const char* close,
              std::string_view marker) {
    if (active_.count(node) != 0) {
      out_ += marker;
      return nullptr;
    }
    active_.insert(node);
    out_ += opening;
    Frame& f = stack_.emplace_back();
    f.shape = shape;
    f.node = node;
    f.close = close;
    return &f;
  }

  void open_hash(const HashNode* h, Frame::Shape shape, std::string_view opening, const char* close,
                 std::string_view marker) {
    if (Frame* f = open(h, shape, opening, close, marker)) {
      f->entries = h->table.entries.data();
      f->size = h->table.entries.size();
    }
  }

  // Every container counts toward the depth, empty ones included: a list
  // nested 100,000 deep is 100,000 deep.
  void check_depth() const {
    if (stack_.size() + 1 > options_.max_depth)
      throw ReprError("repr nesting exceeds the depth limit of " + std::to_string(options_.max_depth));
  }

  void visit(const Slot& s) {
    if (s.kind >= Kind::Tuple && s.kind != Kind::Global && s.kind != Kind::Buffer) check_depth();
    switch (s.kind) {
      case Kind::None: out_ += "None"; return;
      case Kind::Bool: out_ += s.b ? "True" : "False"; return;
      case Kind::Int:
        if (s.is_big) {
          append_big_int(out_, static_cast<const BigIntNode*>(s.node), options_.max_int_digits);
        } else {
          char buf[24];
          auto r = std::to_chars(buf, buf + sizeof buf, s.i);
          out_.append(buf, r.ptr);
        }
        return;
      case Kind::Float: append_float(out_, s.f, true, false); return;
      case Kind::Complex: {
        auto* c = static_cast<const ComplexNode*>(s.node);
        append_complex(out_, c->real, c->imag);
        return;
      }
      case Kind::Str: append_str(out_, static_cast<const TextNode*>(s.node)->data); return;
      case Kind::Bytes: append_bytes(out_, static_cast<const TextNode*>(s.node)->data); return;
      case Kind::ByteArray:
        out_ += "bytearray(";
        append_bytes(out_, static_cast<const ByteArrayNode*>(s.node)->data);
        out_ += ')';
        return;
      case Kind::Tuple: {
        auto* t = static_cast<const TupleNode*>(s.node);
        if (t->size == 0) {
          out_ += "()";
        } else if (Frame* f = open(t, Frame::Shape::Seq, "(", t->size == 1 ? ",)" : ")", "(...)")) {
          f->items = t->items;
          f->size = t->size;
        }
        return;
      }
      case Kind::List: {
        auto* l = static_cast<const ListNode*>(s.node);
        if (l->items.empty()) {
          out_ += "[]";
        } else if (Frame* f = open(l, Frame::Shape::Seq, "[", "]", "[...]")) {
          f->items = l->items.data();
          f->size = l->items.size();
        }
        return;
      }
      case Kind::Dict: {
        auto* h = static_cast<const HashNode*>(s.node);
        if (h->table.live == 0) {
          out_ += "{}";
        } else {
          open_hash(h, Frame::Shape::Dict, "{", "}", "{...}");
        }
        return;
      }
      case Kind::Set: {
        auto* h = static_cast<const HashNode*>(s.node);
        if (h->table.live == 0) {
          out_ += "set()";
        } else {
          open_hash(h, Frame::Shape::Set, "{", "}", "set(...)");
        }
        return;
      }
      case Kind::FrozenSet: {
        auto* h = static_cast<const HashNode*>(s.node);
        if (h->table.live == 0) {
          out_ += "frozenset()";
        } else {
          open_hash(h, Frame::Shape::Set, "frozenset({", "})", "frozenset(...)");
        }
        return;
      }
      case Kind::Global:
        out_ += "<global ";
        append_global_name(out_, static_cast<const GlobalNode*>(s.node));
        out_ += '>';
        return;
      case Kind::Instance: visit_instance(static_cast<const InstanceNode*>(s.node)); return;
      case Kind::PersistentRef: {
        auto* p = static_cast<const PersistentRefNode*>(s.node);
        if (Frame* f = open(p, Frame::Shape::Parts, "<persistent_ref ", ">", "<persistent_ref ...>"))
          f->parts.push_back(Part{"", &p->pid});
        return;
      }
      case Kind::Buffer: {
        auto* b = static_cast<const BufferNode*>(s.node);
        out_ += b->readonly ? "<PickleBuffer readonly " : "<PickleBuffer writable ";
        append_bytes(out_, b->data);
        out_ += '>';
        return;
      }
    }
    throw ReprError("repr: unknown value kind");
  }

  void visit_instance(const InstanceNode* inst) {
    std::string head = "<object ";
    const Slot* callable = nullptr;
    if (inst->callable.kind == Kind::Global) {
      append_global_name(head, static_cast<const GlobalNode*>(inst->callable.node));
    } else {
      callable = &inst->callable;
    }
    std::string marker = inst->callable.kind == Kind::Global ? head + " ...>" : "<object ...>";
    Frame* f = open(inst, Frame::Shape::Parts, "", ">", marker);
    if (f == nullptr) return;
    auto& parts = f->parts;
    parts.push_back(Part{std::move(head), callable});
    parts.push_back(Part{" " + std::string(construction_name(inst->how)), &inst->args});
    if (inst->how == Construction::NewObjEx) parts.push_back(Part{" kwargs=", &inst->kwargs});
    if (inst->has_state) parts.push_back(Part{" state=", &inst->state});
    if (!inst->list_items.empty()) {
      const char* sep = " items=[";
      for (const Slot& item : inst->list_items) {
        parts.push_back(Part{sep, &item});
        sep = ", ";
      }
      parts.push_back(Part{"]", nullptr});
    }
    if (!inst->dict_items.empty()) {
      const char* sep = " dictitems={";
      for (const auto& [key, value] : inst->dict_items) {
        parts.push_back(Part{sep, &key});
        parts.push_back(Part{": ", &value});
        sep = ", ";
      }
      parts.push_back(Part{"}", nullptr});
    }
  }

  const ReprOptions& options_;
  std::string out_;
  std::vector<Frame> stack_;
  std::unordered_set<const Node*> active_;
};

}  // namespace

std::string repr(const Value& value, const ReprOptions& options) {
  return Printer(options).run(internal::ValueAccess::slot(value));
}

bool is_plain_data(const Value& value) {
  std::vector<const Slot*> todo{&internal::ValueAccess::slot(value)};
  std::unordered_set<const Node*> seen;
  auto push_hash = [&](const Node* n, bool with_values) {
    for (const HashEntry& e : static_cast<const HashNode*>(n)->table.entries) {
      if (e.erased) continue;
      todo.push_back(&e.key);
      if (with_values) todo.push_back(&e.value);
    }
  };
  while (!todo.empty()) {
    const Slot* s = todo.back();
    todo.pop_back();
    switch (s->kind) {
      case Kind::Global:
      case Kind::Instance:
      case Kind::PersistentRef:
      case Kind::Buffer:
        return false;
      case Kind::Tuple:
      case Kind::List:
      case Kind::Dict:
      case Kind::Set:
      case Kind::FrozenSet:
        if (!seen.insert(s->node).second) break;
        if (s->kind == Kind::Tuple) {
          auto* t = static_cast<const TupleNode*>(s->node);
          for (uint32_t i = 0; i < t->size; ++i) todo.push_back(&t->items[i]);
        } else if (s->kind == Kind::List) {
          for (const Slot& item : static_cast<const ListNode*>(s->node)->items) todo.push_back(&item);
        } else {
          push_hash(s->node, s->kind == Kind::Dict);
        }
        break;
      default:
        break;
    }
  }
  return true;
}

}  // namespace shelf::pickle
