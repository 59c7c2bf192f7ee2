// docs/store.md and docs/session.md: the examples, compiled and run.
#include <catch2/catch.hpp>
#include <string>

#include "pickle/repr.h"
#include "store/session.h"
#include "store/shelf.h"
#include "tests/store/temp_shelf.h"

namespace {

TEST_CASE("docs example: a shelf as a dictionary", "[docs][store]") {
  shelf::testutil::TempDir dir;
  std::string path = (dir.path() / "example.shelf").string();
  // [doc:store-dict]
  using namespace shelf;
  using pickle::Graph;
  using pickle::Value;

  store::Shelf db = store::Shelf::open(path);  // created when missing, mode 0600

  Graph g;
  db.put("seed", g.dict({
                     {"a", g.list({1, 2.0, 3, std::complex<double>(4, 6)})},
                     {"b", g.tuple({g.bytes("string"), "Unicode string"})},
                     {"c", pickle::None},
                 }));
  db.put("answer", Value(42));

  Value seed = db.get("seed");                 // throws store::KeyNotFound if missing
  std::optional<Value> maybe = db.find("nope");  // or nullopt
  std::string text = pickle::repr(seed);
  // {'a': [1, 2.0, 3, (4+6j)], 'b': (b'string', 'Unicode string'), 'c': None}

  bool had = db.erase("answer");
  std::vector<std::string> keys = db.keys();   // ["seed"], in key order
  // [/doc:store-dict]
  CHECK_FALSE(maybe.has_value());
  CHECK(text == "{'a': [1, 2.0, 3, (4+6j)], 'b': (b'string', 'Unicode string'), 'c': None}");
  CHECK(had);
  CHECK(keys == std::vector<std::string>{"seed"});
}

TEST_CASE("docs example: transactions", "[docs][store]") {
  shelf::testutil::TempShelf temp;
  shelf::store::Shelf& db = temp.shelf();
  using namespace shelf;
  using pickle::Value;
  db.put("acct:alice", Value(100));
  db.put("acct:bob", Value(0));
  // [doc:store-txn]
  {
    store::WriteTxn txn = db.write();  // the one writer; others wait
    int64_t alice = txn.get("acct:alice").as_int();
    txn.put("acct:alice", Value(alice - 30));
    txn.put("acct:bob", Value(txn.get("acct:bob").as_int() + 30));
    txn.commit();                      // both or neither
  }

  store::ReadTxn snapshot = db.read();  // sees the shelf as of now...
  db.put("acct:bob", Value(0));         // ...whatever commits later
  int64_t bob = snapshot.get("acct:bob").as_int();  // 30

  {
    store::WriteTxn txn = db.write();
    txn.put("log", Value(1));
    store::WriteTxn savepoint = txn.savepoint();
    savepoint.put("log", Value(2));
    savepoint.abort();                 // back to log == 1
    txn.commit();
  }
  {
    store::WriteTxn txn = db.write();
    txn.put("log", Value(3));
  }  // never committed: aborted, log stays 1
  // [/doc:store-txn]
  CHECK(bob == 30);
  CHECK(db.get("log").as_int() == 1);
  CHECK(db.get("acct:alice").as_int() == 70);
}

TEST_CASE("docs example: references between records", "[docs][store]") {
  shelf::testutil::TempShelf temp;
  shelf::store::Shelf& db = temp.shelf();
  // [doc:store-refs]
  using namespace shelf;
  using pickle::Graph;
  using pickle::Value;

  Graph g;
  db.put("config", g.dict({{"theme", "dark"}}));
  db.put("user:ada", g.dict({{"name", "Ada"}, {"config", store::ref(g, "config")}}));
  db.put("user:bob", g.dict({{"name", "Bob"}, {"config", store::ref(g, "config")}}));

  store::ReadTxn txn = db.read();
  Value ada = txn.get("user:ada");               // the reference is still a key
  Value config = txn.resolve(*ada.get("config"));  // ...resolved on demand

  Value bob = txn.get("user:bob", {1});           // or eagerly, one level deep
  bool same = bob.get("config")->is(config);      // one object per record: true
  std::vector<std::string> refs = store::references(txn.get("user:ada"));  // {"config"}
  // [/doc:store-refs]
  CHECK(same);
  CHECK(refs == std::vector<std::string>{"config"});
  CHECK(config.get("theme")->as_str() == "dark");
}

TEST_CASE("docs example: a session", "[docs][session]") {
  shelf::testutil::TempShelf temp;
  shelf::store::Shelf& db = temp.shelf();
  // [doc:session]
  using namespace shelf;
  using pickle::Graph;
  using pickle::Value;

  store::Session session(db);
  Graph g = session.graph();            // build where the session's objects live
  Value config = session.put("config", g.dict({{"theme", "dark"}}));
  Value ada = session.put("user:ada", g.dict({{"name", "Ada"}}));
  ada.set_item("config", config);       // the root of another record...
  size_t written = session.commit();    // ...is stored as a reference: 2 records

  config.set_item("theme", "light");    // change one object
  size_t rewritten = session.commit();  // only "config" is written again
  // [/doc:session]
  CHECK(written == 2);
  CHECK(rewritten == 1);
  CHECK(shelf::pickle::repr(db.get("user:ada", {1})) == "{'name': 'Ada', 'config': {'theme': 'light'}}");
}

TEST_CASE("docs example: conflicts", "[docs][session]") {
  shelf::testutil::TempShelf temp;
  shelf::store::Shelf& db = temp.shelf();
  using namespace shelf;
  db.put("counter", pickle::Value(0));
  store::Session other(db);
  other.get("counter");
  store::Session first(db);
  first.put("counter", pickle::Value(first.get("counter").as_int() + 1));
  first.commit();
  int attempts = 0;
  // [doc:session-retry]
  for (;;) {
    try {
      ++attempts;
      pickle::Value n = other.get("counter");
      other.put("counter", pickle::Value(n.as_int() + 1));
      other.commit();
      break;
    } catch (const store::StoreError& e) {
      if (e.code() != store::StoreErrorCode::kConflict) throw;
      other.abort();  // forget what this session read, and try again
    }
  }
  // [/doc:session-retry]
  CHECK(attempts == 2);
  CHECK(db.get("counter").as_int() == 2);
}

}  // namespace
