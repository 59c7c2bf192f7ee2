// tests/pickle/unpickler_input_test.cc: the Unpickler's inputs: the same
// tests over every Source (memory, istream, file descriptor, a one-byte-
// at-a-time stream), truncation, frames, hostile lengths and limits,
// mutated pickles, and pickles made by CPython 2.7 and 3.x.
#include <catch2/catch.hpp>

#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

#include "pickle/pickler.h"
#include "tests/pickle/unpickler_testing.h"

namespace shelf::pickle {
namespace {

using namespace std::string_view_literals;
using namespace std::string_literals;
using namespace unpickler_testing;
using enum UnpicklingReason;

}  // namespace

// --- sources -------------------------------------------------------------------

namespace {

// Reads whatever the source still holds, through the Source interface.
std::string drain(Source& source) {
  std::string out;
  char buf[256];
  while (size_t n = source.read(buf, sizeof buf)) out.append(buf, n);
  return out;
}

struct FromMemory {
  explicit FromMemory(std::string data) : data_(std::move(data)), source_(data_) {}
  Source& source() { return source_; }
  std::string data_;
  MemorySource source_;
};

struct FromIstream {
  explicit FromIstream(std::string data) : in_(std::move(data)), source_(in_) {}
  Source& source() { return source_; }
  std::istringstream in_;
  IstreamSource source_;
};

struct FromFd {
  explicit FromFd(const std::string& data) : file_(std::tmpfile()), source_(fileno(file_)) {
    REQUIRE(file_ != nullptr);
    REQUIRE(::write(fileno(file_), data.data(), data.size()) == static_cast<ssize_t>(data.size()));
    REQUIRE(::lseek(fileno(file_), 0, SEEK_SET) == 0);
  }
  ~FromFd() { std::fclose(file_); }
  Source& source() { return source_; }
  std::FILE* file_;
  FdSource source_;
};

// One byte per read(): every refill path of the streaming reader.
struct FromDribble {
  explicit FromDribble(std::string data) : source_(std::move(data)) {}
  Source& source() { return source_; }
  testutil::ShortReadSource source_;
};

std::string frame(std::string_view body) {  // FRAME opcode, length, body
  std::string out = "\225"s;
  uint64_t n = body.size();
  for (int i = 0; i < 8; ++i) out += static_cast<char>((n >> (8 * i)) & 0xff);
  return out + std::string(body);
}

}  // namespace

TEMPLATE_TEST_CASE("a stream of pickles loads one pickle per load()", "[unpickler]", FromMemory, FromIstream,
                   FromFd, FromDribble) {
  const std::string p0 = "(lp0\nI1\naS'two'\np1\na."s;                       // protocol 0
  const std::string p1 = "\200\002]q\002(h\000K\003e."s;                    // refers to p0's list
  // Protocol 4: two frames, a GET of p1's memo, then STOP in the second.
  const std::string p3 = "\200\004" + frame("]\224(\214\003abc\224h\002") + frame("e.");
  const std::string p4 = "\200\005\226\003\000\000\000\000\000\000\000xyz."s;
  const std::string all = p0 + p1 + p3 + p4 + "XYZ";
  TestType input(all);
  Unpickler u(input.source());
  Value a = u.load();
  CHECK(strictly_equal(a, lit("[1, 'two']")));
  CHECK(u.position() == p0.size());
  Value b = u.load();
  CHECK(b[0].is(a));
  CHECK(strictly_equal(b[1], Value(3)));
  CHECK(u.position() == p0.size() + p1.size());
  Value c = u.load();
  CHECK(strictly_equal(c, lit("['abc', [[1, 'two'], 3]]")));
  CHECK(c[1].is(b));
  Value d = u.load();
  CHECK(d.kind() == Kind::ByteArray);
  CHECK(u.position() == all.size() - 3);
  CHECK(drain(input.source()) == "XYZ");  // nothing past the last STOP was read
}

TEMPLATE_TEST_CASE("every proper prefix of a pickle is kTruncated", "[unpickler]", FromMemory, FromIstream,
                   FromDribble) {
  const std::string pickles[] = {
      "(lp0\nI1\naL2L\naF3.5\naS'x'\naVy\nag0\na(dp1\nS'k'\nNs."s,
      "\200\004" + frame("}\224(\214\001a\224K\001\214\001b\224]\224(K\002\212\001\377eu."),
      "\200\003cbuiltins\nset\nq\000]q\001(K\001K\002e\205q\002Rq\003."s,
  };
  for (const std::string& p : pickles) {
    for (size_t n = 0; n < p.size(); ++n) {
      std::string prefix = p.substr(0, n);
      INFO("prefix: " << testutil::to_hex(prefix));
      TestType input(prefix);
      Unpickler u(input.source());
      CHECK(error_of_load(u) == kTruncated);
    }
  }
}

TEMPLATE_TEST_CASE("errors over a stream name the same offset and opcode", "[unpickler]", FromMemory,
                   FromIstream, FromFd, FromDribble) {
  const std::string_view cases[] = {
      "\200\002]q\000h\001."sv,
      "\200\004\225\004\000\000\000\000\000\000\000K\001M\002\000."sv,  // BININT2 straddles the frame end
      "\200\004\225\004\000\000\000\000\000\000\000NN\225\001."sv,  // FRAME inside an unfinished frame
      "\200\004\225\002\000\000\000\000\000\000\000I1\n."sv,         // INT's line runs past the frame
      "(K\001K\002u."sv,
  };
  for (std::string_view data : cases) {
    UnpicklingError want = error_of(data);
    TestType input{std::string(data)};
    Unpickler u(input.source());
    try {
      u.load();
      FAIL("loaded");
    } catch (const UnpicklingError& e) {
      INFO(testutil::to_hex(data) << ": " << e.what());
      CHECK(std::string(e.what()) == want.what());
      CHECK(e.reason() == want.reason());
    }
  }
  // A frame that ends exactly at an opcode boundary is left for the input.
  TestType ok{"\200\004\225\002\000\000\000\000\000\000\000K\001K\002\206."s};
  CHECK(strictly_equal(Unpickler(ok.source()).load(), lit("(1, 2)")));
  // Frames back to back; bytes after the STOP are not read.
  TestType two{"\200\004\225\002\000\000\000\000\000\000\000K\001\225\001\000\000\000\000\000\000\000.."s};
  CHECK(strictly_equal(Unpickler(two.source()).load(), Value(1)));
  CHECK(drain(two.source()) == ".");
}

// --- hostile input and limits --------------------------------------------------

TEST_CASE("hostile lengths and indices cost only what the input holds", "[unpickler]") {
  // Each is a few bytes claiming gigabytes or billions.
  CHECK(strictly_equal(loads("Nr\377\377\377\377j\377\377\377\377."sv), Value()));
  CHECK(reason_of("\216\377\377\377\377\377\377\377\177abc."sv) == kTruncated);
  CHECK(reason_of("\216\377\377\377\377\377\377\377\377abc."sv) == kTruncated);
  CHECK(reason_of("\215\000\000\000\000\001\000\000\000abc."sv) == kTruncated);
  CHECK(reason_of("\226\000\000\000\000\001\000\000\000abc."sv) == kTruncated);
  CHECK(reason_of("\213\377\377\377\177abc."sv) == kTruncated);
  CHECK(reason_of("\213\377\377\377\377abc."sv) == kBadArgument);   // negative LONG4 length
  CHECK(reason_of("T\377\377\377\377abc."sv) == kBadArgument);      // negative BINSTRING length
  CHECK(reason_of("\200\004\225\377\377\377\377\377\377\377\377N."sv) == kTruncated);
  CHECK(reason_of("g99999999999999999999\n."sv) == kMemoMissing);
  CHECK(reason_of("Np99999999999999999999\n."sv) == kBadArgument);
  // Sparse memo keys cost an entry each, not a vector up to the key.
  std::string sparse = "N";
  for (uint32_t k = 0; k < 200; ++k) {
    uint32_t key = 0xffffffffu - k * 7919u;
    sparse += 'r';
    for (int i = 0; i < 4; ++i) sparse += static_cast<char>((key >> (8 * i)) & 0xff);
  }
  CHECK(loads(sparse + ".").is_none());
}

TEST_CASE("limits on depth and memo and memory and opcodes", "[unpickler]") {
  SECTION("a 100,000-deep nesting loads; max_depth stops it") {
    std::string deep = "\200\002" + std::string(100000, ']') + std::string(99999, 'a') + ".";
    Value v = loads(deep);
    size_t depth = 0;
    for (Value x = v; x.size() == 1; x = x[0]) ++depth;
    CHECK(depth == 99999);
    UnpicklerOptions options;
    options.limits.max_depth = 1000;
    CHECK(reason_of(deep, options) == kLimitExceeded);
    CHECK(reason_of(std::string(2000, '('), options) == kLimitExceeded);
    CHECK(reason_of(std::string(600, '(') + std::string(600, 'N'), options) == kLimitExceeded);
  }
  SECTION("max_memo") {
    UnpicklerOptions options;
    options.limits.max_memo = 10;
    std::string ten = "N" + std::string(10, '\224') + ".";
    CHECK(loads(ten, options).is_none());
    std::string eleven = "N" + std::string(11, '\224') + ".";
    CHECK(reason_of(eleven, options) == kLimitExceeded);
  }
  SECTION("memory relative to the input") {
    // GET amplification: 2 bytes of input per 16-byte slot.
    std::string gets = "]\224(" + std::string();
    for (int i = 0; i < 50000; ++i) gets += "h\000"s;
    gets += "l.";
    UnpicklerOptions options;
    CHECK(loads(gets, options).size() == 50000);
    options.limits.memory_ratio = 2;
    options.limits.memory_slack = 1000;
    UnpicklingError e = error_of(gets, options);
    CHECK(e.reason() == kLimitExceeded);
    std::istringstream in(gets);
    IstreamSource stream(in);
    Unpickler u(stream, options);
    CHECK(error_of_load(u) == kLimitExceeded);
  }
  SECTION("max_ops") {
    UnpicklerOptions options;
    options.limits.max_ops = 4;
    CHECK(strictly_equal(loads("K\001K\002\206."sv, options), lit("(1, 2)")));
    CHECK(reason_of("K\001K\002K\003\207."sv, options) == kLimitExceeded);
  }
}

TEST_CASE("mutated pickles load or fail cleanly and alike over memory and streams", "[unpickler]") {
  const std::string seeds[] = {
      "(lp0\nI1\naL2L\naF3.5\naS'x\\n'\naVy\\u20ac\nag0\na(dp1\nS'k'\nNsc__builtin__\nset\n((I1\nltR."s,
      "\200\002]q\000(K\001\212\001\377G?\370\000\000\000\000\000\000X\001\000\000\000aq\001h\001\206q\002e."s,
      "\200\004" + frame("}\224(\214\001a\224K\001\214\001b\224]\224(K\002h\001eu\214\003mod\214\001C\223)\201}b.") ,
      "\200\005\226\002\000\000\000\000\000\000\000xy\217(K\001\220(K\002\221Q(\227\230t."s,
  };
  uint64_t rng = 0x9e3779b97f4a7c15ull;
  auto next = [&] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  };
  size_t loaded = 0, failed = 0;
  for (const std::string& seed : seeds) {
    for (int round = 0; round < 400; ++round) {
      std::string p = seed;
      int edits = 1 + static_cast<int>(next() % 3);
      for (int e = 0; e < edits && !p.empty(); ++e) {
        size_t at = next() % p.size();
        switch (next() % 3) {
          case 0: p[at] = static_cast<char>(next()); break;
          case 1: p.erase(at, 1); break;
          default: p.insert(at, 1, static_cast<char>(next())); break;
        }
      }
      Graph g;
      UnpicklerOptions options;
      options.buffers = {g.bytes("buf")};
      std::string memory_outcome, stream_outcome;
      try {
        memory_outcome = "ok " + repr(loads(p, options));
        ++loaded;
      } catch (const UnpicklingError& e) {
        memory_outcome = e.what();
        ++failed;
      } catch (const ReprError& e) {
        memory_outcome = "repr";
      }
      std::istringstream in(p);
      IstreamSource source(in);
      try {
        stream_outcome = "ok " + repr(Unpickler(source, options).load());
      } catch (const UnpicklingError& e) {
        stream_outcome = e.what();
      } catch (const ReprError& e) {
        stream_outcome = "repr";
      }
      INFO(testutil::to_hex(p));
      CHECK(memory_outcome == stream_outcome);
      MemorySource again(p);
      try {
        Unpickler(again, options).noload();
      } catch (const UnpicklingError&) {
      }
    }
  }
  CHECK(loaded > 0);
  CHECK(failed > 0);
}

