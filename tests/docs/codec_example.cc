// docs/pickle.md, "Pickling and unpickling": the examples, compiled and run.
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "pickle/pickler.h"
#include "pickle/repr.h"
#include "pickle/sink.h"
#include "pickle/source.h"
#include "pickle/unpickler.h"
#include "pickle/value.h"
#include "tests/testutil/testutil.h"

namespace {

TEST_CASE("docs example: dumps and loads", "[docs]") {
  // [doc:dumps]
  using namespace shelf::pickle;

  Graph g;
  Value v = g.list({1, "two", g.bytes("3")});

  std::string p5 = dumps(v);     // protocol 5, as pickle.dumps(v) in CPython 3.14
  std::string p2 = dumps(v, 2);  // what Python 2 can read
  PicklerOptions py2;
  py2.protocol = 2;
  py2.python2_str = true;        // bytes as Python 2 str, not _codecs.encode(...)
  std::string p2s = dumps(v, py2);

  Value back = loads(p5);                 // bytes after STOP are ignored
  bool equal = strictly_equal(back, v);  // true

  UnpicklerOptions as_bytes;
  as_bytes.encoding = StringEncoding::kBytes;  // Python 2 str -> bytes
  Value from_py2 = loads(p2s, as_bytes);
  // [/doc:dumps]
  CHECK(p5 == shelf::testutil::hex("80 05 95 11 00 00 00 00 00 00 00 5d 94 28 4b 01 8c 03 74 77 6f 94 43 01 33 94 65 2e"));
  CHECK(equal);
  CHECK(strictly_equal(from_py2, v));
  CHECK(strictly_equal(loads(p2), v));
}

TEST_CASE("docs example: many dumps on one Pickler", "[docs]") {
  // [doc:stream]
  using namespace shelf::pickle;

  Graph g;
  Value shared = g.list({1, 2});

  std::string stream;
  StringSink sink(stream);
  PicklerOptions options;
  options.protocol = 4;
  Pickler pickler(sink, options);
  pickler.dump(g.tuple({shared, "first"}));
  pickler.dump(shared);     // written as a memo reference to the first dump
  pickler.clear_memo();
  pickler.dump(shared);     // written in full again

  MemorySource source(stream);
  Unpickler unpickler(source);
  Value first = unpickler.load();
  Value second = unpickler.load();
  Value third = unpickler.load();
  bool same = second.is(first[0]);  // true: identity across loads
  bool copy = !third.is(first[0]);  // true: the memo was cleared
  // [/doc:stream]
  CHECK(same);
  CHECK(copy);
  CHECK(third == shared);
}

TEST_CASE("docs example: files and streams", "[docs]") {
  using namespace shelf::pickle;
  Graph g;
  // [doc:iostream]
  std::stringstream file;          // any std::ostream / std::istream
  OstreamSink out(file);
  Pickler pickler(out);
  pickler.dump(g.str("one"));
  pickler.dump(g.str("two"));

  IstreamSource in(file);          // reads no byte past each STOP
  Unpickler unpickler(in);
  std::string a = repr(unpickler.load());  // 'one'
  std::string b = repr(unpickler.load());  // 'two'
  // [/doc:iostream]
  CHECK(a == "'one'");
  CHECK(b == "'two'");
}

TEST_CASE("docs example: loads_borrowing", "[docs]") {
  // [doc:borrowing]
  using namespace shelf::pickle;

  Graph g;
  auto input = std::make_shared<const std::string>(dumps(g.bytes(std::string(1 << 20, 'x'))));
  Value blob = loads_borrowing(*input, input);  // no copy of the MiB
  const char* at = blob.as_bytes().data();
  bool in_input = at > input->data() && at < input->data() + input->size();  // true
  input.reset();                       // the graph holds the input: blob stays whole
  size_t n = blob.as_bytes().size();  // 1048576
  // [/doc:borrowing]
  CHECK(in_input);
  CHECK(n == 1048576);
  CHECK(blob.as_bytes() == std::string(1 << 20, 'x'));
}

}  // namespace
