// The Pickler: values to pickle bytes, byte-identical to CPython 3.11's C
// pickler (Modules/_pickle.c) for built-in values. The save order is
// pickle.py's: persistent_id, then the memo, then one encoder per kind.
// docs/format.md gives the encodings per protocol.
//
// Two kinds of object reach the encoders: nodes of the value graph, and the
// helper objects CPython would create on the way (the args tuple of
// complex's reduce, the list inside set's reduce at protocols < 4, the
// 'builtins' and 'complex' names of a STACK_GLOBAL...). Helpers are written
// exactly as CPython writes them, memo entries included, but they have no
// node: the persistent_id hook is only asked about graph values.
//
// CPython shares some objects by value that the graph keeps apart, and its
// memo then emits a GET where identity alone would not: the empty str and
// bytes, single-character str below U+0100 and single-byte bytes are
// singletons, a class is one object however many GLOBALs named it, and a
// module's name is one interned string. The memo keys those by value.
#include "pickle/pickler.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "pickle/internal/bigint.h"
#include "pickle/internal/compat_names.h"
#include "pickle/internal/memo_table.h"
#include "pickle/internal/nodes.h"
#include "pickle/internal/pickle_output.h"
#include "pickle/internal/pickle_text.h"
#include "pickle/opcodes.h"
#include "pickle/repr.h"

namespace shelf::pickle {

using internal::BigIntNode;
using internal::BufferNode;
using internal::ComplexNode;
using internal::GlobalNode;
using internal::HashNode;
using internal::InstanceNode;
using internal::ListNode;
using internal::MemoTable;
using internal::Node;
using internal::PersistentRefNode;
using internal::PickleOutput;
using internal::Slot;
using internal::TextNode;
using internal::TupleNode;
using internal::ValueAccess;

namespace {

constexpr size_t kBatchSize = 1000;  // pickle._BATCHSIZE
constexpr uint32_t kMissing = MemoTable::kMissing;

constexpr char op(Op o) { return static_cast<char>(o); }

void put_le(char* dst, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}

[[noreturn]] void fail(const std::string& message) { throw PicklingError(message); }

// Index into the singleton memo: str of one code point < 256 at [0, 256),
// the empty str at 256, bytes of one byte at [257, 513), b'' at 513.
constexpr size_t kEmptyStr = 256;
constexpr size_t kBytes1 = 257;
constexpr size_t kEmptyBytes = 513;
constexpr size_t kSingletons = 514;
constexpr size_t kNotSingleton = SIZE_MAX;

size_t str_singleton(std::string_view utf8) {
  if (utf8.empty()) return kEmptyStr;
  auto b0 = static_cast<unsigned char>(utf8[0]);
  if (utf8.size() == 1) return b0;
  if (utf8.size() == 2 && (b0 == 0xC2 || b0 == 0xC3)) {
    return (b0 & 0x1F) << 6 | (static_cast<unsigned char>(utf8[1]) & 0x3F);
  }
  return kNotSingleton;
}

size_t bytes_singleton(std::string_view data) {
  if (data.empty()) return kEmptyBytes;
  if (data.size() == 1) return kBytes1 + static_cast<unsigned char>(data[0]);
  return kNotSingleton;
}

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

}  // namespace

class Pickler::Impl {
 public:
  Impl(Sink& sink, const PicklerOptions& options)
      : options_(options),
        proto_(options.protocol < 0 ? kHighestProtocol : options.protocol),
        bin_(proto_ >= 1),
        out_(sink) {
    singletons_.fill(kMissing);
  }

  int protocol() const { return proto_; }

  void dump(const Value& value) {
    uint32_t memo_mark = memo_count_;
    size_t alive_mark = alive_.size();
    try {
      keep_alive(ValueAccess::arena(value));
      arena_ = ValueAccess::arena(value);
      depth_ = 0;
      if (proto_ >= 2) {
        out_.put2(op(Op::PROTO), static_cast<char>(proto_));
        if (proto_ >= 4) out_.start_framing();
      }
      Slot root = ValueAccess::slot(value);
      save(root, false);
      out_.put(op(Op::STOP));
      out_.finish();
    } catch (...) {
      // Forget what this dump memoized: its PUTs never reached a reader
      // whole, so a later dump must not refer to them.
      out_.reset();
      rollback(memo_mark);
      alive_.resize(alive_mark);
      depth_ = 0;
      throw;
    }
  }

  void clear_memo() {
    memo_.clear();
    singletons_.fill(kMissing);
    named_.clear();
    memo_count_ = 0;
    alive_.clear();
  }

 private:
  // Entering a container: nesting beyond max_depth is an error, as
  // CPython's RecursionError, never a stack overflow.
  class DepthGuard {
   public:
    explicit DepthGuard(Impl& impl) : impl_(impl) {
      if (++impl_.depth_ > impl_.options_.max_depth) {
        --impl_.depth_;
        fail("maximum nesting depth (" + std::to_string(impl_.options_.max_depth) +
             ") exceeded while pickling an object");
      }
    }
    ~DepthGuard() { --impl_.depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;

   private:
    Impl& impl_;
  };

  // --- memo ----------------------------------------------------------------

