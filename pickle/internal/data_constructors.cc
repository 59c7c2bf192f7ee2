#include "pickle/internal/data_constructors.h"

#include <array>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "pickle/args.h"
#include "pickle/internal/bigint.h"
#include "pickle/internal/utf8.h"

namespace shelf::pickle::internal {
namespace {

struct CtorName {
  std::string_view module, name;
  DataCtor ctor;
};

constexpr std::array<CtorName, 15> kCtors = {{
    {"builtins", "bool", DataCtor::kBool},
    {"builtins", "bytearray", DataCtor::kByteArray},
    {"builtins", "bytes", DataCtor::kBytes},
    {"builtins", "complex", DataCtor::kComplex},
    {"builtins", "dict", DataCtor::kDict},
    {"builtins", "float", DataCtor::kFloat},
    {"builtins", "frozenset", DataCtor::kFrozenSet},
    {"builtins", "int", DataCtor::kInt},
    {"builtins", "list", DataCtor::kList},
    {"builtins", "set", DataCtor::kSet},
    {"builtins", "str", DataCtor::kStr},
    {"builtins", "tuple", DataCtor::kTuple},
    {"_codecs", "encode", DataCtor::kCodecsEncode},
    {"collections", "OrderedDict", DataCtor::kOrderedDict},
    {"copyreg", "_reconstructor", DataCtor::kReconstructor},
}};

constexpr size_t kSlotBytes = sizeof(Slot);
constexpr size_t kEntryBytes = sizeof(HashEntry) + 2 * sizeof(int32_t);

struct Args {
  const Slot* items = nullptr;
  size_t size = 0;
};

Args tuple_items(const Slot& s) {
  auto* t = static_cast<const TupleNode*>(s.node);
  return {t->items, t->size};
}

std::string_view text_of(const Slot& s) { return static_cast<const TextNode*>(s.node)->data; }

bool is_global(const Slot& s, std::string_view module, std::string_view name) {
  if (s.kind != Kind::Global) return false;
  auto* g = static_cast<const GlobalNode*>(s.node);
  return g->module == module && g->name == name;
}

class Builder {
 public:
  Builder(Arena& arena, size_t& charged, size_t room) : arena_(arena), charged_(charged), room_(room) {}

  // Bytes this call may still allocate.
  size_t room() const { return charged_ < room_ ? room_ - charged_ : 0; }

  Slot text(Kind kind, std::string_view data) {
    charged_ += sizeof(TextNode) + data.size();
    return node_slot(arena_.make<TextNode>(kind, arena_.copy_bytes(data)));
  }
  Slot bytearray(std::string_view data) {
    charged_ += sizeof(ByteArrayNode) + data.size();
    return node_slot(arena_.make<ByteArrayNode>(data));
  }
  Slot complex(double re, double im) {
    charged_ += sizeof(ComplexNode);
    return node_slot(arena_.make<ComplexNode>(re, im));
  }
  Slot list(const std::vector<Slot>& items) {
    charged_ += sizeof(ListNode) + items.size() * kSlotBytes;
    auto* l = arena_.make<ListNode>();
    l->items.assign(items.begin(), items.end());
    return node_slot(l);
  }
  Slot tuple(const std::vector<Slot>& items) {
    charged_ += sizeof(TupleNode) + items.size() * kSlotBytes;
    auto* mem = static_cast<Slot*>(arena_.allocate(items.size() * sizeof(Slot) + 1, alignof(Slot)));
    for (size_t i = 0; i < items.size(); ++i) new (mem + i) Slot(items[i]);
    return node_slot(arena_.make<TupleNode>(mem, static_cast<uint32_t>(items.size())));
  }
  Slot set(Kind kind, const std::vector<Slot>& items) {
    charged_ += sizeof(HashNode) + items.size() * kEntryBytes;
    auto* h = arena_.make<HashNode>(kind);
    h->table.reserve(items.size());
    for (const Slot& item : items) h->table.insert(item, key_hash(item), Slot());
    return node_slot(h);
  }
  Slot dict(const std::vector<std::pair<Slot, Slot>>& items) {
    charged_ += sizeof(HashNode) + items.size() * kEntryBytes;
    auto* h = arena_.make<HashNode>(Kind::Dict);
    h->table.reserve(items.size());
    for (const auto& [k, v] : items) h->table.insert(k, key_hash(k), v);
    return node_slot(h);
  }
  Slot integer(const BigInt& b) {
    if (b.fits_int64()) return int_slot(b.to_int64());
    std::string le = b.to_le();
    charged_ += sizeof(BigIntNode) + le.size();
    return node_slot(arena_.make<BigIntNode>(arena_.copy_bytes(le)));
  }

