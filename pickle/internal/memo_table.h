// pickle/internal/memo_table.h: the Pickler's memo: object address -> memo
// index, as an open-addressing table with CPython's probe sequence
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

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <memory>
#include <utility>

namespace shelf::pickle::internal {

class MemoTable {
 public:
  static constexpr uint32_t kMissing = UINT32_MAX;

  MemoTable() { reset(kInline); }
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

  void clear() {
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
  struct Entry {
    uintptr_t key = 0;
    uint32_t value = 0;
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
      heap_.reset(new Entry[capacity]);
      entries_ = heap_.get();
    }
    mask_ = capacity - 1;
    size_ = 0;
  }
  // REQUIRES: capacity > kInline (the old entries stay intact meanwhile).
  void rehash(size_t capacity) {
    size_t n = mask_ + 1;
    std::unique_ptr<Entry[]> old_heap = std::move(heap_);
    const Entry* old = old_heap ? old_heap.get() : inline_;  // reset() leaves inline_ alone here
    reset(capacity);
    for (size_t i = 0; i < n; ++i) {
      if (old[i].key != 0) {
        place(old[i].key, old[i].value);
        ++size_;
      }
    }
  }

  Entry* entries_ = nullptr;  // inline_ or heap_
  std::unique_ptr<Entry[]> heap_;
  Entry inline_[kInline];
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace shelf::pickle::internal