  void keep_alive(internal::Arena* arena) {
    if (arena == nullptr) return;
    for (const Graph& g : alive_)
      if (ValueAccess::arena(g) == arena) return;
    alive_.push_back(ValueAccess::graph(arena));
  }

  static std::string global_key(std::string_view module, std::string_view name) {
    std::string key;
    key.reserve(module.size() + name.size() + 2);
    key += 'g';
    key += module;
    key += '\0';
    key += name;
    return key;
  }

  // The memo index of a graph node, or kMissing. Scalars are never in it.
  uint32_t lookup(const Slot& s) const {
    switch (s.kind) {
      case Kind::Str: {
        size_t i = str_singleton(static_cast<const TextNode*>(s.node)->data);
        if (i != kNotSingleton) return singletons_[i];
        break;
      }
      case Kind::Bytes: {
        size_t i = bytes_singleton(static_cast<const TextNode*>(s.node)->data);
        if (i != kNotSingleton) return singletons_[i];
        break;
      }
      case Kind::Global: {
        auto* g = static_cast<const GlobalNode*>(s.node);
        auto it = named_.find(global_key(g->module, g->name));
        return it == named_.end() ? kMissing : it->second;
      }
      default:
        break;
    }
    return memo_.find(s.node);
  }

  void memoize(const Slot& s) {
    uint32_t index = next_memo_index();
    switch (s.kind) {
      case Kind::Str: {
        size_t i = str_singleton(static_cast<const TextNode*>(s.node)->data);
        if (i != kNotSingleton) {
          singletons_[i] = index;
          return emit_put(index);
        }
        break;
      }
      case Kind::Bytes: {
        size_t i = bytes_singleton(static_cast<const TextNode*>(s.node)->data);
        if (i != kNotSingleton) {
          singletons_[i] = index;
          return emit_put(index);
        }
        break;
      }
      case Kind::Global: {
        auto* g = static_cast<const GlobalNode*>(s.node);
        named_.emplace(global_key(g->module, g->name), index);
        return emit_put(index);
      }
      default:
        break;
    }
    memo_.insert(s.node, index);
    emit_put(index);
  }

  // A helper object nobody else can refer to still takes a memo slot, as
  // it does in CPython.
  void memoize_fresh() { emit_put(next_memo_index()); }

  uint32_t next_memo_index() {
    if (memo_count_ == kMissing) fail("memo too large");
    return memo_count_++;
  }

  void emit_put(uint32_t index) {
    if (proto_ >= 4) {
      out_.put(op(Op::MEMOIZE));
    } else if (!bin_) {
      emit_decimal_line(op(Op::PUT), index);
    } else if (index < 256) {
      out_.put2(op(Op::BINPUT), static_cast<char>(index));
    } else {
      char* p = out_.room(5);
      p[0] = op(Op::LONG_BINPUT);
      put_le(p + 1, index, 4);
      out_.advance(5);
    }
  }

  void emit_get(uint32_t index) {
    if (!bin_) {
      emit_decimal_line(op(Op::GET), index);
    } else if (index < 256) {
      out_.put2(op(Op::BINGET), static_cast<char>(index));
    } else {
      char* p = out_.room(5);
      p[0] = op(Op::LONG_BINGET);
      put_le(p + 1, index, 4);
      out_.advance(5);
    }
  }

  void emit_decimal_line(char opcode, int64_t v) {
    char* p = out_.room(24);
    p[0] = opcode;
    auto res = std::to_chars(p + 1, p + 23, v);
    *res.ptr = '\n';
    out_.advance(static_cast<size_t>(res.ptr + 1 - p));
  }

  void rollback(uint32_t first) {
    if (memo_count_ == first) return;
    memo_.truncate(first);
    for (uint32_t& i : singletons_)
      if (i != kMissing && i >= first) i = kMissing;
    std::erase_if(named_, [first](const auto& kv) { return kv.second >= first; });
    memo_count_ = first;
  }

  // --- the dispatcher ----------------------------------------------------

  void save(const Slot& s, bool pers_save) {
    out_.opcode_boundary();
    if (options_.persistent_id && !pers_save && ask_persistent_id(s)) return;
    switch (s.kind) {
      case Kind::None:
        return out_.put(op(Op::NONE));
      case Kind::Bool:
        return save_bool(s.b);
      case Kind::Int:
        if (!s.is_big) return save_int(s.i);
        return save_bigint(static_cast<const BigIntNode*>(s.node)->bytes);
      case Kind::Float:
        return save_float(s.f);
      default:
        break;
    }
    uint32_t index = lookup(s);
    if (index != kMissing) return emit_get(index);
    switch (s.kind) {
      case Kind::Str:
        save_str_data(static_cast<const TextNode*>(s.node)->data);
        return memoize(s);
      case Kind::Bytes:
        return save_bytes(static_cast<const TextNode*>(s.node)->data, &s);
      case Kind::Tuple:
        return save_tuple(s);
      case Kind::List:
        return save_list(s);
      case Kind::Dict:
        return save_dict(s);
      case Kind::Set:
        return save_set(s);
      case Kind::FrozenSet:
        return save_frozenset(s);
      case Kind::Complex:
        return save_complex(s);
      case Kind::ByteArray:
        return save_bytearray(s);
      case Kind::Global: {
        auto* g = static_cast<const GlobalNode*>(s.node);
        return save_global_named(g->module, g->name);
      }
      case Kind::Instance:
        return save_instance(s);
      case Kind::PersistentRef: {
        DepthGuard guard(*this);
        return save_pers(static_cast<const PersistentRefNode*>(s.node)->pid, arena_);
      }
      case Kind::Buffer:
        return save_buffer(s);
      default:
        fail("cannot pickle a value of kind " + std::string(kind_name(s.kind)));
    }
  }

