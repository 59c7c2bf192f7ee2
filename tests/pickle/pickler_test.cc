// Pickler tests beyond the codec table: graphs a literal cannot express
// (shared and recursive objects, instances, globals, persistent ids,
// buffers), several dumps on one Pickler, options, errors and limits.
// Expected bytes come from CPython 3.11 (tools/gen_pickler_vectors.py).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "pickle/literal.h"
#include "pickle/pickler.h"
#include "pickle/sink.h"
#include "pickle/value.h"
#include "tests/testutil/testutil.h"

namespace shelf::pickle {
namespace {

#include "tests/pickle/pickler_vectors.inc"

using testutil::hex;
using testutil::to_hex;

// Compares dumps(value, p) with the vector for each protocol in [from, to].
void check_vector(const Value& value, const char* const (&vector)[6], int from = 0, int to = 5) {
  for (int p = from; p <= to; ++p) {
    INFO("protocol " << p);
    CHECK(to_hex(dumps(value, p)) == to_hex(hex(vector[p])));
  }
}

PicklerOptions with_protocol(int p) {
  PicklerOptions options;
  options.protocol = p;
  return options;
}

TEST_CASE("testutil: hex, to_hex and runs", "[pickler]") {
  CHECK(hex("80 04 95") == std::string("\x80\x04\x95", 3));
  CHECK(hex("8004\n95") == std::string("\x80\x04\x95", 3));
  CHECK(hex("00(41*3)ff") == std::string("\x00" "AAA" "\xff", 5));
  CHECK(to_hex(std::string("\x80\x04\x00", 3)) == "80 04 00");
  CHECK_THROWS_AS(hex("8"), std::invalid_argument);
  CHECK_THROWS_AS(hex("zz"), std::invalid_argument);
  CHECK_THROWS_AS(hex("(41*)x"), std::invalid_argument);
}

TEST_CASE("testutil: FailingSink and ShortReadSource", "[pickler]") {
  testutil::FailingSink sink(5);
  sink.write("abc");
  CHECK_THROWS_AS(sink.write("defg"), std::runtime_error);
  CHECK(sink.data() == "abcde");
  CHECK(sink.failed());

  testutil::ShortReadSource source("ab\ncd");
  char buf[8];
  CHECK(source.read(buf, 8) == 1);
  CHECK(buf[0] == 'a');
  std::string line;
  CHECK(source.readline(line, 100) == 2);
  CHECK(line == "b\n");
  CHECK(source.read(buf, 8) == 1);
  CHECK(source.read(buf, 8) == 1);
  CHECK(source.read(buf, 8) == 0);
}

TEST_CASE("testutil: run_python", "[pickler]") {
  auto r = testutil::run_python("", "import sys; sys.stdout.write(sys.stdin.read().upper())", "abc");
  REQUIRE(r.has_value());
  CHECK(r->exit_code == 0);
  CHECK(r->out == "ABC");
  auto bad = testutil::run_python("", "import sys; sys.stderr.write('no'); sys.exit(3)");
  REQUIRE(bad.has_value());
  CHECK(bad->exit_code == 3);
  CHECK(bad->err == "no");
  CHECK_FALSE(testutil::have_python("0.0.0-not-installed"));
}

TEST_CASE("Pickler: protocols", "[pickler]") {
  std::string out;
  StringSink sink(out);
  CHECK(Pickler(sink, with_protocol(-1)).protocol() == 5);
  CHECK(Pickler(sink).protocol() == kDefaultProtocol);
  CHECK_THROWS_AS(Pickler(sink, with_protocol(6)), std::invalid_argument);
  PicklerOptions options = with_protocol(4);
  options.buffer_callback = [](const Value&) { return true; };
  CHECK_THROWS_AS(Pickler(sink, options), std::invalid_argument);
  CHECK(to_hex(dumps(Value(), -1)) == "80 05 4e 2e");
  CHECK(to_hex(dumps(Value())) == "80 05 4e 2e");
}

TEST_CASE("Pickler: shared and recursive containers", "[pickler]") {
  Graph g;
  SECTION("a list containing itself") {
    Value l = g.list();
    l.append(l);
    check_vector(l, k_self_list);
  }
  SECTION("a dict shared twice") {
    Value d = g.dict({{"k", 1}});
    check_vector(g.list({d, d}), k_shared_dict);
  }
  SECTION("a dict containing itself") {
    Value d = g.dict();
    d.set_item("self", d);
    check_vector(d, k_self_dict);
  }
  SECTION("a recursive 1-tuple through a list") {
    Value l = g.list();
    Value t = g.tuple({l});
    l.append(t);
    check_vector(t, k_rec_tuple1);
    check_vector(l, k_rec_tuple1_list);
  }
  SECTION("a recursive 4-tuple: POP_MARK, or POPs at protocol 0") {
    Value l = g.list();
    Value t = g.tuple({l, 1, 2, 3});
    l.append(t);
    check_vector(t, k_rec_tuple4);
  }
  SECTION("memo indexes past 255: LONG_BINPUT and LONG_BINGET") {
    Value l = g.list();
    std::vector<Value> strs;
    for (int i = 0; i < 300; ++i) strs.push_back(g.str("s" + std::to_string(i)));
    for (const Value& s : strs) l.append(s);
    l.append(strs[299]);
    l.append(strs[3]);
    check_vector(l, k_long_memo);
  }
  SECTION("nesting within the limit") {
    Value v = g.list();
    for (int i = 0; i < 300; ++i) v = g.list({v});
    check_vector(v, k_deep_300);
  }
}

TEST_CASE("Pickler: instances and globals", "[pickler]") {
  Graph g;
  SECTION("REDUCE with dict items (OrderedDict)") {
    Value od = g.instance(Construction::Reduce, g.global("collections", "OrderedDict"), g.tuple({}));
    od.add_dict_item(1, 2);
    od.add_dict_item("a", g.list({3}));
    check_vector(od, k_ordered_dict);
  }
  SECTION("NEWOBJ with state; protocols 0-1 differ in CPython (copyreg._reconstructor)") {
    Value c = g.instance(Construction::NewObj, g.global("mod", "C"), g.tuple({}));
    c.set_state(g.dict({{"a", 1}}));
    check_vector(c, k_newobj, 2, 5);
  }
  SECTION("NEWOBJ_EX, and functools.partial below protocol 4 as CPython writes it") {
    Value e = g.instance(Construction::NewObjEx, g.global("mod", "E"), g.tuple({1}), g.dict({{"k", 2}}));
    e.set_state(g.dict({{"b", 2}}));
    check_vector(e, k_newobj_ex, 2, 5);
  }
  SECTION("nested qualified names: getattr below protocol 4; one memo entry per name") {
    check_vector(g.list({g.global("mod", "A.B"), g.global("mod", "A.B"), g.global("mod", "A")}), k_nested_global);
  }
  SECTION("non-ASCII names: UTF-8 at protocol 3+, PicklingError below") {
    Value u = g.global("mod", "\xc3\x9cn\xc3\xaf");
    check_vector(u, k_utf8_global, 3, 5);
    for (int p = 0; p <= 2; ++p) CHECK_THROWS_AS(dumps(u, p), PicklingError);
  }
  SECTION("INST and OBJ") {
    Value inst = g.instance(Construction::Inst, g.global("mod", "Old"), g.tuple({1}));
    inst.set_state(g.dict({{"x", 2}}));
    CHECK(dumps(inst, 0) == "(I1\nimod\nOld\np0\n(dp1\nVx\np2\nI2\nsb.");
    Value obj = g.instance(Construction::Obj, g.global("mod", "Old"), g.tuple({}));
    CHECK(dumps(obj, 1) == std::string("(cmod\nOld\nq\x00o", 13) + "q\x01.");
  }
  SECTION("a persistent reference node") {
    Value ref = g.persistent_ref("abc");
    CHECK(dumps(ref, 0) == "Pabc\n.");
    CHECK(to_hex(dumps(ref, 2)) == "80 02 58 03 00 00 00 61 62 63 71 00 51 2e");
  }
}

TEST_CASE("Pickler: persistent_id is asked first, for every object", "[pickler]") {
  Graph g;
  Value v = g.list({"ref:abc", "x", 42, "ref:abc"});
  for (int p = 0; p <= 5; ++p) {
    INFO("protocol " << p);
    PicklerOptions options = with_protocol(p);
    int calls = 0;
    options.persistent_id = [&calls](const Value& obj) -> std::optional<Value> {
      ++calls;
      Graph pg;
      if (obj.kind() == Kind::Str && obj.as_str().starts_with("ref:")) return pg.str(obj.as_str().substr(4));
      if (obj.kind() == Kind::Int && obj.as_int() == 42) return pg.tuple({"answer", 41});
      return std::nullopt;
    };
    std::string out;
    StringSink sink(out);
    Pickler pickler(sink, options);
    pickler.dump(v);
    CHECK(to_hex(out) == to_hex(hex(k_persistent[p])));
    CHECK(calls >= 5);
  }
}

TEST_CASE("Pickler: a failing persistent_id hook is a PicklingError", "[pickler]") {
  PicklerOptions options;
  options.persistent_id = [](const Value&) -> std::optional<Value> { throw std::runtime_error("boom"); };
  Graph g;
  CHECK_THROWS_AS(dumps(g.list({1}), options), PicklingError);
}

TEST_CASE("Pickler: several dumps share the memo until clear_memo", "[pickler]") {
  for (int p = 0; p <= 5; ++p) {
    INFO("protocol " << p);
    Graph g;
    Value d = g.dict({{"x", g.list({1, 2})}});
    std::string out;
    StringSink sink(out);
    Pickler pickler(sink, with_protocol(p));
    pickler.dump(d);
    pickler.dump(g.list({d, *d.get("x")}));
    pickler.clear_memo();
    pickler.dump(d);
    CHECK(to_hex(out) == to_hex(hex(k_multi_dump[p])));
  }
}

TEST_CASE("Pickler: the memo keeps earlier graphs alive", "[pickler]") {
  std::string out;
  StringSink sink(out);
  Pickler pickler(sink, with_protocol(2));
  {
    Graph g;
    pickler.dump(g.list({"first"}));
  }
  // A new graph may reuse the freed addresses; the memo must not mistake
  // its nodes for the old ones.
  for (int i = 0; i < 50; ++i) {
    Graph g;
    std::string before = out;
    pickler.dump(g.list({"second"}));
    CHECK(out.substr(before.size()).find("second") != std::string::npos);
  }
}

TEST_CASE("Pickler: protocol 5 buffers", "[pickler]") {
  Graph g;
  Value ro = g.buffer("abc", true);
  Value rw = g.buffer("xyz", false);
  Value v = g.list({ro, rw, ro});
  SECTION("in band: bytes or bytearray, memoized") {
    CHECK(to_hex(dumps(v, 5)) == to_hex(hex(k_buffers_inband[5])));
    PicklerOptions options = with_protocol(5);
    options.buffer_callback = [](const Value&) { return true; };
    CHECK(to_hex(dumps(v, options)) == to_hex(hex(k_buffers_inband[5])));
  }
  SECTION("out of band: NEXT_BUFFER (+ READONLY_BUFFER), asked each time") {
    PicklerOptions options = with_protocol(5);
    std::vector<std::string> shipped;
    options.buffer_callback = [&shipped](const Value& b) {
      shipped.emplace_back(b.as_bytes());
      return false;
    };
    CHECK(to_hex(dumps(v, options)) == to_hex(hex(k_buffers_oob[5])));
    CHECK(shipped == std::vector<std::string>{"abc", "xyz", "abc"});
  }
  SECTION("below protocol 5: PicklingError") {
    for (int p = 0; p <= 4; ++p) CHECK_THROWS_AS(dumps(v, p), PicklingError);
  }
}

TEST_CASE("Pickler: python2_str writes bytes as Python 2 str", "[pickler]") {
  Graph g;
  std::string quotes("a\x00\xff'\"", 5);
  Value v = g.list({g.bytes("abc"), g.bytes(std::string_view(quotes)), g.bytes(std::string(300, 'x')),
                    g.bytes(""), g.bytes("it's"), g.bytes("\t\n\r\\")});
  PicklerOptions options;
  options.python2_str = true;
  options.protocol = 0;
  std::string p0 = dumps(v, options);
  CHECK(p0.find("S'abc'\n") != std::string::npos);
  CHECK(p0.find("S'a\\x00\\xff\\'\"'\n") != std::string::npos);
  CHECK(p0.find("S\"it's\"\n") != std::string::npos);
  CHECK(p0.find("S'\\t\\n\\r\\\\'\n") != std::string::npos);
  options.protocol = 1;
  std::string p1 = dumps(v, options);
  CHECK(p1.find("U\x03" "abc") != std::string::npos);
  CHECK(p1.find(std::string("T\x2c\x01\x00\x00", 5)) != std::string::npos);
  options.protocol = 3;
  CHECK(dumps(v, options) == dumps(v, 3));

  // Python 2 loads them as str, with pickle and cPickle.
  std::string script =
      "import sys, pickle, cPickle, binascii\n"
      "want = ['abc', 'a\\x00\\xff\\'\"', 'x' * 300, '', \"it's\", '\\t\\n\\r\\\\']\n"
      "for line in sys.stdin.read().split():\n"
      "    data = binascii.unhexlify(line)\n"
      "    for mod in (pickle, cPickle):\n"
      "        v = mod.loads(data)\n"
      "        assert v == want and all(type(s) is str for s in v), (mod, v)\n"
      "print('ok')\n";
  std::string input;
  for (int p = 0; p <= 2; ++p) {
    options.protocol = p;
    input += testutil::to_hex(dumps(v, options));
    input.erase(std::remove(input.begin(), input.end(), ' '), input.end());
    input += "\n";
  }
  if (auto r = testutil::run_python("2.7.18", script, input)) {
    INFO(r->err);
    CHECK(r->exit_code == 0);
    CHECK(r->out == "ok\n");
  }
}

TEST_CASE("Pickler: protocols 0-1 refuse ints of more decimal digits than CPython's limit", "[pickler]") {
  // CPython writes LONG with repr(), which sys.get_int_max_str_digits()
  // (4300) stops; binary LONG1/LONG4 from protocol 2 have no such limit.
  LiteralOptions no_limit;
  no_limit.max_int_digits = 0;
  Value largest = parse_literal("9" + std::string(4299, '9'), no_limit);   // 4300 digits
  Value too_long = parse_literal("1" + std::string(4300, '0'), no_limit);  // 4301 digits
  Value far_too_long = parse_literal("-1" + std::string(100'000, '0'), no_limit);
  for (int p : {0, 1}) {
    INFO("protocol " << p);
    CHECK(dumps(largest, p).size() == 4304);  // as len(pickle.dumps(10**4300 - 1, p))
    CHECK_THROWS_WITH(dumps(too_long, p), Catch::Contains("Exceeds the limit (4300 digits)"));
    CHECK_THROWS_AS(dumps(far_too_long, p), PicklingError);
  }
  CHECK_NOTHROW(dumps(too_long, 2));
  PicklerOptions unlimited;
  unlimited.protocol = 0;
  unlimited.max_int_digits = 0;
  CHECK(dumps(too_long, unlimited) == "L1" + std::string(4300, '0') + "L\n.");
}

TEST_CASE("Pickler: nesting past max_depth is a PicklingError, never a crash", "[pickler]") {
  Graph g;
  Value deep_list = g.list();
  for (int i = 0; i < 100'000; ++i) deep_list = g.list({deep_list});
  Value deep_tuple = g.tuple({});
  for (int i = 0; i < 100'000; ++i) deep_tuple = g.tuple({deep_tuple});
  Value deep_dict = g.dict();
  for (int i = 0; i < 100'000; ++i) deep_dict = g.dict({{"k", deep_dict}});
  for (int p : {0, 2, 5}) {
    INFO("protocol " << p);
    std::string out;
    StringSink sink(out);
    Pickler pickler(sink, with_protocol(p));
    CHECK_THROWS_AS(pickler.dump(deep_list), PicklingError);
    CHECK_THROWS_AS(pickler.dump(deep_tuple), PicklingError);
    CHECK_THROWS_AS(pickler.dump(deep_dict), PicklingError);
    CHECK(out.empty());
    // The Pickler stays usable, with nothing remembered from the failures.
    Value small = g.list({1});
    pickler.dump(small);
    CHECK(out == dumps(small, p));
  }
  // Deeper than the default allows, yet within the stack of every build:
  // under AddressSanitizer the thread's 8 MB run out near 6,000 levels,
  // which the stack check turns into a PicklingError too.
  PicklerOptions roomy;
  roomy.max_depth = 200'000;
  Value medium = g.list();
  for (int i = 0; i < 3'000; ++i) medium = g.list({medium});
  CHECK_NOTHROW(dumps(medium, roomy));
  CHECK_THROWS_AS(dumps(medium), PicklingError);
}

TEST_CASE("Pickler: no max_depth lets nesting overflow the stack", "[pickler]") {
  Graph g;
  Value v = g.list();
  for (int i = 0; i < 1'000'000; ++i) v = g.list({v});
  PicklerOptions unlimited;
  unlimited.max_depth = SIZE_MAX;
  // Either it fits in this thread's stack or it is refused cleanly.
  try {
    std::string out = dumps(v, unlimited);
    CHECK(out.size() > 1'000'000);
  } catch (const PicklingError& e) {
    CHECK(std::string(e.what()).find("stack") != std::string::npos);
  }
}

// Fails its first write only: a disk that was full for a moment.
class FlakySink final : public Sink {
 public:
  void write(std::string_view data) override {
    if (!failed_once_) {
      failed_once_ = true;
      throw std::runtime_error("flaky");
    }
    out.append(data);
  }
  std::string out;

 private:
  bool failed_once_ = false;
};

TEST_CASE("Pickler: after a sink failure the Pickler is usable and forgets the failed dump", "[pickler]") {
  Graph g;
  Value d = g.dict({{"k", g.list({1, 2})}});
  for (int p = 0; p <= 5; ++p) {
    INFO("protocol " << p);
    FlakySink sink;
    Pickler pickler(sink, with_protocol(p));
    CHECK_THROWS_WITH(pickler.dump(d), "flaky");
    pickler.dump(d);  // written in full, not as a memo reference to the failed dump
    CHECK(sink.out == dumps(d, p));
  }
}

TEST_CASE("Pickler: every sink writes the same bytes", "[pickler]") {
  Graph g;
  Value v = g.list({g.bytes(std::string(200'000, 'b')), g.str(std::string(70'000, 's')), 1, 2.5});
  for (int p = 0; p <= 5; ++p) {
    INFO("protocol " << p);
    std::string want = dumps(v, p);
    std::ostringstream os;
    OstreamSink ostream_sink(os);
    Pickler(ostream_sink, with_protocol(p)).dump(v);
    CHECK(os.str() == want);

    char path[] = "/tmp/shelf_pickler_XXXXXX";
    int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    FdSink fd_sink(fd);
    Pickler(fd_sink, with_protocol(p)).dump(v);
    std::string back(want.size() + 1, '\0');
    ::lseek(fd, 0, SEEK_SET);
    size_t got = 0;
    while (true) {
      ssize_t n = ::read(fd, back.data() + got, back.size() - got);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    ::close(fd);
    ::unlink(path);
    back.resize(got);
    CHECK(back == want);
  }
}

TEST_CASE("Pickler: a large dump reaches the sink in pieces, not one buffer", "[pickler]") {
  class CountingSink final : public Sink {
   public:
    void write(std::string_view data) override {
      ++writes;
      largest = std::max(largest, data.size());
      total += data.size();
    }
    size_t writes = 0, largest = 0, total = 0;
  };
  Graph g;
  Value l = g.list();
  for (int i = 0; i < 200'000; ++i) l.append(g.str("item" + std::to_string(i)));
  for (int p : {2, 4}) {
    CountingSink sink;
    Pickler(sink, with_protocol(p)).dump(l);
    CHECK(sink.total == dumps(l, p).size());
    CHECK(sink.writes > 4);
    CHECK(sink.largest < 1'000'000);
  }
}

// Runs of ints and floats are written in one piece; the frames (protocols 4-5) and
// the pieces a sink gets must still end where CPython's do.
TEST_CASE("Pickler: long runs of numbers end frames where CPython does", "[pickler][interop]") {
  Graph g;
  Value l = g.list();
  for (int64_t i = 0; i < 60'000; ++i) {
    int64_t v = (i * 7919) % 100'003 - 300;  // one, two and four bytes, negatives
    if (i % 997 == 0) {
      l.append(v << 33);  // LONG1 inside a run
    } else if (i % 1499 == 0) {
      l.append(g.str("s"));
    } else if (i % 5 == 0) {
      l.append(static_cast<double>(v) * 0.5);
    } else {
      l.append(v);
    }
  }
  const char* script =
      "import pickle, sys\n"
      "l = []\n"
      "for i in range(60000):\n"
      "    v = (i * 7919) % 100003 - 300\n"
      "    l.append(v << 33 if i % 997 == 0 else 's' if i % 1499 == 0 else v * 0.5 if i % 5 == 0 else v)\n"
      "for p in (1, 2, 4, 5):\n"
      "    b = pickle.dumps(l, p)\n"
      "    sys.stdout.buffer.write(b'%d:' % len(b) + b)\n";
  auto py = testutil::run_python("", script);
  if (!py) return;
  REQUIRE(py->exit_code == 0);
  std::string_view rest = py->out;
  for (int p : {1, 2, 4, 5}) {
    INFO("protocol " << p);
    size_t colon = rest.find(':');
    REQUIRE(colon != std::string_view::npos);
    size_t n = std::stoul(std::string(rest.substr(0, colon)));
    std::string_view want = rest.substr(colon + 1, n);
    rest.remove_prefix(colon + 1 + n);
    CHECK(dumps(l, p) == want);
    std::string out;
    StringSink sink(out);
    Pickler(sink, with_protocol(p)).dump(l);
    CHECK(out == want);
  }
}

// A graph with sharing: a dict held three times, a str four times.
Value shared_graph(Graph& g) {
  Value s = g.str("shared text");
  Value d = g.dict({{"k", g.list({s, 1})}, {"s", s}});
  return g.list({d, s, d, g.tuple({d, s})});
}

// Pickles `v` every way that marks its nodes: dumps() and a Pickler that
// keeps its memo, of the whole graph and of a part of it.
void mark_elsewhere(const Value& v, int p) {
  (void)dumps(v[3], p);
  (void)dumps(v, p);
  std::string out;
  StringSink sink(out);
  Pickler other(sink, with_protocol(p));
  other.dump(v[2]);
  other.dump(v);
}

// The memo is found through marks the Pickler leaves in the nodes; other
// Picklers leave theirs in the same nodes. Each Pickler's output must be
// what it would be alone, which a twin graph nobody else touches shows.
TEST_CASE("Pickler: other Picklers marking the same graph between dumps change nothing", "[pickler]") {
  for (int p = 0; p <= 5; ++p) {
    for (StaleMemo policy : {StaleMemo::kIgnore, StaleMemo::kRewrite}) {
      INFO("protocol " << p << ", stale_memo " << static_cast<int>(policy));
      PicklerOptions options = with_protocol(p);
      options.stale_memo = policy;
      Graph g, twin_g;
      Value v = shared_graph(g), twin = shared_graph(twin_g);
      std::string out, twin_out;
      StringSink sink(out), twin_sink(twin_out);
      Pickler pickler(sink, options), twin_pickler(twin_sink, options);

      pickler.dump(v);
      twin_pickler.dump(twin);
      mark_elsewhere(v, p);
      pickler.dump(g.list({v[0], v}));  // all of it from the memo
      twin_pickler.dump(twin_g.list({twin[0], twin}));
      CHECK(to_hex(out) == to_hex(twin_out));

      v[0].set_item("new", 1);  // stale under kRewrite
      twin[0].set_item("new", 1);
      mark_elsewhere(v, p);
      pickler.dump(v);
      twin_pickler.dump(twin);
      CHECK(to_hex(out) == to_hex(twin_out));

      pickler.clear_memo();
      twin_pickler.clear_memo();
      mark_elsewhere(v, p);
      pickler.dump(v);
      twin_pickler.dump(twin);
      CHECK(to_hex(out) == to_hex(twin_out));
    }
  }
}

TEST_CASE("Pickler: a graph marked on another thread between dumps", "[pickler][threads]") {
  Graph g, twin_g;
  Value v = shared_graph(g), twin = shared_graph(twin_g);
  std::string out, twin_out;
  StringSink sink(out), twin_sink(twin_out);
  Pickler pickler(sink), twin_pickler(twin_sink);
  pickler.dump(v);
  twin_pickler.dump(twin);
  // The graph goes to the other thread and comes back (one thread at a time).
  std::thread([&v] { mark_elsewhere(v, 5); }).join();
  pickler.dump(v);
  twin_pickler.dump(twin);
  CHECK(to_hex(out) == to_hex(twin_out));
}

// A sink's write() runs in the middle of a dump, and may pickle the same
// graph: its marks then overwrite the dump's own.
TEST_CASE("Pickler: a sink that pickles the graph being dumped", "[pickler]") {
  class MeddlingSink final : public Sink {
   public:
    explicit MeddlingSink(std::function<void()> meddle) : meddle_(std::move(meddle)) {}
    void write(std::string_view data) override {
      out.append(data);
      ++writes;
      meddle_();
    }
    std::string out;
    size_t writes = 0;

   private:
    std::function<void()> meddle_;
  };
  Graph g;
  Value shared = shared_graph(g);
  Value l = g.list({shared});
  // Enough text that frames (protocols 4-5) and pieces (0-3) reach the sink
  // before the end, with objects met before a write met again after it.
  for (int i = 0; i < 30'000; ++i) l.append(g.str("item" + std::to_string(i)));
  for (int i = 0; i < 30'000; i += 7) l.append(l[static_cast<size_t>(i) + 1]);
  l.append(shared);
  Value reversed = g.list();  // the same objects under other memo indexes
  for (size_t i = l.size(); i-- > 0;) reversed.append(l[i]);
  for (int p = 0; p <= 5; ++p) {
    INFO("protocol " << p);
    std::string want = dumps(l, p);
    MeddlingSink sink([&] {
      mark_elsewhere(shared, p);
      (void)dumps(reversed, p);
    });
    Pickler(sink, with_protocol(p)).dump(l);
    CHECK(sink.writes > 1);
    CHECK(sink.out == want);
  }
}

}  // namespace
}  // namespace shelf::pickle
