#include "store/internal/lmdb_env.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <unordered_map>
#include <vector>

#include "store/internal/record_format.h"

namespace shelf::store::internal {

void throw_lmdb(int rc, std::string_view what) {
  std::string text = std::string(what) + ": " + mdb_strerror(rc);
  StoreErrorCode code = StoreErrorCode::kLmdb;
  switch (rc) {
    case ENOENT: code = StoreErrorCode::kNotFound; break;
    case EACCES:
    case EROFS: code = StoreErrorCode::kReadOnly; break;
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_INCOMPATIBLE: code = StoreErrorCode::kNotAShelf; break;
    case MDB_BAD_TXN:
    case MDB_BAD_RSLOT: code = StoreErrorCode::kTxnState; break;
    default:
      if (rc > 0) code = StoreErrorCode::kIo;  // errno values are positive, LMDB's negative
  }
  throw StoreError(code, text, rc);
}

namespace {

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

std::map<std::string, std::weak_ptr<Env>>& registry() {
  static std::map<std::string, std::weak_ptr<Env>> r;
  return r;
}

thread_local std::unordered_map<const Env*, int> t_open_txns;

std::string meta_get(MDB_txn* txn, MDB_dbi dbi, std::string_view key) {
  MDB_val k = to_val(key);
  MDB_val v;
  int rc = mdb_get(txn, dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return {};
  check(rc, "reading shelf metadata");
  return std::string(from_val(v));
}

void meta_put(MDB_txn* txn, MDB_dbi dbi, std::string_view key, std::string_view value) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  check(mdb_put(txn, dbi, &k, &v, 0), "writing shelf metadata");
}

}  // namespace

std::shared_ptr<Env> Env::acquire(const std::filesystem::path& path, const Options& options) {
  std::error_code ec;
  std::filesystem::path canonical = std::filesystem::weakly_canonical(std::filesystem::absolute(path), ec);
  if (ec) canonical = std::filesystem::absolute(path);
  std::lock_guard<std::mutex> lock(registry_mutex());
  auto& slot = registry()[canonical.string()];
  if (auto existing = slot.lock()) {
    bool wants_write = options.mode != OpenMode::kReadOnly;
    if (wants_write && existing->readonly())
      throw StoreError(StoreErrorCode::kBusy,
                       "'" + path.string() + "' is already open read-only in this process; close it first");
    if (options.mode == OpenMode::kCreateTruncate)
      throw StoreError(StoreErrorCode::kBusy,
                       "'" + path.string() + "' is open in this process; it cannot be recreated while open");
    return existing;
  }
  std::shared_ptr<Env> env(new Env());
  env->open(canonical, options);
  slot = env;
  return env;
}

void Env::open(const std::filesystem::path& path, const Options& options) {
  path_ = path;
  readonly_ = options.mode == OpenMode::kReadOnly;
  bool must_exist = options.mode == OpenMode::kReadOnly || options.mode == OpenMode::kReadWrite;
  std::error_code ec;
  if (must_exist && !std::filesystem::exists(path, ec))
    throw StoreError(StoreErrorCode::kNotFound, "no shelf at '" + path.string() + "'", ENOENT);
  if (std::filesystem::is_directory(path, ec))
    throw StoreError(StoreErrorCode::kNotAShelf, "'" + path.string() + "' is a directory, not a shelf file");

  check(mdb_env_create(&env_), "creating LMDB environment");
  check(mdb_env_set_maxdbs(env_, 4), "configuring LMDB environment");
  check(mdb_env_set_maxreaders(env_, options.max_readers), "configuring LMDB environment");
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t map_size = (std::max(options.map_size, page) + page - 1) / page * page;
  check(mdb_env_set_mapsize(env_, map_size), "configuring LMDB environment");

  unsigned flags = MDB_NOSUBDIR | MDB_NOTLS;
  if (readonly_) flags |= MDB_RDONLY;
  if (options.durability == Durability::kNoMetaSync) flags |= MDB_NOMETASYNC;
  if (options.durability == Durability::kNoSync) flags |= MDB_NOSYNC;
  int rc = mdb_env_open(env_, path.c_str(), flags, options.file_mode);
  if (rc != 0) {
    mdb_env_close(env_);
    env_ = nullptr;
    if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH)
      throw StoreError(StoreErrorCode::kNotAShelf, "'" + path.string() + "' is not a shelf (not an LMDB file)", rc);
    throw_lmdb(rc, "opening '" + path.string() + "'");
  }
  int dead = 0;
  mdb_reader_check(env_, &dead);  // reclaim slots of crashed readers
  max_key_size_ = static_cast<size_t>(mdb_env_get_maxkeysize(env_));
  try {
    init_meta(options);
  } catch (...) {
    mdb_env_close(env_);
    env_ = nullptr;
    throw;
  }
}

