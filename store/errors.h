// store/errors.h: what the store throws. Expected absence (a missing key)
// is std::optional in the non-throwing calls; the throwing ones raise
// KeyNotFound, a type of its own, as shelve raises KeyError.
#pragma once

#include <stdexcept>
#include <string>

namespace shelf::store {

// Stable codes; scripts and tests match on them. Never renumber.
enum class StoreErrorCode : int {
  kIo = 1,            // the file system refused (errno text kept)
  kNotAShelf,         // an LMDB file without shelf metadata, or not LMDB at all
  kFormatTooNew,      // written by a newer shelf; upgrade shelf to read it
  kNotFound,          // no shelf at the path (and the mode does not create one)
  kReadOnly,          // a write on a shelf opened read-only
  kBadKey,            // empty, longer than LMDB's limit, or not UTF-8
  kKeyNotFound,       // get() of a key that has no record
  kDanglingReference, // a persistent reference to a record that does not exist
  kBadRecord,         // a record's bytes do not unpickle
  kConflict,          // the transaction cannot be applied as begun; retry it
  kBusy,              // the file is open in this process in an incompatible mode
  kTxnState,          // a transaction used after commit/abort, or from a finished parent
  kLmdb,              // any other LMDB failure (raw code and text kept)
};

class StoreError : public std::runtime_error {
 public:
  StoreError(StoreErrorCode code, const std::string& message, int lmdb_rc = 0)
      : std::runtime_error(message), code_(code), lmdb_rc_(lmdb_rc) {}
  StoreErrorCode code() const { return code_; }
  // The LMDB (or errno) return code behind the error, 0 when there was none.
  int lmdb_rc() const { return lmdb_rc_; }

 private:
  StoreErrorCode code_;
  int lmdb_rc_;
};

class KeyNotFound : public StoreError {
 public:
  explicit KeyNotFound(const std::string& key)
      : StoreError(StoreErrorCode::kKeyNotFound, "no record for key '" + key + "'"), key_(key) {}
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

}  // namespace shelf::store
