// Interop with the pyenv CPython interpreters, both directions, plus byte
// identity with CPython 3.11. The values live in one place, the case table of
// tests/interop/interop.py; each interpreter runs once per test with a whole
// batch on stdin (see the top of that script for the line protocol).
//
//   decode:   every pickle CPython 2.7 (pickle, cPickle) and 3.6-3.13 make of
//             every case, at every protocol they have, loads with our loads()
//             to exactly the repr() CPython 3.11 gives the same bytes.
//   load:     our dumps() of every case, at every protocol the interpreter
//             reads, loads there as a value equal to its own (types, values,
//             sharing and cycles; the script prints the verdict).
//   identity: our bytes against pickle.dumps' bytes in CPython 3.11, counted
//             and reported; a difference fails unless listed as expected.
//
// A missing interpreter skips its test with a WARN, loudly.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "pickle/errors.h"
#include "pickle/literal.h"
#include "pickle/pickler.h"
#include "pickle/repr.h"
#include "pickle/unpickler.h"
#include "pickle/value.h"
#include "tests/testutil/testutil.h"

namespace shelf::pickle {
namespace {

namespace tu = shelf::testutil;

constexpr std::string_view kReference = "3.11.7";

struct Interpreter {
  std::string_view version;
  int highest;  // pickle.HIGHEST_PROTOCOL
};

constexpr Interpreter kInterpreters[] = {
    {"2.7.18", 2}, {"3.6.15", 4}, {"3.7.16", 4}, {"3.8.18", 5}, {"3.9.18", 5},
    {"3.10.13", 5}, {"3.11.7", 5}, {"3.12.1", 5}, {"3.13.0", 5},
};

// Values whose bytes may legitimately differ from CPython 3.11's, with the
// reason. Empty: for built-in values we aim at identity everywhere.
const std::map<std::string, std::string> kIdentityExceptions = {};

std::string read_script() {
  std::ifstream in(SHELF_SOURCE_DIR "/tests/interop/interop.py", std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string compact_hex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

std::vector<std::vector<std::string_view>> records(std::string_view out) {
  std::vector<std::vector<std::string_view>> rows;
  for (std::string_view line : split(out, '\n')) {
    if (!line.empty()) rows.push_back(split(line, '\t'));
  }
  return rows;
}

// Runs one job of interop.py; nullopt (after run_python's WARN) when the
// interpreter is missing. The process must succeed.
std::optional<std::string> run_job(std::string_view version, std::string_view job, const std::string& input) {
  static const std::string script = read_script();
  std::string stdin_text = std::string(job) + "\n" + input;
  auto result = tu::run_python(version, script, stdin_text);
  if (!result) return std::nullopt;
  INFO("python " << version << " " << job << " stderr:\n" << result->err.substr(0, 4000));
  REQUIRE(result->exit_code == 0);
  return std::move(result->out);
}

struct Pickled {
  std::string case_name;
  std::string module;
  int protocol = 0;
  std::string bytes;
};

std::optional<std::vector<Pickled>> dump_cases(std::string_view version) {
  auto out = run_job(version, "dump", "");
  if (!out) return std::nullopt;
  std::vector<Pickled> pickles;
  for (auto& row : records(*out)) {
    REQUIRE(row.size() == 5);
    REQUIRE(row[0] == "D");
    pickles.push_back({std::string(row[1]), std::string(row[2]), std::stoi(std::string(row[3])), tu::hex(row[4])});
  }
  REQUIRE(!pickles.empty());
  return pickles;
}

// The reference interpreter's pickles, made once per process.
const std::vector<Pickled>* reference_pickles() {
  static std::optional<std::vector<Pickled>> cached;
  static bool tried = false;
  if (!tried) {
    tried = true;
    cached = dump_cases(kReference);
  }
  return cached ? &*cached : nullptr;
}

StringEncoding encoding_of(std::string_view name) {
  if (name == "bytes") return StringEncoding::kBytes;
  if (name == "latin1") return StringEncoding::kLatin1;
  return StringEncoding::kAscii;
}

std::string clip(std::string_view s, size_t n = 160) {
  return s.size() <= n ? std::string(s) : std::string(s.substr(0, n)) + "...";
}

// Shows `text` as a Catch2 warning and, under ctest (which shows a passing
// test's output nowhere), appends it to $SHELF_REPORT_DIR/interop-report.txt,
// which .ci/run prints before ctest's summary.
void report(const std::string& text) {
  WARN(text);
  if (const char* dir = std::getenv("SHELF_REPORT_DIR"); dir != nullptr && *dir != '\0') {
    std::ofstream out(std::string(dir) + "/interop-report.txt", std::ios::app);
    out << text + "\n";
  }
}

bool holds_set(const Value& v, int depth = 0) {
  if (depth > 50) return false;
  switch (v.kind()) {
    case Kind::Set:
    case Kind::FrozenSet:
      return true;
    case Kind::Tuple:
    case Kind::List:
      for (Value e : v.elements()) {
        if (holds_set(e, depth + 1)) return true;
      }
      return false;
    case Kind::Dict:
      for (auto [k, x] : v.items()) {
        if (holds_set(k, depth + 1) || holds_set(x, depth + 1)) return true;
      }
      return false;
    default:
      return false;
  }
}

struct Tally {
  int total = 0;
  int match = 0;
  int cpython_refused = 0;  // CPython 3.11 itself cannot load these bytes
  int set_order = 0;        // matched after parsing CPython's repr (set order)
};

// Direction 1 for one interpreter: its pickles, our loads + repr, against
// CPython 3.11's repr of pickle.loads of the same bytes.
void check_decode_from(std::string_view version) {
  auto pickles = dump_cases(version);
  if (!pickles) return;
  bool py2 = version.starts_with("2.");
  std::vector<std::string> encodings = py2 ? std::vector<std::string>{"bytes", "latin1"}
                                           : std::vector<std::string>{"ASCII"};

  // One oracle run for every (pickle, encoding).
  struct Job {
    const Pickled* p;
    std::string encoding;
  };
  std::vector<Job> jobs;
  std::string input;
  for (const auto& enc : encodings) {
    for (const Pickled& p : *pickles) {
      input += std::to_string(jobs.size()) + "\t" + enc + "\t" + compact_hex(p.bytes) + "\n";
      jobs.push_back({&p, enc});
    }
  }
  auto out = run_job(kReference, "oracle", input);
  if (!out) return;
  std::vector<std::optional<std::string>> expected(jobs.size());
  std::vector<std::string> refusal(jobs.size());
  size_t answered = 0;
  for (auto& row : records(*out)) {
    if (row[0] == "C") continue;
    REQUIRE(row.size() == 3);
    size_t id = std::stoul(std::string(row[0]));
    REQUIRE(id < jobs.size());
    if (row[1] == "OK") {
      expected[id] = tu::hex(row[2]);
    } else {
      refusal[id] = std::string(row[2]);
    }
    ++answered;
  }
  REQUIRE(answered == jobs.size());

  std::map<std::string, Tally> tallies;  // by "module encoding"
  std::vector<std::string> failures;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const Pickled& p = *jobs[i].p;
    Tally& t = tallies[p.module + " encoding=" + jobs[i].encoding];
    ++t.total;
    std::string where = p.case_name + " (" + p.module + " protocol " + std::to_string(p.protocol) +
                        ", encoding=" + jobs[i].encoding + ")";
    UnpicklerOptions opts;
    opts.encoding = encoding_of(jobs[i].encoding);
    std::optional<Value> ours;
    std::string our_error;
    try {
      ours = loads(p.bytes, opts);
    } catch (const std::exception& e) {
      our_error = e.what();
    }
    if (!expected[i]) {
      // CPython 3.11 refuses these bytes (Python 2 bytearray under
      // encoding='bytes'): loading them anyway harms nobody; not counted.
      ++t.cpython_refused;
      continue;
    }
    if (!ours) {
      failures.push_back(where + ": our loads failed: " + our_error);
      continue;
    }
    std::string text;
    try {
      text = repr(*ours);
    } catch (const std::exception& e) {
      failures.push_back(where + ": our repr failed: " + e.what());
      continue;
    }
    if (text == *expected[i]) {
      ++t.match;
      continue;
    }
    // A set prints in hash order, which CPython 3.11 recomputes on load
    // while we keep the pickle's order: compare the values instead.
    if (holds_set(*ours)) {
      try {
        if (strictly_equal(*ours, parse_literal(*expected[i]))) {
          ++t.match;
          ++t.set_order;
          continue;
        }
      } catch (const std::exception&) {
      }
    }
    failures.push_back(where + ":\n    ours:    " + clip(text) + "\n    CPython: " + clip(*expected[i]));
  }

  std::ostringstream report_text;
  report_text << "decode, pickles made by Python " << version << ":";
  for (auto& [key, t] : tallies) {
    report_text << "\n  " << key << ": " << t.match << "/" << (t.total - t.cpython_refused)
           << " decode to CPython 3.11's repr";
    if (t.set_order) report_text << " (" << t.set_order << " after set reordering)";
    if (t.cpython_refused) report_text << "; " << t.cpython_refused << " not counted: CPython 3.11 refuses them too";
  }
  report(report_text.str());
  std::string shown;
  for (size_t i = 0; i < failures.size() && i < 25; ++i) shown += failures[i] + "\n";
  INFO(failures.size() << " failures, first ones:\n" << shown);
  CHECK(failures.empty());
}

// Our values: CPython 3.11's protocol 5 pickle of each case, loaded by us.
struct OurCase {
  std::string name;
  std::optional<Value> value;
  std::string error;
};

std::vector<OurCase> our_cases(const std::vector<Pickled>& ref) {
  std::vector<OurCase> cases;
  for (const Pickled& p : ref) {
    if (p.protocol != 5) continue;
    OurCase c{p.case_name, std::nullopt, {}};
    try {
      c.value = loads(p.bytes);
    } catch (const std::exception& e) {
      c.error = e.what();
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

// Direction 2 for one interpreter: our dumps at every protocol it reads
// (and, at 0-2, with python2_str) load there as equal values.
void check_load_in(const Interpreter& interp) {
  const auto* ref = reference_pickles();
  if (ref == nullptr) return;
  if (!tu::have_python(interp.version)) {
    WARN("Python " << interp.version << " is not installed (pyenv); skipping this check");
    return;
  }
  auto cases = our_cases(*ref);
  struct Sent {
    std::string label;
    std::string where;
  };
  std::vector<Sent> sent;
  std::vector<std::string> failures;
  std::map<std::string, std::pair<int, int>> tallies;  // label -> (ok, total)
  std::string input;
  for (const OurCase& c : cases) {
    for (int proto = 0; proto <= interp.highest; ++proto) {
      for (bool py2str : {false, true}) {
        if (py2str && proto > 2) continue;
        std::string label = "protocol " + std::to_string(proto) + (py2str ? " --python2-str" : "");
        std::string where = c.name + " (" + label + ")";
        ++tallies[label].second;
        if (!c.value) {
          failures.push_back(where + ": our loads of CPython's pickle failed: " + c.error);
          continue;
        }
        PicklerOptions opts;
        opts.protocol = proto;
        opts.python2_str = py2str;
        std::string bytes;
        try {
          bytes = dumps(*c.value, opts);
        } catch (const std::exception& e) {
          failures.push_back(where + ": our dumps failed: " + e.what());
          continue;
        }
        // Python 3 reads Python 2 str back as bytes only with encoding='bytes'.
        std::string encoding = py2str ? "bytes" : "ASCII";
        input += std::to_string(sent.size()) + "\t" + c.name + "\t" + encoding + "\t" + compact_hex(bytes) + "\n";
        sent.push_back({label, where});
      }
    }
  }
  auto out = run_job(interp.version, "check", input);
  if (!out) return;
  size_t answered = 0;
  for (auto& row : records(*out)) {
    REQUIRE(row.size() >= 2);
    size_t id = std::stoul(std::string(row[0]));
    REQUIRE(id < sent.size());
    ++answered;
    if (row[1] == "OK") {
      ++tallies[sent[id].label].first;
    } else {
      failures.push_back(sent[id].where + ": " + (row.size() > 2 ? clip(row[2], 300) : std::string("?")));
    }
  }
  REQUIRE(answered == sent.size());

  std::ostringstream report_text;
  report_text << "load, our pickles in Python " << interp.version << ":";
  for (auto& [label, t] : tallies) report_text << "\n  " << label << ": " << t.first << "/" << t.second << " equal";
  report(report_text.str());
  std::string shown;
  for (size_t i = 0; i < failures.size() && i < 25; ++i) shown += failures[i] + "\n";
  INFO(failures.size() << " failures, first ones:\n" << shown);
  CHECK(failures.empty());
}

std::string first_difference(std::string_view ours, std::string_view theirs) {
  size_t i = 0;
  while (i < ours.size() && i < theirs.size() && ours[i] == theirs[i]) ++i;
  auto window = [&](std::string_view s) { return tu::to_hex(s.substr(i, 12)); };
  return "first difference at byte " + std::to_string(i) + " (ours " + std::to_string(ours.size()) +
         " bytes, CPython " + std::to_string(theirs.size()) + "): ours [" + window(ours) + "] CPython [" +
         window(theirs) + "]";
}

}  // namespace

TEST_CASE("interop: pickles by Python 2.7 decode to CPython 3.11's repr", "[interop]") {
  check_decode_from("2.7.18");
}
TEST_CASE("interop: pickles by Python 3.6 decode to CPython 3.11's repr", "[interop]") {
  check_decode_from("3.6.15");
}
TEST_CASE("interop: pickles by Python 3.7 decode to CPython 3.11's repr", "[interop]") {
  check_decode_from("3.7.16");
}
TEST_CASE("interop: pickles by Python 3.8 decode to CPython 3.11's repr", "[interop]") {
  check_decode_from("3.8.18");
}
TEST_CASE("interop: pickles by Python 3.9 decode to CPython 3.11's repr", "[interop]") {
  check_decode_from("3.9.18");
}
TEST_CASE("interop: pickles by Python 3.10 decode to CPython 3.11's repr", "[interop]") {
  check_decode_from("3.10.13");
}
TEST_CASE("interop: pickles by Python 3.11 decode to CPython 3.11's repr", "[interop]") {
  check_decode_from("3.11.7");
}
TEST_CASE("interop: pickles by Python 3.12 decode to CPython 3.11's repr", "[interop]") {
  check_decode_from("3.12.1");
}
TEST_CASE("interop: pickles by Python 3.13 decode to CPython 3.11's repr", "[interop]") {
  check_decode_from("3.13.0");
}

TEST_CASE("interop: our pickles load in every CPython as equal values", "[interop]") {
  // One section per interpreter, so each runs (and reports) on its own.
  for (const Interpreter& interp : kInterpreters) {
    DYNAMIC_SECTION("Python " << interp.version) { check_load_in(interp); }
  }
}

TEST_CASE("interop: byte identity with CPython 3.11's pickle.dumps", "[interop]") {
  const auto* ref = reference_pickles();
  if (ref == nullptr) return;
  std::map<std::string, Value> values;
  std::map<std::string, std::string> load_errors;
  for (OurCase& c : our_cases(*ref)) {
    if (c.value) {
      values.emplace(c.name, *c.value);
    } else {
      load_errors.emplace(c.name, c.error);
    }
  }
  int identical = 0, total = 0, excused = 0;
  std::map<int, std::pair<int, int>> per_protocol;  // identical, total
  std::vector<std::string> failures;
  for (const Pickled& p : *ref) {
    ++total;
    ++per_protocol[p.protocol].second;
    std::string where = p.case_name + " protocol " + std::to_string(p.protocol);
    bool expected_identical = !kIdentityExceptions.contains(p.case_name);
    auto it = values.find(p.case_name);
    std::string ours;
    std::string problem;
    if (it == values.end()) {
      problem = "our loads of CPython's protocol 5 pickle failed: " + load_errors[p.case_name];
    } else {
      try {
        ours = dumps(it->second, p.protocol);
      } catch (const std::exception& e) {
        problem = std::string("our dumps failed: ") + e.what();
      }
    }
    if (problem.empty() && ours == p.bytes) {
      ++identical;
      ++per_protocol[p.protocol].first;
      continue;
    }
    if (problem.empty()) problem = first_difference(ours, p.bytes);
    if (expected_identical) {
      failures.push_back(where + ": " + problem);
    } else {
      ++excused;
    }
  }
  std::ostringstream report_text;
  report_text << "byte-identical with CPython 3.11: " << identical << "/" << total;
  for (auto& [proto, t] : per_protocol) report_text << "\n  protocol " << proto << ": " << t.first << "/" << t.second;
  if (excused) report_text << "\n  " << excused << " differences expected (kIdentityExceptions)";
  report(report_text.str());
  std::string shown;
  for (size_t i = 0; i < failures.size() && i < 30; ++i) shown += failures[i] + "\n";
  INFO(failures.size() << " unexpected differences, first ones:\n" << shown);
  CHECK(failures.empty());
}

TEST_CASE("interop: the docs' self-referencing list is what CPython writes", "[interop][docs]") {
  std::ifstream in(SHELF_SOURCE_DIR "/docs/examples/selfref-list.pickle", std::ios::binary);
  REQUIRE(in.good());
  std::string shipped((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (std::string_view version : {std::string_view("2.7.18"), kReference}) {
    auto result = tu::run_python(version,
                                 "import pickle, sys, binascii\n"
                                 "l = []\n"
                                 "l.append(l)\n"
                                 "sys.stdout.write(binascii.hexlify(pickle.dumps(l, 0)).decode('ascii'))\n");
    if (!result) continue;
    REQUIRE(result->exit_code == 0);
    CHECK(tu::hex(result->out) == shipped);
  }
  // The demo's protocol 5 bytes (.ci/demo) are CPython 3.11's pickle.dumps(l).
  auto result = tu::run_python(kReference,
                               "import pickle, sys, binascii\n"
                               "l = []\n"
                               "l.append(l)\n"
                               "sys.stdout.write(binascii.hexlify(pickle.dumps(l, 5)).decode('ascii'))\n");
  if (result) {
    CHECK(tu::hex(result->out) == tu::hex("80 05 95 06 00 00 00 00 00 00 00 5d 94 68 00 61 2e"));
  }
}

}  // namespace shelf::pickle
