// store/internal/lmdb_env.h: the only code that speaks LMDB. RAII for the
// environment and transactions, the one place where an LMDB return code
// becomes a StoreError, and the map-growth protocol. Never installed.
#pragma once

#include <lmdb.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "store/errors.h"
#include "store/options.h"

namespace shelf::store::internal {

// Throws the StoreError for LMDB (or errno) code `rc`, naming `what` was
// being done. Keeps the raw code and mdb_strerror's text.
[[noreturn]] void throw_lmdb(int rc, std::string_view what);
inline void check(int rc, std::string_view what) {
  if (rc != 0) throw_lmdb(rc, what);
}

inline MDB_val to_val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
inline std::string_view from_val(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

// One LMDB environment, shared by every Shelf of the same file in this
// process (LMDB forbids opening a file twice in one process: closing one
// handle would drop the other's locks).
//
// Remapping the file (growing the map, or adopting a size another process
// set) is only legal while no transaction of this process is active, so
// every transaction holds `remap_lock` shared and a remap takes it
// exclusively.
class Env {
 public:
  // The environment for `path`, opened if this process has none yet.
  static std::shared_ptr<Env> acquire(const std::filesystem::path& path, const Options& options);
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  MDB_env* env() const { return env_; }
  MDB_dbi records() const { return records_; }
  MDB_dbi meta() const { return meta_; }
  bool readonly() const { return readonly_; }
  int stored_protocol() const { return stored_protocol_; }
  const std::filesystem::path& path() const { return path_; }
  size_t max_key_size() const { return max_key_size_; }

  std::shared_mutex& remap_lock() { return remap_lock_; }


  // Grows the map to at least `min_size` bytes (doubling). REQUIRES: the
  // caller holds no transaction of this environment. Throws kBusy when
  // another transaction of this thread is open (waiting would deadlock).
  void grow(size_t min_size);
  size_t map_size() const;

  // Per-thread count of open transactions, so grow() can refuse to wait
  // for the caller's own readers.
  static void note_txn_begin(const Env* env);
  static void note_txn_end(const Env* env);

 private:
  friend class LmdbTxn;
  Env() = default;
  void open(const std::filesystem::path& path, const Options& options);
  void init_meta(const Options& options);

  MDB_env* env_ = nullptr;
  MDB_dbi records_ = 0;
  MDB_dbi meta_ = 0;
  bool readonly_ = false;
  int stored_protocol_ = 5;
  size_t max_key_size_ = 511;
  std::filesystem::path path_;
  std::shared_mutex remap_lock_;
  std::mutex grow_mutex_;
};

// One LMDB transaction, aborted on destruction unless committed. A root
// transaction holds the environment's remap lock shared for its life and
// adopts a map size another process grew (MDB_MAP_RESIZED) when it begins.
class LmdbTxn {
 public:
  // A root transaction (parent == nullptr) or a nested write transaction.
  LmdbTxn(Env& env, LmdbTxn* parent, bool readonly);
  ~LmdbTxn() { abort(); }
  LmdbTxn(const LmdbTxn&) = delete;
  LmdbTxn& operator=(const LmdbTxn&) = delete;

  MDB_txn* get() const { return txn_; }
  bool active() const { return txn_ != nullptr; }
  // Commits; the transaction is finished whether or not this throws.
  // Returns the LMDB code so callers can react to MDB_MAP_FULL.
  int commit();
  void abort();

 private:
  void finish();
  Env& env_;
  bool root_;
  MDB_txn* txn_ = nullptr;
  std::shared_lock<std::shared_mutex> lock_;
};

}  // namespace shelf::store::internal
