// bench/bench_util.h: what the benchmark binaries share: their own flags,
// the datasets bench/datasets/gen_datasets.py writes, the store's record
// workload, and late registration (benchmarks that depend on the datasets
// are registered after the flags are parsed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "pickle/value.h"

namespace shelf::bench {

struct Config {
  // --data=DIR: the output directory of gen_datasets.py. Without it, the
  // dataset benchmarks are not registered (the others still run).
  std::filesystem::path data_dir;
  // --records=N: records of the store workloads (the 200k).
  size_t records = 200'000;
  // --tmp=DIR: where stores are created (default: the system temp dir).
  std::filesystem::path tmp_dir;
};

// The configuration, after parse_flags().
const Config& config();

// Takes our flags (above) out of argv, leaving Google Benchmark's and any
// others. Exits with a usage line on a malformed value.
void parse_flags(int& argc, char** argv);

// Registration functions run by main() after parse_flags(): each benchmark
// file adds one with a static `const bool` initializer.
bool add_registration(std::function<void()> fn);
void run_registrations();

struct Dataset {
  std::string name;  // as in manifest.tsv: "ints_100k"
  int protocol = 0;
  size_t items = 1;  // what items/s counts (elements of the collection)
  std::string bytes;  // the pickle CPython 3.11 wrote
};

// Every dataset of manifest.tsv at every protocol found on disk, in the
// manifest's order; empty without --data. Read once.
const std::vector<Dataset>& datasets();

std::string read_file(const std::filesystem::path& path);

// The store workload: key%08d -> {'id': i, 'name': 'x'*20, 'tags': [1, 2, 3]}.
std::string record_key(size_t i);
pickle::Value make_record(pickle::Graph& graph, int64_t id);

// A fresh, empty directory for one benchmark's store; removed by the
// destructor.
class TempDir {
 public:
  explicit TempDir(std::string_view tag);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A permutation of 0..n-1 from a fixed seed: the order of random gets.
std::vector<uint32_t> shuffled_indices(size_t n, uint64_t seed = 42);

}  // namespace shelf::bench
