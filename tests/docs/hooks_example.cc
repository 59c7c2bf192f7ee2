// docs/pickle.md, "Hooks": persistent ids, find_global policies, noload and
// protocol 5 buffers. The examples, compiled and run.
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "pickle/errors.h"
#include "pickle/hooks.h"
#include "pickle/pickler.h"
#include "pickle/repr.h"
#include "pickle/source.h"
#include "pickle/unpickler.h"
#include "pickle/value.h"

namespace {

TEST_CASE("docs example: persistent_id and persistent_load", "[docs]") {
  // [doc:persistent]
  using namespace shelf::pickle;

  Graph g;
  Value user = g.dict({{"name", "Ada"}});
  Value doc = g.dict({{"title", "Notes"}, {"owner", user}});

  // Pickling: store `user` by reference, under its key.
  PicklerOptions popts;
  popts.persistent_id = [&](const Value& obj) -> std::optional<Value> {
    if (obj.is(user)) return g.str("users/ada");
    return std::nullopt;  // pickle everything else as usual
  };
  std::string bytes = dumps(doc, popts);

  // Unpickling: turn the key back into an object.
  UnpicklerOptions uopts;
  uopts.persistent_load = [](const Value& pid, Graph& graph) -> Value {
    return graph.dict({{"name", "Ada"}, {"loaded_from", pid}});
  };
  std::string text = repr(loads(bytes, uopts));
  // {'title': 'Notes', 'owner': {'name': 'Ada', 'loaded_from': 'users/ada'}}

  // Without a hook the reference stays a PersistentRef node.
  Value raw = loads(bytes);
  Value pid = (*raw.get("owner")).pid();  // 'users/ada'
  // [/doc:persistent]
  CHECK(text == "{'title': 'Notes', 'owner': {'name': 'Ada', 'loaded_from': 'users/ada'}}");
  CHECK((*raw.get("owner")).kind() == Kind::PersistentRef);
  CHECK(pid.as_str() == "users/ada");
}

TEST_CASE("docs example: noload", "[docs]") {
  using namespace shelf::pickle;
  Graph g;
  Value a = g.list();
  Value b = g.list();
  PicklerOptions popts;
  popts.persistent_id = [&](const Value& obj) -> std::optional<Value> {
    if (obj.is(a)) return g.str("key-a");
    if (obj.is(b)) return g.str("key-b");
    return std::nullopt;
  };
  std::string bytes = dumps(g.tuple({a, b, a}), popts);
  // [doc:noload]
  MemorySource source(bytes);
  Unpickler unpickler(source);
  NoloadResult found = unpickler.noload();  // builds nothing
  // found.persistent_ids: 'key-a', 'key-b', 'key-a' (stream order)
  // found.protocol: 5, found.bytes_read: up to and including STOP
  // [/doc:noload]
  REQUIRE(found.persistent_ids.size() == 3);
  CHECK(found.persistent_ids[0].as_str() == "key-a");
  CHECK(found.persistent_ids[1].as_str() == "key-b");
  CHECK(found.protocol == 5);
  CHECK(found.bytes_read == bytes.size());
}

TEST_CASE("docs example: find_global policies", "[docs]") {
  // [doc:find_global]
  using namespace shelf::pickle;

  // What pickle.dumps writes for a call of os.system (protocol 0).
  std::string evil = "cos\nsystem\n(S'echo hi'\ntR.";

  // Default policy (FindGlobal::build_data): data constructors become
  // values, anything else an inert node. Nothing ever runs.
  Value inert = loads(evil);
  // inert.kind() == Kind::Instance, inert.callable() is <global os.system>
  std::string shown = repr(inert);  // <object os.system REDUCE('echo hi',)>

  // Only data: what shelfctl decode uses.
  UnpicklerOptions data_only;
  data_only.find_global = FindGlobal::data_only();
  try {
    loads(evil, data_only);
  } catch (const UnpicklingError& e) {
    // e.reason() == UnpicklingReason::kForbiddenGlobal, e.offset() == 0,
    // e.opcode() == Op::GLOBAL; e.what() names os.system
  }

  // Your own: allow one module's classes, inert; refuse the rest.
  UnpicklerOptions mine;
  mine.find_global = [](std::string_view module, std::string_view name) {
    if (is_data_constructor(module, name)) return GlobalAction::kBuild;
    return module == "myapp.models" ? GlobalAction::kInert : GlobalAction::kRefuse;
  };
  // [/doc:find_global]
  CHECK(inert.kind() == Kind::Instance);
  CHECK(inert.callable().module() == "os");
  CHECK(inert.callable().name() == "system");
  CHECK(shown == "<object os.system REDUCE('echo hi',)>");
  try {
    loads(evil, data_only);
    FAIL("data_only loaded os.system");
  } catch (const UnpicklingError& e) {
    CHECK(e.reason() == UnpicklingReason::kForbiddenGlobal);
    CHECK(e.offset() == 0);
    CHECK(e.opcode() == Op::GLOBAL);
    CHECK(std::string(e.what()).find("os") != std::string::npos);
  }
  CHECK_THROWS_AS(loads(evil, mine), UnpicklingError);
  Value ok = loads("cmyapp.models\nUser\n)R.", mine);
  CHECK(ok.kind() == Kind::Instance);
  CHECK(repr(loads("c__builtin__\nset\n((lI1\natR.", mine)) == "{1}");
}

TEST_CASE("docs example: protocol 5 out-of-band buffers", "[docs]") {
  // [doc:buffers]
  using namespace shelf::pickle;

  Graph g;
  Value frame = g.buffer(std::string(1 << 20, '\x7f'), /*readonly=*/true);
  Value msg = g.dict({{"id", 7}, {"frame", frame}});

  std::vector<Value> out_of_band;
  PicklerOptions popts;
  popts.protocol = 5;
  popts.buffer_callback = [&](const Value& buffer) {
    out_of_band.push_back(buffer);
    return false;  // false: ship it separately, not in the pickle
  };
  std::string bytes = dumps(msg, popts);  // a few dozen bytes: NEXT_BUFFER

  UnpicklerOptions uopts;
  uopts.buffers = out_of_band;  // in the order the callback saw them
  Value back = loads(bytes, uopts);
  size_t n = (*back.get("frame")).as_bytes().size();  // 1048576
  // [/doc:buffers]
  CHECK(bytes.size() < 100);
  CHECK(n == size_t{1} << 20);
  CHECK(out_of_band.size() == 1);
  CHECK_THROWS_AS(loads(bytes), UnpicklingError);  // no buffers given
}

}  // namespace
