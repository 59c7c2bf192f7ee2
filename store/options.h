// store/options.h: how a shelf is opened. Each field says its default and
// the trade-off, as leveldb's Options do.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace shelf::store {

// The modes of dbm.open / shelve.open ('r', 'w', 'c', 'n').
enum class OpenMode {
  kReadOnly,         // 'r': must exist; writes throw kReadOnly
  kReadWrite,        // 'w': must exist
  kCreate,           // 'c': create when missing (the default)
  kCreateTruncate,   // 'n': always start empty (an existing shelf is emptied)
};

// When a commit reaches the disk.
enum class Durability {
  kFull,        // LMDB's default: fsync data and meta page at every commit
  kNoMetaSync,  // MDB_NOMETASYNC: skip the meta page fsync; a crash may lose
                // the last commit, never consistency
  kNoSync,      // MDB_NOSYNC: no fsync; the OS flushes when it likes. A system
                // crash may lose recent commits (the file stays consistent
                // on file systems that keep write order). Opt in for bulk loads.
};

struct Options {
  OpenMode mode = OpenMode::kCreate;
  // Pickle protocol of records written; stored in the shelf's metadata when
  // it is created, and read back from it afterwards (-1: keep the stored one,
  // 5 for a new shelf). An explicit value overrides the stored one for this
  // handle's writes only.
  int protocol = -1;
  // Initial size of the memory map. The map grows by itself (doubling) when
  // a write needs more, so this only saves the first few regrowths.
  size_t map_size = size_t{1} << 20;
  Durability durability = Durability::kFull;
  // Permissions of new files (data and lock file): private by default.
  mode_t file_mode = 0600;
  // Reader slots in the lock table: concurrent read transactions across
  // all processes.
  unsigned max_readers = 126;
};

}  // namespace shelf::store
