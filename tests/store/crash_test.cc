// Crash safety: a writer killed with SIGKILL at random moments loses no
// acknowledged commit and never leaves a broken invariant; a write the file
// system refuses leaves the shelf as it was; reader slots of killed readers
// are reclaimed. SHELF_CRASH_KILLS sets the number of kills (20 by default,
// 200 or more for a nightly-size run).
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "store/shelf.h"
#include "tests/store/temp_shelf.h"

using namespace shelf;
using namespace shelf::pickle;
using testutil::Process;
using testutil::TempShelf;

namespace {

int kills_wanted() {
  const char* env = std::getenv("SHELF_CRASH_KILLS");
  return env ? std::max(1, std::atoi(env)) : 20;
}

int64_t last_ack(const std::string& out) {
  int64_t last = -1;
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    if (end == std::string::npos) break;  // a torn last line was never acknowledged
    last = std::stoll(out.substr(start, end - start));
    start = end + 1;
  }
  return last;
}

void init_accounts(store::Shelf& s) {
  store::WriteTxn txn = s.write();
  for (int i = 0; i < 100; ++i) txn.put("acct:" + std::to_string(i), Value(100));
  txn.put("commits", Value(0));
  txn.commit();
}

}  // namespace

TEST_CASE("a writer killed at random moments loses no acknowledged commit", "[store][crash]") {
  TempShelf t;
  init_accounts(t.shelf());
  std::string path = t.path().string();
  std::mt19937 rng(12345);
  int kills = kills_wanted();
  int64_t total_acks = 0;
  for (int k = 0; k < kills; ++k) {
    Process writer({testutil::store_worker_path(), "ack-writer", path});
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + rng() % 60));
    writer.signal(SIGKILL);
    testutil::ProcessResult r = writer.wait();
    int64_t acked = last_ack(r.out);
    store::ReadTxn txn = t->read();
    int64_t sum = 0;
    for (int i = 0; i < 100; ++i) sum += txn.get("acct:" + std::to_string(i)).as_int();
    int64_t commits = txn.get("commits").as_int();
    INFO("kill " << k << ": acknowledged " << acked << ", found " << commits);
    REQUIRE(sum == 10000);
    // Every acknowledged commit is there; at most one more finished
    // between commit() returning and the acknowledgement being printed.
    int64_t known = std::max(acked, total_acks);
    REQUIRE(commits >= known);
    REQUIRE(commits <= known + 1);
    total_acks = commits;
    // Another process opens the shelf afresh and finds every record whole.
    testutil::ProcessResult check = testutil::run_process({SHELFCTL_PATH, "check", path});
    INFO(check.out << check.err);
    REQUIRE(check.exit_code == 0);
  }
  WARN(kills << " kills; " << total_acks << " commits survived in total");
}

TEST_CASE("a write the file system refuses leaves the shelf as it was", "[store][crash]") {
  TempShelf t;
  init_accounts(t.shelf());
  std::string before = *t->get_raw("acct:7");
  size_t records = t->size();
  t.close();
  testutil::ProcessResult r =
      testutil::run_process({testutil::store_worker_path(), "limited-put", t.path().string(), "4000000"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK((r.out.find("File too large") != std::string::npos || r.out.find("No space") != std::string::npos));
  store::Shelf& s = t.reopen();
  CHECK(s.size() == records);
  CHECK_FALSE(s.contains("big"));
  CHECK(*s.get_raw("acct:7") == before);
}

TEST_CASE("reader slots of killed readers are reclaimed", "[store][crash]") {
  store::Options options;
  options.max_readers = 4;
  TempShelf t(options);
  init_accounts(t.shelf());
  std::string path = t.path().string();
  for (int k = 0; k < 8; ++k) {  // twice the slots
    Process reader({testutil::store_worker_path(), "invariant-reader", path, "30"});
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    reader.signal(SIGKILL);
    reader.wait();
  }
  // New readers in other processes still find a slot.
  testutil::ProcessResult r = testutil::run_process({testutil::store_worker_path(), "invariant-reader", path, "0.2"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  store::ReadTxn txn = t->read();
  CHECK(txn.get("commits").as_int() == 0);
}
