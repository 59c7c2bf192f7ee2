// Processes sharing one shelf: the map grows under a reader in another
// process, and readers in other processes (and their threads) only ever see
// committed snapshots while a writer commits.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "store/shelf.h"
#include "tests/store/temp_shelf.h"

using namespace shelf;
using namespace shelf::pickle;
using testutil::Process;
using testutil::TempShelf;

TEST_CASE("the map grows from 64 KiB to hundreds of MiB under a reading process", "[store][growth][process]") {
  store::Options options;
  options.map_size = 64 * 1024;
  options.durability = store::Durability::kNoSync;
  TempShelf t(options);
  Graph g;
  constexpr int64_t kBlob = 1 << 20;
  constexpr int kBlobs = 300;  // 300 MiB
  t->put("size", Value(kBlob));
  Process watcher({testutil::store_worker_path(), "watch", t.path().string(), "120"});
  Value blob = g.bytes(std::string(kBlob, 'b'));
  for (int i = 0; i < kBlobs; i += 10) {
    store::WriteTxn txn = t->write();
    for (int j = i; j < i + 10; ++j) txn.put("blob:" + std::to_string(j), blob);
    txn.put("count", Value(i + 10));
    txn.commit();
  }
  t->put("done", Value(true));
  testutil::ProcessResult r = watcher.wait();
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(t->size() == kBlobs + 3);
  CHECK(t->stat().map_size >= size_t{kBlobs} * kBlob);
}

TEST_CASE("four reader processes of two threads each see only committed snapshots", "[store][process]") {
  TempShelf t;
  {
    store::WriteTxn txn = t->write();
    for (int i = 0; i < 100; ++i) txn.put("acct:" + std::to_string(i), Value(100));
    txn.put("commits", Value(0));
    txn.commit();
  }
  std::string path = t.path().string();
  std::vector<std::unique_ptr<Process>> readers;
  for (int i = 0; i < 4; ++i)
    readers.push_back(std::make_unique<Process>(
        std::vector<std::string>{testutil::store_worker_path(), "invariant-reader", path, "3", "2"}));
  Process writer({testutil::store_worker_path(), "invariant-writer", path, "400"});
  testutil::ProcessResult w = writer.wait();
  INFO(w.err);
  CHECK(w.exit_code == 0);
  for (auto& reader : readers) {
    testutil::ProcessResult r = reader->wait();
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(std::stol(r.out) > 0);  // snapshots read
  }
  CHECK(t->get("commits").as_int() == 400);
}