  // --- persistent ids ------------------------------------------------------

  bool ask_persistent_id(const Slot& s) {
    std::optional<Value> pid;
    try {
      pid = options_.persistent_id(ValueAccess::make(arena_, s));
    } catch (const PickleError&) {
      throw;
    } catch (const std::exception& e) {
      fail(std::string("persistent_id hook failed: ") + e.what());
    }
    if (!pid) return false;
    DepthGuard guard(*this);
    save_pers(ValueAccess::slot(*pid), ValueAccess::arena(*pid), &*pid);
    return true;
  }

  // pickle.py's save_pers: the pid itself is pickled without asking the
  // hook again (its parts are asked, as in CPython).
  void save_pers(const Slot& pid, internal::Arena* pid_arena, const Value* holder = nullptr) {
    if (bin_) {
      internal::Arena* saved = arena_;
      if (pid_arena != nullptr) {
        keep_alive(pid_arena);
        arena_ = pid_arena;
      }
      save(pid, true);
      arena_ = saved;
      out_.put(op(Op::BINPERSID));
      return;
    }
    std::string text = persistent_id_text(pid, pid_arena, holder);
    if (!is_ascii(text)) fail("persistent IDs in protocol 0 must be ASCII strings");
    if (text.find('\n') != std::string::npos) fail("persistent IDs in protocol 0 must not contain a newline");
    out_.put(op(Op::PERSID));
    out_.put(text);
    out_.put('\n');
  }

  // str(pid), as CPython's save_pers writes it at protocol 0.
  static std::string persistent_id_text(const Slot& pid, internal::Arena* arena, const Value* holder) {
    switch (pid.kind) {
      case Kind::Str:
        return std::string(static_cast<const TextNode*>(pid.node)->data);
      case Kind::Int:
        if (!pid.is_big) return std::to_string(pid.i);
        return internal::BigInt::from_le(static_cast<const BigIntNode*>(pid.node)->bytes).to_decimal();
      case Kind::Bool:
        return pid.b ? "True" : "False";
      case Kind::None:
        return "None";
      case Kind::Float:
        return internal::python_float_repr(pid.f);
      default:
        return repr(holder != nullptr ? *holder : ValueAccess::make(arena, pid));
    }
  }

  // --- scalars -------------------------------------------------------------

  void save_bool(bool b) {
    if (proto_ >= 2) {
      out_.put(op(b ? Op::NEWTRUE : Op::NEWFALSE));
    } else {
      char* p = out_.room(4);
      p[0] = op(Op::INT);
      p[1] = '0';
      p[2] = b ? '1' : '0';
      p[3] = '\n';
      out_.advance(4);
    }
  }

  void save_int(int64_t v) {
    if (v >= INT32_MIN && v <= INT32_MAX) {
      if (!bin_) return emit_decimal_line(op(Op::INT), v);
      if (v >= 0 && v <= 0xFF) return out_.put2(op(Op::BININT1), static_cast<char>(v));
      char* p = out_.room(5);
      if (v >= 0 && v <= 0xFFFF) {
        p[0] = op(Op::BININT2);
        put_le(p + 1, static_cast<uint64_t>(v), 2);
        return out_.advance(3);
      }
      p[0] = op(Op::BININT);
      put_le(p + 1, static_cast<uint64_t>(v), 4);
      return out_.advance(5);
    }
    if (proto_ >= 2) {
      char* p = out_.room(10);
      int n = internal::encode_long(v, p + 2);
      p[0] = op(Op::LONG1);
      p[1] = static_cast<char>(n);
      return out_.advance(2 + static_cast<size_t>(n));
    }
    char* p = out_.room(24);
    p[0] = op(Op::LONG);
    auto res = std::to_chars(p + 1, p + 22, v);
    res.ptr[0] = 'L';
    res.ptr[1] = '\n';
    out_.advance(static_cast<size_t>(res.ptr + 2 - p));
  }

  void save_bigint(std::string_view le) {
    if (proto_ >= 2) {
      char header[5];
      size_t n = le.size();
      if (n < 256) {
        header[0] = op(Op::LONG1);
        header[1] = static_cast<char>(n);
        out_.put(header, 2);
      } else {
        if (n > INT32_MAX) fail("int too large to pickle");
        header[0] = op(Op::LONG4);
        put_le(header + 1, n, 4);
        out_.put(header, 5);
      }
      return out_.put(le);
    }
    std::string text = internal::BigInt::from_le(le).to_decimal();
    out_.put(op(Op::LONG));
    out_.put(text);
    out_.put2('L', '\n');
  }

