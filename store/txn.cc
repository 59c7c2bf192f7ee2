#include "store/txn.h"


#include "pickle/internal/utf8.h"
#include "pickle/pickler.h"
#include "pickle/unpickler.h"
#include "store/internal/lmdb_env.h"
#include "store/internal/txn_state.h"
#include "store/shelf.h"

namespace shelf::store {

using internal::check;
using internal::from_val;
using internal::LmdbTxn;
using internal::LoggedWrite;
using internal::SharedTxn;
using internal::to_val;
using internal::TxnState;

namespace internal {

void check_key(const Env& env, std::string_view key) {
  if (key.empty()) throw StoreError(StoreErrorCode::kBadKey, "keys must not be empty");
  if (key.size() > env.max_key_size())
    throw StoreError(StoreErrorCode::kBadKey, "key of " + std::to_string(key.size()) +
                                                  " bytes is longer than LMDB's limit of " +
                                                  std::to_string(env.max_key_size()) + " bytes");
  if (!pickle::internal::is_ascii(key) && !pickle::internal::valid_utf8_strict(key))
    throw StoreError(StoreErrorCode::kBadKey, "keys must be UTF-8 text");
}

int SharedTxn::apply(const LoggedWrite& w) {
  MDB_val key = to_val(w.key);
  if (w.erase) return mdb_del(top(), env->records(), &key, nullptr);
  MDB_val data = to_val(w.bytes);
  return mdb_put(top(), env->records(), &key, &data, 0);
}

bool SharedTxn::try_append(std::string_view key) {
  constexpr size_t kRetryEvery = 64;
  bool ascending = last_put_key.data() == nullptr || key > last_put_key;
  last_put_key = key;
  if (!ascending) {
    ascending_puts = 0;
    appending = false;
    return false;
  }
  ++ascending_puts;
  return appending || ascending_puts % kRetryEvery == 1;
}

int SharedTxn::perform(bool erase, std::string_view key, std::string_view bytes) {
  const LoggedWrite& write = log.push(erase, key, bytes);
  int rc;
  if (!erase && try_append(write.key)) {
    MDB_val k = to_val(write.key);
    MDB_val data = to_val(write.bytes);
    rc = mdb_put(top(), env->records(), &k, &data, MDB_APPEND);
    appending = rc != MDB_KEYEXIST;
    if (!appending) rc = apply(write);
  } else {
    rc = apply(write);
  }
  if (rc == MDB_MAP_FULL) {
    regrow_and_replay();
    return 0;
  }
  if (rc != 0 && !(rc == MDB_NOTFOUND && log.back().erase)) {
    log.pop_back();
    check(rc, "writing a record");
  }
  return rc;
}

void SharedTxn::regrow_and_replay() {
  const size_t depth = stack.size() == 0 ? 1 : stack.size();
  for (;;) {
    while (!stack.empty()) stack.pop_back();  // savepoints first, then the root
    env->grow(env->map_size() * 2);
    stack.push_back(std::make_unique<LmdbTxn>(*env, nullptr, false));
    if (mdb_txn_id(top()) != lmdb_txn_id) {
      end_all();
      throw StoreError(StoreErrorCode::kConflict,
                       "another writer committed while the map grew; the transaction was rolled back, retry it");
    }
    bool full = false;
    size_t start = 0;
    for (size_t level = 0; level < depth && !full; ++level) {
      if (level > 0) stack.push_back(std::make_unique<LmdbTxn>(*env, stack.back().get(), false));
      size_t end = level + 1 < depth ? savepoint_starts[level] : log.size();
      for (size_t i = start; i < end; ++i) {
        int rc = apply(log[i]);
        if (rc == MDB_MAP_FULL) {
          full = true;
          break;
        }
        if (rc != 0 && rc != MDB_NOTFOUND) check(rc, "re-applying a write after the map grew");
      }
      start = end;
    }
    if (!full) return;
  }
}

void SharedTxn::end_all() {
  while (!stack.empty()) stack.pop_back();
  finished = true;
}

std::unique_ptr<TxnState> begin_read(const std::shared_ptr<Env>& env, int protocol,
                                     std::shared_ptr<Identity> identity) {
  auto shared = std::make_shared<SharedTxn>();
  shared->env = env;
  shared->protocol = protocol;
  if (identity) shared->identity = std::move(identity);
  shared->stack.push_back(std::make_unique<LmdbTxn>(*env, nullptr, true));
  auto state = std::make_unique<TxnState>();
  state->shared = std::move(shared);
  return state;
}

std::unique_ptr<TxnState> begin_write(const std::shared_ptr<Env>& env, int protocol,
                                      std::shared_ptr<Identity> identity) {
  if (env->readonly())
    throw StoreError(StoreErrorCode::kReadOnly, "the shelf '" + env->path().string() + "' is open read-only");
  auto shared = std::make_shared<SharedTxn>();
  shared->env = env;
  shared->protocol = protocol;
  if (identity) shared->identity = std::move(identity);
  shared->write = true;
  shared->stack.push_back(std::make_unique<LmdbTxn>(*env, nullptr, false));
  shared->lmdb_txn_id = mdb_txn_id(shared->top());
  auto state = std::make_unique<TxnState>();
  state->shared = std::move(shared);
  return state;
}

}  // namespace internal

namespace {

void forget_loaded(internal::Identity& identity, std::string_view key) { identity.loaded.erase(key); }

// Throws unless the handle may be used now: not finished, and (for a
// transaction with savepoints) the innermost open level.
SharedTxn& usable(const TxnState& state) {
  if (state.done || state.shared->finished)
    throw StoreError(StoreErrorCode::kTxnState, "the transaction has already ended");
  if (state.shared->stack.size() != state.level + 1)
    throw StoreError(StoreErrorCode::kTxnState, "a savepoint of this transaction is still open");
  return *state.shared;
}

}  // namespace

// --- Txn ---------------------------------------------------------------------

Txn::Txn() = default;
Txn::Txn(std::unique_ptr<TxnState> state) : state_(std::move(state)) {}
Txn::~Txn() = default;
Txn::Txn(Txn&&) noexcept = default;
Txn& Txn::operator=(Txn&&) noexcept = default;

TxnState& Txn::state() const {
  if (!state_) throw StoreError(StoreErrorCode::kTxnState, "the transaction was moved from");
  return *state_;
}

pickle::Graph Txn::graph() const { return state().shared->identity->graph; }

std::optional<std::string_view> Txn::get_raw(std::string_view key) const& {
  SharedTxn& s = usable(state());
  internal::check_key(*s.env, key);
  MDB_val k = to_val(key);
  MDB_val v;
  int rc = mdb_get(s.top(), s.env->records(), &k, &v);
  if (rc == MDB_NOTFOUND) return std::nullopt;
  check(rc, "reading a record");
  return from_val(v);
}

std::optional<pickle::Value> Txn::find(std::string_view key, Resolve resolve) {
  SharedTxn& s = usable(state());
  pickle::Value value;
  if (const pickle::Value* cached = s.identity->loaded.find(key)) {
    value = *cached;
  } else {
    std::optional<std::string_view> raw = get_raw(key);
    if (!raw) return std::nullopt;
    try {
      value = pickle::loads(*raw, s.identity->load_options);
    } catch (const pickle::UnpicklingError& e) {
      throw StoreError(StoreErrorCode::kBadRecord, "record '" + std::string(key) + "': " + e.what());
    }
    s.identity->loaded.set(key, value);
  }
  if (resolve.depth == 0) return value;

  // Breadth-first over references, up to the requested depth; then put the
  // loaded records in place of the references that reached them. Every
  // record is loaded before anything is patched, so a dangling reference
  // throws with the loaded objects untouched.
  internal::LoadedRecords reached;  // flat: no allocation per record reached
  reached.set(key, value);
  std::vector<std::pair<pickle::Value, size_t>> queue{{value, 0}};
  std::vector<pickle::Value> to_patch;
  for (size_t i = 0; i < queue.size(); ++i) {
    auto [current, depth] = queue[i];
    if (depth >= resolve.depth) continue;
    to_patch.push_back(current);
    for (const pickle::Value& r : pickle::persistent_refs(current)) {
      std::optional<std::string> target = reference_key(r);
      if (!target || reached.find(*target)) continue;
      pickle::Value target_value = this->resolve(r);
      reached.set(*target, target_value);
      queue.emplace_back(target_value, depth + 1);
    }
  }
  auto lookup = [&](const pickle::Value& r) -> std::optional<pickle::Value> {
    std::optional<std::string> target = reference_key(r);
    if (!target) return std::nullopt;
    const pickle::Value* found = reached.find(*target);
    if (!found) return std::nullopt;
    return *found;
  };
  pickle::Value result = value;
  for (size_t i = 0; i < to_patch.size(); ++i) {
    pickle::Value patched = pickle::replace_persistent_refs(to_patch[i], lookup);
    if (i == 0) result = patched;
  }
  return result;
}

pickle::Value Txn::get(std::string_view key, Resolve resolve) {
  std::optional<pickle::Value> value = find(key, resolve);
  if (!value) throw KeyNotFound(std::string(key));
  return *value;
}

pickle::Value Txn::resolve(const pickle::Value& ref) {
  if (ref.kind() != pickle::Kind::PersistentRef) return ref;
  std::optional<std::string> key = reference_key(ref);
  if (!key)
    throw StoreError(StoreErrorCode::kDanglingReference, "a persistent reference whose id is not a record key");
  std::optional<pickle::Value> value;
  try {
    value = find(*key);
  } catch (const StoreError& e) {
    if (e.code() != StoreErrorCode::kBadKey) throw;
  }
  if (!value)
    throw StoreError(StoreErrorCode::kDanglingReference, "reference to missing record '" + *key + "'");
  return *value;
}

bool Txn::contains(std::string_view key) const { return get_raw(key).has_value(); }

size_t Txn::size() const {
  SharedTxn& s = usable(state());
  MDB_stat stat;
  check(mdb_stat(s.top(), s.env->records(), &stat), "counting records");
  return stat.ms_entries;
}

namespace {

// Walks records from the first key >= `from` while `keep(key)` holds.
template <typename Keep>
void walk(SharedTxn& s, std::string_view from, Keep keep, const Txn::Visitor& visit) {
  MDB_cursor* cursor = nullptr;
  check(mdb_cursor_open(s.top(), s.env->records(), &cursor), "opening a cursor");
  struct CursorCloser {
    MDB_cursor* c;
    ~CursorCloser() { mdb_cursor_close(c); }
  } closer{cursor};
  MDB_val k = to_val(from);
  MDB_val v;
  int rc = from.empty() ? mdb_cursor_get(cursor, &k, &v, MDB_FIRST) : mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE);
  while (rc == 0) {
    RawRecord record{from_val(k), from_val(v)};
    if (!keep(record.key) || !visit(record)) return;
    rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
  }
  if (rc != MDB_NOTFOUND) check(rc, "scanning records");
}

}  // namespace