// --- CPython as the oracle ------------------------------------------------------

namespace {

// Runs `script`, which prints "<pickle hex> <repr>" per line, and checks
// that each pickle loads to a value whose repr is CPython's.
void check_against_python(std::string_view version, std::string_view script, StringEncoding encoding,
                          std::string_view input = {}) {
  auto result = testutil::run_python(version, script, input);
  if (!result) return;
  INFO("python " << version << " stderr: " << result->err);
  REQUIRE(result->exit_code == 0);
  std::istringstream lines(result->out);
  std::string line;
  size_t count = 0;
  UnpicklerOptions options;
  options.encoding = encoding;
  while (std::getline(lines, line)) {
    size_t space = line.find(' ');
    std::string data = testutil::hex(line.substr(0, space));
    std::string want = line.substr(space + 1);
    INFO("pickle " << line.substr(0, std::min<size_t>(space, 200)));
    std::string got;
    try {
      got = repr(loads(data, options));
    } catch (const std::exception& e) {
      got = std::string("error: ") + e.what();
    }
    CHECK(got == want);
    ++count;
  }
  CHECK(count > 50);
}

constexpr std::string_view kValuesScript = R"PY(
import pickle, sys, collections
big = 2**64
values = [None, True, False, 0, 1, -1, 255, 256, 65535, 65536, 2**31 - 1, -2**31, 2**31, 2**63 - 1,
          -2**63, 2**63, -2**63 - 1, big, -big, 3**100, -(7**200), 1.5, -0.0, float('inf'), -float('inf'),
          1e300, 5e-324, 0.1, 3+4j, -1j, b'', b'abc', bytes(range(256)), bytearray(b'xy'), '', 'abc',
          'caf\xe9', '\u20ac', '\U0001f600', 'a\nb\\c"\'', '\ud800', (), (1,), (1, 2), (1, 2, 3),
          tuple(range(10)), [], [1, [2, [3]]], {}, {'a': 1, 'b': [1, 2]}, {1: 2, (1, 2): 'x'},
          set(), {1, 2, 3}, frozenset(), frozenset({'a'}), list(range(10000)), 'x' * 70000,
          b'y' * 70000, {i: str(i) for i in range(2000)}]
shared = [1, 2]
values.append([shared, shared, (shared,)])
rec = []
rec.append(rec)
values.append(rec)
d = {}
d['self'] = d
values.append(d)
for v in values:
    for proto in range(6):
        print(pickle.dumps(v, protocol=proto).hex(), repr(v))
)PY";

}  // namespace