  void save_float(double d) {
    if (!bin_) {
      std::string text = internal::python_float_repr(d);
      out_.put(op(Op::FLOAT));
      out_.put(text);
      return out_.put('\n');
    }
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    char* p = out_.room(9);
    p[0] = op(Op::BINFLOAT);
    for (int i = 0; i < 8; ++i) p[1 + i] = static_cast<char>(bits >> (56 - 8 * i));
    out_.advance(9);
  }

  // --- str and bytes -------------------------------------------------------

  // The opcodes of a str, without its memo entry (_pickle.c save_unicode).
  void save_str_data(std::string_view utf8) {
    if (!bin_) {
      std::string text;
      text.reserve(utf8.size() + 2);
      text += op(Op::UNICODE);
      internal::append_raw_unicode_escape(text, utf8);
      text += '\n';
      return out_.put(text);
    }
    char header[9];
    size_t n = utf8.size();
    if (n <= 0xFF && proto_ >= 4) {
      header[0] = op(Op::SHORT_BINUNICODE);
      header[1] = static_cast<char>(n);
      return out_.put_with_payload(header, 2, utf8);
    }
    if (n <= 0xFFFFFFFFu) {
      header[0] = op(Op::BINUNICODE);
      put_le(header + 1, n, 4);
      return out_.put_with_payload(header, 5, utf8);
    }
    if (proto_ < 4) fail("serializing a string larger than 4 GiB requires pickle protocol 4 or higher");
    header[0] = op(Op::BINUNICODE8);
    put_le(header + 1, n, 8);
    out_.put_with_payload(header, 9, utf8);
  }

  // A str CPython creates on the way (the latin-1 text inside bytes' reduce
  // at protocols < 3): a fresh object, unless it is a singleton.
  void save_helper_str(std::string_view utf8) {
    out_.opcode_boundary();
    size_t i = str_singleton(utf8);
    if (i != kNotSingleton && singletons_[i] != kMissing) return emit_get(singletons_[i]);
    save_str_data(utf8);
    if (i != kNotSingleton) {
      singletons_[i] = next_memo_index();
      return emit_put(singletons_[i]);
    }
    memoize_fresh();
  }

  // An interned identifier (a module name, 'latin1'): one object per text.
  void save_interned_str(std::string_view utf8) {
    out_.opcode_boundary();
    if (str_singleton(utf8) != kNotSingleton) return save_helper_str(utf8);
    std::string key = "s";
    key += utf8;
    auto it = named_.find(key);
    if (it != named_.end()) return emit_get(it->second);
    save_str_data(utf8);
    uint32_t index = next_memo_index();
    named_.emplace(std::move(key), index);
    emit_put(index);
  }

  // Bytes: a graph node (`obj`), or a helper object (nullptr): the bytes
  // inside bytearray's reduce, which CPython copies into a fresh object
  // that is never one of the singletons. REQUIRES: obj not in the memo.
  void save_bytes(std::string_view data, const Slot* obj) {
    size_t single = obj != nullptr ? bytes_singleton(data) : kNotSingleton;
    if (proto_ < 3 && options_.python2_str) {
      save_python2_str(data);
    } else if (proto_ < 3) {
      // CPython 3 writes bytes as _codecs.encode(text, 'latin1') (or
      // bytes() for b''), which Python 2 also loads, as str.
      if (data.empty()) {
        save_global_named("builtins", "bytes");
        save_empty_tuple();
      } else {
        save_global_named("_codecs", "encode");
        std::string text = internal::latin1_to_utf8(data);
        save_helper_tuple(2, [&] {
          save_helper_str(text);
          save_interned_str("latin1");
        });
      }
      return finish_reduce(obj, single);
    } else {
      save_bytes_data(data);
    }
    memoize_bytes(obj, single);
  }

  void memoize_bytes(const Slot* obj, size_t single) {
    if (obj != nullptr) return memoize(*obj);
    if (single != kNotSingleton) {
      singletons_[single] = next_memo_index();
      return emit_put(singletons_[single]);
    }
    memoize_fresh();
  }

  void save_bytes_data(std::string_view data) {
    char header[9];
    size_t n = data.size();
    if (n <= 0xFF) {
      header[0] = op(Op::SHORT_BINBYTES);
      header[1] = static_cast<char>(n);
      return out_.put_with_payload(header, 2, data);
    }
    if (n <= 0xFFFFFFFFu) {
      header[0] = op(Op::BINBYTES);
      put_le(header + 1, n, 4);
      return out_.put_with_payload(header, 5, data);
    }
    if (proto_ < 4) fail("serializing a bytes object larger than 4 GiB requires pickle protocol 4 or higher");
    header[0] = op(Op::BINBYTES8);
    put_le(header + 1, n, 8);
    out_.put_with_payload(header, 9, data);
  }

  // Python 2's save_string: STRING with Python 2's repr at protocol 0,
  // SHORT_BINSTRING / BINSTRING otherwise.
  void save_python2_str(std::string_view data) {
    if (!bin_) {
      out_.put(op(Op::STRING));
      out_.put(internal::python2_str_repr(data));
      return out_.put('\n');
    }
    char header[5];
    if (data.size() < 256) {
      header[0] = op(Op::SHORT_BINSTRING);
      header[1] = static_cast<char>(data.size());
      return out_.put_with_payload(header, 2, data);
    }
    if (data.size() > INT32_MAX) fail("a str larger than 2 GiB cannot be pickled for Python 2");
    header[0] = op(Op::BINSTRING);
    put_le(header + 1, data.size(), 4);
    out_.put_with_payload(header, 5, data);
  }

