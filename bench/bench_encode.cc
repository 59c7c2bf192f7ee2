// bench/bench_encode.cc: value graph -> pickle bytes, for every dataset at
// protocols 0, 2, 4 and 5 (the value is the dataset decoded once; CPython's
// side times pickle.dumps(obj, protocol) on the same object loaded from the
// same file), and a Pickler reused across many dumps against a fresh one
// per dump on small records.
//
// Names: encode/<dataset>/p<protocol>, pickler/{reuse,fresh,dumps}.
// Counters: bytes/s of pickle output, items/s.
#include <benchmark/benchmark.h>

#include <deque>
#include <string>

#include "bench/bench_util.h"
#include "pickle/pickler.h"
#include "pickle/unpickler.h"

namespace shelf::bench {
namespace {

struct EncodeCase {
  const Dataset* dataset;
  pickle::Value value;
  bool identical;  // dumps(loads(bytes)) == bytes: the output is CPython's
};

void encode(benchmark::State& state, const EncodeCase* c) {
  pickle::PicklerOptions options;
  options.protocol = c->dataset->protocol;
  size_t out_bytes = 0;
  for (auto _ : state) {
    std::string out = pickle::dumps(c->value, options);
    out_bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  if (!c->identical) state.SetLabel("output differs from CPython's");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out_bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * c->dataset->items));
}

constexpr size_t kSmallRecords = 1024;

std::vector<pickle::Value> small_records(pickle::Graph& g) {
  std::vector<pickle::Value> out;
  for (size_t i = 0; i < kSmallRecords; ++i) out.push_back(make_record(g, static_cast<int64_t>(i)));
  return out;
}

// One Pickler for every record, its memo cleared between records (what a
// Session does at commit).
void pickler_reuse(benchmark::State& state) {
  pickle::Graph g;
  auto records = small_records(g);
  std::string out;
  pickle::StringSink sink(out);
  pickle::Pickler pickler(sink);
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    out.clear();
    pickler.dump(records[i++ % kSmallRecords]);
    pickler.clear_memo();
    bytes += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(state.iterations());
}

// A new Pickler (and output string) per record.
void pickler_fresh(benchmark::State& state) {
  pickle::Graph g;
  auto records = small_records(g);
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    std::string out;
    pickle::StringSink sink(out);
    pickle::Pickler pickler(sink);
    pickler.dump(records[i++ % kSmallRecords]);
    bytes += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(state.iterations());
}

// pickle::dumps per record: the one-call API (a fresh Pickler inside).
void pickler_dumps(benchmark::State& state) {
  pickle::Graph g;
  auto records = small_records(g);
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    std::string out = pickle::dumps(records[i++ % kSmallRecords]);
    bytes += out.size();
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(state.iterations());
}

const bool registered = add_registration([] {
  static std::deque<EncodeCase> cases;  // stable addresses
  for (const Dataset& d : datasets()) {
    pickle::Value v = pickle::loads(d.bytes);
    bool identical = pickle::dumps(v, d.protocol) == d.bytes;
    cases.push_back({&d, v, identical});
    benchmark::RegisterBenchmark(("encode/" + d.name + "/p" + std::to_string(d.protocol)).c_str(), encode,
                                 &cases.back());
  }
  benchmark::RegisterBenchmark("pickler/reuse", pickler_reuse);
  benchmark::RegisterBenchmark("pickler/fresh", pickler_fresh);
  benchmark::RegisterBenchmark("pickler/dumps", pickler_dumps);
});

}  // namespace
}  // namespace shelf::bench
