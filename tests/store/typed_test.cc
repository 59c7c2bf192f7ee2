// store/typed.h: registered C++ types put into and read back from a shelf,
// one-shot, in transactions and in sessions, alone and inside larger graphs.
#include "store/typed.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "pickle/types.h"
#include "store/session.h"
#include "tests/store/temp_shelf.h"

namespace shelf::store {
namespace {

using pickle::Graph;
using pickle::TypeRegistry;
using pickle::Value;

struct Point {
  int64_t x = 0, y = 0;
  bool operator==(const Point&) const = default;
};

struct Route {
  std::string name;
  std::vector<Point> stops;
  bool operator==(const Route&) const = default;
};

TypeRegistry geometry() {
  TypeRegistry types;
  types.add<Point>("geometry", "Point").field("x", &Point::x).field("y", &Point::y);
  types.add<Route>("geometry", "Route").field("name", &Route::name).field("stops", &Route::stops);
  return types;
}

TEST_CASE("typed: put_as and get_as on a shelf, a transaction and a session", "[types][store]") {
  TypeRegistry types = geometry();
  testutil::TempShelf temp;
  Shelf& shelf = temp.shelf();

  put_as(types, shelf, "origin", Point{0, 0});
  CHECK(get_as<Point>(types, shelf, "origin") == Point{0, 0});

  {
    WriteTxn txn = shelf.write();
    put_as(types, txn, "route", Route{"loop", {{1, 2}, {3, 4}}}, shelf.protocol());
    CHECK(get_as<Route>(types, txn, "route") == Route{"loop", {{1, 2}, {3, 4}}});
    txn.commit();
  }
  temp.reopen();
  {
    ReadTxn txn = temp.shelf().read();
    CHECK(get_as<Route>(types, txn, "route").stops.size() == 2);
    CHECK(find_as<Point>(types, txn, "nowhere") == std::nullopt);
    CHECK_THROWS_AS(get_as<Point>(types, txn, "nowhere"), KeyNotFound);
  }

  Session session(temp.shelf());
  put_as(types, session, "corner", Point{5, 6}, temp.shelf().protocol());
  session.commit();
  CHECK(get_as<Point>(types, session, "corner") == Point{5, 6});
  CHECK(get_as<Point>(types, temp.shelf(), "corner") == Point{5, 6});
}

TEST_CASE("typed: a record of another class is a clear error", "[types][store]") {
  TypeRegistry types = geometry();
  testutil::TempShelf temp;
  put_as(types, temp.shelf(), "route", Route{"r", {}});
  Graph g;
  temp->put("plain", g.dict({{"x", 1}}));
  CHECK_THROWS_AS(get_as<Point>(types, temp.shelf(), "route"), pickle::TypeError);
  CHECK_THROWS_WITH(get_as<Point>(types, temp.shelf(), "route"),
                    "record 'route': expected geometry.Point, found an instance of geometry.Route");
  CHECK_THROWS_WITH(get_as<Point>(types, temp.shelf(), "plain"), "record 'plain': expected geometry.Point, found dict");
}

TEST_CASE("typed: registered types inside larger graphs and across records", "[types][store]") {
  TypeRegistry types = geometry();
  testutil::TempShelf temp;
  Shelf& shelf = temp.shelf();
  put_as(types, shelf, "home", Point{7, 8});
  Graph g;
  // A plain dict holding an instance by value and another by reference.
  Value trip = g.dict({{"from", ref(g, "home")}, {"to", types.to_value(g, Point{9, 9}, shelf.protocol())}});
  shelf.put("trip", trip);

  Value loaded = shelf.get("trip", Resolve{Resolve::kAll});
  CHECK(types.from_value<Point>(*loaded.get("from")) == Point{7, 8});
  CHECK(types.from_value<Point>(*loaded.get("to")) == Point{9, 9});

  // In a session the referenced record and the reference are one object.
  Session session(shelf);
  Value home = session.get("home");
  Value trip2 = session.get("trip", Resolve{Resolve::kAll});
  CHECK(trip2.get("from")->is(home));
  CHECK(types.holds<Point>(home));
}

TEST_CASE("typed: a graph of registered types put through a session keeps its shared objects", "[types][store]") {
  TypeRegistry types = geometry();
  testutil::TempShelf temp;
  Shelf& shelf = temp.shelf();
  {
    Session session(shelf);
    Graph g = session.graph();
    Value route = types.to_value(g, Route{"loop", {{1, 2}}}, shelf.protocol());
    Value plan = g.dict({{"routes", g.list({route, route})}, {"start", types.to_value(g, Point{0, 1}, shelf.protocol())}});
    session.put("plan", plan);
    session.commit();
  }
  temp.reopen();
  Value plan = temp.shelf().get("plan");
  Value routes = *plan.get("routes");
  // One Route object twice in the list, as one Python object would be.
  CHECK(routes[0].is(routes[1]));
  CHECK(types.from_value<Route>(routes[1]) == Route{"loop", {{1, 2}}});
  CHECK(types.from_value<Point>(*plan.get("start")) == Point{0, 1});
  CHECK_THROWS_WITH(types.from_value<Point>(routes[0]), "expected geometry.Point, found an instance of geometry.Route");
}

}  // namespace
}  // namespace shelf::store