void Txn::scan(const Visitor& visit) const {
  walk(usable(state()), {}, [](std::string_view) { return true; }, visit);
}

void Txn::scan_prefix(std::string_view prefix, const Visitor& visit) const {
  walk(usable(state()), prefix, [prefix](std::string_view key) { return key.starts_with(prefix); }, visit);
}

void Txn::scan_range(std::string_view first, std::string_view last, const Visitor& visit) const {
  walk(usable(state()), first, [last](std::string_view key) { return key < last; }, visit);
}

std::vector<std::string> Txn::keys(std::string_view prefix) const {
  std::vector<std::string> out;
  scan_prefix(prefix, [&](const RawRecord& r) {
    out.emplace_back(r.key);
    return true;
  });
  return out;
}

// --- ReadTxn -------------------------------------------------------------------

ReadTxn::ReadTxn(std::unique_ptr<TxnState> state) : Txn(std::move(state)) {}

void ReadTxn::end() {
  if (state_ && !state_->done) {
    state_->shared->end_all();
    state_->done = true;
  }
}

// --- WriteTxn ------------------------------------------------------------------

WriteTxn::WriteTxn(std::unique_ptr<TxnState> state) : Txn(std::move(state)) {}

WriteTxn::~WriteTxn() {
  if (state_ && !state_->done && !state_->shared->finished) {
    try {
      abort();
    } catch (...) {
      // Destructors never throw; an LMDB abort cannot fail anyway.
    }
  }
}

