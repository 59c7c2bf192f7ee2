// pickle/internal/memo_table.h: the Pickler's memo: object address -> memo
// index, as an open-addressing table (linear probing, power-of-two size).
// Far faster than std::unordered_map for the one lookup every container,
// str and bytes costs while pickling.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace shelf::pickle::internal {

class MemoTable {
 public:
  static constexpr uint32_t kMissing = UINT32_MAX;

  MemoTable() { reset(16); }

  // The memo index of `key`, or kMissing.
  uint32_t find(const void* key) const {
    uintptr_t k = reinterpret_cast<uintptr_t>(key);
    for (size_t i = slot_of(k);; i = (i + 1) & mask_) {
      const Entry& e = entries_[i];
      if (e.key == k) return e.value;
      if (e.key == 0) return kMissing;
    }
  }

  // Records `key` -> `value`. REQUIRES: key is not in the table, not null.
  void insert(const void* key, uint32_t value) {
    if ((size_ + 1) * 4 > (mask_ + 1) * 3) rehash((mask_ + 1) * 2);
    place(reinterpret_cast<uintptr_t>(key), value);
    ++size_;
  }

  size_t size() const { return size_; }

  void clear() {
    if (mask_ + 1 > 1024) {
      reset(16);
    } else {
      for (size_t i = 0; i <= mask_; ++i) entries_[i] = Entry{};
      size_ = 0;
    }
  }

  // Drops every entry whose value is >= `first`: undoes a failed dump.
  void truncate(uint32_t first) {
    size_t n = mask_ + 1;
    std::unique_ptr<Entry[]> old = std::move(entries_);
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

  size_t slot_of(uintptr_t k) const {
    // Nodes are 8-aligned: mix the address so neighbours spread out.
    return static_cast<size_t>((k * 0x9E3779B97F4A7C15ull) >> shift_) & mask_;
  }
  void place(uintptr_t k, uint32_t value) {
    size_t i = slot_of(k);
    while (entries_[i].key != 0) i = (i + 1) & mask_;
    entries_[i].key = k;
    entries_[i].value = value;
  }
  void reset(size_t capacity) {
    entries_.reset(new Entry[capacity]);
    mask_ = capacity - 1;
    size_ = 0;
    int bits = 0;
    while ((size_t{1} << bits) < capacity) ++bits;
    shift_ = 64 - bits;
  }
  void rehash(size_t capacity) {
    size_t n = mask_ + 1;
    std::unique_ptr<Entry[]> old = std::move(entries_);
    reset(capacity);
    for (size_t i = 0; i < n; ++i) {
      if (old[i].key != 0) {
        place(old[i].key, old[i].value);
        ++size_;
      }
    }
  }

  std::unique_ptr<Entry[]> entries_;
  size_t mask_ = 0;
  size_t size_ = 0;
  int shift_ = 60;
};

}  // namespace shelf::pickle::internal
