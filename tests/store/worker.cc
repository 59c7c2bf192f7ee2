// tests/store/worker.cc: a second process for the store's multi-process
// tests. Each command checks an invariant and exits non-zero (with a line
// on stderr) when it breaks.
//
//   shelf_store_worker watch PATH SECONDS
//       Reads snapshots until the record "done" appears (or SECONDS pass):
//       in each, records blob:0..count-1 named by "count" all exist with
//       the size "size" says. Prints the number of snapshots checked.
//   shelf_store_worker invariant-writer PATH TRANSACTIONS
//       Moves amounts between acct:0..99 (sum stays 10000) and bumps
//       "commits" in each transaction.
//   shelf_store_worker invariant-reader PATH SECONDS [THREADS]
//       Checks, in THREADS threads (default 1) sharing one Shelf, that every
//       snapshot has sum 10000 and "commits" never goes back.
//   shelf_store_worker ack-writer PATH
//       As invariant-writer, forever, printing each acknowledged commit
//       counter on its own line (flushed) after commit() returns; meant to
//       be killed.
//   shelf_store_worker limited-put PATH BYTES
//       Limits the file size (RLIMIT_FSIZE) to the shelf's current size and
//       tries to put a BYTES-long record: must fail with a clear error.
//       Prints the error; exits 0 when the put failed cleanly.
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "pickle/value.h"
#include "store/shelf.h"

using namespace shelf;
using Clock = std::chrono::steady_clock;

namespace {

int fail(const std::string& why) {
  std::fprintf(stderr, "worker: %s\n", why.c_str());
  return 1;
}

int watch(const std::string& path, double seconds) {
  store::Options options;
  options.mode = store::OpenMode::kReadOnly;
  store::Shelf shelf = store::Shelf::open(path, options);
  auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  long snapshots = 0;
  while (Clock::now() < deadline) {
    store::ReadTxn txn = shelf.read();
    auto count = txn.find("count");
    auto size = txn.find("size");
    if (count && size) {
      int64_t n = count->as_int();
      int64_t want = size->as_int();
      for (int64_t i = 0; i < n; i += 1 + n / 50) {
        auto raw = txn.get_raw("blob:" + std::to_string(i));
        if (!raw) return fail("snapshot with count " + std::to_string(n) + " lacks blob:" + std::to_string(i));
        pickle::Value v = *txn.find("blob:" + std::to_string(i));
        if (static_cast<int64_t>(v.size()) != want) return fail("blob of the wrong size");
      }
    }
    ++snapshots;
    if (txn.contains("done")) break;
  }
  std::printf("%ld\n", snapshots);
  return 0;
}

int invariant_writer(const std::string& path, long transactions, bool print_acks) {
  store::Shelf shelf = store::Shelf::open(path);
  std::mt19937 rng(static_cast<unsigned>(std::random_device{}()));
  for (long t = 0; transactions < 0 || t < transactions; ++t) {
    store::WriteTxn txn = shelf.write();
    int a = static_cast<int>(rng() % 100), b = static_cast<int>(rng() % 100);
    int64_t amount = rng() % 10;
    std::string ka = "acct:" + std::to_string(a), kb = "acct:" + std::to_string(b);
    int64_t va = txn.get(ka).as_int();
    txn.put(ka, pickle::Value(va - amount));
    int64_t vb = txn.get(kb).as_int();
    txn.put(kb, pickle::Value(vb + amount));
    int64_t commits = txn.get("commits").as_int() + 1;
    txn.put("commits", pickle::Value(commits));
    txn.commit();
    if (print_acks) {
      std::printf("%lld\n", static_cast<long long>(commits));
      std::fflush(stdout);
    }
  }
  return 0;
}

int limited_put(const std::string& path, long bytes) {
  store::Shelf shelf = store::Shelf::open(path);
  ::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG instead
  rlimit limit{};
  limit.rlim_cur = limit.rlim_max = std::filesystem::file_size(path);
  if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) return fail("setrlimit failed");
  pickle::Graph g;
  try {
    shelf.put("big", g.bytes(std::string(static_cast<size_t>(bytes), 'x')));
  } catch (const store::StoreError& e) {
    std::printf("%s\n", e.what());
    return 0;
  }
  return fail("the put succeeded past the file size limit");
}

// Each thread reads its own snapshots of the one shared Shelf until the
// deadline; the first failure any thread sees is reported.
int invariant_reader(const std::string& path, double seconds, int threads) {
  store::Options options;
  options.mode = store::OpenMode::kReadOnly;
  store::Shelf shelf = store::Shelf::open(path, options);
  auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  std::atomic<long> snapshots{0};
  std::mutex failure_mutex;
  std::string failure;
  auto read_snapshots = [&] {
    int64_t last_commits = -1;
    try {
      while (Clock::now() < deadline) {
        store::ReadTxn txn = shelf.read();
        int64_t sum = 0;
        for (int i = 0; i < 100; ++i) sum += txn.get("acct:" + std::to_string(i)).as_int();
        int64_t commits = txn.get("commits").as_int();
        if (sum != 10000) throw std::runtime_error("snapshot sum " + std::to_string(sum));
        if (commits < last_commits) throw std::runtime_error("commit counter went back");
        last_commits = commits;
        ++snapshots;
      }
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(failure_mutex);
      if (failure.empty()) failure = e.what();
    }
  };
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) pool.emplace_back(read_snapshots);
  for (std::thread& t : pool) t.join();
  if (!failure.empty()) return fail(failure);
  std::printf("%ld\n", snapshots.load());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return fail("usage: shelf_store_worker watch|invariant-writer|invariant-reader|ack-writer|limited-put PATH N");
  std::string cmd = argv[1], path = argv[2];
  const char* arg = argc > 3 ? argv[3] : "0";
  try {
    if (cmd == "watch") return watch(path, std::atof(arg));
    if (cmd == "invariant-writer") return invariant_writer(path, std::atol(arg), false);
    if (cmd == "ack-writer") return invariant_writer(path, -1, true);
    if (cmd == "limited-put") return limited_put(path, std::atol(arg));
    if (cmd == "invariant-reader") return invariant_reader(path, std::atof(arg), argc > 4 ? std::atoi(argv[4]) : 1);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  return fail("unknown command " + cmd);
}