TEST_CASE("pickles made by CPython 3 load to CPython's repr", "[unpickler][interop]") {
  for (std::string_view version : {""sv, "3.6.15"sv, "3.8.18"sv, "3.13.0"sv}) {
    if (!version.empty() && !testutil::have_python(version)) {
      WARN("python " << version << " not installed: skipped");
      continue;
    }
    // 3.6 lacks protocol 5.
    std::string script(kValuesScript);
    if (version == "3.6.15") script.replace(script.find("range(6)"), 8, "range(5)");
    check_against_python(version, script, StringEncoding::kAscii);
  }
}

TEST_CASE("pickles made by Python 2.7 load as Python 3 loads them", "[unpickler][interop]") {
  if (!testutil::have_python("2.7.18")) {
    WARN("python 2.7.18 not installed: skipped");
    return;
  }
  // Python 2 writes the pickles; Python 3 says what encoding='latin1' makes
  // of them.
  constexpr std::string_view py2 = R"PY(
import pickle, cPickle
values = [None, True, False, 0, 1, -1, 2**31, 2**63, -2**63 - 1, 3**100, 1.5, -0.0, float('inf'), 1e300,
          3+4j, '', 'abc', ''.join(map(chr, range(256))), u'', u'caf\xe9', u'\u20ac', u'\U0001f600',
          u'a\nb\\c"', (), (1, 2), [1, [2]], {'a': 1}, set([1, 2]), frozenset(['a']), range(100),
          bytearray('xy'), [u'x'] * 3]
for v in values:
    for mod in (pickle, cPickle):
        for proto in range(3):
            print(mod.dumps(v, proto).encode('hex'))
)PY";
  auto made = testutil::run_python("2.7.18", py2);
  REQUIRE(made);
  REQUIRE(made->exit_code == 0);
  constexpr std::string_view py3 = R"PY(
