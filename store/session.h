// store/session.h: a unit of work over a shelf, as ZODB's Connection is
// over a database.
//
// A Session reads from one consistent snapshot and keeps an identity map:
// getting a key twice gives the same object, and a persistent reference
// resolves to the same object as the record it names. At commit() it writes,
// in one write transaction, exactly the records whose objects changed (seen
// through the value graph's mutation counters, confirmed by re-pickling and
// comparing bytes), the records put() and the ones erased — nothing else,
// unlike shelve's writeback, which rewrites every record it touched.
//
// An object that is the root of a record, met while writing another record,
// is written as a persistent reference to its key, not as a copy: graphs
// larger than one record are stored without duplication, and load back
// with their sharing.
//
// Concurrency is optimistic: if another writer committed a record this
// session changed after the session's snapshot, commit() throws StoreError
// kConflict and writes nothing (ZODB's ConflictError); abort() and retry.
//
// Threads: a Session belongs to one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pickle/value.h"
#include "store/shelf.h"

namespace shelf::store {

struct SessionOptions {
  // Records kept in the identity map. Past it, the least recently used
  // clean records are forgotten (a later get() loads them afresh); dirty
  // ones never are. Their memory returns when the session ends.
  size_t cache_size = 100'000;
};

struct SessionStats {
  uint64_t loads = 0;          // records unpickled
  uint64_t writes = 0;         // records written by commits (puts and erases)
  uint64_t unchanged = 0;      // records re-pickled at commit that had not changed
  uint64_t evictions = 0;      // clean records forgotten by the bounded cache
  uint64_t invalidations = 0;  // records dropped because another writer changed them
};

class Session {
 public:
  // Begins a session over `shelf` (which must outlive it).
  explicit Session(Shelf& shelf, SessionOptions options = {});
  ~Session();  // discards what was not committed
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // The object of record `key` (see the identity rules above), or nullopt.
  // `resolve` follows references eagerly, as Txn::find does.
  std::optional<pickle::Value> find(std::string_view key, Resolve resolve = {});
  pickle::Value get(std::string_view key, Resolve resolve = {});  // KeyNotFound
  // The object a PersistentRef names (kDanglingReference when missing).
  pickle::Value resolve(const pickle::Value& ref);
  bool contains(std::string_view key);

  // Makes `value` the object of record `key` (new or replaced). A value of
  // another graph is copied into the session's graph, and the copy is what
  // the session tracks: use the returned Value for further changes.
  pickle::Value put(std::string_view key, const pickle::Value& value);
  // Deletes the record at commit. False when there is no such record.
  bool erase(std::string_view key);

  // Writes what changed in one transaction and returns how many records it
  // wrote. Throws StoreError kConflict (writing nothing) when another
  // writer changed one of them since this session's snapshot. Afterwards
  // the session reads a new snapshot; objects another writer changed are
  // dropped from the identity map.
  size_t commit();
  // Forgets every change and every loaded object, and reads a new snapshot.
  void abort();

  // The graph all of this session's objects live in.
  pickle::Graph graph() const;
  const SessionStats& stats() const;
  size_t cached_records() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace shelf::store