void Env::init_meta(const Options& options) {
  LmdbTxn guard(*this, nullptr, readonly_);
  MDB_txn* txn = guard.get();

  int rc = mdb_dbi_open(txn, std::string(kMetaDb).c_str(), 0, &meta_);
  bool fresh = false;
  if (rc == MDB_NOTFOUND) {
    MDB_stat stat;
    check(mdb_stat(txn, 0, &stat), "reading LMDB statistics");
    if (stat.ms_entries != 0 || readonly_)
      throw StoreError(StoreErrorCode::kNotAShelf,
                       "'" + path_.string() + "' is an LMDB file without shelf metadata, not a shelf");
    check(mdb_dbi_open(txn, std::string(kMetaDb).c_str(), MDB_CREATE, &meta_), "creating shelf metadata");
    fresh = true;
  } else {
    check(rc, "opening shelf metadata");
  }

  if (fresh) {
    int protocol = options.protocol < 0 ? 5 : options.protocol;
    meta_put(txn, meta_, kMetaFormat, std::to_string(kFormatVersion));
    meta_put(txn, meta_, kMetaProtocol, std::to_string(protocol));
    meta_put(txn, meta_, kMetaCreatedBy, "shelf " SHELF_VERSION_STRING);
  }
  std::string format = meta_get(txn, meta_, kMetaFormat);
  if (format.empty())
    throw StoreError(StoreErrorCode::kNotAShelf, "'" + path_.string() + "' has no shelf format version");
  int version = std::atoi(format.c_str());
  if (version > kFormatVersion)
    throw StoreError(StoreErrorCode::kFormatTooNew, "'" + path_.string() + "' has shelf format " + format +
                                                        "; this shelf reads format " +
                                                        std::to_string(kFormatVersion) + " or older: upgrade shelf");
  if (version < 1)
    throw StoreError(StoreErrorCode::kNotAShelf, "'" + path_.string() + "' has an invalid format version '" + format + "'");
  std::string protocol = meta_get(txn, meta_, kMetaProtocol);
  stored_protocol_ = protocol.empty() ? 5 : std::atoi(protocol.c_str());
  if (stored_protocol_ < 0 || stored_protocol_ > 5) stored_protocol_ = 5;

  rc = mdb_dbi_open(txn, std::string(kRecordsDb).c_str(), readonly_ ? 0 : MDB_CREATE, &records_);
  if (rc == MDB_NOTFOUND)
    throw StoreError(StoreErrorCode::kNotAShelf, "'" + path_.string() + "' has no records database");
  check(rc, "opening the records database");
  if (options.mode == OpenMode::kCreateTruncate) check(mdb_drop(txn, records_, 0), "emptying the shelf");
  // Committing (even read-only) keeps the dbi handles valid after the
  // transaction (mdb_dbi_open's contract).
  check(guard.commit(), "initializing the shelf");
}

Env::~Env() {
  if (env_) mdb_env_close(env_);
}

LmdbTxn::LmdbTxn(Env& env, LmdbTxn* parent, bool readonly) : env_(env), root_(parent == nullptr) {
  unsigned flags = readonly ? MDB_RDONLY : 0;
  if (parent) {
    check(mdb_txn_begin(env.env(), parent->get(), flags, &txn_), "beginning a nested transaction");
    return;
  }
  lock_ = std::shared_lock<std::shared_mutex>(env.remap_lock_);
  for (int attempt = 0;; ++attempt) {
    int rc = mdb_txn_begin(env.env(), nullptr, flags, &txn_);
    if (rc == 0) break;
    txn_ = nullptr;
    if (rc == MDB_READERS_FULL && attempt == 0) {
      // Slots of crashed readers stay taken until someone checks.
      int dead = 0;
      if (mdb_reader_check(env.env(), &dead) == 0 && dead > 0) continue;
    }
    if (rc != MDB_MAP_RESIZED || attempt > 8) throw_lmdb(rc, "beginning a transaction");
    // Another process grew the map: adopt its size while no transaction
    // of this process runs.
    lock_.unlock();
    {
      std::unique_lock<std::shared_mutex> exclusive(env.remap_lock_);
      check(mdb_env_set_mapsize(env.env(), 0), "adopting the grown map size");
    }
    lock_.lock();
  }
  Env::note_txn_begin(&env_);
}

void LmdbTxn::finish() {
  txn_ = nullptr;
  if (root_) {
    Env::note_txn_end(&env_);
    lock_.unlock();
  }
}

int LmdbTxn::commit() {
  if (!txn_) return MDB_BAD_TXN;
  int rc = mdb_txn_commit(txn_);  // frees the txn even when it fails
  finish();
  return rc;
}

void LmdbTxn::abort() {
  if (!txn_) return;
  mdb_txn_abort(txn_);
  finish();
}

size_t Env::map_size() const {
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  return info.me_mapsize;
}

void Env::grow(size_t min_size) {
  auto found = t_open_txns.find(this);
  if (found != t_open_txns.end() && found->second > 0)
    throw StoreError(StoreErrorCode::kBusy,
                     "the shelf's map must grow, but this thread holds another transaction on it; "
                     "end read transactions of this thread before writing",
                     MDB_MAP_FULL);
  std::lock_guard<std::mutex> one_grower(grow_mutex_);
  std::unique_lock<std::shared_mutex> exclusive(remap_lock_);
  size_t current = map_size();
  if (current >= min_size) return;  // someone grew it meanwhile
  size_t target = current;
  while (target < min_size) target *= 2;
  check(mdb_env_set_mapsize(env_, target), "growing the map");
}

void Env::note_txn_begin(const Env* env) { ++t_open_txns[env]; }

void Env::note_txn_end(const Env* env) {
  auto found = t_open_txns.find(env);
  if (found != t_open_txns.end() && --found->second <= 0) t_open_txns.erase(found);
}

}  // namespace shelf::store::internal