import pickle, sys
for line in sys.stdin:
    h = line.strip()
    print(h, repr(pickle.loads(bytes.fromhex(h), encoding='latin1')))
)PY";
  check_against_python("", py3, StringEncoding::kLatin1, made->out);
}

TEST_CASE("loads_borrowing points payloads into the input and keeps it alive", "[unpickler]") {
  // A list of a 4 KiB bytes, a 2 KiB str (framed, protocol 4), a short str,
  // and the 4 KiB bytes again by memo.
  Graph g;
  std::string big(4096, '\x7f');
  big[0] = '\x00';
  std::string text(2048, 'x');
  Value list = g.list({g.bytes(big), g.str(text), "short"});
  list.append(list[0]);
  std::weak_ptr<const std::string> watch;
  Value loaded;
  {
    auto input = std::make_shared<const std::string>(dumps(list, 4));
    watch = input;
    loaded = loads_borrowing(*input, input);
    const char* begin = input->data();
    const char* end = begin + input->size();
    auto inside = [&](std::string_view v) { return v.data() >= begin && v.data() + v.size() <= end; };
    CHECK(inside(loaded[0].as_bytes()));
    CHECK(inside(loaded[1].as_str()));
    CHECK(inside(loaded[2].as_str()));
    CHECK(loaded[3].is(loaded[0]));
  }
  // The caller's handle is gone: the graph holds the input.
  REQUIRE_FALSE(watch.expired());
  CHECK(strictly_equal(loaded, list));
  Graph other;
  Value copy = other.adopt(loaded);
  loaded = Value();
  CHECK(watch.expired());  // adopt copied the payloads
  CHECK(copy[0].as_bytes() == big);
  CHECK(copy[1].as_str() == text);
  // Payloads not in the input as they load (protocol 0: escaped text) are
  // copied; a null owner borrows nothing.
  std::string p0 = dumps(list, 0);
  CHECK(strictly_equal(loads_borrowing(p0, nullptr), list));
  auto input = std::make_shared<const std::string>(p0);
  CHECK(strictly_equal(loads_borrowing(*input, input), list));
  // Decoded text longer than the whole input (found by fuzz_load: the
  // bounds check underflowed and borrowed the decoder's scratch).
  auto latin1 = std::make_shared<const std::string>("V" + std::string(600, '\xe9') + "\n.");
  std::string e_acute;
  for (int k = 0; k < 600; ++k) e_acute += "\xc3\xa9";
  Value decoded = loads_borrowing(*latin1, latin1);
  CHECK(decoded.as_str() == e_acute);
}

}  // namespace shelf::pickle
