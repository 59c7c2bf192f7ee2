#include "bench/bench_util.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>

namespace shelf::bench {

namespace {

Config& mutable_config() {
  static Config c;
  return c;
}

std::vector<std::function<void()>>& registrations() {
  static std::vector<std::function<void()>> r;
  return r;
}

size_t parse_count(std::string_view flag, std::string_view text) {
  size_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      std::fprintf(stderr, "bad value for %.*s: '%.*s' (a count)\n", static_cast<int>(flag.size()),
                   flag.data(), static_cast<int>(text.size()), text.data());
      std::exit(2);
    }
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  if (text.empty() || n == 0) {
    std::fprintf(stderr, "%.*s needs a positive count\n", static_cast<int>(flag.size()), flag.data());
    std::exit(2);
  }
  return n;
}

}  // namespace

const Config& config() { return mutable_config(); }

void parse_flags(int& argc, char** argv) {
  Config& c = mutable_config();
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value_of = [&](std::string_view flag) -> std::optional<std::string_view> {
      if (arg.size() > flag.size() && arg.starts_with(flag) && arg[flag.size()] == '=')
        return arg.substr(flag.size() + 1);
      return std::nullopt;
    };
    if (auto v = value_of("--data")) {
      c.data_dir = std::string(*v);
    } else if (auto v = value_of("--records")) {
      c.records = parse_count("--records", *v);
    } else if (auto v = value_of("--tmp")) {
      c.tmp_dir = std::string(*v);
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  if (c.tmp_dir.empty()) c.tmp_dir = std::filesystem::temp_directory_path();
}

bool add_registration(std::function<void()> fn) {
  registrations().push_back(std::move(fn));
  return true;
}

void run_registrations() {
  for (auto& fn : registrations()) fn();
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return std::move(s).str();
}

const std::vector<Dataset>& datasets() {
  static const std::vector<Dataset> all = [] {
    std::vector<Dataset> out;
    const auto& dir = config().data_dir;
    if (dir.empty()) return out;
    std::istringstream manifest(read_file(dir / "manifest.tsv"));
    std::string line;
    while (std::getline(manifest, line)) {
      size_t tab1 = line.find('\t');
      size_t tab2 = line.find('\t', tab1 + 1);
      if (tab1 == std::string::npos || tab2 == std::string::npos) continue;
      std::string name = line.substr(0, tab1);
      size_t items = std::stoul(line.substr(tab1 + 1, tab2 - tab1 - 1));
      for (int proto : {0, 2, 4, 5}) {
        auto path = dir / (name + ".p" + std::to_string(proto) + ".pickle");
        if (!std::filesystem::exists(path)) continue;
        out.push_back({name, proto, items, read_file(path)});
      }
    }
    return out;
  }();
  return all;
}

std::string record_key(size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "key%08zu", i);
  return buf;
}

pickle::Value make_record(pickle::Graph& graph, int64_t id) {
  return graph.dict({{"id", id}, {"name", "xxxxxxxxxxxxxxxxxxxx"}, {"tags", graph.list({1, 2, 3})}});
}

TempDir::TempDir(std::string_view tag) {
  static int counter = 0;
  path_ = config().tmp_dir /
          ("shelf_bench." + std::to_string(::getpid()) + "." + std::string(tag) + "." + std::to_string(counter++));
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::vector<uint32_t> shuffled_indices(size_t n, uint64_t seed) {
  std::vector<uint32_t> idx(n);
  for (size_t i = 0; i < n; ++i) idx[i] = static_cast<uint32_t>(i);
  std::mt19937_64 rng(seed);
  std::shuffle(idx.begin(), idx.end(), rng);
  return idx;
}

}  // namespace shelf::bench
