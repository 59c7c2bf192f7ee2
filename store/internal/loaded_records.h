// store/internal/loaded_records.h: the identity map of a transaction (key ->
// the object loaded for it), flat. Never installed.
//
// A transaction that reads every record of a big shelf adds one entry per
// record, so an entry costs what matters here: no allocation of its own (a
// std::unordered_map node per key was a malloc, a free at teardown and a
// cache miss per lookup), the key's bytes copied once into one buffer, and
// an index of 8-byte slots probed without touching the entries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pickle/value.h"

namespace shelf::store::internal {

class LoadedRecords {
 public:
  // The object loaded for `key`, or nullptr. Valid until the next set(),
  // erase() or compaction.
  const pickle::Value* find(std::string_view key) const;
  // Records `value` as the object of `key`, replacing any there was.
  void set(std::string_view key, const pickle::Value& value);
  // Forgets `key`; false when it was not there.
  bool erase(std::string_view key);
  size_t size() const { return entries_.size() - erased_; }

  // Calls visit(key, value) for every entry set since the last call, in
  // the order they were set (a Session registers the records its
  // transactions load this way). Entries erased since are skipped.
  template <typename Visit>
  void visit_new(Visit visit) {
    // visit() may set or erase entries (so no reference into entries_ is
    // held across it), but nothing is compacted meanwhile: visited_ would
    // lose its place.
    visiting_ = true;
    try {
      for (; visited_ < entries_.size(); ++visited_) {
        if (entries_[visited_].erased) continue;
        pickle::Value value = entries_[visited_].value;
        std::string key(key_of(entries_[visited_]));
        visit(key, value);
      }
    } catch (...) {
      visiting_ = false;
      throw;
    }
    visiting_ = false;
  }

 private:
  struct Entry {
    uint32_t key_offset;
    uint32_t key_size;
    uint32_t hash;
    bool erased;
    pickle::Value value;
  };
  // A slot of the index: 0 when empty, else the entry's index + 1, with
  // the entry's hash so that a probe compares keys only on a likely match.
  struct Slot {
    uint32_t entry_plus_one;
    uint32_t hash;
  };

  static uint32_t hash_key(std::string_view key);
  std::string_view key_of(const Entry& e) const { return {keys_.data() + e.key_offset, e.key_size}; }
  // The slot holding `key`, or the empty slot where it would go.
  size_t probe(std::string_view key, uint32_t hash) const;
  void insert_slot(uint32_t entry, uint32_t hash);
  void grow_index();
  // Drops erased entries once they outnumber the live ones.
  void compact();

  std::vector<Entry> entries_;  // in the order they were set
  std::string keys_;            // every entry's key bytes, back to back
  std::vector<Slot> index_;     // open addressing, linear probing; size a power of two
  size_t erased_ = 0;
  size_t visited_ = 0;  // entries visit_new() has passed
  bool visiting_ = false;
};

}  // namespace shelf::store::internal