  void save_bytearray(const Slot& s) {
    auto* node = static_cast<const internal::ByteArrayNode*>(s.node);
    std::string_view data = node->data;
    if (proto_ >= 5) {
      save_bytearray_data(data);
      return memoize(s);
    }
    DepthGuard guard(*this);
    save_global_named("builtins", "bytearray");
    if (data.empty()) {
      save_empty_tuple();
    } else {
      std::string copy(data);  // the bytes object CPython makes from it
      save_helper_tuple(1, [&] {
        out_.opcode_boundary();
        save_bytes(copy, nullptr);
      });
    }
    finish_reduce(&s);
  }

  void save_bytearray_data(std::string_view data) {
    char header[9];
    header[0] = op(Op::BYTEARRAY8);
    put_le(header + 1, data.size(), 8);
    out_.put_with_payload(header, 9, data);
  }

  void save_buffer(const Slot& s) {
    auto* node = static_cast<const BufferNode*>(s.node);
    if (proto_ < 5) fail("PickleBuffer can only be pickled with protocol >= 5");
    bool in_band = true;
    if (options_.buffer_callback) {
      try {
        in_band = options_.buffer_callback(ValueAccess::make(arena_, s));
      } catch (const PickleError&) {
        throw;
      } catch (const std::exception& e) {
        fail(std::string("buffer_callback failed: ") + e.what());
      }
    }
    if (in_band) {
      if (node->readonly) {
        save_bytes_data(node->data);
      } else {
        save_bytearray_data(node->data);
      }
      return memoize(s);
    }
    out_.put(op(Op::NEXT_BUFFER));
    if (node->readonly) out_.put(op(Op::READONLY_BUFFER));
  }

  // --- tuples --------------------------------------------------------------

  void save_empty_tuple() {
    out_.opcode_boundary();
    if (bin_) return out_.put(op(Op::EMPTY_TUPLE));
    out_.put2(op(Op::MARK), op(Op::TUPLE));
  }

  static constexpr std::array<Op, 4> kTupleOps = {Op::EMPTY_TUPLE, Op::TUPLE1, Op::TUPLE2, Op::TUPLE3};

  // _pickle.c save_tuple, including the recursive case: if saving the
  // items memoized the tuple (through a list or instance that contains it),
  // the items are popped and the tuple fetched from the memo.
  void save_tuple(const Slot& s) {
    auto* node = static_cast<const TupleNode*>(s.node);
    uint32_t n = node->size;
    if (n == 0) {
      if (bin_) return out_.put(op(Op::EMPTY_TUPLE));
      return out_.put2(op(Op::MARK), op(Op::TUPLE));
    }
    DepthGuard guard(*this);
    if (n <= 3 && proto_ >= 2) {
      for (uint32_t i = 0; i < n; ++i) save(node->items[i], false);
      uint32_t index = memo_.find(node);
      if (index != kMissing) {
        for (uint32_t i = 0; i < n; ++i) out_.put(op(Op::POP));
        return emit_get(index);
      }
      out_.put(op(kTupleOps[n]));
      return memoize(s);
    }
    out_.put(op(Op::MARK));
    for (uint32_t i = 0; i < n; ++i) save(node->items[i], false);
    uint32_t index = memo_.find(node);
    if (index != kMissing) {
      if (bin_) {
        out_.put(op(Op::POP_MARK));
      } else {
        for (uint32_t i = 0; i <= n; ++i) out_.put(op(Op::POP));
      }
      return emit_get(index);
    }
    out_.put(op(Op::TUPLE));
    memoize(s);
  }

  // A tuple CPython builds on the way (reduce arguments): never recursive,
  // always a fresh memo entry unless empty.
  template <typename SaveItems>
  void save_helper_tuple(size_t n, SaveItems&& save_items) {
    out_.opcode_boundary();
    DepthGuard guard(*this);
    if (n <= 3 && proto_ >= 2) {
      save_items();
      out_.put(op(kTupleOps[n]));
    } else {
      out_.put(op(Op::MARK));
      save_items();
      out_.put(op(Op::TUPLE));
    }
    memoize_fresh();
  }

  // --- lists, dicts, sets --------------------------------------------------

  void save_list(const Slot& s) {
    auto* node = static_cast<const ListNode*>(s.node);
    DepthGuard guard(*this);
    if (bin_) {
      out_.put(op(Op::EMPTY_LIST));
    } else {
      out_.put2(op(Op::MARK), op(Op::LIST));
    }
    memoize(s);
    // Indexes, not iterators: a hook may mutate the list meanwhile.
    auto item = [node](size_t i) { return node->items[i]; };
    auto size = [node] { return node->items.size(); };
    save_list_items(item, size);
  }

