// store/internal/txn_state.h: what a transaction handle holds. Never
// installed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pickle/value.h"
#include "store/internal/lmdb_env.h"

namespace shelf::store::internal {

// A write as it was asked for, kept until commit so that the transaction
// can be re-applied when the map must grow (LMDB can only grow it between
// transactions).
struct LoggedWrite {
  bool erase;
  std::string key;
  std::string bytes;
};

// The objects a transaction has loaded: one per record, all in one graph.
// A session keeps one across the transactions it begins, so identity lasts
// as long as the session.
struct Identity {
  pickle::Graph graph;
  std::unordered_map<std::string, pickle::Value> loaded;
  std::vector<std::string> load_order;  // keys as they were first loaded
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
  std::vector<LoggedWrite> log;
  std::vector<size_t> savepoint_starts;
  uint64_t lmdb_txn_id = 0;
  bool finished = false;

  std::shared_ptr<Identity> identity = std::make_shared<Identity>();

  MDB_txn* top() const { return stack.back()->get(); }
  // Runs the write at log[index] on the innermost transaction.
  int apply(const LoggedWrite& write);
  // Logs `write` and applies it, growing the map and replaying as needed.
  // Returns what mdb_del said for an erase (MDB_NOTFOUND or 0).
  int perform(LoggedWrite write);
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
