// The README's demo: builds a small shelf whose records refer to each other
// with a store::Session, then updates it in a second session that writes
// only what changed. shelfctl shows the result (.ci/demo).
//
//   shelf_session_demo PATH
#include <cstdio>
#include <exception>

#include "pickle/value.h"
#include "store/session.h"
#include "store/shelf.h"

using namespace shelf;
using pickle::Graph;
using pickle::Value;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: shelf_session_demo PATH\n");
    return 2;
  }
  try {
    store::Options options;
    options.mode = store::OpenMode::kCreateTruncate;
    store::Shelf db = store::Shelf::open(argv[1], options);
    {
      store::Session session(db);
      Graph g = session.graph();  // build in the session's graph: no copies
      Value config = session.put("config", g.dict({{"theme", "dark"}, {"langs", g.list({"en", "fr"})}}));
      Value ada = session.put("user:ada", g.dict({{"name", "Ada"}, {"born", 1815}}));
      Value bob = session.put("user:bob", g.dict({{"name", "Bob"}, {"born", 1990}}));
      ada.set_item("config", config);  // roots of other records: written as references
      bob.set_item("config", config);
      Value team = session.put("team:core", g.dict({{"members", g.list({ada, bob})}}));
      ada.set_item("team", team);  // a cycle between records
      std::printf("first session: wrote %zu records\n", session.commit());
    }
    {
      store::Session session(db);
      Value team = session.get("team:core");
      Value members = *team.get("members");
      Value ada = session.resolve(members[0]);
      Value config = session.resolve(*ada.get("config"));
      config.set_item("theme", "light");  // one change, reached through references
      size_t written = session.commit();
      std::printf("second session: loaded %llu records, wrote %zu (config)\n",
                  static_cast<unsigned long long>(session.stats().loads), written);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shelf_session_demo: %s\n", e.what());
    return 1;
  }
  return 0;
}