  // _pickle.c batch_list_exact (and batch_list at protocol 0).
  template <typename Item, typename Size>
  void save_list_items(Item&& item, Size&& size) {
    if (size() == 0) return;
    if (!bin_) {
      for (size_t i = 0; i < size(); ++i) {
        save(item(i), false);
        out_.put(op(Op::APPEND));
      }
      return;
    }
    if (size() == 1) {
      save(item(0), false);
      return out_.put(op(Op::APPEND));
    }
    size_t total = 0;
    do {
      out_.put(op(Op::MARK));
      for (size_t batch = 0; total < size() && batch < kBatchSize; ++batch, ++total) save(item(total), false);
      out_.put(op(Op::APPENDS));
    } while (total < size());
  }

  void save_dict(const Slot& s) {
    auto* node = static_cast<const HashNode*>(s.node);
    DepthGuard guard(*this);
    if (bin_) {
      out_.put(op(Op::EMPTY_DICT));
    } else {
      out_.put2(op(Op::MARK), op(Op::DICT));
    }
    memoize(s);
    const auto& entries = node->table.entries;
    if (node->table.live == 0) return;
    if (!bin_) {
      for (size_t i = 0; i < entries.size(); ++i) {
        if (entries[i].erased) continue;
        Slot key = entries[i].key, value = entries[i].value;
        save(key, false);
        save(value, false);
        out_.put(op(Op::SETITEM));
      }
      return;
    }
    if (node->table.live == 1) {
      for (size_t i = 0; i < entries.size(); ++i) {
        if (entries[i].erased) continue;
        Slot key = entries[i].key, value = entries[i].value;
        save(key, false);
        save(value, false);
        return out_.put(op(Op::SETITEM));
      }
    }
    // _pickle.c batch_dict_exact: a dict of exactly k*1000 items ends with
    // an empty MARK SETITEMS batch; so must ours.
    size_t pos = 0;
    size_t batch;
    do {
      batch = 0;
      out_.put(op(Op::MARK));
      while (pos < entries.size()) {
        size_t i = pos++;
        if (entries[i].erased) continue;
        Slot key = entries[i].key, value = entries[i].value;
        save(key, false);
        save(value, false);
        if (++batch == kBatchSize) break;
      }
      out_.put(op(Op::SETITEMS));
    } while (batch == kBatchSize);
  }

  void save_set(const Slot& s) {
    auto* node = static_cast<const HashNode*>(s.node);
    DepthGuard guard(*this);
    if (proto_ < 4) return save_set_reduce(s, "set");
    out_.put(op(Op::EMPTY_SET));
    memoize(s);
    const auto& entries = node->table.entries;
    if (node->table.live == 0) return;
    // As batch_dict_exact: k*1000 items end with an empty batch.
    size_t pos = 0;
    size_t batch;
    do {
      batch = 0;
      out_.put(op(Op::MARK));
      while (pos < entries.size()) {
        size_t i = pos++;
        if (entries[i].erased) continue;
        Slot key = entries[i].key;
        save(key, false);
        if (++batch == kBatchSize) break;
      }
      out_.put(op(Op::ADDITEMS));
    } while (batch == kBatchSize);
  }

