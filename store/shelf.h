// store/shelf.h: a Shelf maps UTF-8 keys to pickled values in one LMDB
// environment, as Python's shelve maps keys to pickles in a dbm file.
//
// Threads: a Shelf may be shared between threads; transactions belong to
// the thread that began them; one WriteTxn at a time per shelf (others wait,
// in this process and in others). Opening the same file twice in one
// process gives two handles on one shared environment.
//
// docs/store.md tells the story; docs/format.md the bytes on disk.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pickle/value.h"
#include "store/errors.h"
#include "store/options.h"
#include "store/txn.h"

namespace shelf::store {

struct ShelfStat {
  size_t records = 0;
  size_t map_size = 0;        // bytes of address space reserved
  size_t used_bytes = 0;      // pages in use * page size
  size_t page_size = 0;
  size_t depth = 0;           // B-tree depth of the records database
  size_t branch_pages = 0, leaf_pages = 0, overflow_pages = 0;
  size_t key_bytes = 0, value_bytes = 0;  // sums over all records
  int format_version = 0;
  int protocol = 0;
  std::string created_by;
  unsigned readers_used = 0, max_readers = 0;
};

class Shelf {
 public:
  // Opens the shelf at `path` (a file; LMDB's lock file is `path`-lock).
  // Throws StoreError: kNotFound (missing and the mode does not create),
  // kNotAShelf (not LMDB, or LMDB without shelf metadata), kFormatTooNew
  // (written by a newer shelf: upgrade), kBusy (open read-only in this
  // process and now asked for writing), kIo (errno text kept).
  static Shelf open(const std::filesystem::path& path, const Options& options = {});

  // --- one-shot operations, each its own transaction -------------------
  std::optional<pickle::Value> find(std::string_view key, Resolve resolve = {}) const;
  pickle::Value get(std::string_view key, Resolve resolve = {}) const;  // KeyNotFound
  void put(std::string_view key, const pickle::Value& value);
  void put_raw(std::string_view key, std::string_view bytes);
  std::optional<std::string> get_raw(std::string_view key) const;  // a copy
  bool erase(std::string_view key);
  bool contains(std::string_view key) const;
  size_t size() const;
  std::vector<std::string> keys(std::string_view prefix = {}) const;

  // --- transactions -----------------------------------------------------
  ReadTxn read() const;
  WriteTxn write();

  ShelfStat stat() const;
  int protocol() const { return protocol_; }
  bool readonly() const;
  const std::filesystem::path& path() const;

  // The largest key LMDB accepts here, in bytes (511 by default).
  size_t max_key_size() const;

 private:
  friend class Session;
  Shelf(std::shared_ptr<internal::Env> env, int protocol);
  std::shared_ptr<internal::Env> env_;
  int protocol_;
};

// A value that refers to the record under `key`: stored as the key itself
// (a persistent id), resolved when read.
pickle::Value ref(pickle::Graph& graph, std::string_view key);

// The key a reference (a PersistentRef node) names: its pid when that is a
// str (or UTF-8 bytes, as Python 2 writers may leave it); nullopt for any
// other value.
std::optional<std::string> reference_key(const pickle::Value& ref);

// The keys of the records `value` refers to (each once, in the order met).
std::vector<std::string> references(const pickle::Value& value);

}  // namespace shelf::store