 private:
  Arena& arena_;
  size_t& charged_;
  size_t room_;
};

// The elements iter(x) yields for the containers whose iteration is plain
// data: list, tuple, set, frozenset, and a dict's keys.
std::optional<std::vector<Slot>> elements(const Slot& s) {
  std::vector<Slot> out;
  switch (s.kind) {
    case Kind::List: {
      const auto& items = static_cast<const ListNode*>(s.node)->items;
      out.assign(items.begin(), items.end());
      return out;
    }
    case Kind::Tuple: {
      Args t = tuple_items(s);
      out.assign(t.items, t.items + t.size);
      return out;
    }
    case Kind::Set:
    case Kind::FrozenSet:
    case Kind::Dict:
      for (const HashEntry& e : static_cast<const HashNode*>(s.node)->table.entries)
        if (!e.erased) out.push_back(e.key);
      return out;
    default: return std::nullopt;
  }
}

// dict(x): a dict's items, or an iterable of 2-item tuples/lists.
std::optional<std::vector<std::pair<Slot, Slot>>> pairs(const Slot& s) {
  std::vector<std::pair<Slot, Slot>> out;
  if (s.kind == Kind::Dict) {
    for (const HashEntry& e : static_cast<const HashNode*>(s.node)->table.entries)
      if (!e.erased) out.emplace_back(e.key, e.value);
    return out;
  }
  auto items = elements(s);
  if (!items) return std::nullopt;
  for (const Slot& item : *items) {
    auto pair = elements(item);
    if (!pair || pair->size() != 2 || (item.kind != Kind::Tuple && item.kind != Kind::List)) return std::nullopt;
    out.emplace_back((*pair)[0], (*pair)[1]);
  }
  return out;
}

std::optional<bool> truth(const Slot& s) {
  switch (s.kind) {
    case Kind::None: return false;
    case Kind::Bool: return s.b;
    case Kind::Int: return s.is_big || s.i != 0;
    case Kind::Float: return s.f != 0.0;
    case Kind::Complex: {
      auto* c = static_cast<const ComplexNode*>(s.node);
      return c->real != 0.0 || c->imag != 0.0;
    }
    case Kind::Str:
    case Kind::Bytes: return !text_of(s).empty();
    case Kind::ByteArray: return !static_cast<const ByteArrayNode*>(s.node)->data.empty();
    case Kind::Tuple: return tuple_items(s).size != 0;
    case Kind::List: return !static_cast<const ListNode*>(s.node)->items.empty();
    case Kind::Dict:
    case Kind::Set:
    case Kind::FrozenSet: return static_cast<const HashNode*>(s.node)->table.live != 0;
    default: return std::nullopt;
  }
}

// A real number as complex() and float() take it.
std::optional<double> real_of(const Slot& s) {
  switch (s.kind) {
    case Kind::Bool: return s.b ? 1.0 : 0.0;
    case Kind::Int: {
      if (!s.is_big) return static_cast<double>(s.i);
      double d = BigInt::from_le(static_cast<const BigIntNode*>(s.node)->bytes).to_double();
      if (std::isinf(d)) return std::nullopt;  // Python: OverflowError
      return d;
    }
    case Kind::Float: return s.f;
    default: return std::nullopt;
  }
}

// Encodes the UTF-8 `text` as `encoding` would ('latin-1' and its aliases,
// 'ascii', 'utf-8'); nullopt for another encoding or a character it
// cannot encode.
std::optional<std::string> encode(std::string_view text, std::string_view encoding) {
  std::string enc;
  for (char c : encoding) enc += (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : (c == '_' ? '-' : c);
  uint32_t max;
  if (enc == "latin-1" || enc == "latin1" || enc == "iso-8859-1" || enc == "iso8859-1" || enc == "l1") {
    max = 0xFF;
  } else if (enc == "ascii" || enc == "us-ascii") {
    max = 0x7F;
  } else if (enc == "utf-8" || enc == "utf8") {
    for (size_t i = 0; i < text.size();) {
      int32_t cp = utf8_next(text, i);
      if (cp < 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;  // surrogates not allowed
    }
    return std::string(text);
  } else {
    return std::nullopt;
  }
  // `text` is a str's UTF-8, valid by construction.
  if (max == 0x7F) {
    if (!is_ascii(text)) return std::nullopt;
    return std::string(text);
  }
  std::string out(text.size(), '\0');
  size_t length = utf8_to_latin1(text, out.data());
  if (length == SIZE_MAX) return std::nullopt;
  out.resize(length);
  return out;
}

// bytes(...) and bytearray(...): (), a bytes-like, or (str, encoding).
std::optional<std::string> byte_payload(Args a) {
  if (a.size == 0) return std::string();
  if (a.size == 1 && (a.items[0].kind == Kind::Bytes)) return std::string(text_of(a.items[0]));
  if (a.size == 1 && a.items[0].kind == Kind::ByteArray)
    return static_cast<const ByteArrayNode*>(a.items[0].node)->data;
  if ((a.size == 2 || a.size == 3) && a.items[0].kind == Kind::Str && a.items[1].kind == Kind::Str) {
    if (a.size == 3 && (a.items[2].kind != Kind::Str || text_of(a.items[2]) != "strict")) return std::nullopt;
    return encode(text_of(a.items[0]), text_of(a.items[1]));
  }
  return std::nullopt;
}

bool is_type_ctor(DataCtor c) {
  return c != DataCtor::kNone && c != DataCtor::kCodecsEncode && c != DataCtor::kReconstructor;
}

bool mutable_type(DataCtor c) {
  return c == DataCtor::kList || c == DataCtor::kDict || c == DataCtor::kSet || c == DataCtor::kByteArray ||
         c == DataCtor::kOrderedDict;
}

std::optional<Slot> call(Builder& b, const CtorMap& ctors, DataCtor ctor, Args a) {
  switch (ctor) {
    case DataCtor::kNone: return std::nullopt;
    case DataCtor::kBool: {
      if (a.size == 0) return bool_slot(false);
      if (a.size != 1) return std::nullopt;
      auto t = truth(a.items[0]);
      if (!t) return std::nullopt;
      return bool_slot(*t);
    }
    case DataCtor::kByteArray:
    case DataCtor::kBytes: {
      if (a.size == 1 && (a.items[0].kind == Kind::Int || a.items[0].kind == Kind::Bool)) {
        // bytes(n): n zero bytes. A few input bytes may ask for terabytes:
        // the size is checked against what the load may still allocate.
        const Slot& n = a.items[0];
        if (n.kind == Kind::Int && (n.is_big || n.i < 0)) {
          if (!n.is_big || (static_cast<const BigIntNode*>(n.node)->bytes.back() & 0x80))
            fail(UnpicklingReason::kBadValue, "negative count");
          fail(UnpicklingReason::kLimitExceeded, "bytes(n) larger than the memory limit");
        }
        auto size = static_cast<uint64_t>(n.kind == Kind::Bool ? (n.b ? 1 : 0) : n.i);
        if (size > b.room()) fail(UnpicklingReason::kLimitExceeded, "bytes(n) larger than the memory limit");
        std::string zeros(static_cast<size_t>(size), '\0');
        if (ctor == DataCtor::kBytes) return b.text(Kind::Bytes, zeros);
        return b.bytearray(zeros);
      }
      auto data = byte_payload(a);
      if (!data) return std::nullopt;
      if (ctor == DataCtor::kBytes) return b.text(Kind::Bytes, *data);
      return b.bytearray(*data);
    }
    case DataCtor::kComplex: {
      if (a.size > 2) return std::nullopt;
      double parts[2][2] = {{0, 0}, {0, 0}};  // (real, imag) of each argument
      bool is_complex[2] = {false, false};
      for (size_t i = 0; i < a.size; ++i) {
        if (a.items[i].kind == Kind::Complex) {
          auto* c = static_cast<const ComplexNode*>(a.items[i].node);
          parts[i][0] = c->real;
          parts[i][1] = c->imag;
          is_complex[i] = true;
        } else {
          auto r = real_of(a.items[i]);
          if (!r) return std::nullopt;
          parts[i][0] = *r;
        }
      }
      // complex(a, b) == a + b*1j, but as complex_new computes it: imaginary
      // parts are only added when an argument is complex, so complex(0.0,
      // -0.0) keeps its -0.0 (0.0 + -0.0 would be +0.0).
      double real = parts[0][0], imag = parts[1][0];
      if (is_complex[1]) real -= parts[1][1];
      if (is_complex[0]) imag += parts[0][1];
      return b.complex(real, imag);
    }
    case DataCtor::kDict:
    case DataCtor::kOrderedDict: {
      if (a.size == 0) return b.dict({});
      if (a.size != 1) return std::nullopt;
      auto p = pairs(a.items[0]);
      if (!p) return std::nullopt;
      return b.dict(*p);
    }
    case DataCtor::kFloat: {
      if (a.size == 0) return float_slot(0.0);
      if (a.size != 1) return std::nullopt;
      if (a.items[0].kind == Kind::Str) {
        double d;
        if (!parse_float(text_of(a.items[0]), d)) return std::nullopt;
        return float_slot(d);
      }
      auto r = real_of(a.items[0]);
      if (!r) return std::nullopt;
      return float_slot(*r);
    }
    case DataCtor::kFrozenSet:
    case DataCtor::kSet: {
      Kind kind = ctor == DataCtor::kSet ? Kind::Set : Kind::FrozenSet;
      if (a.size == 0) return b.set(kind, {});
      if (a.size != 1) return std::nullopt;
      auto items = elements(a.items[0]);
      if (!items) return std::nullopt;
      return b.set(kind, *items);
    }
    case DataCtor::kInt: {
      if (a.size == 0) return int_slot(0);
      if (a.size != 1) return std::nullopt;
      const Slot& x = a.items[0];
      if (x.kind == Kind::Int) return x;
      if (x.kind == Kind::Bool) return int_slot(x.b ? 1 : 0);
      if (x.kind == Kind::Float) {
        if (!std::isfinite(x.f)) return std::nullopt;
        return b.integer(BigInt::from_double(std::trunc(x.f)));
      }
      if (x.kind == Kind::Str) {
        std::string scratch;
        try {
          DecimalArg d = parse_decimal(text_of(x), scratch, 4300);
          if (d.fits) return int_slot(d.value);
          auto big = BigInt::from_digits(d.digits, 10);
          if (!big) return std::nullopt;
          big->negative = d.negative;
          return b.integer(*big);
        } catch (const DecodeFailure&) {
          return std::nullopt;
        }
      }
      return std::nullopt;
    }
    case DataCtor::kList:
    case DataCtor::kTuple: {
      std::vector<Slot> items;
      if (a.size == 1) {
        if (ctor == DataCtor::kTuple && a.items[0].kind == Kind::Tuple) return a.items[0];
        auto e = elements(a.items[0]);
        if (!e) return std::nullopt;
        items = std::move(*e);
      } else if (a.size != 0) {
        return std::nullopt;
      }
      return ctor == DataCtor::kList ? b.list(items) : b.tuple(items);
    }
    case DataCtor::kStr: {
      if (a.size == 0) return b.text(Kind::Str, "");
      if (a.size == 1 && a.items[0].kind == Kind::Str) return a.items[0];
      return std::nullopt;
    }
    case DataCtor::kCodecsEncode: {
      if (a.size == 0 || a.size > 3 || a.items[0].kind != Kind::Str) return std::nullopt;
      std::optional<std::string> data;
      if (a.size == 1) {
        data = encode(text_of(a.items[0]), "utf-8");
      } else {
        data = byte_payload(a);
      }
      if (!data) return std::nullopt;
      return b.text(Kind::Bytes, *data);
    }
    case DataCtor::kReconstructor: {
      // copyreg._reconstructor(cls, base, state): object.__new__(cls) when
      // base is object (state None), else base.__new__(cls, state).
      if (a.size != 3 || a.items[0].kind != Kind::Global) return std::nullopt;
      auto it = ctors.find(a.items[0].node);
      if (it == ctors.end() || !is_type_ctor(it->second)) return std::nullopt;
      if (is_global(a.items[1], "builtins", "object") && a.items[2].kind == Kind::None)
        return call(b, ctors, it->second, Args{});
      if (a.items[1].kind == Kind::Global && a.items[1].node != nullptr) {
        auto base = ctors.find(a.items[1].node);
        if (base != ctors.end() && base->second == it->second) return call(b, ctors, it->second, Args{&a.items[2], 1});
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

DataCtor data_ctor(std::string_view module, std::string_view name) {
  for (const CtorName& c : kCtors)
    if (c.module == module && c.name == name) return c.ctor;
  return DataCtor::kNone;
}

uint64_t key_hash(const Slot& key) {
  auto h = slot_hash(key);
  if (!h) fail(UnpicklingReason::kBadValue, "unhashable type: '" + std::string(kind_name(key.kind)) + "'");
  return *h;
}

std::optional<Slot> build_native(Arena& arena, const CtorMap& ctors, DataCtor ctor, Construction how,
                                 const Slot& args, const Slot& kwargs, size_t& charged, size_t room) {
  if (args.kind != Kind::Tuple) return std::nullopt;
  if (kwargs.kind == Kind::Dict && static_cast<const HashNode*>(kwargs.node)->table.live != 0) return std::nullopt;
  if (kwargs.kind != Kind::Dict && kwargs.kind != Kind::None) return std::nullopt;
  Builder b(arena, charged, room);
  if (how == Construction::NewObj || how == Construction::NewObjEx) {
    // cls.__new__(cls, *args): only types have one; mutable types come out
    // empty (their __init__, which NEWOBJ does not call, fills them).
    if (!is_type_ctor(ctor)) return std::nullopt;
    if (mutable_type(ctor)) return call(b, ctors, ctor, Args{});
  }
  return call(b, ctors, ctor, tuple_items(args));
}

}  // namespace shelf::pickle::internal
