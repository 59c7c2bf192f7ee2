// pickle/internal/unpickler_machine.h: the Unpickler's state machine: the
// stack with MARKs kept apart, the memo, the limits, and the opcode loop
// (pickle/unpickler.cc) with its colder handlers (pickle/unpickler_ops.cc).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pickle/args.h"
#include "pickle/framing.h"
#include "pickle/internal/bigint.h"
#include "pickle/internal/data_constructors.h"
#include "pickle/internal/nodes.h"
#include "pickle/unpickler.h"

namespace shelf::pickle::internal {

// A stack of positions whose first few entries live inline (pickles
// seldom nest MARKs deeply): no allocation for most loads.
class MarkStack {
 public:
  MarkStack() = default;
  MarkStack(const MarkStack&) = delete;
  MarkStack& operator=(const MarkStack&) = delete;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t back() const { return data_[size_ - 1]; }
  void pop_back() { --size_; }
  void clear() { size_ = 0; }
  void push_back(size_t v) {
    if (size_ == capacity_) [[unlikely]]
      grow();
    data_[size_++] = v;
  }

 private:
  void grow() {
    heap_.resize(capacity_ * 2);
    if (data_ == inline_) std::copy(inline_, inline_ + size_, heap_.data());
    data_ = heap_.data();
    capacity_ = heap_.size();
  }
  static constexpr size_t kInline = 32;
  size_t inline_[kInline];
  size_t* data_ = inline_;
  size_t size_ = 0;
  size_t capacity_ = kInline;
  std::vector<size_t> heap_;
};

// The unpickling stack. MARKs live on a metastack of positions, as in
// _pickle.c: the items below the topmost MARK are out of reach until it is
// popped, so an opcode can never consume a MARK as a value. Items plus
// MARKs never exceed Limits::max_depth.
class SlotStack {
 public:
  SlotStack();
  void configure(size_t max_depth);
  void clear();

  size_t size() const { return static_cast<size_t>(sp_ - base_); }
  void push(const Slot& s) {
    if (sp_ == limit_) [[unlikely]]
      grow();
    *sp_++ = s;
  }
  // The top item above the topmost MARK; kStackUnderflow when there is none.
  Slot& top() {
    if (sp_ - base_ <= fence_) [[unlikely]]
      underflow();
    return sp_[-1];
  }
  Slot pop() {
    if (sp_ - base_ <= fence_) [[unlikely]]
      underflow();
    return *--sp_;
  }
  // The top `n` items (oldest first), popped; valid until the next push.
  Slot* pop_n(size_t n) {
    if (sp_ - base_ < fence_ + static_cast<ptrdiff_t>(n)) [[unlikely]]
      underflow();
    sp_ -= n;
    return sp_;
  }
  void mark() {
    if (size() + marks_.size() + 1 > max_depth_) [[unlikely]]
      depth_exceeded();
    marks_.push_back(size());
    fence_ = static_cast<ptrdiff_t>(size());
    update_limit();
  }
  // Pops the topmost MARK and the items above it (kNoMark without one).
  // The span stays valid until the next push.
  std::span<Slot> pop_mark() {
    if (marks_.empty()) [[unlikely]]
      no_mark();
    size_t k = marks_.back();
    marks_.pop_back();
    fence_ = marks_.empty() ? 0 : static_cast<ptrdiff_t>(marks_.back());
    std::span<Slot> items(base_ + k, sp_);
    sp_ = base_ + k;
    update_limit();
    return items;
  }
  // POP: the top item, or the topmost MARK when no item lies above it.
  void pop_item_or_mark();

 private:
  [[noreturn]] void underflow() const;
  [[noreturn]] void depth_exceeded() const;
  [[noreturn]] static void no_mark();
  void grow();
  void update_limit() {
    size_t room = max_depth_ > marks_.size() ? max_depth_ - marks_.size() : 0;
    limit_ = base_ + (capacity_ < room ? capacity_ : room);
  }

