#include "store/shelf.h"

#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <thread>

#include "pickle/pickler.h"
#include "pickle/unpickler.h"
#include "tests/store/temp_shelf.h"

using namespace shelf;
using namespace shelf::pickle;
using store::OpenMode;
using store::StoreError;
using store::StoreErrorCode;
using testutil::TempDir;
using testutil::TempShelf;

namespace {

StoreErrorCode code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const StoreError& e) {
    return e.code();
  }
  FAIL("no StoreError was thrown");
  return StoreErrorCode::kLmdb;
}

}  // namespace

TEST_CASE("open modes behave as dbm's r, w, c, n", "[store]") {
  TempDir dir;
  auto path = dir.path() / "s.shelf";
  store::Options options;
  options.mode = OpenMode::kReadOnly;
  CHECK(code_of([&] { store::Shelf::open(path, options); }) == StoreErrorCode::kNotFound);
  options.mode = OpenMode::kReadWrite;
  CHECK(code_of([&] { store::Shelf::open(path, options); }) == StoreErrorCode::kNotFound);
  {
    store::Shelf s = store::Shelf::open(path);  // kCreate
    Graph g;
    s.put("a", g.str("alpha"));
    CHECK(s.size() == 1);
  }
  {
    options.mode = OpenMode::kReadOnly;
    store::Shelf s = store::Shelf::open(path, options);
    CHECK(s.get("a").as_str() == "alpha");
    CHECK(code_of([&] { s.put("b", Value(1)); }) == StoreErrorCode::kReadOnly);
  }
  {
    options.mode = OpenMode::kCreateTruncate;
    store::Shelf s = store::Shelf::open(path, options);
    CHECK(s.size() == 0);
  }
}

