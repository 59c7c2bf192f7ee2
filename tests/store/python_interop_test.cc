// Python (Debian's python3 with python3-lmdb) reads shelves written here,
// following persistent references, and writes shelves read here: the
// scripts are the ones docs/format.md shows.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "pickle/repr.h"
#include "store/shelf.h"
#include "tests/store/temp_shelf.h"

using namespace shelf;
using namespace shelf::pickle;

namespace {

constexpr const char* kSystemPython = "/usr/bin/python3";

bool have_python_lmdb() {
  if (!std::filesystem::exists(kSystemPython)) return false;
  return testutil::run_process({kSystemPython, "-c", "import lmdb"}).exit_code == 0;
}

std::string script(const char* name) { return std::string(SHELF_SOURCE_DIR) + "/tests/store/" + name; }

}  // namespace

TEST_CASE("Python's lmdb + pickle read a shelf written here", "[store][python]") {
  if (!have_python_lmdb()) {
    WARN("Debian's python3 with python3-lmdb is missing (apt-get install python3-lmdb); skipping");
    return;
  }
  for (int protocol : {0, 2, 5}) {
    store::Options options;
    options.protocol = protocol;
    testutil::TempShelf t(options);
    Graph g;
    t->put("config", g.dict({{"name", "demo"}, {"sizes", g.list({1, 2, 3})}}));
    t->put("user:1", g.dict({{"name", "Ada"}, {"config", store::ref(g, "config")}}));
    t->put("loop", g.list({store::ref(g, "loop")}));
    t.close();
    testutil::ProcessResult r = testutil::run_process({kSystemPython, script("shelf_reader.py"), t.path().string()});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out ==
          "format 1\n"
          "config {'name': 'demo', 'sizes': [1, 2, 3]}\n"
          "loop ['loop']\n"
          "user:1 {'name': 'Ada', 'config': {'name': 'demo', 'sizes': [1, 2, 3]}}\n");
  }
}

TEST_CASE("a shelf written by Python's lmdb + pickle reads here", "[store][python]") {
  if (!have_python_lmdb()) {
    WARN("Debian's python3 with python3-lmdb is missing (apt-get install python3-lmdb); skipping");
    return;
  }
  testutil::TempDir dir;
  std::string path = (dir.path() / "py.shelf").string();
  testutil::ProcessResult r = testutil::run_process({kSystemPython, script("shelf_writer.py"), path});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  store::Shelf s = store::Shelf::open(path);
  CHECK(s.protocol() == 4);
  CHECK(s.keys() == std::vector<std::string>{"config", "user:1", "ключ"});
  CHECK(repr(s.get("user:1", {1})) == "{'name': 'Ada', 'config': {'name': 'demo', 'sizes': [1, 2, 3]}}");
  CHECK(repr(s.get("ключ")) == "('tuple', 1.5, None)");
}