  // The first kInlineSlots items live in the stack object itself (most
  // pickles never go deeper), then in heap_.
  static constexpr size_t kInlineSlots = 64;
  alignas(Slot) unsigned char inline_[kInlineSlots * sizeof(Slot)];
  BlockVector<Slot> heap_;
  size_t capacity_ = kInlineSlots;
  Slot* base_ = nullptr;
  Slot* sp_ = nullptr;
  Slot* limit_ = nullptr;  // end of storage, or where max_depth stops pushes
  ptrdiff_t fence_ = 0;    // size at the topmost MARK, 0 without one
  MarkStack marks_;
  size_t max_depth_ = 0;
};

// Frees storage from block_allocate (the size travels with the pointer).
class BlockDeleter {
 public:
  BlockDeleter() = default;
  explicit BlockDeleter(size_t bytes) : bytes_(bytes) {}
  void operator()(void* p) const noexcept { block_free(p, bytes_); }

 private:
  size_t bytes_ = 0;
};

// The memo: dense for the sequential keys every Pickler writes, a hash map
// for sparse ones, so LONG_BINPUT 0xffffffff costs one entry, not 4G. The
// first kInline dense entries live in the memo itself: a small record's
// load allocates nothing for its memo.
class Memo {
 public:
  Memo() : dense_(reinterpret_cast<Slot*>(inline_)) {}
  Memo(const Memo&) = delete;
  Memo& operator=(const Memo&) = delete;

  const Slot* get(uint64_t key) const {
    if (key < dense_size_) [[likely]] {
      const Slot& s = dense_[key];
      return missing(s) ? nullptr : &s;
    }
    return sparse_.empty() ? nullptr : get_sparse(key);
  }
  // Stores `s` under `key`; returns the bytes newly held (for limits).
  size_t put(uint64_t key, const Slot& s) {
    if (key == dense_size_ && dense_size_ < dense_capacity_ && sparse_.empty()) [[likely]] {
      dense_[dense_size_++] = s;
      ++count_;
      return sizeof(Slot);
    }
    return put_slow(key, s);
  }
  size_t size() const { return count_; }  // len(memo)
  void clear();
  // Room for `n` sequential keys (a hint from the input's size: no entry is
  // stored and nothing is charged until the pickle stores one).
  void reserve(size_t n) {
    if (sparse_.empty() && n > dense_capacity_) grow_dense(n);
  }

 private:
  static bool missing(const Slot& s) { return s.kind == Kind::None && s.is_big; }
  const Slot* get_sparse(uint64_t key) const;
  size_t put_slow(uint64_t key, const Slot& s);
  void grow_dense(size_t capacity);
  // Dense keys [old size, size) become holes.
  void resize_dense(size_t size);

  static constexpr size_t kInline = 16;
  Slot* dense_;  // [0, dense_size_) stored, holes marked missing()
  size_t dense_size_ = 0;
  size_t dense_capacity_ = kInline;
  // Raw storage (block_allocate), written only as the keys arrive: a
  // reserve() for a big input costs no page until the pickle uses it.
  std::unique_ptr<Slot[], BlockDeleter> heap_;
  alignas(Slot) unsigned char inline_[kInline * sizeof(Slot)];
  std::unordered_map<uint64_t, Slot> sparse_;
  size_t count_ = 0;
};

class Machine {
 public:
  // `options` must outlive the machine (loads() keeps the caller's, an
  // Unpickler its own copy): copying them per loads() cost ~10% of
  // decoding a small record.
  Machine(Source& source, const UnpicklerOptions& options);

  Value load();
  NoloadResult noload();
  // str and bytes payloads that lie in `input` point into it rather than
  // being copied; the graph holds `owner` from the first one on.
  void borrow(std::string_view input, std::shared_ptr<const void> owner) {
    borrowable_ = input;
    borrow_owner_ = std::move(owner);
  }
  Graph graph() const { return graph_; }
  size_t position() const { return position_; }

 private:
  // One pickle, up to STOP: the opcode loop, and the one place where a
  // handler's DecodeFailure gains the opcode's offset and name.
  template <bool kNoload>
  Slot run_one();
  template <bool kNoload>
  Slot run();
  void begin();
  void end();

