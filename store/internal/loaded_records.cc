#include "store/internal/loaded_records.h"

#include <stdexcept>

#include "pickle/internal/text_hash.h"

namespace shelf::store::internal {

namespace {

constexpr size_t kMinIndex = 16;

}  // namespace

uint32_t LoadedRecords::hash_key(std::string_view key) {
  uint64_t h = pickle::internal::text_hash(key);
  return static_cast<uint32_t>(h ^ (h >> 32));
}

size_t LoadedRecords::probe(std::string_view key, uint32_t hash) const {
  const size_t mask = index_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& slot = index_[i];
    if (slot.entry_plus_one == 0) return i;
    if (slot.hash == hash && key_of(entries_[slot.entry_plus_one - 1]) == key) return i;
  }
}

const pickle::Value* LoadedRecords::find(std::string_view key) const {
  if (index_.empty()) return nullptr;
  const Slot& slot = index_[probe(key, hash_key(key))];
  if (slot.entry_plus_one == 0) return nullptr;
  return &entries_[slot.entry_plus_one - 1].value;
}

void LoadedRecords::set(std::string_view key, const pickle::Value& value) {
  const uint32_t hash = hash_key(key);
  if (!index_.empty()) {
    const Slot& slot = index_[probe(key, hash)];
    if (slot.entry_plus_one != 0) {
      entries_[slot.entry_plus_one - 1].value = value;
      return;
    }
  }
  if (entries_.size() >= UINT32_MAX || keys_.size() + key.size() > UINT32_MAX)
    throw std::length_error("a transaction cannot load more than 4G records or 4 GiB of keys");
  // At most 3/4 full: linear probing stays short.
  if ((size() + 1) * 4 > index_.size() * 3) grow_index();
  const auto entry = static_cast<uint32_t>(entries_.size());
  entries_.push_back({static_cast<uint32_t>(keys_.size()), static_cast<uint32_t>(key.size()), hash, false, value});
  keys_.append(key);
  insert_slot(entry, hash);
}

bool LoadedRecords::erase(std::string_view key) {
  if (index_.empty()) return false;
  size_t hole = probe(key, hash_key(key));
  if (index_[hole].entry_plus_one == 0) return false;
  Entry& entry = entries_[index_[hole].entry_plus_one - 1];
  entry.erased = true;
  entry.value = pickle::Value();
  ++erased_;
  // Backward-shift deletion: pull later slots of the probe run into the
  // hole unless that would put them before their home slot.
  const size_t mask = index_.size() - 1;
  for (size_t j = (hole + 1) & mask; index_[j].entry_plus_one != 0; j = (j + 1) & mask) {
    size_t home = index_[j].hash & mask;
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      index_[hole] = index_[j];
      hole = j;
    }
  }
  index_[hole] = Slot{0, 0};
  if (!visiting_ && erased_ > 64 && erased_ * 2 > entries_.size()) compact();
  return true;
}

void LoadedRecords::insert_slot(uint32_t entry, uint32_t hash) {
  const size_t mask = index_.size() - 1;
  size_t i = hash & mask;
  while (index_[i].entry_plus_one != 0) i = (i + 1) & mask;
  index_[i] = Slot{entry + 1, hash};
}

void LoadedRecords::grow_index() {
  std::vector<Slot> old = std::move(index_);
  index_.assign(old.empty() ? kMinIndex : old.size() * 2, Slot{0, 0});
  for (const Slot& slot : old)
    if (slot.entry_plus_one != 0) insert_slot(slot.entry_plus_one - 1, slot.hash);
}

void LoadedRecords::compact() {
  std::vector<Entry> entries;
  std::string keys;
  entries.reserve(size());
  keys.reserve(keys_.size());
  size_t visited = 0;
  for (size_t i = 0; i < entries_.size(); ++i) {
    Entry& e = entries_[i];
    if (e.erased) continue;
    if (i < visited_) ++visited;
    entries.push_back({static_cast<uint32_t>(keys.size()), e.key_size, e.hash, false, std::move(e.value)});
    keys.append(key_of(e));
  }
  entries_ = std::move(entries);
  keys_ = std::move(keys);
  visited_ = visited;
  erased_ = 0;
  std::fill(index_.begin(), index_.end(), Slot{0, 0});
  for (size_t i = 0; i < entries_.size(); ++i) insert_slot(static_cast<uint32_t>(i), entries_[i].hash);
}

}  // namespace shelf::store::internal
