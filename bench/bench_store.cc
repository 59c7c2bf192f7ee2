// bench/bench_store.cc: the shelf's workloads on --records records
// key%08d -> {'id': i, 'name': 'x'*20, 'tags': [1, 2, 3]} (default 200k),
// encode and decode included. bench/compare/raw_lmdb.cc runs the same
// workloads on liblmdb directly, without pickling, as the floor.
//
//   store/bulk_put          N puts in one write transaction (MDB_NOSYNC
//                           environment: the one commit's fsync is not what
//                           is measured)
//   store/put_per_txn/full  one transaction per put, fsync at every commit
//   store/put_per_txn/nosync  the same without fsync
//   store/get_random        every key once, in random order, one read
//                           transaction, Txn::get (decode + identity map)
//   store/get_raw_loads     the same with get_raw + pickle::loads
//   store/get_raw           the same, raw bytes only (the shelf's overhead
//                           over mdb_get)
//   store/scan              every record in key order, decoded
//   store/scan_raw          every record in key order, bytes only
//   store/get_resolve       N/4 records {'child': ref(key), 'n': i}, each
//                           read with its reference resolved (Resolve{1})
//   session/put_commit      a Session puts 1000 new records and commits
//   session/modify_commit   a Session loads 1000 records, changes each and
//                           commits (dirty tracking + one Pickler reused)
//
// Counter items/s counts records; items_per_iter says how many records one
// iteration handles (compare.py divides by it).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "pickle/unpickler.h"
#include "store/session.h"
#include "store/shelf.h"

namespace shelf::bench {
namespace {

using store::Durability;
using store::Options;
using store::Shelf;

Options store_options(Durability durability) {
  Options o;
  o.mode = store::OpenMode::kCreateTruncate;
  o.map_size = size_t{1} << 30;  // as the raw LMDB floor: no regrowth measured
  o.durability = durability;
  return o;
}

// The records (and their keys) built once, outside any timing.
struct Records {
  pickle::Graph graph;
  std::vector<pickle::Value> values;
  std::vector<std::string> keys;
};

const Records& records() {
  static const Records r = [] {
    Records out;
    const size_t n = config().records;
    out.values.reserve(n);
    out.keys.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      out.values.push_back(make_record(out.graph, static_cast<int64_t>(i)));
      out.keys.push_back(record_key(i));
    }
    return out;
  }();
  return r;
}

// A shelf holding every record (and the parents of get_resolve), shared by
// the read workloads.
struct Populated {
  TempDir dir{"populated"};
  Shelf shelf = Shelf::open(dir.path() / "shelf", store_options(Durability::kNoSync));
  std::vector<std::string> parent_keys;

  Populated() {
    const Records& r = records();
    store::WriteTxn txn = shelf.write();
    for (size_t i = 0; i < r.values.size(); ++i) txn.put(r.keys[i], r.values[i]);
    pickle::Graph g;
    for (size_t i = 0; i < r.values.size() / 4; ++i) {
      std::string key = "parent" + record_key(i).substr(3);
      txn.put(key, g.dict({{"child", store::ref(g, r.keys[i * 4])}, {"n", static_cast<int64_t>(i)}}));
      parent_keys.push_back(std::move(key));
    }
    txn.commit();
  }
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
      TempDir dir("bulk");
      Shelf shelf = Shelf::open(dir.path() / "shelf", store_options(Durability::kNoSync));
      state.ResumeTiming();
      store::WriteTxn txn = shelf.write();
      for (size_t i = 0; i < r.values.size(); ++i) txn.put(r.keys[i], r.values[i]);
      txn.commit();
      state.PauseTiming();
    }
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * r.values.size()));
  state.counters["items_per_iter"] = static_cast<double>(r.values.size());
}

