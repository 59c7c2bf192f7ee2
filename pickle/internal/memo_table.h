// pickle/internal/memo_table.h: the Pickler's memo, two ways. A MemoList
// holds the object of each memo index while a dump finds entries through
// the marks in its nodes (see memo_find in pickler_impl.h). A MemoTable
// maps object address -> memo index otherwise (hooks, a memo kept across
// dumps), as an open-addressing table with CPython's probe sequence
// (_pickle.c's PyMemoTable). Far faster than std::unordered_map for the one
// lookup every container, str and bytes costs while pickling.
//
// The first probe is the address itself (>> 3), not a mixed hash: nodes
// are allocated in the order a loader or builder creates them, which is
// close to the order they are pickled in, so consecutive lookups touch
// neighbouring entries and stay in cache. A scrambled hash costs a cache
// miss per lookup on large graphs (measured: half the time of a 300k-key
// dict). Collisions are spread by the perturbed recurrence, so aliasing
// runs of addresses cannot build long probe chains.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <stdexcept>
#include <utility>

namespace shelf::pickle::internal {

class MemoTable {
 public:
  static constexpr uint32_t kMissing = UINT32_MAX;

  // Costs nothing to make (dumps() makes one per call): it starts on one
  // shared empty entry, which the first insert leaves for the inline ones.
  MemoTable() : entries_(const_cast<Entry*>(kNoEntries)) {}
  MemoTable(const MemoTable&) = delete;
  MemoTable& operator=(const MemoTable&) = delete;

  // The memo index of `key`, or kMissing.
  uint32_t find(const void* key) const {
    const Entry& e = entries_[probe(reinterpret_cast<uintptr_t>(key))];
    return e.key != 0 ? e.value : kMissing;
  }

  // Records `key` -> `value`. REQUIRES: key is not in the table (or was
  // forgotten), not null.
  void insert(const void* key, uint32_t value) {
    if ((size_ + 1) * 3 > (mask_ + 1) * 2) rehash((mask_ + 1) * (size_ > 50000 ? 2 : 4));
    place(reinterpret_cast<uintptr_t>(key), value);
    ++size_;
  }

  // The memo index of `key` if it has one; otherwise records `key` ->
  // `value` and returns kMissing. One probe where find + insert take two.
  uint32_t find_or_insert(const void* key, uint32_t value) {
    auto k = reinterpret_cast<uintptr_t>(key);
    size_t i = probe(k);
    if (entries_[i].key != 0) return entries_[i].value;
    if ((size_ + 1) * 3 > (mask_ + 1) * 2) {
      rehash((mask_ + 1) * (size_ > 50000 ? 2 : 4));
      i = probe(k);
    }
    entries_[i].key = k;
    entries_[i].value = value;
    ++size_;
    return kMissing;
  }

  // Gives `key` the memo index `value`. REQUIRES: key is in the table.
  void assign(const void* key, uint32_t value) { entries_[probe(reinterpret_cast<uintptr_t>(key))].value = value; }

  // Makes find(key) return kMissing until insert(key, ...) or
  // assign(key, ...). The entry keeps its place (open addressing cannot
  // empty it) and still counts towards size(). REQUIRES: key is in the table.
  void forget(const void* key) { assign(key, kMissing); }

  size_t size() const { return size_; }

  // Makes room for `n` entries in all, so that inserting them never rehashes.
  void reserve(size_t n) {
    size_t capacity = mask_ + 1;
    while ((n + 1) * 3 > capacity * 2) capacity *= 2;
    if (capacity > mask_ + 1) rehash(capacity);
  }

  void clear() {
    if (size_ == 0) return;
    if (mask_ + 1 > 1024) {
      reset(kInline);
    } else {
      for (size_t i = 0; i <= mask_; ++i) entries_[i] = Entry{};
      size_ = 0;
    }
  }

  // Drops every entry whose value is >= `first` (forgotten ones too):
  // undoes a failed dump.
  void truncate(uint32_t first) {
    size_t n = mask_ + 1;
    std::unique_ptr<Entry[]> old(new Entry[n]);
    std::copy(entries_, entries_ + n, old.get());
    reset(n);
    for (size_t i = 0; i < n; ++i) {
      if (old[i].key != 0 && old[i].value < first) {
        place(old[i].key, old[i].value);
        ++size_;
      }
    }
  }

 private:
  // No default member initializers: inline_ is zeroed when first used, not
  // whenever a table is made.
  struct Entry {
    uintptr_t key;  // 0: empty
    uint32_t value;
  };
  // Small memos (one record's worth) live inline: no allocation per dump.
  static constexpr size_t kInline = 16;