  void charge(size_t bytes) {
    charged_ += bytes;
    if (charged_ > budget_) [[unlikely]]
      over_budget();
  }
  void over_budget();
  size_t budget_for(size_t extent) const;

  // Python's hash of a dict key or set member. Keys are mostly memoized
  // str reused by every dict of a list, so their hashes are cached by node
  // (nodes never move or die while the Unpickler lives).
  uint64_t hash_key(const Slot& key) {
    if (key.kind == Kind::Str) {
      HashCacheEntry& e = hash_cache_[(reinterpret_cast<uintptr_t>(key.node) >> 4) % kHashCacheSize];
      if (e.node != key.node) {
        e.hash = text_hash(static_cast<const TextNode*>(key.node)->data);
        e.node = key.node;
      }
      return e.hash;
    }
    if (key.kind == Kind::Int && !key.is_big) return static_cast<uint64_t>(python_hash_int64(key.i));
    return key_hash(key);
  }
  // Inserts the keys (stride 1: set members) or key/value pairs (stride 2)
  // of a MARK's items into `table`: DICT, SETITEMS, FROZENSET, ADDITEMS.
  void insert_items(HashTable& table, std::span<const Slot> items, size_t stride) {
    table.insert_all(items.data(), items.size() / stride, stride, [this](const Slot& key) { return hash_key(key); });
  }

  // Builders (hot: inline in unpickler.cc).
  Slot text(Kind kind, std::string_view data);
  Slot tuple_of(const Slot* items, size_t n);
  Slot empty_tuple();

  // Colder handlers (unpickler_ops.cc). Each reads its stack operands and
  // pushes its result; `noload_` makes them walk without building.
  Slot decimal_int(const DecimalArg& d);
  Slot long_le(std::string_view le);
  Slot python2_str(std::string_view bytes);
  Slot resolve_global(std::string_view module, std::string_view name);
  void global(std::string_view module, std::string_view name);
  void stack_global();
  void reduce();
  void newobj();
  void newobj_ex();
  void inst(std::string_view module, std::string_view name);
  void obj();
  Slot call(Construction how, const Slot& callable, const Slot& args, const Slot& kwargs);
  void build();
  void append();
  void appends();
  void setitem();
  void setitems();
  void additems();
  void list();
  void dict();
  void frozenset();
  void memo_get(uint64_t key);
  void memo_put(uint64_t key);
  void persistent(const Slot& pid);
  void persid(std::string_view line);
  void next_buffer();
  void readonly_buffer();
  void extension(int64_t code);
  void proto(uint8_t version);

  Source& source_;
  const UnpicklerOptions& options_;
  Graph graph_;
  Arena* arena_;
  std::string_view borrowable_;
  std::shared_ptr<const void> borrow_owner_;  // moved into the arena at the first borrow
  FramedReader reader_;
  bool memory_;  // the source is contiguous memory, parsed in place

  SlotStack stack_;
  Memo memo_;
  CtorMap ctors_;
  struct HashCacheEntry {
    const Node* node = nullptr;
    uint64_t hash = 0;
  };
  static constexpr size_t kHashCacheSize = 64;
  HashCacheEntry hash_cache_[kHashCacheSize];
  std::string scratch_;
  Slot empty_tuple_;
  bool have_empty_tuple_ = false;

  int proto_ = 0;
  bool noload_ = false;
  std::vector<Value> noload_pids_;
  size_t next_buffer_ = 0;

  size_t op_offset_ = 0;  // of the current opcode, from the start of the pickle
  int op_code_ = -1;      // the current opcode byte, -1 before it is read
  uint64_t ops_left_ = 0;

  size_t charged_ = 0;  // approximate bytes the graph holds from this Unpickler
  size_t budget_ = 0;
  size_t consumed_before_ = 0;  // input bytes of earlier pickles
  size_t position_ = 0;
};

}  // namespace shelf::pickle::internal
