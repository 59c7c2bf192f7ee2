#include "store/session.h"

#include <list>
#include <unordered_map>
#include <vector>

#include "pickle/pickler.h"
#include "store/internal/lmdb_env.h"
#include "store/internal/txn_state.h"

namespace shelf::store {

namespace {

struct Record {
  pickle::Value value;
  // The record's bytes in the snapshot this session last synchronized
  // with; nullopt when it did not exist there.
  std::optional<std::string> original;
  uint64_t fingerprint = 0;  // mutation counters of its nodes when clean
  bool replaced = false;     // put() since the last commit
  bool erased = false;
  std::list<std::string>::iterator lru;
};

}  // namespace

class Session::Impl {
 public:
  Impl(Shelf& shelf, SessionOptions options) : shelf_(shelf), options_(options) { begin_snapshot(); }

  std::optional<pickle::Value> find(std::string_view key, Resolve resolve) {
    auto found = records_.find(std::string(key));
    if (found != records_.end()) {
      if (found->second.erased) return std::nullopt;
      touch(found->second);
      if (resolve.depth == 0) return found->second.value;
    }
    std::optional<pickle::Value> value = txn_->find(key, resolve);
    adopt_new_loads();
    return value;
  }

  pickle::Value resolve(const pickle::Value& ref) {
    pickle::Value value = txn_->resolve(ref);
    adopt_new_loads();
    return value;
  }

  bool contains(std::string_view key) {
    auto found = records_.find(std::string(key));
    if (found != records_.end()) return !found->second.erased;
    return txn_->contains(key);
  }

  pickle::Value put(std::string_view key, const pickle::Value& value) {
    internal::check_key(*shelf_.env_, key);
    if (shelf_.readonly())
      throw StoreError(StoreErrorCode::kReadOnly, "the shelf '" + shelf_.path().string() + "' is open read-only");
    std::string k(key);
    pickle::Value adopted = identity_->graph.adopt(value);
    Record& rec = record_for(k);
    if (rec.value.identity()) roots_.erase(rec.value.identity());
    rec.value = adopted;
    rec.replaced = true;
    rec.erased = false;
    if (adopted.identity()) roots_[adopted.identity()] = k;
    identity_->loaded.set(k, adopted);
    return adopted;
  }

  bool erase(std::string_view key) {
    if (!contains(key)) return false;
    std::string k(key);
    Record& rec = record_for(k);
    if (rec.value.identity()) roots_.erase(rec.value.identity());
    rec.erased = true;
    rec.replaced = false;
    identity_->loaded.erase(k);
    return true;
  }

  size_t commit() {
    pickle::Graph scratch;  // persistent ids written by this commit
    std::string current_key;
    pickle::PicklerOptions options;
    options.protocol = shelf_.protocol();
    options.persistent_id = [&](const pickle::Value& v) -> std::optional<pickle::Value> {
      const void* id = v.identity();
      if (!id) return std::nullopt;
      auto root = roots_.find(id);
      if (root == roots_.end() || root->second == current_key) return std::nullopt;
      return scratch.str(root->second);
    };
    std::string buffer;
    pickle::StringSink sink(buffer);
    pickle::Pickler pickler(sink, options);  // one Pickler, memo cleared per record

    struct Planned {
      Record* rec;
      const std::string* key;
      std::optional<std::string> bytes;  // nullopt: erase
      uint64_t fingerprint;
    };
    std::vector<Planned> plan;
    bool graph_untouched = identity_->graph.mutation_count() == clean_mutations_;
    for (auto& [key, rec] : records_) {
      if (rec.erased) {
        if (rec.original) plan.push_back({&rec, &key, std::nullopt, 0});
        continue;
      }
      if (!rec.replaced && graph_untouched) continue;
      uint64_t fp = fingerprint(rec.value);
      if (!rec.replaced && fp == rec.fingerprint) continue;
      current_key = key;
      buffer.clear();
      pickler.clear_memo();
      pickler.dump(rec.value);
      if (rec.original && *rec.original == buffer) {
        rec.fingerprint = fp;
        rec.replaced = false;
        ++stats_.unchanged;
        continue;
      }
      plan.push_back({&rec, &key, buffer, fp});
    }

    if (!plan.empty()) {
      WriteTxn write = shelf_.write();
      for (const Planned& p : plan) {
        std::optional<std::string_view> now = write.get_raw(*p.key);
        bool same = now.has_value() == p.rec->original.has_value() && (!now || *now == *p.rec->original);
        if (!same)
          throw StoreError(StoreErrorCode::kConflict,
                           "record '" + *p.key + "' was changed by another writer since this session read it; "
                           "abort and retry");
      }
      for (const Planned& p : plan) {
        if (p.bytes) write.put_raw(*p.key, *p.bytes);
        else write.erase(*p.key);
      }
      write.commit();
      stats_.writes += plan.size();
    }

    for (const Planned& p : plan) {
      if (!p.bytes) {
        forget(*p.key);
        continue;
      }
      p.rec->original = p.bytes;
      p.rec->fingerprint = p.fingerprint;
      p.rec->replaced = false;
    }
    for (auto it = records_.begin(); it != records_.end();) {
      // Erasures of records that never existed leave nothing to write.
      auto next = std::next(it);
      if (it->second.erased) forget(it->first);
      it = next;
    }
    begin_snapshot();
    invalidate_changed();
    clean_mutations_ = identity_->graph.mutation_count();
    return plan.size();
  }