TEST_CASE("new shelves are private to their owner", "[store]") {
  TempDir dir;
  auto path = dir.path() / "s.shelf";
  { store::Shelf::open(path).put("k", Value(1)); }
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((path.string() + "-lock").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("files that are not shelves are refused", "[store]") {
  TempDir dir;
  auto junk = dir.path() / "junk";
  std::ofstream(junk) << std::string(8192, 'x');
  CHECK(code_of([&] { store::Shelf::open(junk); }) == StoreErrorCode::kNotAShelf);
  CHECK(code_of([&] { store::Shelf::open(dir.path()); }) == StoreErrorCode::kNotAShelf);
}

TEST_CASE("metadata records format and protocol", "[store]") {
  store::Options options;
  options.protocol = 2;
  TempShelf t(options);
  store::ShelfStat stat = t->stat();
  CHECK(stat.format_version == 1);
  CHECK(stat.protocol == 2);
  CHECK(stat.created_by.starts_with("shelf "));
  t->put("x", Value(1));
  CHECK(t->get_raw("x")->substr(0, 2) == "\x80\x02");
  store::Shelf& again = t.reopen();
  CHECK(again.protocol() == 2);
}

TEST_CASE("the dictionary API", "[store]") {
  TempShelf t;
  Graph g;
  t->put("b", g.list({1, 2, 3}));
  t->put("a", g.dict({{"x", 1.5}}));
  t->put("c/1", g.str("one"));
  t->put("c/2", g.str("two"));
  CHECK(t->size() == 4);
  CHECK(t->contains("a"));
  CHECK_FALSE(t->contains("zz"));
  CHECK(t->get("b") == g.list({1, 2, 3}));
  CHECK_FALSE(t->find("missing").has_value());
  CHECK_THROWS_AS(t->get("missing"), store::KeyNotFound);
  CHECK(t->keys() == std::vector<std::string>{"a", "b", "c/1", "c/2"});
  CHECK(t->keys("c/") == std::vector<std::string>{"c/1", "c/2"});
  store::ReadTxn txn = t->read();
  std::vector<std::string> seen;
  txn.scan_range("b", "c/2", [&](const store::RawRecord& r) {
    seen.emplace_back(r.key);
    return true;
  });
  CHECK(seen == std::vector<std::string>{"b", "c/1"});
  txn.end();
  CHECK(t->erase("a"));
  CHECK_FALSE(t->erase("a"));
  CHECK(t->size() == 3);
  t->put_raw("raw", pickle::dumps(Value(7), 2));
  CHECK(t->get("raw").as_int() == 7);
}

TEST_CASE("keys LMDB cannot store are refused clearly", "[store]") {
  TempShelf t;
  CHECK(code_of([&] { t->put("", Value(1)); }) == StoreErrorCode::kBadKey);
  std::string long_key(t->max_key_size() + 1, 'k');
  try {
    t->put(long_key, Value(1));
    FAIL("no error");
  } catch (const StoreError& e) {
    CHECK(e.code() == StoreErrorCode::kBadKey);
    CHECK(std::string(e.what()).find("511") != std::string::npos);
  }
  t->put(std::string(t->max_key_size(), 'k'), Value(1));
  CHECK(code_of([&] { t->put("\xff\xfe", Value(1)); }) == StoreErrorCode::kBadKey);
  t->put("ключ", Value(2));
  CHECK(t->get("ключ").as_int() == 2);
}

TEST_CASE("read transactions are snapshots", "[store]") {
  TempShelf t;
  t->put("k", Value(1));
  store::ReadTxn before = t->read();
  t->put("k", Value(2));
  t->put("new", Value(3));
  CHECK(before.get("k").as_int() == 1);
  CHECK_FALSE(before.contains("new"));
  CHECK(t->get("k").as_int() == 2);
}

TEST_CASE("write transactions commit atomically, abort by default", "[store]") {
  TempShelf t;
  {
    store::WriteTxn txn = t->write();
    txn.put("a", Value(1));
    txn.put("b", Value(2));
    CHECK(txn.get("a").as_int() == 1);  // reads see the transaction's own writes
  }  // destroyed uncommitted: aborted
  CHECK(t->size() == 0);
  store::WriteTxn txn = t->write();
  txn.put("a", Value(1));
  txn.commit();
  CHECK_FALSE(txn.active());
  CHECK(code_of([&] { txn.put("b", Value(2)); }) == StoreErrorCode::kTxnState);
  CHECK(t->get("a").as_int() == 1);
}

TEST_CASE("savepoints nest", "[store]") {
  TempShelf t;
  store::WriteTxn txn = t->write();
  txn.put("outer", Value(1));
  {
    store::WriteTxn sp = txn.savepoint();
    sp.put("inner", Value(2));
    CHECK(code_of([&] { txn.put("x", Value(0)); }) == StoreErrorCode::kTxnState);
    sp.abort();
  }
  CHECK_FALSE(txn.contains("inner"));
  {
    store::WriteTxn sp = txn.savepoint();
    sp.put("kept", Value(3));
    store::WriteTxn sp2 = sp.savepoint();
    sp2.put("deep", Value(4));
    sp2.commit();
    sp.commit();
  }
  txn.commit();
  CHECK(t->keys() == std::vector<std::string>{"deep", "kept", "outer"});
}

TEST_CASE("a transaction loads each record once", "[store]") {
  TempShelf t;
  Graph g;
  t->put("k", g.list({1}));
  store::ReadTxn txn = t->read();
  Value a = txn.get("k");
  Value b = txn.get("k");
  CHECK(a.is(b));
}

TEST_CASE("identity holds across thousands of records, writes and erasures", "[store][txn]") {
  // Enough keys for the identity map to grow many times and, with the
  // erasures, to compact.
  TempShelf t;
  Graph g;
  const int n = 5000;
  {
    store::WriteTxn txn = t->write();
    for (int i = 0; i < n; ++i) txn.put("k" + std::to_string(i), g.list({i}));
    txn.commit();
  }
  store::WriteTxn txn = t->write();
  std::vector<Value> first;
  for (int i = 0; i < n; ++i) first.push_back(txn.get("k" + std::to_string(i)));
  for (int i = n - 1; i >= 0; --i) CHECK(txn.get("k" + std::to_string(i)).is(first[i]));
  for (int i = 0; i < n; i += 2) txn.erase("k" + std::to_string(i));
  for (int i = 1; i < n; i += 4) txn.put("k" + std::to_string(i), g.list({-i}));
  for (int i = 0; i < n; ++i) {
    std::string key = "k" + std::to_string(i);
    std::optional<Value> now = txn.find(key);
    if (i % 2 == 0) {
      CHECK(!now);
    } else if (i % 4 == 1) {
      REQUIRE(now);
      CHECK(!now->is(first[i]));
      CHECK((*now)[0].as_int() == -i);
      CHECK(txn.get(key).is(*now));
    } else {
      REQUIRE(now);
      CHECK(now->is(first[i]));
    }
  }
  txn.commit();
}

TEST_CASE("puts in key order, out of order and over the last key all land", "[store][txn]") {
  store::Options options;
  options.map_size = 64 * 1024;  // the bulk load grows the map while appending
  options.durability = store::Durability::kNoSync;
  TempShelf t(options);
  auto key = [](int i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "key%08d", i);
    return std::string(buf);
  };
  Graph g;
  {
    store::WriteTxn txn = t->write();
    for (int i = 0; i < 20000; i += 2) txn.put(key(i), Value(i));  // ascending: appended
    txn.put(key(19998), Value(-1));                                // the last key again
    for (int i = 1; i < 200; i += 2) txn.put(key(i), Value(i));    // before the last key
    txn.put("a", Value(-2));                                       // before every key
    {
      store::WriteTxn sp = txn.savepoint();
      for (int i = 20000; i < 20100; ++i) sp.put(key(i), Value(i));
      sp.abort();
    }
    for (int i = 20100; i < 20200; ++i) txn.put(key(i), Value(i));  // ascending again
    txn.commit();
  }
  CHECK(t->size() == 10000 + 100 + 1 + 100);
  CHECK(t->get(key(0)).as_int() == 0);
  CHECK(t->get(key(19996)).as_int() == 19996);
  CHECK(t->get(key(19998)).as_int() == -1);
  CHECK(t->get(key(101)).as_int() == 101);
  CHECK(t->get("a").as_int() == -2);
  CHECK(!t->find(key(20050)));
  CHECK(t->get(key(20199)).as_int() == 20199);
  std::vector<std::string> keys = t->keys();
  CHECK(std::is_sorted(keys.begin(), keys.end()));
}

TEST_CASE("persistent references become record keys", "[store][refs]") {
  TempShelf t;
  Graph g;
  t->put("shared", g.dict({{"name", "third"}}));
  t->put("a", g.list({store::ref(g, "shared"), 1}));
  t->put("b", g.list({store::ref(g, "shared"), 2}));
  // Stored as the key, not a copy.
  std::string raw = *t->get_raw("a");
  CHECK(raw.find("shared") != std::string::npos);
  CHECK(raw.find("third") == std::string::npos);
  CHECK(store::references(t->get("a")) == std::vector<std::string>{"shared"});

  SECTION("lazily") {
    store::ReadTxn txn = t->read();
    Value a = txn.get("a");
    CHECK(a[0].kind() == Kind::PersistentRef);
    Value shared = txn.resolve(a[0]);
    CHECK(shared.get("name")->as_str() == "third");
    CHECK(txn.resolve(txn.get("b")[0]).is(shared));
  }
  SECTION("eagerly, one object per record") {
    store::ReadTxn txn = t->read();
    Value a = txn.get("a", {1});
    Value b = txn.get("b", {1});
    CHECK(a[0].kind() == Kind::Dict);
    CHECK(a[0].is(b[0]));
  }
  SECTION("protocol 0 writes PERSID") {
    store::Options options;
    options.protocol = 0;
    store::Shelf& s = t.reopen(options);
    s.put("p0", g.list({store::ref(g, "shared")}));
    CHECK(s.get_raw("p0")->find("Pshared\n") != std::string::npos);
    CHECK(s.get("p0", {1})[0].get("name")->as_str() == "third");
  }
}

TEST_CASE("references across records may form cycles", "[store][refs]") {
  TempShelf t;
  Graph g;
  t->put("x", g.dict({{"next", store::ref(g, "y")}}));
  t->put("y", g.dict({{"next", store::ref(g, "x")}}));
  store::ReadTxn txn = t->read();
  Value x = txn.get("x", {store::Resolve::kAll});
  Value y = *x.get("next");
  CHECK(y.get("next")->is(x));
}

TEST_CASE("dangling references are reported when resolved", "[store][refs]") {
  TempShelf t;
  Graph g;
  t->put("a", g.list({store::ref(g, "gone")}));
  Value a = t->get("a");  // loading alone is fine
  CHECK(a[0].kind() == Kind::PersistentRef);
  try {
    t->get("a", {1});
    FAIL("no error");
  } catch (const StoreError& e) {
    CHECK(e.code() == StoreErrorCode::kDanglingReference);
    CHECK(std::string(e.what()).find("gone") != std::string::npos);
  }
}

TEST_CASE("a corrupt record is reported with its key", "[store]") {
  TempShelf t;
  Graph g;
  t->put("k", g.list({1, 2, 3}));
  t.corrupt_record("k", 4);
  try {
    t->get("k");
    FAIL("no error");
  } catch (const StoreError& e) {
    CHECK(e.code() == StoreErrorCode::kBadRecord);
    CHECK(std::string(e.what()).find("'k'") != std::string::npos);
  }
}

TEST_CASE("the same file opened twice shares one environment", "[store]") {
  TempShelf t;
  store::Shelf second = store::Shelf::open(t.path());
  t->put("k", Value(1));
  CHECK(second.get("k").as_int() == 1);
  store::WriteTxn w = second.write();
  w.put("k", Value(2));
  w.commit();
  CHECK(t->get("k").as_int() == 2);
}

TEST_CASE("the map grows inside a transaction", "[store][growth]") {
  store::Options options;
  options.map_size = 64 * 1024;
  options.durability = store::Durability::kNoSync;
  TempShelf t(options);
  Graph g;
  Value blob = g.bytes(std::string(100 * 1024, 'z'));
  store::WriteTxn txn = t->write();
  {
    store::WriteTxn sp = txn.savepoint();
    for (int i = 0; i < 300; ++i) sp.put("blob:" + std::to_string(i), blob);  // ~30 MiB
    sp.commit();
  }
  txn.put("last", Value(1));
  txn.commit();
  CHECK(t->size() == 301);
  CHECK(t->get("blob:299").size() == blob.size());
  CHECK(t->stat().map_size >= 30u * 1024 * 1024);
}

TEST_CASE("readers in threads see consistent snapshots while one writes", "[store][threads]") {
  TempShelf t;
  for (int i = 0; i < 10; ++i) t->put("acct:" + std::to_string(i), Value(100));
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0}, snapshots{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (!stop) {
        store::ReadTxn txn = t->read();
        int64_t sum = 0;
        for (int i = 0; i < 10; ++i) sum += txn.get("acct:" + std::to_string(i)).as_int();
        if (sum != 1000) ++bad;
        ++snapshots;
      }
    });
  }
  for (int n = 0; n < 300; ++n) {
    store::WriteTxn txn = t->write();
    int a = n % 10, b = (n * 7 + 3) % 10;
    txn.put("acct:" + std::to_string(a), Value(txn.get("acct:" + std::to_string(a)).as_int() - 5));
    txn.put("acct:" + std::to_string(b), Value(txn.get("acct:" + std::to_string(b)).as_int() + 5));
    txn.commit();
  }
  stop = true;
  for (auto& th : readers) th.join();
  CHECK(bad == 0);
  CHECK(snapshots > 0);
}