  // The entry holding `k`, or the empty entry where it would go.
  size_t probe(uintptr_t k) const {
    size_t hash = k >> 3;
    size_t i = hash & mask_;
    if (entries_[i].key == k || entries_[i].key == 0) return i;
    for (size_t perturb = hash;; perturb >>= 5) {
      i = (i * 5 + perturb + 1) & mask_;
      if (entries_[i].key == k || entries_[i].key == 0) return i;
    }
  }
  void place(uintptr_t k, uint32_t value) {
    size_t i = probe(k);
    entries_[i].key = k;
    entries_[i].value = value;
  }
  void reset(size_t capacity) {
    if (capacity <= kInline) {
      heap_.reset();
      for (Entry& e : inline_) e = Entry{};
      entries_ = inline_;
      capacity = kInline;
    } else {
      heap_.reset(new Entry[capacity]());
      entries_ = heap_.get();
    }
    mask_ = capacity - 1;
    size_ = 0;
  }
  // REQUIRES: capacity > mask_ + 1, and > kInline when the entries are
  // inline_ (the old entries stay intact meanwhile).
  void rehash(size_t capacity) {
    size_t n = mask_ + 1;
    std::unique_ptr<Entry[]> old_heap = std::move(heap_);
    const Entry* old = old_heap ? old_heap.get() : entries_;  // reset() leaves these alone here
    reset(capacity);
    for (size_t i = 0; i < n; ++i) {
      if (old[i].key != 0) {
        place(old[i].key, old[i].value);
        ++size_;
      }
    }
  }

  // Never written: every insert into a table of one entry rehashes first.
  static constexpr Entry kNoEntries[1] = {};

  Entry* entries_;  // kNoEntries, inline_ or heap_
  std::unique_ptr<Entry[]> heap_;
  Entry inline_[kInline];
  size_t mask_ = 0;
  size_t size_ = 0;
};

// A MemoList's storage, kept for the thread's next MemoList.
struct MemoListSpare {
  const void** items = nullptr;
  uint32_t capacity = 0;
  ~MemoListSpare() { std::free(items); }
};
inline thread_local MemoListSpare memo_list_spare;

// The objects of a memo by memo index (nullptr where an entry has no
// object), for a Pickler that finds entries through marks in its nodes
// (Node::memo_mark) instead of a MemoTable. The storage of a list that
// goes away is kept for the thread's next one: dumps() makes a list per
// call.
class MemoList {
 public:
  MemoList() {
    MemoListSpare& spare = memo_list_spare;
    if (spare.items != nullptr) {
      items_ = spare.items;
      capacity_ = spare.capacity;
      spare.items = nullptr;
      spare.capacity = 0;
    }
  }
  ~MemoList() {
    MemoListSpare& spare = memo_list_spare;
    if (spare.items == nullptr && capacity_ <= kKeepAtMost) {
      spare.items = items_;
      spare.capacity = capacity_;
    } else {
      std::free(items_);
    }
  }
  MemoList(const MemoList&) = delete;
  MemoList& operator=(const MemoList&) = delete;

  uint32_t size() const { return size_; }
  const void* operator[](uint32_t i) const { return items_[i]; }
  // Whether entry `i` exists and holds `p`.
  bool holds(uint32_t i, const void* p) const { return i < size_ && items_[i] == p; }
  void push(const void* p) {
    if (size_ == capacity_) [[unlikely]]
      grow();
    items_[size_++] = p;
  }
  void set(uint32_t i, const void* p) { items_[i] = p; }
  void truncate(uint32_t n) { size_ = std::min(size_, n); }
  void clear() { size_ = 0; }

 private:
  static constexpr uint32_t kKeepAtMost = 64 * 1024;
  [[gnu::noinline]] void grow() {
    if (capacity_ == UINT32_MAX) throw std::length_error("memo too large");
    uint32_t capacity = capacity_ < 64 ? 64 : capacity_ > UINT32_MAX / 2 ? UINT32_MAX : capacity_ * 2;
    void* bigger = std::realloc(items_, sizeof(const void*) * capacity);
    if (bigger == nullptr) throw std::bad_alloc();
    items_ = static_cast<const void**>(bigger);
    capacity_ = capacity;
  }

  const void** items_ = nullptr;
  uint32_t size_ = 0;
  uint32_t capacity_ = 0;
};

}  // namespace shelf::pickle::internal