bool WriteTxn::active() const { return state_ && !state_->done && !state_->shared->finished; }

void WriteTxn::put(std::string_view key, const pickle::Value& value) {
  SharedTxn& s = usable(state());
  internal::check_key(*s.env, key);
  if (!s.pickler) {
    pickle::PicklerOptions options;
    options.protocol = s.protocol;
    s.put_sink = std::make_unique<pickle::StringSink>(s.put_buffer);
    s.pickler = std::make_unique<pickle::Pickler>(*s.put_sink, options);
  }
  s.put_buffer.clear();
  try {
    s.pickler->dump(value);
  } catch (...) {
    s.pickler->clear_memo();
    throw;
  }
  s.pickler->clear_memo();
  forget_loaded(*s.identity, key);
  s.perform(false, key, s.put_buffer);
}

void WriteTxn::put_raw(std::string_view key, std::string_view bytes) {
  SharedTxn& s = usable(state());
  internal::check_key(*s.env, key);
  forget_loaded(*s.identity, key);
  s.perform(false, key, bytes);
}

bool WriteTxn::erase(std::string_view key) {
  SharedTxn& s = usable(state());
  if (!contains(key)) return false;
  forget_loaded(*s.identity, key);
  s.perform(true, key, {});
  return true;
}

WriteTxn WriteTxn::savepoint() {
  SharedTxn& s = usable(state());
  s.stack.push_back(std::make_unique<LmdbTxn>(*s.env, s.stack.back().get(), false));
  s.savepoint_starts.push_back(s.log.size());
  auto child = std::make_unique<TxnState>();
  child->shared = state().shared;
  child->level = state().level + 1;
  return WriteTxn(std::move(child));
}

