// docs/session.md, "Stream sessions": the examples, compiled and run.
#include <catch2/catch.hpp>
#include <string>

#include "pickle/pickler.h"
#include "pickle/repr.h"
#include "pickle/source.h"
#include "pickle/unpickler.h"

TEST_CASE("docs example: a stream session", "[docs][session][stream]") {
  // [doc:stream-session]
  using namespace shelf::pickle;

  std::string stream;
  StringSink sink(stream);
  PicklerOptions options;
  options.stale_memo = StaleMemo::kRewrite;
  Pickler pickler(sink, options);

  Graph g;
  Value config = g.dict({{"theme", "dark"}});
  Value tags = g.list({"a", "b"});
  pickler.dump(g.list({config, tags}));    // load 1
  config.set_item("theme", "light");       // changed since load 1 has it
  pickler.dump(g.dict({{"config", config},  // load 2: config written again,
                       {"tags", tags}}));   // tags a reference to load 1's

  MemorySource source(stream);
  Unpickler unpickler(source);
  Value first = unpickler.load();
  Value second = unpickler.load();
  std::string old_theme = repr(first[0]);              // {'theme': 'dark'}
  std::string new_theme = repr(*second.get("config"));  // {'theme': 'light'}
  bool same_tags = second.get("tags")->is(first[1]);   // true
  // [/doc:stream-session]
  CHECK(old_theme == "{'theme': 'dark'}");
  CHECK(new_theme == "{'theme': 'light'}");
  CHECK(same_tags);
  CHECK_FALSE(second.get("config")->is(first[0]));
}

TEST_CASE("docs example: a stream session that refuses stale objects", "[docs][session][stream]") {
  using namespace shelf::pickle;
  std::string stream;
  StringSink sink(stream);
  Graph g;
  Value config = g.dict({{"theme", "dark"}});
  // [doc:stream-session-throw]
  PicklerOptions options;
  options.stale_memo = StaleMemo::kThrow;
  Pickler pickler(sink, options);
  pickler.dump(config);
  config.set_item("theme", "light");
  try {
    pickler.dump(config);   // throws; the stream holds just the first pickle
  } catch (const StaleMemoError&) {
    pickler.clear_memo();   // start afresh: the next pickle stands alone
    pickler.dump(config);
  }
  // [/doc:stream-session-throw]
  MemorySource source(stream);
  Unpickler unpickler(source);
  CHECK(repr(unpickler.load()) == "{'theme': 'dark'}");
  CHECK(repr(unpickler.load()) == "{'theme': 'light'}");
  CHECK(unpickler.position() == stream.size());
}
