// bench/compare/raw_lmdb.cc: the floor of the store workloads: liblmdb
// used directly, the same keys and the same pickle bytes (made once, before
// any timing), no pickling and no decoding. The environment is opened as
// the shelf opens its own (MDB_NOSUBDIR | MDB_NOTLS, a named database,
// a 1 GiB map), so the difference to bench_store.cc is the shelf's work.
//
// Names mirror bench_store.cc: lmdb/bulk_put, lmdb/put_per_txn/{full,nosync},
// lmdb/get_random, lmdb/scan.
#include <benchmark/benchmark.h>
#include <lmdb.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "bench/bench_util.h"
#include "pickle/pickler.h"

namespace shelf::bench {
namespace {

void check(int rc, const char* what) {
  if (rc != 0) {
    std::fprintf(stderr, "raw_lmdb: %s: %s\n", what, mdb_strerror(rc));
    std::abort();
  }
}

MDB_val val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }

struct Env {
  MDB_env* env = nullptr;
  MDB_dbi dbi = 0;

  Env(const std::filesystem::path& path, bool sync) {
    check(mdb_env_create(&env), "mdb_env_create");
    check(mdb_env_set_maxdbs(env, 4), "mdb_env_set_maxdbs");
    check(mdb_env_set_mapsize(env, size_t{1} << 30), "mdb_env_set_mapsize");
    unsigned flags = MDB_NOSUBDIR | MDB_NOTLS | (sync ? 0 : MDB_NOSYNC);
    check(mdb_env_open(env, path.c_str(), flags, 0600), "mdb_env_open");
    MDB_txn* txn;
    check(mdb_txn_begin(env, nullptr, 0, &txn), "mdb_txn_begin");
    check(mdb_dbi_open(txn, "records", MDB_CREATE, &dbi), "mdb_dbi_open");
    check(mdb_txn_commit(txn), "mdb_txn_commit");
  }
  ~Env() { mdb_env_close(env); }
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;
};

// Keys and the pickle bytes the shelf would store for them.
struct Records {
  std::vector<std::string> keys, values;
};

const Records& records() {
  static const Records r = [] {
    Records out;
    pickle::Graph g;
    for (size_t i = 0; i < config().records; ++i) {
      out.keys.push_back(record_key(i));
      out.values.push_back(pickle::dumps(make_record(g, static_cast<int64_t>(i))));
    }
    return out;
  }();
  return r;
}

void put_all(Env& e, const Records& r) {
  MDB_txn* txn;
  check(mdb_txn_begin(e.env, nullptr, 0, &txn), "mdb_txn_begin");
  for (size_t i = 0; i < r.keys.size(); ++i) {
    MDB_val k = val(r.keys[i]), v = val(r.values[i]);
    check(mdb_put(txn, e.dbi, &k, &v, 0), "mdb_put");
  }
  check(mdb_txn_commit(txn), "mdb_txn_commit");
}

struct Populated {
  TempDir dir{"lmdb_populated"};
  Env env{dir.path() / "db", false};
  Populated() { put_all(env, records()); }
};

Populated& populated() {
  static Populated p;
  return p;
}

void bulk_put(benchmark::State& state) {
  const Records& r = records();
  for (auto _ : state) {
    state.PauseTiming();
    {
      TempDir dir("lmdb_bulk");
      Env e(dir.path() / "db", false);
      state.ResumeTiming();
      put_all(e, r);
      state.PauseTiming();
    }
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * r.keys.size()));
  state.counters["items_per_iter"] = static_cast<double>(r.keys.size());
}

void put_per_txn(benchmark::State& state, bool sync) {
  const Records& r = records();
  TempDir dir("lmdb_per_txn");
  Env e(dir.path() / "db", sync);
  size_t i = 0;
  for (auto _ : state) {
    size_t n = i++ % r.keys.size();
    MDB_txn* txn;
    check(mdb_txn_begin(e.env, nullptr, 0, &txn), "mdb_txn_begin");
    MDB_val k = val(r.keys[n]), v = val(r.values[n]);
    check(mdb_put(txn, e.dbi, &k, &v, 0), "mdb_put");
    check(mdb_txn_commit(txn), "mdb_txn_commit");
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["items_per_iter"] = 1;
}

void get_random(benchmark::State& state) {
  Populated& p = populated();
  const Records& r = records();
  const auto order = shuffled_indices(r.keys.size());
  for (auto _ : state) {
    MDB_txn* txn;
    check(mdb_txn_begin(p.env.env, nullptr, MDB_RDONLY, &txn), "mdb_txn_begin");
    for (uint32_t i : order) {
      MDB_val k = val(r.keys[i]), v;
      check(mdb_get(txn, p.env.dbi, &k, &v), "mdb_get");
      benchmark::DoNotOptimize(v.mv_data);
    }
    mdb_txn_abort(txn);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * order.size()));
  state.counters["items_per_iter"] = static_cast<double>(order.size());
}

void scan(benchmark::State& state) {
  Populated& p = populated();
  size_t n = 0;
  for (auto _ : state) {
    MDB_txn* txn;
    check(mdb_txn_begin(p.env.env, nullptr, MDB_RDONLY, &txn), "mdb_txn_begin");
    MDB_cursor* cursor;
    check(mdb_cursor_open(txn, p.env.dbi, &cursor), "mdb_cursor_open");
    MDB_val k, v;
    int rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST);
    while (rc == 0) {
      benchmark::DoNotOptimize(v.mv_data);
      ++n;
      rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cursor);
    mdb_txn_abort(txn);
  }
  state.SetItemsProcessed(static_cast<int64_t>(n));
  state.counters["items_per_iter"] = static_cast<double>(n) / static_cast<double>(std::max<int64_t>(state.iterations(), 1));
}

const bool registered = add_registration([] {
  benchmark::RegisterBenchmark("lmdb/bulk_put", bulk_put)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("lmdb/put_per_txn/full", put_per_txn, true)->UseRealTime();
  benchmark::RegisterBenchmark("lmdb/put_per_txn/nosync", put_per_txn, false);
  benchmark::RegisterBenchmark("lmdb/get_random", get_random)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("lmdb/scan", scan)->Unit(benchmark::kMillisecond);
});

}  // namespace
}  // namespace shelf::bench