void WriteTxn::commit() {
  SharedTxn& s = usable(state());
  TxnState& st = state();
  if (st.level == 0) {
    int rc = s.stack.back()->commit();
    s.stack.pop_back();
    while (rc == MDB_MAP_FULL) {
      s.regrow_and_replay();
      rc = s.stack.back()->commit();
      s.stack.pop_back();
    }
    s.finished = true;
    st.done = true;
    check(rc, "committing");
    return;
  }
  int rc = s.stack.back()->commit();
  s.stack.pop_back();
  s.savepoint_starts.pop_back();  // its writes are now the parent's
  st.done = true;
  if (rc == MDB_MAP_FULL) {
    s.regrow_and_replay();
    return;
  }
  check(rc, "committing a savepoint");
}

void WriteTxn::abort() {
  TxnState& st = state();
  if (st.done || st.shared->finished) return;
  SharedTxn& s = *st.shared;
  if (st.level == 0) {
    s.end_all();
    st.done = true;
    return;
  }
  // Close any savepoints nested deeper first, then this one.
  while (s.stack.size() > st.level) {
    s.stack.pop_back();
    size_t start = s.savepoint_starts.back();
    s.savepoint_starts.pop_back();
    for (size_t i = start; i < s.log.size(); ++i) forget_loaded(*s.identity, s.log[i].key);
    s.log.truncate(start);
  }
  st.done = true;
}

}  // namespace shelf::store