  void abort() {
    records_.clear();
    lru_.clear();
    roots_.clear();
    identity_.reset();
    begin_snapshot();
  }

  pickle::Graph graph() const { return identity_->graph; }
  const SessionStats& stats() const { return stats_; }
  size_t cached() const { return records_.size(); }

 private:
  void begin_snapshot() {
    txn_.reset();
    if (!identity_) {
      identity_ = std::make_shared<internal::Identity>();
      clean_mutations_ = identity_->graph.mutation_count();
    }
    txn_.emplace(ReadTxn(internal::begin_read(shelf_.env_, shelf_.protocol(), identity_)));
  }

  // Tracks the records the transaction loaded since the last call.
  void adopt_new_loads() {
    identity_->loaded.visit_new([&](const std::string& key, const pickle::Value& value) {
      if (records_.count(key)) return;
      Record& rec = record_for(key);
      rec.value = value;
      rec.fingerprint = fingerprint(rec.value);
      if (rec.value.identity()) roots_[rec.value.identity()] = key;
      ++stats_.loads;
    });
    evict_if_needed();
  }

  // The record for `key`, created with its snapshot bytes when new.
  Record& record_for(const std::string& key) {
    auto found = records_.find(key);
    if (found != records_.end()) {
      touch(found->second);
      return found->second;
    }
    Record& rec = records_[key];
    if (std::optional<std::string_view> raw = txn_->get_raw(key)) rec.original = std::string(*raw);
    lru_.push_front(key);
    rec.lru = lru_.begin();
    return rec;
  }

  void touch(Record& rec) { lru_.splice(lru_.begin(), lru_, rec.lru); }

  void forget(const std::string& key) {
    auto found = records_.find(key);
    if (found == records_.end()) return;
    if (found->second.value.identity()) {
      auto root = roots_.find(found->second.value.identity());
      if (root != roots_.end() && root->second == key) roots_.erase(root);
    }
    lru_.erase(found->second.lru);
    identity_->loaded.erase(key);
    records_.erase(found);
  }

  bool clean(Record& rec) {
    return !rec.replaced && !rec.erased && fingerprint(rec.value) == rec.fingerprint;
  }

  void evict_if_needed() {
    if (records_.size() <= options_.cache_size) return;
    for (auto it = lru_.end(); it != lru_.begin() && records_.size() > options_.cache_size;) {
      --it;
      Record& rec = records_.at(*it);
      if (!clean(rec)) continue;
      std::string key = *it;
      ++it;  // forget() erases the node `it` pointed at
      forget(key);
      ++stats_.evictions;
    }
  }

  // Drops clean records whose bytes another writer changed.
  void invalidate_changed() {
    std::vector<std::string> stale;
    for (auto& [key, rec] : records_) {
      if (rec.replaced || rec.erased) continue;
      std::optional<std::string_view> now = txn_->get_raw(key);
      bool same = now.has_value() == rec.original.has_value() && (!now || *now == *rec.original);
      if (!same) stale.push_back(key);
    }
    for (const std::string& key : stale) forget(key);
    stats_.invalidations += stale.size();
  }

  // A digest of the mutation counters of every node of a record, not
  // entering other records' roots: equal digests mean nothing changed.
  uint64_t fingerprint(const pickle::Value& root) const {
    uint64_t h = 0x9e3779b97f4a7c15ull;
    pickle::walk(root, [&](const pickle::Value& node) {
      if (!node.is(root) && roots_.count(node.identity())) return false;
      uint64_t x = reinterpret_cast<uintptr_t>(node.identity()) * 0x9e3779b97f4a7c15ull + node.version();
      h = (h ^ x) * 0x100000001b3ull;
      return true;
    });
    return h;
  }

  Shelf& shelf_;
  SessionOptions options_;
  std::shared_ptr<internal::Identity> identity_;
  std::optional<ReadTxn> txn_;
  std::unordered_map<std::string, Record> records_;
  std::list<std::string> lru_;
  std::unordered_map<const void*, std::string> roots_;  // root node -> its record's key
  uint64_t clean_mutations_ = 0;
  SessionStats stats_;
};

Session::Session(Shelf& shelf, SessionOptions options) : impl_(std::make_unique<Impl>(shelf, options)) {}
Session::~Session() = default;

std::optional<pickle::Value> Session::find(std::string_view key, Resolve resolve) { return impl_->find(key, resolve); }
pickle::Value Session::get(std::string_view key, Resolve resolve) {
  std::optional<pickle::Value> value = impl_->find(key, resolve);
  if (!value) throw KeyNotFound(std::string(key));
  return *value;
}
pickle::Value Session::resolve(const pickle::Value& ref) { return impl_->resolve(ref); }
bool Session::contains(std::string_view key) { return impl_->contains(key); }
pickle::Value Session::put(std::string_view key, const pickle::Value& value) { return impl_->put(key, value); }
bool Session::erase(std::string_view key) { return impl_->erase(key); }
size_t Session::commit() { return impl_->commit(); }
void Session::abort() { impl_->abort(); }
pickle::Graph Session::graph() const { return impl_->graph(); }
const SessionStats& Session::stats() const { return impl_->stats(); }
size_t Session::cached_records() const { return impl_->cached(); }

}  // namespace shelf::store
