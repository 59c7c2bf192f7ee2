// bench/bench_main.cc: main() of the benchmark binaries. Our flags
// (bench_util.h: --data, --records, --tmp) are taken out
// first, then Google Benchmark's are parsed, then the benchmarks that depend
// on them are registered.
#include <benchmark/benchmark.h>

#include "bench/bench_util.h"

int main(int argc, char** argv) {
  shelf::bench::parse_flags(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  shelf::bench::run_registrations();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
