// tests/pickle/hostile_test.cc: hostile pickles. The malicious-pickle
// styles that security scanners look for load as inert nodes and never
// resolve anything (or fail under the strict policies); malformed pickles
// fail with a typed UnpicklingError naming the reason, the byte offset and
// the opcode, over memory and over a stream alike; limits bound what a small
// input may cost; and every input the fuzzers ever crashed on
// (tests/fuzz/regressions/) now loads or fails cleanly.
//
// "Bounded memory" is checked by the ASan build (-DSHELF_SANITIZE=ON),
// where an allocation of the gigabytes these pickles claim aborts the run.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "pickle/dis.h"
#include "pickle/literal.h"
#include "pickle/pickler.h"
#include "pickle/repr.h"
#include "pickle/unpickler.h"
#include "tests/testutil/testutil.h"

namespace shelf::pickle {
namespace {

using namespace std::string_view_literals;
using namespace std::string_literals;
using enum UnpicklingReason;

// --- helpers -----------------------------------------------------------------

UnpicklerOptions with_policy(FindGlobalPolicy policy) {
  UnpicklerOptions options;
  options.find_global = std::move(policy);
  return options;
}

std::string op_name(const std::optional<Op>& op) {
  return op ? std::string(op_info(*op).name) : std::string();
}

// The error loading `data` from memory; also loads it from a stream and
// checks that the error is the same there. A memory limit is the exception:
// over a stream the budget grows with the bytes read so far (the size of
// the input is unknown), so it trips earlier, at another opcode.
UnpicklingError error_of(std::string_view data, const UnpicklerOptions& options = {}) {
  INFO("pickle: " << testutil::to_hex(data.substr(0, 200)));
  std::optional<UnpicklingError> from_memory;
  try {
    Value v = loads(data, options);
    FAIL("loaded from memory: " << repr(v));
  } catch (const UnpicklingError& e) {
    from_memory = e;
  }
  std::istringstream in{std::string(data)};
  IstreamSource source(in);
  try {
    Value v = Unpickler(source, options).load();
    FAIL("loaded from a stream: " << repr(v));
  } catch (const UnpicklingError& e) {
    if (from_memory->reason() == UnpicklingReason::kLimitExceeded)
      CHECK(e.reason() == UnpicklingReason::kLimitExceeded);
    else
      CHECK(std::string(e.what()) == from_memory->what());
  }
  return *from_memory;
}

// Module.name of every Global reachable from `root`, persistent ids' too.
std::set<std::string> globals_in(const Value& root) {
  std::set<std::string> found;
  std::vector<Value> todo{root};
  while (!todo.empty()) {
    Value next = todo.back();
    todo.pop_back();
    walk(next, [&](const Value& v) {
      if (v.kind() == Kind::Global) found.insert(std::string(v.module()) + "." + std::string(v.name()));
      if (v.kind() == Kind::PersistentRef) todo.push_back(v.pid());
      return true;
    });
  }
  return found;
}

std::set<std::string> split_words(std::string_view text) {
  std::set<std::string> words;
  std::istringstream in{std::string(text)};
  for (std::string w; in >> w;) words.insert(w);
  return words;
}

bool is_global(const Value& v, std::string_view module, std::string_view name) {
  return v.kind() == Kind::Global && v.module() == module && v.name() == name;
}

// --- malicious pickles -----------------------------------------------------------

struct HostileVector {
  std::string_view name;
  std::string_view hex;
  std::string_view globals;  // in load order, module.name, space-separated
  size_t refuse_all_offset;
  std::string_view refuse_all_op;
  size_t data_only_offset;
  std::string_view data_only_op;
};

#define HOSTILE_VECTOR(name, hex, globals, ra_off, ra_op, do_off, do_op) {name, hex, globals, ra_off, ra_op, do_off, do_op},
const HostileVector kHostileVectors[] = {
#include "tests/pickle/hostile_vectors.inc"
};
#undef HOSTILE_VECTOR

TEST_CASE("malicious pickles load inert, or fail under the strict policies", "[hostile]") {
  CHECK(std::size(kHostileVectors) > 100);
  for (const HostileVector& row : kHostileVectors) {
    INFO(row.name);
    std::string data = testutil::hex(row.hex);
    std::set<std::string> expected = split_words(row.globals);

    // inert_all: a lossless view: every global the pickle names, as a node.
    Value inert = loads(data, with_policy(FindGlobal::inert_all()));
    CHECK(globals_in(inert) == expected);
    CHECK_FALSE(is_plain_data(inert));

    // build_data (the default): data constructors may build values, every
    // other global stays a Global node; nothing is resolved or called.
    Value v = loads(data);
    std::set<std::string> loaded = globals_in(v);
    for (const std::string& g : expected) {
      size_t dot = g.find('.');
      if (!is_data_constructor(g.substr(0, dot), g.substr(dot + 1))) CHECK(loaded.count(g) == 1);
    }
    CHECK_FALSE(is_plain_data(v));
    std::string shown = repr(v);
    CHECK(shown.find("<") != std::string::npos);

    UnpicklingError refused = error_of(data, with_policy(FindGlobal::refuse_all()));
    CHECK(refused.reason() == kForbiddenGlobal);
    CHECK(refused.offset() == row.refuse_all_offset);
    CHECK(op_name(refused.opcode()) == row.refuse_all_op);

    UnpicklingError not_data = error_of(data, with_policy(FindGlobal::data_only()));
    CHECK(not_data.reason() == kForbiddenGlobal);
    CHECK(not_data.offset() == row.data_only_offset);
    CHECK(op_name(not_data.opcode()) == row.data_only_op);

    // Walking and listing build nothing either.
    MemorySource source(data);
    CHECK(Unpickler(source).noload().bytes_read == data.size());
    CHECK_NOTHROW(dis(data));
  }
}

const HostileVector& vector_named(std::string_view name) {
  for (const HostileVector& row : kHostileVectors)
    if (row.name == name) return row;
  throw std::logic_error("no hostile vector " + std::string(name));
}

TEST_CASE("the shape of inert calls: callable, arguments, construction", "[hostile]") {
  auto load_named = [](std::string_view name) { return loads(testutil::hex(vector_named(name).hex)); };
  SECTION("os.system('echo pwned') by REDUCE, at every protocol") {
    for (int proto = 0; proto <= 5; ++proto) {
      Value v = load_named("os_system_p" + std::to_string(proto));
      REQUIRE(v.kind() == Kind::Instance);
      CHECK(v.construction() == Construction::Reduce);
      CHECK(is_global(v.callable(), "os", "system"));
      CHECK(repr(v.args()) == "('echo pwned',)");
    }
    Value classic = load_named("classic_os_system");
    CHECK(repr(classic) == "<object os.system REDUCE('echo pwned',)>");
  }
  SECTION("the callable of a call may itself be an inert call") {
    Value v = load_named("getattr_import_chain_p4");
    REQUIRE(v.kind() == Kind::Instance);
    Value getattr_call = v.callable();
    REQUIRE(getattr_call.kind() == Kind::Instance);
    CHECK(is_global(getattr_call.callable(), "builtins", "getattr"));
    Value import_call = getattr_call.args()[0];
    REQUIRE(import_call.kind() == Kind::Instance);
    CHECK(is_global(import_call.callable(), "builtins", "__import__"));
    CHECK(repr(v) ==
          "<object <object builtins.getattr REDUCE(<object builtins.__import__ REDUCE('os',)>, 'system')> "
          "REDUCE('echo pwned',)>");
    CHECK(repr(load_named("nested_reduce_by_hand")) ==
          "<object <object builtins.getattr REDUCE(<object builtins.__import__ REDUCE('os',)>, 'system')> "
          "REDUCE('id',)>");
  }
  SECTION("a pickle inside a pickle stays bytes") {
    Value v = load_named("nested_pickle_loads_p4");
    REQUIRE(v.kind() == Kind::Instance);
    CHECK(is_global(v.callable(), "pickle", "loads"));
    CHECK(v.args()[0].kind() == Kind::Bytes);
  }
  SECTION("INST and OBJ, by Python 2 and by hand") {
    Value inst = load_named("inst_os_system");
    REQUIRE(inst.kind() == Kind::Instance);
    CHECK(inst.construction() == Construction::Inst);
    CHECK(is_global(inst.callable(), "os", "system"));
    Value obj = load_named("obj_os_system");
    REQUIRE(obj.kind() == Kind::Instance);
    CHECK(obj.construction() == Construction::Obj);
    Value py2 = load_named("py2_inst_os_system_p0");
    REQUIRE(py2.kind() == Kind::Instance);
    CHECK(py2.construction() == Construction::Inst);
    CHECK(is_global(py2.callable(), "os", "system"));
    CHECK(load_named("py2_inst_os_system_p1").construction() == Construction::Obj);
  }
  SECTION("NEWOBJ and NEWOBJ_EX of subprocess.Popen") {
    Value v = load_named("newobj_popen_p2");
    REQUIRE(v.kind() == Kind::Instance);
    CHECK(v.construction() == Construction::NewObj);
    CHECK(is_global(v.callable(), "subprocess", "Popen"));
    Value ex = load_named("newobj_ex_popen_p4");
    REQUIRE(ex.kind() == Kind::Instance);
    CHECK(ex.construction() == Construction::NewObjEx);
    CHECK(repr(ex.kwargs()) == "{'shell': True}");
  }
  SECTION("STACK_GLOBAL tricks keep the names as written") {
    CHECK(is_global(load_named("stack_global_from_memo").callable(), "os", "system"));
    CHECK(is_global(load_named("stack_global_dotted").callable(), "posixpath", "os.system"));
    // Protocol 4: Python 2 names are not mapped (CPython maps below 3 only).
    CHECK(is_global(load_named("stack_global_py2_name").callable(), "__builtin__", "eval"));
    CHECK(is_global(load_named("global_py2_eval").callable(), "builtins", "eval"));
  }
  SECTION("one memoized callable called twice gives two calls of one global") {
    Value v = load_named("memo_reused_callable");
    REQUIRE(v.kind() == Kind::Tuple);
    CHECK(v[0].callable().is(v[1].callable()));
  }
  SECTION("data before the dangerous call: data_only fails at the call's global") {
    Value v = load_named("data_then_exec");
    CHECK(repr(v[0]) == "{1}");
    CHECK(is_global(v[1].callable(), "builtins", "exec"));
  }
}

TEST_CASE("a custom find_global sees every global, once, in order", "[hostile]") {
  for (const HostileVector& row : kHostileVectors) {
    INFO(row.name);
    std::vector<std::string> asked;
    UnpicklerOptions options;
    options.find_global = [&](std::string_view module, std::string_view name) {
      asked.push_back(std::string(module) + "." + std::string(name));
      return GlobalAction::kInert;
    };
    loads(testutil::hex(row.hex), options);
    std::string joined;
    for (const std::string& g : asked) joined += (joined.empty() ? "" : " ") + g;
    CHECK(joined == row.globals);
  }
}

// --- malformed pickles -----------------------------------------------------------

struct Malformed {
  std::string_view what;
  std::string_view pickle;
  UnpicklingReason reason;
  size_t offset;
  std::string_view op;  // "" when the input ends between opcodes
};

const Malformed kMalformed[] = {
    // Lying length fields: each claims far more than the input holds.
    {"BINUNICODE 2 GB", "X\377\377\377\177abc."sv, kTruncated, 0, "BINUNICODE"},
    {"BINBYTES 4 GB", "B\377\377\377\377abc."sv, kTruncated, 0, "BINBYTES"},
    {"BINSTRING negative", "T\377\377\377\377abc."sv, kBadArgument, 0, "BINSTRING"},
    {"BINSTRING 2 GB", "T\377\377\377\177abc."sv, kTruncated, 0, "BINSTRING"},
    {"SHORT_BINBYTES 255", "C\377abc."sv, kTruncated, 0, "SHORT_BINBYTES"},
    {"SHORT_BINUNICODE 255", "\214\377abc."sv, kTruncated, 0, "SHORT_BINUNICODE"},
    {"SHORT_BINSTRING 255", "U\377abc."sv, kTruncated, 0, "SHORT_BINSTRING"},
    {"BINBYTES8 2^63-1", "\200\004\216\377\377\377\377\377\377\377\177abc."sv, kTruncated, 2, "BINBYTES8"},
    {"BINBYTES8 2^64-1", "\200\004\216\377\377\377\377\377\377\377\377abc."sv, kTruncated, 2, "BINBYTES8"},
    {"BINUNICODE8 4 GB", "\200\004\215\000\000\000\000\001\000\000\000abc."sv, kTruncated, 2, "BINUNICODE8"},
    {"BYTEARRAY8 2^62", "\200\005\226\000\000\000\000\000\000\000\100abc."sv, kTruncated, 2, "BYTEARRAY8"},
    {"LONG4 2 GB", "\213\377\377\377\177abc."sv, kTruncated, 0, "LONG4"},
    {"LONG4 negative", "\213\377\377\377\377abc."sv, kBadArgument, 0, "LONG4"},
    {"LONG1 255", "\212\377abc."sv, kTruncated, 0, "LONG1"},
    {"length field cut", "X\003\000"sv, kTruncated, 0, "BINUNICODE"},
    {"BINFLOAT cut", "G?\360\000"sv, kTruncated, 0, "BINFLOAT"},
    // Unterminated lines.
    {"INT", "I12"sv, kTruncated, 0, "INT"},
    {"LONG", "L12"sv, kTruncated, 0, "LONG"},
    {"FLOAT", "F1.5"sv, kTruncated, 0, "FLOAT"},
    {"STRING", "S'abc'"sv, kTruncated, 0, "STRING"},
    {"UNICODE", "Vabc"sv, kTruncated, 0, "UNICODE"},
    {"GLOBAL module", "cos"sv, kTruncated, 0, "GLOBAL"},
    {"GLOBAL name", "cos\nsystem"sv, kTruncated, 0, "GLOBAL"},
    {"INST", "(ios\nsystem"sv, kTruncated, 1, "INST"},
    {"PUT", "Np0"sv, kTruncated, 1, "PUT"},
    {"GET", "g0"sv, kTruncated, 0, "GET"},
    {"PERSID", "Pkey"sv, kTruncated, 0, "PERSID"},
    // Memo indexes past the end.
    {"BINGET on an empty memo", "h\005."sv, kMemoMissing, 0, "BINGET"},
    {"BINGET past the end", "N\224h\001."sv, kMemoMissing, 2, "BINGET"},
    {"LONG_BINGET 2^32-1", "N\224j\377\377\377\377."sv, kMemoMissing, 2, "LONG_BINGET"},
    {"GET", "Np0\ng7\n."sv, kMemoMissing, 4, "GET"},
    {"GET 2^64", "g18446744073709551616\n."sv, kMemoMissing, 0, "GET"},
    // MARK-less APPENDS / SETITEMS / TUPLE and friends.
    {"APPENDS", "]K\001e."sv, kNoMark, 3, "APPENDS"},
    {"SETITEMS", "}K\001K\002u."sv, kNoMark, 5, "SETITEMS"},
    {"TUPLE", "K\001t."sv, kNoMark, 2, "TUPLE"},
    {"LIST", "K\001l."sv, kNoMark, 2, "LIST"},
    {"DICT", "K\001K\002d."sv, kNoMark, 4, "DICT"},
    {"FROZENSET", "\200\004K\001\221."sv, kNoMark, 4, "FROZENSET"},
    {"ADDITEMS", "\200\004\217K\001\220."sv, kNoMark, 5, "ADDITEMS"},
    {"POP_MARK", "K\0011."sv, kNoMark, 2, "POP_MARK"},
    {"OBJ", "cos\nsystem\nK\001o."sv, kNoMark, 13, "OBJ"},
    {"INST", "K\001ios\nsystem\n."sv, kNoMark, 2, "INST"},
    // Stack underflow.
    {"STOP on an empty stack", "."sv, kStackUnderflow, 0, "STOP"},
    {"APPEND", "]a."sv, kStackUnderflow, 1, "APPEND"},
    {"SETITEM", "}K\001s."sv, kStackUnderflow, 3, "SETITEM"},
    {"REDUCE", "NR."sv, kStackUnderflow, 1, "REDUCE"},
    {"TUPLE2", "K\001\206."sv, kStackUnderflow, 2, "TUPLE2"},
    {"POP", "0."sv, kStackUnderflow, 0, "POP"},
    {"DUP", "2."sv, kStackUnderflow, 0, "DUP"},
    {"BUILD", "Nb."sv, kStackUnderflow, 1, "BUILD"},
    {"STACK_GLOBAL", "\200\004\214\002os\223."sv, kStackUnderflow, 6, "STACK_GLOBAL"},
    {"BINPERSID", "Q."sv, kStackUnderflow, 0, "BINPERSID"},
    {"MEMOIZE", "\200\004\224."sv, kStackUnderflow, 2, "MEMOIZE"},
    {"STOP right after a MARK", "(."sv, kStackUnderflow, 1, "STOP"},
    // Protocol 5 buffer opcodes without buffers.
    {"NEXT_BUFFER", "\200\005\227."sv, kBadBuffer, 2, "NEXT_BUFFER"},
    {"READONLY_BUFFER on nothing", "\200\005\230."sv, kStackUnderflow, 2, "READONLY_BUFFER"},
    // Frames that overrun.
    {"FRAME past the end", "\200\004\225\020\000\000\000\000\000\000\000N."sv, kTruncated, 2, "FRAME"},
    {"FRAME 2^63", "\200\004\225\377\377\377\377\377\377\377\177N."sv, kTruncated, 2, "FRAME"},
    {"FRAME cut", "\200\004\225\001\000"sv, kTruncated, 2, "FRAME"},
    // The rest: no STOP, unknown opcodes, malformed arguments and values.
    {"empty input", ""sv, kTruncated, 0, ""},
    {"no STOP", "N"sv, kTruncated, 1, ""},
    {"unknown opcode", "\377."sv, kUnknownOpcode, 0, ""},
    {"PROTO 6", "\200\006."sv, kUnknownOpcode, 0, "PROTO"},
    {"INT digits", "I12a\n."sv, kBadArgument, 0, "INT"},
    {"STACK_GLOBAL of ints", "\200\004K\001K\002\223."sv, kBadValue, 6, "STACK_GLOBAL"},
    {"SETITEM on an int", "K\001K\002K\003s."sv, kBadValue, 6, "SETITEM"},
    {"APPEND on a dict", "}K\001a."sv, kBadValue, 3, "APPEND"},
    {"unhashable dict key", "}]K\001s."sv, kBadValue, 4, "SETITEM"},
    {"unhashable set item", "\200\004\217(]\220."sv, kBadValue, 5, "ADDITEMS"},
    {"EXT1 without a registry", "\202\001."sv, kBadArgument, 0, "EXT1"},
    // BUILD giving a global a state: CPython sets attributes on the class or
    // function (or fails: classes and builtins have no writable __dict__).
    // An inert Global is a name shared by every reference to it and has no
    // state to record, so the load fails rather than drop the BUILD.
    {"BUILD on a global", "cos\nsystem\n(dS'x'\nS'y'\nsb."sv, kBadValue, 24, "BUILD"},
};

TEST_CASE("malformed pickles fail with reason, offset and opcode", "[hostile]") {
  for (const Malformed& m : kMalformed) {
    INFO(m.what);
    UnpicklingError e = error_of(m.pickle);
    CHECK(reason_name(e.reason()) == reason_name(m.reason));
    CHECK(e.offset() == m.offset);
    CHECK(op_name(e.opcode()) == m.op);
    CHECK(std::string(e.what()).starts_with("at byte " + std::to_string(m.offset)));
  }
}

TEST_CASE("hostile lengths over a stream allocate nothing they did not read", "[hostile]") {
  // A stream cannot say how much remains: the reader must grow its buffer
  // with what arrives, not reserve what the pickle claims. Under ASan a
  // multi-GB allocation would abort the test.
  for (std::string_view data : {"\200\004\216\377\377\377\377\377\377\377\177abc."sv,
                                "\200\004\215\000\000\000\000\377\377\377\000abc."sv,
                                "\200\005\226\000\000\000\000\000\000\000\100abc."sv,
                                "\200\004\225\377\377\377\377\377\377\377\177N."sv,
                                "X\377\377\377\377abc."sv, "B\377\377\377\377abc."sv,
                                "\213\377\377\377\177abc."sv}) {
    INFO(testutil::to_hex(data));
    testutil::ShortReadSource dribble{std::string(data)};
    try {
      Unpickler(dribble).load();
      FAIL("loaded");
    } catch (const UnpicklingError& e) {
      CHECK(e.reason() == kTruncated);
    }
    CHECK(error_of(data).reason() == kTruncated);
  }
}

// --- limits ----------------------------------------------------------------------

TEST_CASE("limits: nesting depth", "[hostile][limits]") {
  Limits defaults;
  // MARKs count as depth: a pickle of MARKs only must not grow a stack of
  // a million entries' worth of bookkeeping unchecked.
  std::string marks(defaults.max_depth + 1, '(');
  UnpicklingError e = error_of(marks);
  CHECK(e.reason() == kLimitExceeded);
  UnpicklerOptions small;
  small.limits.max_depth = 100;
  std::string nested = "\200\002" + std::string(101, ']') + std::string(100, 'a') + ".";
  CHECK(error_of(nested, small).reason() == kLimitExceeded);
  std::string fits = "\200\002" + std::string(99, ']') + std::string(98, 'a') + ".";
  CHECK(loads(fits, small).kind() == Kind::List);
  // Tuples built from nested MARKs.
  std::string tuples = std::string(101, '(') + std::string(101, 't') + ".";
  CHECK(error_of(tuples, small).reason() == kLimitExceeded);
}

TEST_CASE("limits: memory relative to the input size", "[hostile][limits]") {
  // 900,000 references to one list via DUP (under the default depth limit
  // of a million stack items), then APPENDS: the list holds itself 900,000
  // times. 0.9 MB of input, 14 MB of slots: within the default budget
  // (64 x input + 64 MB) and over a tight one.
  constexpr size_t kRefs = 900'000;
  std::string dups = std::string("]\224(h\000"sv) + std::string(kRefs, '2') + "e.";
  Value v = loads(dups);
  CHECK(v.size() == kRefs + 1);
  CHECK(v[12345].is(v));
  UnpicklerOptions tight;
  tight.limits.memory_ratio = 4;
  tight.limits.memory_slack = 0;
  CHECK(error_of(dups, tight).reason() == kLimitExceeded);

  SECTION("data constructors cannot amplify past the budget") {
    // bytes(10**12), bytearray(10**12): 30 bytes asking for a terabyte.
    for (std::string_view ctor : {"bytes"sv, "bytearray"sv}) {
      std::string p = "\200\004\214\010builtins\214" + std::string(1, static_cast<char>(ctor.size())) +
                      std::string(ctor) + std::string("\223\212\005\000\020\245\324\350\205R."sv);
      INFO(ctor);
      UnpicklingError err = error_of(p);
      CHECK((err.reason() == kLimitExceeded || err.reason() == kBadValue));
    }
    // list(L) repeated: each 6 bytes copy 1000 slots.
    std::string copies = "\200\004\214\010builtins\214\004list\223\224]\224(" + std::string(1000, 'N') + "e";
    for (int i = 0; i < 2000; ++i) copies += "h\000h\001\205R0"sv;
    copies += ".";
    CHECK(loads(copies).size() == 1000);
    UnpicklerOptions budget;
    budget.limits.memory_ratio = 16;
    budget.limits.memory_slack = 1 << 20;
    CHECK(error_of(copies, budget).reason() == kLimitExceeded);
  }
  SECTION("exponential sharing stays linear in memory") {
    // t0 = (), t(k+1) = (tk, tk): 2^40 leaves, 40 nodes.
    std::string p = "\200\004)\224";
    for (int k = 0; k < 40; ++k) p += "h" + std::string(1, static_cast<char>(k)) + "2\206\224";
    p += ".";
    Value t = loads(p);
    CHECK(t.size() == 2);
    CHECK(t[0].is(t[1]));
    // Printing it would take 2^40 lines: the printer stops at its limit.
    ReprOptions ro;
    ro.max_output = 1 << 16;
    CHECK_THROWS_AS(repr(t, ro), ReprError);
    // Equality and re-pickling follow sharing, not the tree.
    CHECK(strictly_equal(t, t));
    CHECK(strictly_equal(loads(dumps(t)), t));
  }
}

TEST_CASE("limits: memo size and opcode count", "[hostile][limits]") {
  UnpicklerOptions options;
  options.limits.max_memo = 1000;
  std::string memos = "N" + std::string(1001, '\224') + ".";
  UnpicklingError e = error_of(memos, options);
  CHECK(e.reason() == kLimitExceeded);
  CHECK(e.offset() == 1000 + 1);
  // Rewriting one key does not grow the memo.
  std::string same_key = "N";
  for (int i = 0; i < 5000; ++i) same_key += "q\001";
  CHECK(loads(same_key + ".", options).is_none());

  options = {};
  options.limits.max_ops = 100;
  std::string ops = std::string(99, 'N') + ".";
  CHECK(loads(ops, options).is_none());
  CHECK(error_of(std::string(100, 'N') + ".", options).reason() == kLimitExceeded);
}

TEST_CASE("limits: text-form integers", "[hostile][limits]") {
  Limits defaults;
  std::string digits(defaults.max_int_digits, '7');
  CHECK(loads("I" + digits + "\n.").kind() == Kind::Int);
  UnpicklingError e = error_of("L" + digits + "7L\n.");
  CHECK((e.reason() == kLimitExceeded || e.reason() == kBadArgument));
  CHECK(op_name(e.opcode()) == "LONG");
  // LONG4 has no digit limit: binary ints cost linear time.
  std::string long4 = std::string("\213\000\000\001\000"sv) + std::string(65536, '\x11') + ".";
  CHECK(loads(long4).kind() == Kind::Int);
}

// --- every input the fuzzers crashed on ---------------------------------------------

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Everything a fuzz target does with an input, with its typed errors caught:
// any other exception, or a sanitizer report, fails the test.
void replay(std::string_view data) {
  ReprOptions ro;
  ro.max_output = 1 << 20;
  Limits limits;
  limits.memory_slack = size_t{16} << 20;
  for (FindGlobalPolicy policy : {FindGlobal::build_data(), FindGlobal::data_only(), FindGlobal::refuse_all(),
                                  FindGlobal::inert_all()}) {
    UnpicklerOptions options = with_policy(policy);
    options.limits = limits;
    try {
      Value v = loads(data, options);
      try {
        repr(v, ro);
      } catch (const ReprError&) {
      }
      CHECK(strictly_equal(v, v));
      for (int proto = 0; proto <= kHighestProtocol; ++proto) {
        try {
          std::string again = dumps(v, proto);
          CHECK_NOTHROW(loads(again));
        } catch (const PicklingError&) {
        }
      }
    } catch (const UnpicklingError&) {
    }
  }
  try {
    MemorySource source(data);
    Unpickler(source).noload();
  } catch (const UnpicklingError&) {
  }
  try {
    dis(data);
  } catch (const UnpicklingError&) {
  }
  try {
    Value v = parse_literal(data);
    try {
      repr(v, ro);
    } catch (const ReprError&) {
    }
  } catch (const LiteralError&) {
  }
}

// Fuzzer findings about behaviour rather than memory safety: each is
// also a file under tests/fuzz/regressions/.

TEST_CASE("fuzz finding: two loads of a dict keyed by an instance are strictly equal", "[hostile][fuzz]") {
  // regressions/fuzz_load_build_data/equal-instance-dict-key. An inert
  // instance hashes by identity, so looking the keys of one graph up in
  // the other finds nothing; a round trip must still compare equal.
  std::string p = "}cdatetime\ndate\n(S'x'\ntRK\001s.";
  Value a = loads(p), b = loads(p);
  CHECK(strictly_equal(a, a));
  CHECK(strictly_equal(a, b));
  CHECK(strictly_equal(loads(dumps(a)), a));
  std::string in_set = "\200\004\217(cdatetime\ndate\n)R\220.";
  CHECK(strictly_equal(loads(in_set), loads(in_set)));
}

TEST_CASE("every fuzzer regression input loads or fails cleanly", "[hostile][fuzz]") {
  std::filesystem::path dir = std::filesystem::path(SHELF_SOURCE_DIR) / "tests" / "fuzz" / "regressions";
  REQUIRE(std::filesystem::is_directory(dir));
  size_t count = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    INFO(entry.path().string());
    replay(read_file(entry.path()));
    ++count;
  }
  CHECK(count > 0);
}

}  // namespace
}  // namespace shelf::pickle
