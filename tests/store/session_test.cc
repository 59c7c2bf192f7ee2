#include "store/session.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "pickle/repr.h"
#include "tests/store/temp_shelf.h"

using namespace shelf;
using namespace shelf::pickle;
using store::Session;
using store::StoreError;
using store::StoreErrorCode;
using testutil::TempShelf;

TEST_CASE("a session keeps one object per record", "[session]") {
  TempShelf t;
  Graph g;
  t->put("shared", g.dict({{"n", 1}}));
  t->put("a", g.list({store::ref(g, "shared")}));
  t->put("b", g.list({store::ref(g, "shared")}));
  Session s(t.shelf());
  CHECK(s.get("a").is(s.get("a")));
  Value shared = s.resolve(s.get("a")[0]);
  CHECK(s.resolve(s.get("b")[0]).is(shared));
  CHECK(s.get("shared").is(shared));
  Value eager = s.get("b", {1});
  CHECK(eager[0].is(shared));
}

TEST_CASE("commit writes exactly the records that changed", "[session]") {
  TempShelf t;
  Graph g;
  for (int i = 0; i < 20; ++i) t->put("r" + std::to_string(i), g.dict({{"i", i}, {"tags", g.list({1, 2})}}));
  Session s(t.shelf());
  for (int i = 0; i < 20; ++i) s.get("r" + std::to_string(i));  // load everything
  CHECK(s.commit() == 0);
  s.get("r3").set_item("i", 300);
  s.get("r7").get("tags")->append(3);  // a nested change
  Value r9 = s.get("r9");
  r9.set_item("i", 9);  // a mutation that leaves the same bytes
  CHECK(s.commit() == 2);
  CHECK(s.stats().unchanged == 1);
  CHECK(t->get("r3").get("i")->as_int() == 300);
  CHECK(repr(t->get("r7")) == "{'i': 7, 'tags': [1, 2, 3]}");
  CHECK(s.commit() == 0);
}

TEST_CASE("new and erased records, and abort", "[session]") {
  TempShelf t;
  Graph g;
  t->put("old", Value(1));
  {
    Session s(t.shelf());
    s.put("new", g.list({1}));
    CHECK(s.erase("old"));
    CHECK_FALSE(s.contains("old"));
    CHECK_FALSE(s.erase("never"));
    CHECK(s.commit() == 2);
  }
  CHECK(t->keys() == std::vector<std::string>{"new"});
  {
    Session s(t.shelf());
    s.get("new").append(2);
    s.put("x", Value(1));
    s.abort();
    CHECK(s.commit() == 0);
  }
  {
    Session s(t.shelf());
    s.get("new").append(2);
  }  // destroyed without commit: discarded
  CHECK(repr(t->get("new")) == "[1]");
}

TEST_CASE("roots of other records are written as references", "[session]") {
  TempShelf t;
  Graph g;
  Session s(t.shelf());
  Value config = s.put("config", g.dict({{"name", "demo"}}));
  Value user = s.put("user:1", g.dict({{"name", "Ada"}}));
  user.set_item("config", config);
  Value user2 = s.put("user:2", g.dict({{"name", "Bob"}}));
  user2.set_item("config", config);
  CHECK(s.commit() == 3);
  std::string raw = *t->get_raw("user:1");
  CHECK(raw.find("demo") == std::string::npos);  // a reference, not a copy
  CHECK(store::references(t->get("user:1")) == std::vector<std::string>{"config"});
  Session again(t.shelf());
  Value u1 = again.get("user:1", {1});
  Value u2 = again.get("user:2", {1});
  CHECK(u1.get("config")->is(*u2.get("config")));
  CHECK(u1.get("config")->get("name")->as_str() == "demo");
}

TEST_CASE("a conflicting commit writes nothing", "[session]") {
  TempShelf t;
  t->put("k", Value(1));
  t->put("other", Value(1));
  Session a(t.shelf());
  Session b(t.shelf());
  Graph g;
  a.get("k");
  b.get("k");
  a.put("k", Value(2));
  a.put("other", Value(5));
  b.put("k", Value(3));
  CHECK(b.commit() == 1);
  try {
    a.commit();
    FAIL("no conflict");
  } catch (const StoreError& e) {
    CHECK(e.code() == StoreErrorCode::kConflict);
    CHECK(std::string(e.what()).find("'k'") != std::string::npos);
  }
  CHECK(t->get("k").as_int() == 3);
  CHECK(t->get("other").as_int() == 1);  // nothing of a's commit landed
  a.abort();
  a.put("k", Value(a.get("k").as_int() + 10));
  CHECK(a.commit() == 1);
  CHECK(t->get("k").as_int() == 13);
}

