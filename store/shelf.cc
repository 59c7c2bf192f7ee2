#include "store/shelf.h"

#include <unistd.h>

#include <unordered_set>

#include "store/internal/lmdb_env.h"
#include "store/internal/record_format.h"
#include "store/internal/txn_state.h"

namespace shelf::store {

using internal::check;

Shelf::Shelf(std::shared_ptr<internal::Env> env, int protocol) : env_(std::move(env)), protocol_(protocol) {}

Shelf Shelf::open(const std::filesystem::path& path, const Options& options) {
  if (options.protocol > 5)
    throw StoreError(StoreErrorCode::kIo, "pickle protocol " + std::to_string(options.protocol) +
                                              " is not supported (0..5)");
  auto env = internal::Env::acquire(path, options);
  int protocol = options.protocol >= 0 ? options.protocol : env->stored_protocol();
  return Shelf(std::move(env), protocol);
}

ReadTxn Shelf::read() const { return ReadTxn(internal::begin_read(env_, protocol_)); }
WriteTxn Shelf::write() { return WriteTxn(internal::begin_write(env_, protocol_)); }

std::optional<pickle::Value> Shelf::find(std::string_view key, Resolve resolve) const {
  return read().find(key, resolve);
}

pickle::Value Shelf::get(std::string_view key, Resolve resolve) const { return read().get(key, resolve); }

void Shelf::put(std::string_view key, const pickle::Value& value) {
  WriteTxn txn = write();
  txn.put(key, value);
  txn.commit();
}

void Shelf::put_raw(std::string_view key, std::string_view bytes) {
  WriteTxn txn = write();
  txn.put_raw(key, bytes);
  txn.commit();
}

std::optional<std::string> Shelf::get_raw(std::string_view key) const {
  ReadTxn txn = read();
  std::optional<std::string_view> raw = txn.get_raw(key);
  if (!raw) return std::nullopt;
  return std::string(*raw);
}

bool Shelf::erase(std::string_view key) {
  WriteTxn txn = write();
  bool erased = txn.erase(key);
  txn.commit();
  return erased;
}

bool Shelf::contains(std::string_view key) const { return read().contains(key); }
size_t Shelf::size() const { return read().size(); }
std::vector<std::string> Shelf::keys(std::string_view prefix) const { return read().keys(prefix); }

bool Shelf::readonly() const { return env_->readonly(); }
const std::filesystem::path& Shelf::path() const { return env_->path(); }
size_t Shelf::max_key_size() const { return env_->max_key_size(); }

ShelfStat Shelf::stat() const {
  ShelfStat out;
  ReadTxn txn = read();
  internal::LmdbTxn meta_txn(*env_, nullptr, true);
  MDB_stat records;
  check(mdb_stat(meta_txn.get(), env_->records(), &records), "reading statistics");
  MDB_envinfo info;
  check(mdb_env_info(env_->env(), &info), "reading statistics");
  MDB_stat env_stat;
  check(mdb_env_stat(env_->env(), &env_stat), "reading statistics");
  out.records = records.ms_entries;
  out.page_size = records.ms_psize;
  out.depth = records.ms_depth;
  out.branch_pages = records.ms_branch_pages;
  out.leaf_pages = records.ms_leaf_pages;
  out.overflow_pages = records.ms_overflow_pages;
  out.map_size = info.me_mapsize;
  out.used_bytes = (info.me_last_pgno + 1) * env_stat.ms_psize;
  out.readers_used = info.me_numreaders;
  out.max_readers = info.me_maxreaders;
  auto meta = [&](std::string_view key) -> std::string {
    MDB_val k = internal::to_val(key);
    MDB_val v;
    if (mdb_get(meta_txn.get(), env_->meta(), &k, &v) != 0) return {};
    return std::string(internal::from_val(v));
  };
  out.format_version = std::atoi(meta(internal::kMetaFormat).c_str());
  out.protocol = std::atoi(meta(internal::kMetaProtocol).c_str());
  out.created_by = meta(internal::kMetaCreatedBy);
  txn.scan([&](const RawRecord& r) {
    out.key_bytes += r.key.size();
    out.value_bytes += r.bytes.size();
    return true;
  });
  return out;
}

pickle::Value ref(pickle::Graph& graph, std::string_view key) { return graph.persistent_ref(graph.str(key)); }

std::optional<std::string> reference_key(const pickle::Value& ref) {
  if (ref.kind() != pickle::Kind::PersistentRef) return std::nullopt;
  pickle::Value pid = ref.pid();
  if (pid.kind() == pickle::Kind::Str) return std::string(pid.as_str());
  if (pid.kind() == pickle::Kind::Bytes) return std::string(pid.as_bytes());
  return std::nullopt;
}

std::vector<std::string> references(const pickle::Value& value) {
  std::vector<std::string> keys;
  std::unordered_set<std::string> seen;
  for (const pickle::Value& r : pickle::persistent_refs(value)) {
    std::optional<std::string> key = reference_key(r);
    if (key && seen.insert(*key).second) keys.push_back(std::move(*key));
  }
  return keys;
}

}  // namespace shelf::store
