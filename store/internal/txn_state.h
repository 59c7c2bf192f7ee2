// store/internal/txn_state.h: what a transaction handle holds. Never
// installed.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pickle/pickler.h"
#include "pickle/sink.h"
#include "pickle/unpickler.h"
#include "pickle/value.h"
#include "store/internal/lmdb_env.h"
#include "store/internal/loaded_records.h"

namespace shelf::store::internal {

// A write as it was asked for, kept until commit so that the transaction
// can be re-applied when the map must grow (LMDB can only grow it between
// transactions). Its key and bytes live in the WriteLog's chunks.
struct LoggedWrite {
  bool erase;
  std::string_view key;
  std::string_view bytes;
};

// Every write of a transaction, in order. Keys and values are copied into
// large chunks, so logging a write allocates nothing most of the time.
class WriteLog {
 public:
  const LoggedWrite& push(bool erase, std::string_view key, std::string_view bytes) {
    char* p = room(key.size() + bytes.size());
    std::memcpy(p, key.data(), key.size());
    if (!bytes.empty()) std::memcpy(p + key.size(), bytes.data(), bytes.size());
    writes_.push_back({erase, {p, key.size()}, {p + key.size(), bytes.size()}});
    return writes_.back();
  }
  void pop_back() { writes_.pop_back(); }
  // Forgets the writes from `n` on (their bytes stay until the log dies).
  void truncate(size_t n) { writes_.resize(n); }
  size_t size() const { return writes_.size(); }
  const LoggedWrite& operator[](size_t i) const { return writes_[i]; }
  const LoggedWrite& back() const { return writes_.back(); }

 private:
  // Chunks double from 4 KiB to 1 MiB: a transaction of one small put
  // (the common case) does not allocate, and touch, a megabyte.
  static constexpr size_t kFirstChunk = size_t{4} << 10;
  static constexpr size_t kMaxChunk = size_t{1} << 20;
  char* room(size_t n) {
    if (chunk_left_ < n) {
      size_t size = n > next_chunk_ / 4 ? n : next_chunk_;
      if (next_chunk_ < kMaxChunk) next_chunk_ *= 2;
      chunks_.emplace_back(new char[size]);
      chunk_next_ = chunks_.back().get();
      chunk_left_ = size;
    }
    char* p = chunk_next_;
    chunk_next_ += n;
    chunk_left_ -= n;
    return p;
  }

  std::vector<LoggedWrite> writes_;
  std::vector<std::unique_ptr<char[]>> chunks_;
  char* chunk_next_ = nullptr;
  size_t chunk_left_ = 0;
  size_t next_chunk_ = kFirstChunk;
};

// The objects a transaction has loaded: one per record, all in one graph.
// A session keeps one across the transactions it begins, so identity lasts
// as long as the session.
struct Identity {
  Identity() { load_options.into = graph; }
  pickle::Graph graph;
  LoadedRecords loaded;
  // Straight into `graph`: no copy of a record's objects from a graph of
  // their own. Made once, not per load.
  pickle::UnpicklerOptions load_options;
};

// State shared by a transaction and its savepoints.
struct SharedTxn {
  std::shared_ptr<Env> env;
  int protocol = 5;
  bool write = false;
  // The LMDB transactions: the root, then one per open savepoint.
  std::vector<std::unique_ptr<LmdbTxn>> stack;
  // Write transactions: every write so far, and where each savepoint's
  // writes begin in it.
  WriteLog log;
  std::vector<size_t> savepoint_starts;
  // put()'s Pickler, made at the first put, and the buffer it writes to:
  // one per transaction, its memo cleared per record, as a Session does.
  std::string put_buffer;
  std::unique_ptr<pickle::StringSink> put_sink;
  std::unique_ptr<pickle::Pickler> pickler;
  uint64_t lmdb_txn_id = 0;
  bool finished = false;
  // Bulk loads in key order: a key greater than every key of the shelf is
  // appended (MDB_APPEND) without a search of the tree, and pages fill up
  // instead of splitting in half. Tried while puts come in ascending key
  // order: after every put that was appended, else once in 64 ascending
  // puts (LMDB refuses, cheaply, a key that is not the greatest).
  std::string_view last_put_key;  // a view into the log
  size_t ascending_puts = 0;      // in a row, each greater than the one before
  bool appending = false;         // the last put was appended

  std::shared_ptr<Identity> identity = std::make_shared<Identity>();

  MDB_txn* top() const { return stack.back()->get(); }
  // Runs the write at log[index] on the innermost transaction.
  int apply(const LoggedWrite& write);
  // Whether the put of `key` should try MDB_APPEND first (see above).
  bool try_append(std::string_view key);
  // Logs the write and applies it, growing the map and replaying as needed.
  // Returns what mdb_del said for an erase (MDB_NOTFOUND or 0).
  int perform(bool erase, std::string_view key, std::string_view bytes);
  // Aborts everything, grows the map, and rebuilds the same nesting with
  // the same writes. Throws kConflict if another writer committed since
  // this transaction began (its reads may be stale).
  void regrow_and_replay();
  void end_all();
};

// A handle's view: the shared state and which nesting level it is.
struct TxnState {
  std::shared_ptr<SharedTxn> shared;
  size_t level = 0;
  bool done = false;
};

// Throws kBadKey unless LMDB can store `key` in `env`.
void check_key(const Env& env, std::string_view key);

// `identity`, when given, is where loaded objects go (and come from).
std::unique_ptr<TxnState> begin_read(const std::shared_ptr<Env>& env, int protocol,
                                     std::shared_ptr<Identity> identity = nullptr);
std::unique_ptr<TxnState> begin_write(const std::shared_ptr<Env>& env, int protocol,
                                      std::shared_ptr<Identity> identity = nullptr);

}  // namespace shelf::store::internal
