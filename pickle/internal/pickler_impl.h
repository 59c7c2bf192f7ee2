// pickle/internal/pickler_impl.h: the Pickler's machinery, shared by
// pickle/pickler.cc (dispatch, memo, scalars, str and bytes) and
// pickle/pickler_objects.cc (containers, globals, instances). Never
// installed.
//
// Values to pickle bytes, byte-identical to CPython 3.11's C
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
#pragma once

#include <algorithm>
#include <array>
#include <memory>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pickle/internal/bigint.h"
#include "pickle/internal/memo_table.h"
#include "pickle/internal/nodes.h"
#include "pickle/internal/pickle_output.h"
#include "pickle/internal/pickle_text.h"
#include "pickle/internal/utf8.h"
#include "pickle/opcodes.h"
#include "pickle/pickler.h"

namespace shelf::pickle {

namespace internal::pickler {

constexpr size_t kBatchSize = 1000;  // pickle._BATCHSIZE
constexpr uint32_t kMissing = MemoTable::kMissing;

constexpr char op(Op o) { return static_cast<char>(o); }

// The low `n` bytes of `v`, little-endian (pickle's integer layout).
inline void put_le(char* dst, uint64_t v, int n) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(dst, &v, static_cast<size_t>(n));
  } else {
    for (int i = 0; i < n; ++i) dst[i] = static_cast<char>(v >> (8 * i));
  }
}

// BINFLOAT's argument: the IEEE 754 bits, big-endian.
inline void put_double_be(char* dst, double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  if constexpr (std::endian::native == std::endian::little) bits = __builtin_bswap64(bits);
  std::memcpy(dst, &bits, sizeof bits);
}

[[noreturn]] inline void fail(const std::string& message) { throw PicklingError(message); }

// Index into the singleton memo: str of one code point < 256 at [0, 256),
// the empty str at 256, bytes of one byte at [257, 513), b'' at 513.
constexpr size_t kEmptyStr = 256;
constexpr size_t kBytes1 = 257;
constexpr size_t kEmptyBytes = 513;
constexpr size_t kSingletons = 514;
constexpr size_t kNotSingleton = SIZE_MAX;

inline size_t str_singleton(std::string_view utf8) {
  if (utf8.empty()) return kEmptyStr;
  auto b0 = static_cast<unsigned char>(utf8[0]);
  if (utf8.size() == 1) return b0;
  if (utf8.size() == 2 && (b0 == 0xC2 || b0 == 0xC3)) {
    return (b0 & 0x1F) << 6 | (static_cast<unsigned char>(utf8[1]) & 0x3F);
  }
  return kNotSingleton;
}

inline size_t bytes_singleton(std::string_view data) {
  if (data.empty()) return kEmptyBytes;
  if (data.size() == 1) return kBytes1 + static_cast<unsigned char>(data[0]);
  return kNotSingleton;
}

}  // namespace internal::pickler

using internal::BigIntNode;
using internal::BufferNode;
using internal::ComplexNode;
using internal::GlobalNode;
using internal::HashNode;
using internal::InstanceNode;
using internal::is_ascii;
using internal::ListNode;
using internal::MemoList;
using internal::MemoTable;
using internal::Node;
using internal::PersistentRefNode;
using internal::PickleOutput;
using internal::Slot;
using internal::TextNode;
using internal::TupleNode;
using internal::ValueAccess;
using namespace internal::pickler;

// The memo entries of CPython's singletons (see the top of this file). A
// bitmap says which are set, so a new Pickler clears 72 bytes, not 2 KiB:
// dumps() of a small record must stay cheap.
class SingletonMemo {
 public:
  SingletonMemo() { clear(); }
  uint32_t get(size_t i) const {
    return (present_[i / 64] >> (i % 64) & 1) != 0 ? index_[i] : MemoTable::kMissing;
  }
  void set(size_t i, uint32_t index) {
    present_[i / 64] |= uint64_t{1} << (i % 64);
    index_[i] = index;
  }
  void clear() { std::fill(std::begin(present_), std::end(present_), 0); }
  // Forgets entries >= first (a failed dump).
  void truncate(uint32_t first) {
    for (size_t i = 0; i < kSingletons; ++i)
      if (get(i) != MemoTable::kMissing && index_[i] >= first) present_[i / 64] &= ~(uint64_t{1} << (i % 64));
  }