TEST_CASE("the cache evicts clean records, never dirty ones", "[session]") {
  TempShelf t;
  Graph g;
  for (int i = 0; i < 50; ++i) t->put("r" + std::to_string(i), g.list({i}));
  store::SessionOptions options;
  options.cache_size = 10;
  Session s(t.shelf(), options);
  Value dirty = s.get("r0");
  dirty.append(99);
  for (int i = 1; i < 50; ++i) s.get("r" + std::to_string(i));
  CHECK(s.cached_records() <= 11);
  CHECK(s.stats().evictions >= 39);
  CHECK(s.get("r0").is(dirty));
  CHECK(s.commit() == 1);
  CHECK(repr(t->get("r0")) == "[0, 99]");
}

TEST_CASE("a session sees a new snapshot after commit and drops stale objects", "[session]") {
  TempShelf t;
  t->put("k", Value(1));
  t->put("mine", Value(1));
  Session s(t.shelf());
  CHECK(s.get("k").as_int() == 1);
  t->put("k", Value(2));  // another writer
  CHECK(s.get("k").as_int() == 1);  // still the old snapshot
  s.put("mine", Value(5));
  s.commit();
  CHECK(s.get("k").as_int() == 2);
  CHECK(s.stats().invalidations == 1);
}

TEST_CASE("records a session writes load in CPython with a persistent_load that fetches by key", "[session][python]") {
  constexpr const char* kSystemPython = "/usr/bin/python3";
  if (!std::filesystem::exists(kSystemPython) ||
      testutil::run_process({kSystemPython, "-c", "import lmdb"}).exit_code != 0) {
    WARN("Debian's python3 with python3-lmdb is missing (apt-get install python3-lmdb); skipping");
    return;
  }
  for (int protocol : {0, 2, 5}) {
    INFO("protocol " << protocol);
    store::Options options;
    options.protocol = protocol;
    TempShelf t(options);
    {
      Session s(t.shelf());
      Graph g = s.graph();
      Value config = s.put("config", g.dict({{"name", "demo"}}));
      Value ada = s.put("user:ada", g.dict({{"name", "Ada"}, {"config", config}}));
      Value loop = s.put("loop", g.list({}));
      loop.append(loop);  // within its own record: a memo reference, a cycle
      s.put("users", g.list({ada, config}));
      REQUIRE(s.commit() == 4);
    }
    CHECK(store::references(t->get("users")) == std::vector<std::string>{"user:ada", "config"});
    t.close();
    // shelf_reader.py's persistent_load fetches a key's record (docs/format.md).
    testutil::ProcessResult r = testutil::run_process(
        {kSystemPython, std::string(SHELF_SOURCE_DIR) + "/tests/store/shelf_reader.py", t.path().string()});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out ==
          "format 1\n"
          "config {'name': 'demo'}\n"
          "loop [[...]]\n"
          "user:ada {'name': 'Ada', 'config': {'name': 'demo'}}\n"
          "users [{'name': 'Ada', 'config': {'name': 'demo'}}, {'name': 'demo'}]\n");
  }
}

TEST_CASE("a commit conflicts with another process's commit and writes nothing", "[session][process]") {
  TempShelf t;
  t->put("counter", Value(1));
  t->put("other", Value(1));
  Session s(t.shelf());
  Value before = s.get("counter");
  s.put("counter", Value(before.as_int() + 1));
  s.put("other", Value(5));
  // Another process commits the same record after this session's snapshot.
  testutil::ProcessResult r = testutil::run_process({SHELFCTL_PATH, "put", t.path().string(), "counter", "100"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  try {
    s.commit();
    FAIL("no conflict");
  } catch (const StoreError& e) {
    CHECK(e.code() == StoreErrorCode::kConflict);
    CHECK_THAT(e.what(), Catch::Contains("'counter'"));
  }
  CHECK(t->get("counter").as_int() == 100);
  CHECK(t->get("other").as_int() == 1);  // nothing of the session's commit landed
  s.abort();
  s.put("counter", Value(s.get("counter").as_int() + 1));  // the retry sees the other process's value
  CHECK(s.commit() == 1);
  r = testutil::run_process({SHELFCTL_PATH, "get", t.path().string(), "counter"});
  CHECK(r.out == "101\n");
}