void put_per_txn(benchmark::State& state, Durability durability) {
  const Records& r = records();
  TempDir dir("per_txn");
  Shelf shelf = Shelf::open(dir.path() / "shelf", store_options(durability));
  size_t i = 0;
  for (auto _ : state) {
    size_t k = i++ % r.values.size();
    store::WriteTxn txn = shelf.write();
    txn.put(r.keys[k], r.values[k]);
    txn.commit();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["items_per_iter"] = 1;
}

void get_random(benchmark::State& state) {
  Populated& p = populated();
  const Records& r = records();
  const auto order = shuffled_indices(r.keys.size());
  for (auto _ : state) {
    store::ReadTxn txn = p.shelf.read();
    for (uint32_t i : order) {
      pickle::Value v = txn.get(r.keys[i]);
      benchmark::DoNotOptimize(v);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * order.size()));
  state.counters["items_per_iter"] = static_cast<double>(order.size());
}

void get_raw_loads(benchmark::State& state) {
  Populated& p = populated();
  const Records& r = records();
  const auto order = shuffled_indices(r.keys.size());
  for (auto _ : state) {
    store::ReadTxn txn = p.shelf.read();
    for (uint32_t i : order) {
      pickle::Value v = pickle::loads(*txn.get_raw(r.keys[i]));
      benchmark::DoNotOptimize(v);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * order.size()));
  state.counters["items_per_iter"] = static_cast<double>(order.size());
}

void get_raw(benchmark::State& state) {
  Populated& p = populated();
  const Records& r = records();
  const auto order = shuffled_indices(r.keys.size());
  for (auto _ : state) {
    store::ReadTxn txn = p.shelf.read();
    for (uint32_t i : order) {
      auto bytes = txn.get_raw(r.keys[i]);
      benchmark::DoNotOptimize(bytes);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * order.size()));
  state.counters["items_per_iter"] = static_cast<double>(order.size());
}

void scan(benchmark::State& state) {
  Populated& p = populated();
  size_t n = 0;
  for (auto _ : state) {
    store::ReadTxn txn = p.shelf.read();
    txn.scan([&](const store::RawRecord& rec) {
      pickle::Value v = pickle::loads(rec.bytes);
      benchmark::DoNotOptimize(v);
      ++n;
      return true;
    });
  }
  state.SetItemsProcessed(static_cast<int64_t>(n));
  state.counters["items_per_iter"] = static_cast<double>(n) / static_cast<double>(std::max<int64_t>(state.iterations(), 1));
}

void scan_raw(benchmark::State& state) {
  Populated& p = populated();
  size_t n = 0;
  for (auto _ : state) {
    store::ReadTxn txn = p.shelf.read();
    txn.scan([&](const store::RawRecord& rec) {
      benchmark::DoNotOptimize(rec.bytes.data());
      ++n;
      return true;
    });
  }
  state.SetItemsProcessed(static_cast<int64_t>(n));
  state.counters["items_per_iter"] = static_cast<double>(n) / static_cast<double>(std::max<int64_t>(state.iterations(), 1));
}

void get_resolve(benchmark::State& state) {
  Populated& p = populated();
  for (auto _ : state) {
    store::ReadTxn txn = p.shelf.read();
    for (const std::string& key : p.parent_keys) {
      pickle::Value v = txn.get(key, store::Resolve{1});
      benchmark::DoNotOptimize(v);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * p.parent_keys.size()));
  state.counters["items_per_iter"] = static_cast<double>(p.parent_keys.size());
}

constexpr size_t kSessionRecords = 1000;

void session_put_commit(benchmark::State& state) {
  const Records& r = records();
  TempDir dir("session_put");
  Shelf shelf = Shelf::open(dir.path() / "shelf", store_options(Durability::kNoSync));
  const size_t n = std::min(kSessionRecords, r.values.size());
  for (auto _ : state) {
    store::Session session(shelf);
    for (size_t i = 0; i < n; ++i) session.put(r.keys[i], r.values[i]);
    session.commit();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  state.counters["items_per_iter"] = static_cast<double>(n);
}

void session_modify_commit(benchmark::State& state) {
  const Records& r = records();
  TempDir dir("session_modify");
  Shelf shelf = Shelf::open(dir.path() / "shelf", store_options(Durability::kNoSync));
  const size_t n = std::min(kSessionRecords, r.values.size());
  {
    store::WriteTxn txn = shelf.write();
    for (size_t i = 0; i < n; ++i) txn.put(r.keys[i], r.values[i]);
    txn.commit();
  }
  int64_t round = 0;
  for (auto _ : state) {
    store::Session session(shelf);
    ++round;
    for (size_t i = 0; i < n; ++i) session.get(r.keys[i]).set_item("id", round);
    session.commit();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  state.counters["items_per_iter"] = static_cast<double>(n);
}

const bool registered = add_registration([] {
  benchmark::RegisterBenchmark("store/bulk_put", bulk_put)->Unit(benchmark::kMillisecond);
  // Bound by fsync, not CPU: iterate by wall time, or a few iterations
  // would take seconds of real time each run.
  benchmark::RegisterBenchmark("store/put_per_txn/full", put_per_txn, Durability::kFull)->UseRealTime();
  benchmark::RegisterBenchmark("store/put_per_txn/nosync", put_per_txn, Durability::kNoSync);
  benchmark::RegisterBenchmark("store/get_random", get_random)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("store/get_raw_loads", get_raw_loads)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("store/get_raw", get_raw)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("store/scan", scan)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("store/scan_raw", scan_raw)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("store/get_resolve", get_resolve)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("session/put_commit", session_put_commit)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("session/modify_commit", session_modify_commit)->Unit(benchmark::kMillisecond);
});

}  // namespace
}  // namespace shelf::bench