  void save_frozenset(const Slot& s) {
    auto* node = static_cast<const HashNode*>(s.node);
    DepthGuard guard(*this);
    if (proto_ < 4) return save_set_reduce(s, "frozenset");
    out_.put(op(Op::MARK));
    const auto& entries = node->table.entries;
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].erased) continue;
      Slot key = entries[i].key;
      save(key, false);
    }
    uint32_t index = memo_.find(node);
    if (index != kMissing) {
      out_.put(op(Op::POP_MARK));
      return emit_get(index);
    }
    out_.put(op(Op::FROZENSET));
    memoize(s);
  }

  // Protocols < 4: set(list) and frozenset(list) through REDUCE.
  void save_set_reduce(const Slot& s, std::string_view type) {
    auto* node = static_cast<const HashNode*>(s.node);
    save_global_named("builtins", type);
    save_helper_tuple(1, [&] {
      out_.opcode_boundary();
      DepthGuard guard(*this);
      if (bin_) {
        out_.put(op(Op::EMPTY_LIST));
      } else {
        out_.put2(op(Op::MARK), op(Op::LIST));
      }
      memoize_fresh();
      // list(set) holds the live entries in order.
      std::vector<Slot> items;
      items.reserve(node->table.live);
      for (const auto& e : node->table.entries)
        if (!e.erased) items.push_back(e.key);
      save_list_items([&items](size_t i) { return items[i]; }, [&items] { return items.size(); });
    });
    finish_reduce(&s);
  }

  // --- complex, globals, instances --------------------------------------

  void save_complex(const Slot& s) {
    auto* node = static_cast<const ComplexNode*>(s.node);
    DepthGuard guard(*this);
    save_global_named("builtins", "complex");
    save_helper_tuple(2, [&] {
      out_.opcode_boundary();
      save_float(node->real);
      out_.opcode_boundary();
      save_float(node->imag);
    });
    finish_reduce(&s);
  }

  // REDUCE, then the memo: a reduce whose arguments reached the object
  // itself has memoized it meanwhile; CPython then pops the fresh object
  // and fetches the memoized one. `single` is the singleton slot of a
  // helper bytes object (obj == nullptr), if any.
  void finish_reduce(const Slot* obj, size_t single = kNotSingleton) {
    out_.put(op(Op::REDUCE));
    if (obj != nullptr) {
      uint32_t index = lookup(*obj);
      if (index != kMissing) {
        out_.put(op(Op::POP));
        return emit_get(index);
      }
      return memoize(*obj);
    }
    memoize_bytes(nullptr, single);
  }

  // A class or function by name (_pickle.c save_global), memoized by name:
  // in CPython every GLOBAL of one name is the same object.
  void save_global_named(std::string_view module, std::string_view name) {
    out_.opcode_boundary();
    std::string key = global_key(module, name);
    auto it = named_.find(key);
    if (it != named_.end()) return emit_get(it->second);
    DepthGuard guard(*this);
    size_t dot = name.rfind('.');
    if (proto_ >= 4) {
      save_interned_str(module);
      save_helper_str(name);
      out_.put(op(Op::STACK_GLOBAL));
    } else if (dot != std::string_view::npos) {
      // A nested qualified name: getattr(parent, last), as CPython < 4.
      save_global_named("builtins", "getattr");
      save_helper_tuple(2, [&] {
        save_global_named(module, name.substr(0, dot));
        save_helper_str(name.substr(dot + 1));
      });
      out_.put(op(Op::REDUCE));
    } else {
      emit_global_opcode(Op::GLOBAL, module, name);
    }
    // The recursive save above may have memoized a parent of this name,
    // never this name itself.
    uint32_t index = next_memo_index();
    named_.emplace(std::move(key), index);
    emit_put(index);
  }

  // GLOBAL, or INST: the same two lines under another opcode byte.
  void emit_global_opcode(Op opcode, std::string_view module, std::string_view name) {
    if (module.find('\n') != std::string_view::npos || name.find('\n') != std::string_view::npos) {
      fail("can't pickle global identifier containing a newline");
    }
    std::string_view m = module, n = name;
    if (proto_ < 3 && options_.fix_imports) {
      if (auto mapped = internal::python2_name(module, name)) {
        m = mapped->first;
        n = mapped->second;
      }
    }
    if (proto_ < 3) {
      if (!is_ascii(m)) {
        fail("can't pickle module identifier '" + std::string(m) + "' using pickle protocol " +
             std::to_string(proto_));
      }
      if (!is_ascii(n)) {
        fail("can't pickle global identifier '" + std::string(n) + "' using pickle protocol " +
             std::to_string(proto_));
      }
    }
    out_.put(op(opcode));
    out_.put(m);
    out_.put('\n');
    out_.put(n);
    out_.put('\n');
  }

  // pickle.py's save_reduce for an inert instance: the call that builds
  // it, the memo, then its list items, dict items and state.
  void save_instance(const Slot& s) {
    auto* node = static_cast<const InstanceNode*>(s.node);
    DepthGuard guard(*this);
    Slot callable = node->callable, args = node->args, kwargs = node->kwargs;
    switch (node->how) {
      case Construction::Reduce:
        save(callable, false);
        save(args, false);
        out_.put(op(Op::REDUCE));
        break;
      case Construction::NewObj:
        if (proto_ >= 2) {
          save(callable, false);
          save(args, false);
          out_.put(op(Op::NEWOBJ));
        } else {
          // copyreg.__newobj__(cls, *args), as save_reduce writes it below 2.
          const TupleNode* t = tuple_args(args, "NEWOBJ");
          save_global_named("copyreg", "__newobj__");
          save_helper_tuple(1 + t->size, [&] {
            save(callable, false);
            for (uint32_t i = 0; i < t->size; ++i) save(t->items[i], false);
          });
          out_.put(op(Op::REDUCE));
        }
        break;
      case Construction::NewObjEx:
        if (proto_ >= 4) {
          save(callable, false);
          save(args, false);
          save(kwargs, false);
          out_.put(op(Op::NEWOBJ_EX));
        } else {
          save_newobj_ex_fallback(callable, args, kwargs);
        }
        break;
      case Construction::Inst:
        if (callable.kind == Kind::Global) {
          auto* g = static_cast<const GlobalNode*>(callable.node);
          const TupleNode* t = tuple_args(args, "INST");
          out_.put(op(Op::MARK));
          for (uint32_t i = 0; i < t->size; ++i) save(t->items[i], false);
          emit_global_opcode(Op::INST, g->module, g->name);
          break;
        }
        [[fallthrough]];
      case Construction::Obj: {
        const TupleNode* t = tuple_args(args, "OBJ");
        out_.put(op(Op::MARK));
        save(callable, false);
        for (uint32_t i = 0; i < t->size; ++i) save(t->items[i], false);
        out_.put(op(Op::OBJ));
        break;
      }
    }
    uint32_t index = memo_.find(node);
    if (index != kMissing) {
      out_.put(op(Op::POP));
      emit_get(index);
    } else {
      memoize(s);
    }
    save_instance_items(node);
  }

  void save_instance_items(const InstanceNode* node) {
    // _pickle.c batch_list / batch_dict: a trailing batch of one item
    // uses APPEND / SETITEM.
    size_t n = node->list_items.size();
    if (!bin_) {
      for (size_t i = 0; i < node->list_items.size(); ++i) {
        save(Slot(node->list_items[i]), false);
        out_.put(op(Op::APPEND));
      }
    } else {
      for (size_t start = 0; start < n; start += kBatchSize) {
        size_t count = std::min(kBatchSize, n - start);
        if (count == 1) {
          save(Slot(node->list_items[start]), false);
          out_.put(op(Op::APPEND));
          continue;
        }
        out_.put(op(Op::MARK));
        for (size_t i = start; i < start + count; ++i) save(Slot(node->list_items[i]), false);
        out_.put(op(Op::APPENDS));
      }
    }
    n = node->dict_items.size();
    if (!bin_) {
      for (size_t i = 0; i < node->dict_items.size(); ++i) {
        auto [k, v] = node->dict_items[i];
        save(k, false);
        save(v, false);
        out_.put(op(Op::SETITEM));
      }
    } else {
      for (size_t start = 0; start < n; start += kBatchSize) {
        size_t count = std::min(kBatchSize, n - start);
        if (count == 1) {
          auto [k, v] = node->dict_items[start];
          save(k, false);
          save(v, false);
          out_.put(op(Op::SETITEM));
          continue;
        }
        out_.put(op(Op::MARK));
        for (size_t i = start; i < start + count; ++i) {
          auto [k, v] = node->dict_items[i];
          save(k, false);
          save(v, false);
        }
        out_.put(op(Op::SETITEMS));
      }
    }
    // pickle.py writes BUILD only for a state that is not None.
    if (node->has_state && node->state.kind != Kind::None) {
      Slot state = node->state;
      save(state, false);
      out_.put(op(Op::BUILD));
    }
  }

  static const TupleNode* tuple_args(const Slot& args, const char* what) {
    if (args.kind != Kind::Tuple) {
      fail(std::string("cannot pickle an instance built by ") + what + " whose arguments are a " +
           std::string(kind_name(args.kind)) + ", not a tuple");
    }
    return static_cast<const TupleNode*>(args.node);
  }

  // NEWOBJ_EX below protocol 4: CPython pickles
  // functools.partial(cls.__new__, cls, *args, **kwargs)() instead; the
  // partial reduces to partial(func) with state (func, args, kwargs, None)
  // and cls.__new__ to getattr(cls, '__new__').
  void save_newobj_ex_fallback(const Slot& cls, const Slot& args, const Slot& kwargs) {
    const TupleNode* t = tuple_args(args, "NEWOBJ_EX");
    bool has_kwargs = kwargs.kind == Kind::Dict && static_cast<const HashNode*>(kwargs.node)->table.live != 0;
    out_.opcode_boundary();
    {
      DepthGuard guard(*this);
      save_global_named("functools", "partial");
      uint32_t new_index = 0;
      save_helper_tuple(1, [&] {
        // cls.__new__: getattr(cls, '__new__'), memoized.
        out_.opcode_boundary();
        save_global_named("builtins", "getattr");
        save_helper_tuple(2, [&] {
          save(cls, false);
          save_interned_str("__new__");
        });
        out_.put(op(Op::REDUCE));
        new_index = next_memo_index();
        emit_put(new_index);
      });
      out_.put(op(Op::REDUCE));
      memoize_fresh();  // the partial object
      save_helper_tuple(4, [&] {
        out_.opcode_boundary();
        emit_get(new_index);
        save_helper_tuple(1 + t->size, [&] {
          save(cls, false);
          for (uint32_t i = 0; i < t->size; ++i) save(t->items[i], false);
        });
        if (has_kwargs) {
          save(kwargs, false);
        } else {
          out_.opcode_boundary();
          out_.put(op(Op::NONE));
        }
        out_.opcode_boundary();
        out_.put(op(Op::NONE));
      });
      out_.put(op(Op::BUILD));
    }
    save_empty_tuple();
    out_.put(op(Op::REDUCE));
  }

  PicklerOptions options_;
  int proto_;
  bool bin_;
  PickleOutput out_;
  MemoTable memo_;
  std::array<uint32_t, kSingletons> singletons_;
  std::unordered_map<std::string, uint32_t> named_;  // 'g' globals, 's' interned names
  uint32_t memo_count_ = 0;
  std::vector<Graph> alive_;  // graphs whose nodes the memo refers to
  internal::Arena* arena_ = nullptr;
  size_t depth_ = 0;
};

Pickler::Pickler(Sink& sink, PicklerOptions options) : options_(std::move(options)) {
  if (options_.protocol > kHighestProtocol) {
    throw std::invalid_argument("pickle protocol must be <= " + std::to_string(kHighestProtocol));
  }
  int proto = options_.protocol < 0 ? kHighestProtocol : options_.protocol;
  if (options_.buffer_callback && proto < 5) {
    throw std::invalid_argument("buffer_callback needs protocol >= 5");
  }
  impl_ = std::make_unique<Impl>(sink, options_);
}

Pickler::~Pickler() = default;

void Pickler::dump(const Value& value) { impl_->dump(value); }

void Pickler::clear_memo() { impl_->clear_memo(); }

int Pickler::protocol() const { return impl_->protocol(); }

std::string dumps(const Value& value, const PicklerOptions& options) {
  std::string out;
  StringSink sink(out);
  Pickler pickler(sink, options);
  pickler.dump(value);
  return out;
}

}  // namespace shelf::pickle