 private:
  uint64_t present_[(kSingletons + 63) / 64];
  uint32_t index_[kSingletons];  // meaningful where present_ says so
};

class Pickler::Impl {
 public:
  // `sink` nullptr: collect each dump for take_output() (dumps()).
  Impl(Sink* sink, const PicklerOptions& options)
      : options_(options),
        track_alive_(sink != nullptr),
        track_versions_(sink != nullptr && options.stale_memo != StaleMemo::kIgnore),
        proto_(options.protocol < 0 ? kHighestProtocol : options.protocol),
        bin_(proto_ >= 1),
        guard_marks_(sink != nullptr),
        out_(sink) {
  }

  int protocol() const { return proto_; }
  std::string take_output() { return out_.take(); }
  void dump(const Value& value);
  void clear_memo();

 private:
  // Entering a container: nesting beyond max_depth is an error, as
  // CPython's RecursionError, never a stack overflow.
  // Deep nesting within a generous max_depth is also checked against the
  // thread's actual stack, every kStackCheckEvery levels past
  // kStackCheckFrom, so no setting of max_depth can overflow it.
  class DepthGuard {
   public:
    explicit DepthGuard(Impl& impl) : impl_(impl) {
      if (++impl_.depth_ > impl_.options_.max_depth) {
        --impl_.depth_;
        fail("maximum nesting depth (" + std::to_string(impl_.options_.max_depth) +
             ") exceeded while pickling an object");
      }
      if (impl_.depth_ >= impl_.next_stack_check_) impl_.check_stack();
    }
    ~DepthGuard() { --impl_.depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;

   private:
    Impl& impl_;
  };
  // --- memo ----------------------------------------------------------------
  void keep_alive(internal::Arena* arena);

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
  uint32_t lookup(const Slot& s) {
    switch (s.kind) {
      case Kind::Str: {
        size_t i = str_singleton(static_cast<const TextNode*>(s.node)->data);
        if (i != kNotSingleton) return singletons_.get(i);
        break;
      }
      case Kind::Bytes: {
        size_t i = bytes_singleton(static_cast<const TextNode*>(s.node)->data);
        if (i != kNotSingleton) return singletons_.get(i);
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
    return memo_find(s.node);
  }

  // The memo of nodes, kept one of two ways. While the memo started this
  // dump empty and no hook can run another Pickler meanwhile (dumps(), or a
  // Pickler whose memo is cleared between dumps), a node's memo_mark says
  // where it is and memo_nodes_ confirms it: one load and one compare.
  // Otherwise (hooks, a memo kept across dumps, stale checks) the MemoTable
  // of addresses does, as _pickle.c's.
  //
  // A mark can only mislead by being overwritten: another dump of the same
  // graph run by the sink's write() meanwhile (the graph belongs to this
  // thread). Each marking dump on the thread bumps a counter; a miss after
  // it moved moves the memo into the table, which sees no marks.
  uint32_t memo_find(const Node* node) {
    if (use_marks_) [[likely]] {
      uint32_t mark = node->memo_mark;
      if (memo_nodes_.holds(mark, node)) return mark;
      if (!marks_overwritten()) return kMissing;
      move_memo_to_table();
    }
    return memo_.find(node);
  }
  // REQUIRES: `node` is not in the memo; `index` came from next_memo_index().
  void memo_insert(const Node* node, uint32_t index) {
    if (use_marks_) [[likely]] {
      memo_nodes_.set(index, node);
      node->memo_mark = index;
      return;
    }
    memo_.insert(node, index);
  }
  bool marks_overwritten() const { return guard_marks_ && marking_dumps_ != marking_dump_; }
  // Chooses how this dump finds memo entries (see memo_find).
  void choose_memo_kind();
  void move_memo_to_table();

  void memoize(const Slot& s) {
    uint32_t index = next_memo_index();
    switch (s.kind) {
      case Kind::Str: {
        size_t i = str_singleton(static_cast<const TextNode*>(s.node)->data);
        if (i != kNotSingleton) {
          singletons_.set(i, index);
          return emit_put(index);
        }
        break;
      }
      case Kind::Bytes: {
        size_t i = bytes_singleton(static_cast<const TextNode*>(s.node)->data);
        if (i != kNotSingleton) {
          singletons_.set(i, index);
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
    memo_insert(s.node, index);
    if (track_versions_) [[unlikely]]
      record_version(s.node, index);
    emit_put(index);
  }

  // A node memoized before anything is written for it (str, list, dict):
  // emits a GET and returns kMissing when it is in the memo already, else
  // records it under the next index and returns that (the caller emits the
  // PUT after the object's opcode).
  [[gnu::always_inline]] uint32_t reserve_memo(const Node* node) {
    if (use_marks_) [[likely]] {
      uint32_t mark = node->memo_mark;
      if (memo_nodes_.holds(mark, node)) {
        emit_get(mark);
        return kMissing;
      }
      if (!marks_overwritten()) [[likely]] {
        if (memo_count_ == kMissing) fail("memo too large");
        memo_nodes_.push(node);
        node->memo_mark = memo_count_;
        if (track_versions_) [[unlikely]]
          record_version(node, memo_count_);
        return memo_count_++;
      }
    }
    return reserve_memo_in_table(node);
  }
  [[gnu::noinline]] uint32_t reserve_memo_in_table(const Node* node) {
    if (use_marks_) move_memo_to_table();
    uint32_t index = next_memo_index();
    uint32_t found = memo_.find_or_insert(node, index);
    if (found == kMissing) {
      if (track_versions_) [[unlikely]]
        record_version(node, index);
      return index;
    }
    if (found < check_below_) [[unlikely]] {
      if (rewrite_if_stale(node, found, index)) return index;
    }
    --memo_count_;
    emit_get(found);
    return kMissing;
  }

  // A helper object nobody else can refer to still takes a memo slot, as
  // it does in CPython.
  void memoize_fresh() { emit_put(next_memo_index()); }

  uint32_t next_memo_index() {
    if (memo_count_ == kMissing) fail("memo too large");
    if (use_marks_) memo_nodes_.push(nullptr);
    return memo_count_++;
  }

  void emit_put(uint32_t index) {
    if (!bin_) return emit_decimal_line(op(Op::PUT), index);
    out_.advance(put_binary_put(out_.room(kMaxBinaryPut), index));
  }
  // The PUT of a binary protocol at `p`; returns its size.
  static constexpr size_t kMaxBinaryPut = 5;
  size_t put_binary_put(char* p, uint32_t index) const {
    if (proto_ >= 4) {
      p[0] = op(Op::MEMOIZE);
      return 1;
    }
    if (index < 256) {
      p[0] = op(Op::BINPUT);
      p[1] = static_cast<char>(index);
      return 2;
    }
    p[0] = op(Op::LONG_BINPUT);
    put_le(p + 1, index, 4);
    return 5;
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
  void rollback(uint32_t first);

  // --- stale memo entries (PicklerOptions::stale_memo) -------------------
  // Each node memoized gets its version() recorded under its memo index.
  // A dump starting after a graph holding memoized nodes was mutated sets
  // check_below_ to the memo's size: a memo hit below it (an object of an
  // earlier dump) is stale when a walk of what the object reaches now
  // meets a node whose version differs from the recorded one. While
  // nothing changed, everything reached is what the earlier dump wrote, so
  // the first changed node a walk meets is one that dump wrote too.
  void record_version(const Node* node, uint32_t index) {
    if (memo_versions_.size() <= index) memo_versions_.resize(index + 1);
    memo_versions_[index] = node_version(node);
  }
  static uint64_t node_version(const Node* node) {
    switch (node->kind) {
      case Kind::ByteArray:
      case Kind::List:
      case Kind::Dict:
      case Kind::Set:
      case Kind::FrozenSet:
      case Kind::Instance:
        return static_cast<const internal::MutableNode*>(node)->version;
      default:
        return 0;
    }
  }
  // Called at the start of a dump: arms the checks if a graph changed.
  void begin_stale_checks();
  // After a successful dump: what the next one compares against.
  void end_stale_checks();
  bool is_stale(const Node* node);
  enum class Walk : uint8_t { kChanged, kSkip, kDescend };
  Walk classify(const Node* node);
  // The memo hit `node` (memo index `old_index`) of an earlier dump is
  // stale: throws (kThrow), or moves it to `new_index` and returns true so
  // the caller writes it again. False when it is not stale.
  bool rewrite_if_stale(const Node* node, uint32_t old_index, uint32_t new_index);
  // As rewrite_if_stale for a node memoized after it is written: forgets
  // its entry, so the encoder writes and memoizes it afresh.
  bool forget_if_stale(const Node* node, uint32_t old_index);
  [[noreturn]] void throw_stale(const Node* node);
  // --- the dispatcher ----------------------------------------------------
  // pickle.py's save(): the opcode boundary (where a full frame is
  // committed), the persistent_id hook, then scalars inline (never
  // memoized) and everything else through save_object.
  [[gnu::always_inline]] void save(const Slot& s, bool pers_save) {
    out_.opcode_boundary();
    save_past_boundary(s, pers_save);
  }
  // save() once the opcode boundary is checked.
  [[gnu::always_inline]] void save_past_boundary(const Slot& s, bool pers_save) {
    // Hooks may mutate the containers being walked: work on a copy then.
    // Without hooks `s` points into its container, read in place (a copy
    // through the stack costs a store-forwarding stall per item).
    if (has_hooks_) return save_copy(s, pers_save);
    dispatch(s);
  }
  [[gnu::always_inline]] void dispatch(const Slot& s) {
    switch (s.kind) {
      case Kind::Str:
        return save_str(s);
      case Kind::None:
        return out_.put(op(Op::NONE));
      case Kind::Bool:
        return save_bool(s.b);
      case Kind::Int:
        if (s.is_big) break;
        // The commonest int inline; the rest (and protocol 0) in save_int.
        if (bin_ && static_cast<uint64_t>(s.i) <= 0xFF) return out_.put2(op(Op::BININT1), static_cast<char>(s.i));
        return save_int(s.i);
      case Kind::Float:
        return save_float(s.f);
      default:
        break;
    }
    save_object(s);
  }
  void save_copy(Slot s, bool pers_save) {
    if (has_persistent_id_ && !pers_save && ask_persistent_id(s)) return;
    dispatch(s);
  }
  // The memo, then one encoder per kind.
  void save_object(const Slot& s);
  // --- persistent ids ------------------------------------------------------
  bool ask_persistent_id(const Slot& s);
  // pickle.py's save_pers: the pid itself is pickled without asking the
  // hook again (its parts are asked, as in CPython).
  void save_pers(const Slot& pid, internal::Arena* pid_arena, const Value* holder = nullptr);
  // str(pid), as CPython's save_pers writes it at protocol 0.
  std::string persistent_id_text(const Slot& pid, internal::Arena* arena, const Value* holder);
  // The decimal text of a big int (two's-complement LE), within max_int_digits.
  std::string big_int_decimal(std::string_view le);
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
      return out_.advance(put_binary_int32(out_.room(5), v));
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

  // A float, or an int in the int32 range: what put_run_scalar writes.
  static bool is_run_scalar(const Slot& s) {
    return s.kind == Kind::Float || (s.kind == Kind::Int && !s.is_big && s.i >= INT32_MIN && s.i <= INT32_MAX);
  }
  static constexpr size_t kMaxRunScalar = 9;
  // save_float or save_int of a binary protocol at `p`; returns the size.
  static size_t put_run_scalar(char* p, const Slot& s) {
    if (s.kind == Kind::Float) return put_binary_float(p, s.f);
    return put_binary_int32(p, s.i);
  }
  // save_float at a binary protocol, at `p`; returns its size.
  static size_t put_binary_float(char* p, double d) {
    p[0] = op(Op::BINFLOAT);
    put_double_be(p + 1, d);
    return 9;
  }
  // save_int of an int32 at a binary protocol, at `p`; returns its size.
  static size_t put_binary_int32(char* p, int64_t v) {
    if (static_cast<uint64_t>(v) <= 0xFF) {
      p[0] = op(Op::BININT1);
      p[1] = static_cast<char>(v);
      return 2;
    }
    if (static_cast<uint64_t>(v) <= 0xFFFF) {
      p[0] = op(Op::BININT2);
      put_le(p + 1, static_cast<uint64_t>(v), 2);
      return 3;
    }
    p[0] = op(Op::BININT);
    put_le(p + 1, static_cast<uint64_t>(v), 4);
    return 5;
  }
  void save_bigint(std::string_view le);
  void save_float(double d) {
    if (!bin_) {
      std::string text = internal::python_float_repr(d);
      out_.put(op(Op::FLOAT));
      out_.put(text);
      return out_.put('\n');
    }
    out_.advance(put_binary_float(out_.room(9), d));
  }

  // --- str and bytes -------------------------------------------------------
  // A str of the graph: memo, opcodes, PUT. The commonest object of most
  // pickles, so short text with marks in use is written in one piece.
  void save_str(const Slot& s);
  // The opcodes of a str, without its memo entry (_pickle.c save_unicode).
  void save_str_data(std::string_view utf8);
  // Protocol 0's UNICODE line of `text` (UTF-8, or Latin-1 bytes).
  void put_unicode_line(std::string_view text, bool latin1);
  // The opcode and length of a binary str of `n` bytes at `p`
  // (SHORT_BINUNICODE, BINUNICODE or BINUNICODE8); returns their size.
  static constexpr size_t kMaxStrHeader = 9;
  size_t put_str_header(char* p, size_t n) const {
    if (n <= 0xFF && proto_ >= 4) {
      p[0] = op(Op::SHORT_BINUNICODE);
      p[1] = static_cast<char>(n);
      return 2;
    }
    if (n <= 0xFFFFFFFFu) {
      p[0] = op(Op::BINUNICODE);
      put_le(p + 1, n, 4);
      return 5;
    }
    p[0] = op(Op::BINUNICODE8);
    put_le(p + 1, n, 8);
    return 9;
  }
  // A str CPython creates on the way (the latin-1 text inside bytes' reduce
  // at protocols < 3): a fresh object, unless it is a singleton.
  void save_helper_str(std::string_view utf8);
  // An interned identifier (a module name, 'latin1'): one object per text.
  void save_interned_str(std::string_view utf8);
  // Bytes: a graph node (`obj`), or a helper object (nullptr): the bytes
  // inside bytearray's reduce, which CPython copies into a fresh object
  // that is never one of the singletons. REQUIRES: obj not in the memo.
  void save_bytes(std::string_view data, const Slot* obj);
  void memoize_bytes(const Slot* obj, size_t single);
  void save_bytes_data(std::string_view data);

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
  void save_bytearray(const Slot& s);
  void save_bytearray_data(std::string_view data);
  void save_buffer(const Slot& s);
  // --- tuples --------------------------------------------------------------
  void save_empty_tuple();

  static constexpr std::array<Op, 4> kTupleOps = {Op::EMPTY_TUPLE, Op::TUPLE1, Op::TUPLE2, Op::TUPLE3};
  // _pickle.c save_tuple, including the recursive case: if saving the
  // items memoized the tuple (through a list or instance that contains it),
  // the items are popped and the tuple fetched from the memo.
  void save_tuple(const Slot& s);

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
  // `index`: the memo entry reserve_memo() made for it.
  void save_list(const Slot& s, uint32_t index);

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
      for (size_t batch = 0; total < size() && batch < kBatchSize;) {
        out_.opcode_boundary();  // before reading the item: a sink may change the list
        const Slot& s = item(total);
        if (!has_hooks_ && is_run_scalar(s)) {
          // Lists of numbers are common enough for a loop of their own:
          // the numbers in a row, written in one piece.
          const Slot* run = &s;
          size_t most = std::min(size() - total, kBatchSize - batch);
          size_t n = 1;
          while (n < most && is_run_scalar(run[n])) ++n;
          size_t done = n == 1 ? (out_.advance(put_run_scalar(out_.room(kMaxRunScalar), s)), 1)
                               : out_.put_run(n, kMaxRunScalar, [run](size_t i, char* p) { return put_run_scalar(p, run[i]); });
          total += done;
          batch += done;
        } else {
          save_past_boundary(s, false);
          ++total;
          ++batch;
        }
      }
      out_.put(op(Op::APPENDS));
    } while (total < size());
  }
  void save_dict(const Slot& s, uint32_t index);
  // Key and value of entry `i`; copied first when a hook could mutate the
  // dict between the two saves.
  void save_pair(const internal::GraphVector<internal::HashEntry>& entries, size_t i) {
    if (has_hooks_) {
      Slot key = entries[i].key, value = entries[i].value;
      save(key, false);
      return save(value, false);
    }
    save(entries[i].key, false);
    save(entries[i].value, false);
  }
  void save_set(const Slot& s);
  void save_frozenset(const Slot& s);
  // Protocols < 4: set(list) and frozenset(list) through REDUCE.
  void save_set_reduce(const Slot& s, std::string_view type);
  // --- complex, globals, instances --------------------------------------
  void save_complex(const Slot& s);
  // REDUCE, then the memo: a reduce whose arguments reached the object
  // itself has memoized it meanwhile; CPython then pops the fresh object
  // and fetches the memoized one. `single` is the singleton slot of a
  // helper bytes object (obj == nullptr), if any.
  void finish_reduce(const Slot* obj, size_t single = kNotSingleton);
  // A class or function by name (_pickle.c save_global), memoized by name:
  // in CPython every GLOBAL of one name is the same object.
  void save_global_named(std::string_view module, std::string_view name);
  // GLOBAL, or INST: the same two lines under another opcode byte.
  void emit_global_opcode(Op opcode, std::string_view module, std::string_view name);
  // pickle.py's save_reduce for an inert instance: the call that builds
  // it, the memo, then its list items, dict items and state.
  void save_instance(const Slot& s);
  void save_instance_items(const InstanceNode* node);
  static const TupleNode* tuple_args(const Slot& args, const char* what);
  // NEWOBJ_EX below protocol 4: CPython pickles
  // functools.partial(cls.__new__, cls, *args, **kwargs)() instead; the
  // partial reduces to partial(func) with state (func, args, kwargs, None)
  // and cls.__new__ to getattr(cls, '__new__').
  void save_newobj_ex_fallback(const Slot& cls, const Slot& args, const Slot& kwargs);

  const PicklerOptions& options_;  // the Pickler's, or dumps()'s argument
  bool track_alive_;
  bool track_versions_;  // stale_memo other than kIgnore, over a sink
  uint32_t check_below_ = 0;  // memo hits below this index are checked
  std::vector<uint64_t> memo_versions_;  // by memo index: version when memoized
  std::vector<uint64_t> alive_mutations_;  // by alive_ graph: mutation_count() after the last dump
  enum class Verdict : uint8_t { kInProgress, kFresh, kStale };
  std::unordered_map<const Node*, Verdict> verdicts_;  // this dump's is_stale() answers
  std::vector<std::pair<const Node*, uint32_t>> rewritten_;  // (node, old index), this dump
  bool has_persistent_id_ = static_cast<bool>(options_.persistent_id);
  bool has_hooks_ = has_persistent_id_ || static_cast<bool>(options_.buffer_callback);
  int proto_;
  bool bin_;
  bool guard_marks_;  // a sink's write() could run another Pickler mid-dump
  bool use_marks_ = false;  // see memo_find
  bool short_str_inline_ = false;  // save_str's fast path: marks, a binary protocol, no versions
  uint64_t marking_dump_ = 0;  // this dump's number among the thread's marking dumps
  static thread_local uint64_t marking_dumps_;
  PickleOutput out_;
  internal::MemoList memo_nodes_;  // while use_marks_: the memo by index
  MemoTable memo_;
  SingletonMemo singletons_;
  std::unordered_map<std::string, uint32_t> named_;  // 'g' globals, 's' interned names
  uint32_t memo_count_ = 0;
  std::vector<Graph> alive_;  // graphs whose nodes the memo refers to
  internal::Arena* arena_ = nullptr;
  size_t depth_ = 0;
  static constexpr size_t kStackCheckFrom = 256;
  static constexpr size_t kStackCheckEvery = 32;
  size_t next_stack_check_ = kStackCheckFrom;
  // Throws PicklingError when less than a safety margin of stack is left.
  void check_stack();
};

}  // namespace shelf::pickle
