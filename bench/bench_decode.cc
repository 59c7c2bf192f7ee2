// bench/bench_decode.cc: pickle bytes -> value graph, for every dataset at
// protocols 0, 2, 4 and 5, as pickle.loads(data) is timed on the CPython
// side (the result is dropped each time, so freeing the graph is counted,
// as CPython counts deallocation).
//
// Names: decode/<dataset>/p<protocol>, and decode_borrowed/... for
// loads_borrowing. Counters: bytes/s of pickle input,
// items/s of the dataset's elements (manifest.tsv).
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <string>

#include "bench/bench_util.h"
#include "pickle/unpickler.h"

namespace shelf::bench {
namespace {

void decode(benchmark::State& state, const Dataset* d) {
  for (auto _ : state) {
    pickle::Value v = pickle::loads(d->bytes);
    benchmark::DoNotOptimize(v);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * d->bytes.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * d->items));
}

// The same through loads_borrowing: str and bytes payloads point into the
// input, which the dataset's shared_ptr keeps (no copy of a MiB of bytes
// at protocols 3 and up, none of any string's text).
void decode_borrowed(benchmark::State& state, const Dataset* d) {
  auto input = std::make_shared<const std::string>(d->bytes);
  for (auto _ : state) {
    pickle::Value v = pickle::loads_borrowing(*input, input);
    benchmark::DoNotOptimize(v);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * d->bytes.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * d->items));
}

// The floor for bytes-dominated data: copying 1 MiB into memory already
// allocated (the target: bytes_1mib decodes at >= 80% of this).
void memcpy_1mib(benchmark::State& state) {
  const size_t n = size_t{1} << 20;
  std::string src(n, 'x'), dst(n, '\0');
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), n);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
  state.SetItemsProcessed(state.iterations());
}

// The same copy into a fresh allocation each time, as a decoder that must
// own the bytes does.
void malloc_memcpy_1mib(benchmark::State& state) {
  const size_t n = size_t{1} << 20;
  std::string src(n, 'x');
  for (auto _ : state) {
    std::string dst(src);
    benchmark::DoNotOptimize(dst.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
  state.SetItemsProcessed(state.iterations());
}

const bool registered = add_registration([] {
  for (const Dataset& d : datasets()) {
    std::string suffix = "/" + d.name + "/p" + std::to_string(d.protocol);
    benchmark::RegisterBenchmark(("decode" + suffix).c_str(), decode, &d);
    benchmark::RegisterBenchmark(("decode_borrowed" + suffix).c_str(), decode_borrowed, &d);
  }
  benchmark::RegisterBenchmark("memcpy/1MiB", memcpy_1mib);
  benchmark::RegisterBenchmark("memcpy/1MiB_fresh_buffer", malloc_memcpy_1mib);
});

}  // namespace
}  // namespace shelf::bench
