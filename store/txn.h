// store/txn.h: read and write transactions over a shelf.
//
// A ReadTxn is an MVCC snapshot: it sees the shelf as it was when it
// began, whatever writers commit meanwhile, and never blocks them. A
// WriteTxn is the shelf's one writer (others, in this or other processes,
// wait); what it does becomes visible at commit(), atomically, and is
// discarded if it is destroyed uncommitted. Savepoints nest.
//
// Threads: a transaction belongs to the thread that began it.
//
// Identity: values a transaction loads live in one Graph, and each record
// is loaded at most once per transaction: get("a") twice gives the same
// object, and two records referencing a third (persistent references)
// see the same object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pickle/value.h"
#include "store/errors.h"

namespace shelf::store {

namespace internal {
class Env;
struct TxnState;
}  // namespace internal

class Shelf;

// How far get() follows persistent references to other records.
struct Resolve {
  // 0: references stay PersistentRef nodes (resolve them with resolve());
  // N: records up to N references away are loaded and put in place of
  // their references; kAll: the whole reachable graph.
  size_t depth = 0;
  static constexpr size_t kAll = SIZE_MAX;
};

// A record: its key and its raw pickle bytes. The bytes are a view into
// LMDB's map, valid until the transaction ends or writes.
struct RawRecord {
  std::string_view key;
  std::string_view bytes;
};

// Operations shared by both kinds of transaction.
class Txn {
 public:
  virtual ~Txn();
  Txn(Txn&&) noexcept;
  Txn& operator=(Txn&&) noexcept;

  // The value under `key`, loaded once per transaction (see Identity above),
  // or nullopt. Throws kBadKey for a key LMDB cannot hold, kBadRecord when
  // the bytes do not unpickle, kDanglingReference when `resolve` follows a
  // reference to a missing record.
  std::optional<pickle::Value> find(std::string_view key, Resolve resolve = {});
  // As find(), but a missing key throws KeyNotFound.
  pickle::Value get(std::string_view key, Resolve resolve = {});
  // The record a PersistentRef names, loaded (once per transaction).
  // Throws kDanglingReference when it does not exist. Any other value is
  // returned unchanged.
  pickle::Value resolve(const pickle::Value& ref);

  // Raw pickle bytes: a view into LMDB's map, valid until this
  // transaction ends (or, in a WriteTxn, writes again). Not on temporaries.
  std::optional<std::string_view> get_raw(std::string_view key) const&;
  std::optional<std::string_view> get_raw(std::string_view key) const&& = delete;

  bool contains(std::string_view key) const;
  size_t size() const;  // number of records

  // Records in key order (UTF-8 byte order), all of them, those whose key
  // starts with `prefix`, or those with first <= key < last. The callback
  // returns false to stop early.
  using Visitor = std::function<bool(const RawRecord&)>;
  void scan(const Visitor& visit) const;
  void scan_prefix(std::string_view prefix, const Visitor& visit) const;
  void scan_range(std::string_view first, std::string_view last, const Visitor& visit) const;
  std::vector<std::string> keys(std::string_view prefix = {}) const;

  // The graph values of this transaction are loaded into.
  pickle::Graph graph() const;

 protected:
  Txn();
  explicit Txn(std::unique_ptr<internal::TxnState> state);
  internal::TxnState& state() const;
  std::unique_ptr<internal::TxnState> state_;
};

class ReadTxn : public Txn {
 public:
  ReadTxn(ReadTxn&&) noexcept = default;
  ReadTxn& operator=(ReadTxn&&) noexcept = default;
  // Ends the snapshot (also done by the destructor).
  void end();

 private:
  friend class Shelf;
  friend class Session;
  explicit ReadTxn(std::unique_ptr<internal::TxnState> state);
};

class WriteTxn : public Txn {
 public:
  WriteTxn(WriteTxn&&) noexcept = default;
  WriteTxn& operator=(WriteTxn&&) noexcept = default;
  ~WriteTxn() override;  // aborts when not committed

  // Pickles `value` (protocol of the shelf, persistent references written
  // as their record keys) and stores it under `key`.
  void put(std::string_view key, const pickle::Value& value);
  // Stores pickle bytes as they are (tools, import). They are not checked.
  void put_raw(std::string_view key, std::string_view bytes);
  // Removes the record; false when there was none.
  bool erase(std::string_view key);

  // A nested transaction: its writes join this one at its commit() and
  // vanish at its abort. This transaction may not be used until the
  // savepoint ends.
  WriteTxn savepoint();

  // Makes everything written durable and visible (for a savepoint: part of
  // the parent). The map grows as needed, also here.
  void commit();
  void abort();
  bool active() const;

 private:
  friend class Shelf;
  explicit WriteTxn(std::unique_ptr<internal::TxnState> state);
};

}  // namespace shelf::store
