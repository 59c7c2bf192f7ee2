// shelfctl's codec commands (decode, encode, dis), run as a user runs them:
// as a process, with stdin, stdout, stderr and an exit status. The contract
// is issue 2's and docs/shelfctl.md's.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/testutil/testutil.h"

extern char** environ;

namespace shelf::cli {
namespace {

namespace fs = std::filesystem;
using shelf::testutil::hex;

struct Run {
  int exit_code = -1;  // 128 + signal when killed by one
  bool signaled = false;
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const fs::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// A scratch directory for one test, removed at the end.
struct Scratch {
  Scratch() {
    static std::atomic<unsigned> counter{0};
    dir = fs::temp_directory_path() / ("shelfctl_test_" + std::to_string(::getpid()) + "_" +
                                       std::to_string(counter++));
    fs::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  fs::path file(std::string_view name, std::string_view contents) const {
    fs::path p = dir / name;
    spit(p, contents);
    return p;
  }
  fs::path dir;
};

// Runs shelfctl with `args` and `input` on stdin.
Run shelfctl(std::initializer_list<std::string> args, std::string_view input = {}) {
  Scratch scratch;
  fs::path in = scratch.file("stdin", input);
  fs::path out = scratch.dir / "stdout";
  fs::path err = scratch.dir / "stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> store = {SHELFCTL_PATH};
  store.insert(store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : store) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, SHELFCTL_PATH, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(rc == 0);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) REQUIRE(errno == EINTR);
  Run r;
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signaled = true;
    r.exit_code = 128 + WTERMSIG(status);
  }
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

size_t count_lines(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// What CPython 3.11 writes for the seed example, pickle.dumps(seed, N).
const std::string kSeed = "{'a': [1, 2.0, 3, 4+6j], 'b': (b'string', u'Unicode string'), 'c': None}";
const std::string kSeedRepr = "{'a': [1, 2.0, 3, (4+6j)], 'b': (b'string', 'Unicode string'), 'c': None}\n";
const std::string kSeedP5 = hex(
    "8005956c000000000000007d94288c0161945d94284b014740000000000000004b038c086275696c74696e73948c07636f6d"
    "706c657894939447401000000000000047401800000000000086945294658c0162944306737472696e67948c0e556e6963"
    "6f646520737472696e679486948c0163944e752e");
const std::string kSeedP0 = hex(
    "286470300a56610a70310a286c70320a49310a6146322e300a6149330a61635f5f6275696c74696e5f5f0a636f6d706c65"
    "780a70330a2846342e300a46362e300a7470340a5270350a617356620a70360a28635f636f646563730a656e636f64650a"
    "70370a2856737472696e670a70380a566c6174696e310a70390a747031300a527031310a56556e69636f64652073747269"
    "6e670a7031320a747031330a7356630a7031340a4e732e");

// A pickle calling os.system: protocol 0, GLOBAL + REDUCE.
const std::string kEvil = "cos\nsystem\n(S'echo hi'\ntR.";

TEST_CASE("shelfctl: --help on every command", "[cli]") {
  for (std::string cmd : {"decode", "encode", "dis"}) {
    Run r = shelfctl({cmd, "--help"});
    INFO(cmd << ": " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find(cmd) != std::string::npos);
    CHECK(r.out.find("Usage") != std::string::npos);
  }
  Run top = shelfctl({"--help"});
  CHECK(top.exit_code == 0);
  for (std::string_view cmd : {"decode", "encode", "dis"}) CHECK(top.out.find(cmd) != std::string::npos);
}

TEST_CASE("shelfctl: usage errors exit 2 with one message", "[cli]") {
  Run none = shelfctl({});
  CHECK(none.exit_code == 2);
  CHECK(none.err.starts_with("shelfctl: "));

  Run unknown = shelfctl({"frobnicate"});
  CHECK(unknown.exit_code == 2);

  Run bad_enc = shelfctl({"decode", "--encoding", "utf16", "-"});
  CHECK(bad_enc.exit_code == 2);
  CHECK(bad_enc.err.starts_with("shelfctl decode: "));

  Run bad_proto = shelfctl({"encode", "--protocol", "6", "1"});
  CHECK(bad_proto.exit_code == 2);
  CHECK(bad_proto.err.starts_with("shelfctl encode: "));

  Run extra = shelfctl({"dis", "a", "b"});
  CHECK(extra.exit_code == 2);
  CHECK(extra.err.starts_with("shelfctl dis: "));
}

TEST_CASE("shelfctl encode: the seed example, byte for byte CPython 3.11's", "[cli]") {
  Run p5 = shelfctl({"encode", kSeed});
  INFO(p5.err);
  CHECK(p5.exit_code == 0);
  CHECK(p5.out == kSeedP5);
  CHECK(p5.err.empty());

  Run p0 = shelfctl({"encode", "--protocol", "0", kSeed});
  CHECK(p0.exit_code == 0);
  CHECK(p0.out == kSeedP0);

  Run from_stdin = shelfctl({"encode", "-"}, kSeed + "\n");
  CHECK(from_stdin.exit_code == 0);
  CHECK(from_stdin.out == kSeedP5);

  Run no_arg = shelfctl({"encode"}, kSeed);
  CHECK(no_arg.out == kSeedP5);

  Run highest = shelfctl({"encode", "--protocol", "-1", kSeed});
  CHECK(highest.out == kSeedP5);

  // A literal that starts with '-' comes after '--'.
  Run negative = shelfctl({"encode", "--protocol", "2", "--", "-1"});
  CHECK(negative.exit_code == 0);
  CHECK(negative.out == hex("80 02 4a ff ff ff ff 2e"));
}

TEST_CASE("shelfctl encode --python2-str writes Python 2 str", "[cli]") {
  Run r = shelfctl({"encode", "--protocol", "2", "--python2-str", "b'ab'"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == hex("80 02 55 02 61 62 71 00 2e"));  // SHORT_BINSTRING 'ab', BINPUT 0
  Run p0 = shelfctl({"encode", "--protocol", "0", "--python2-str", "b'ab'"});
  CHECK(p0.out == "S'ab'\np0\n.");
}

TEST_CASE("shelfctl encode: a bad literal names line and column", "[cli]") {
  Run r = shelfctl({"encode", "[1, 2,, 3]"});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK(r.err.starts_with("shelfctl encode: <argument>:1:7: "));
  CHECK(count_lines(r.err) == 1);

  Run multi = shelfctl({"encode"}, "{'a': 1,\n 'b': @}\n");
  CHECK(multi.exit_code == 1);
  CHECK(multi.err.starts_with("shelfctl encode: <stdin>:2:7: "));

  Run code = shelfctl({"encode", "__import__('os').system('true')"});
  CHECK(code.exit_code == 1);
  CHECK(code.out.empty());
}

TEST_CASE("shelfctl decode: encode's output at every protocol prints CPython's repr", "[cli]") {
  Scratch scratch;
  for (int proto = 0; proto <= 5; ++proto) {
    Run enc = shelfctl({"encode", "--protocol", std::to_string(proto), kSeed});
    REQUIRE(enc.exit_code == 0);
    fs::path file = scratch.file("seed.pickle", enc.out);
    Run dec = shelfctl({"decode", file.string()});
    INFO("protocol " << proto << ": " << dec.err);
    CHECK(dec.exit_code == 0);
    CHECK(dec.out == kSeedRepr);
    Run piped = shelfctl({"decode"}, enc.out);
    CHECK(piped.out == kSeedRepr);
  }
  // Bytes after STOP are ignored, as pickle.loads ignores them.
  Run trailing = shelfctl({"decode", "-"}, kSeedP5 + "garbage");
  CHECK(trailing.exit_code == 0);
  CHECK(trailing.out == kSeedRepr);
}

TEST_CASE("shelfctl decode: a self-referencing list", "[cli]") {
  Run p0 = shelfctl({"decode", SHELF_SOURCE_DIR "/docs/examples/selfref-list.pickle"});
  INFO(p0.err);
  CHECK(p0.exit_code == 0);
  CHECK(p0.out == "[[...]]\n");
  Run p5 = shelfctl({"decode"}, hex("80 05 95 06 00 00 00 00 00 00 00 5d 94 68 00 61 2e"));
  CHECK(p5.out == "[[...]]\n");
}

TEST_CASE("shelfctl decode --encoding for Python 2 str", "[cli]") {
  const std::string py2 = "S'caf\\xe9'\np0\n.";  // Python 2: pickle.dumps('caf\xe9', 0)
  Run ascii = shelfctl({"decode"}, py2);
  CHECK(ascii.exit_code == 1);
  CHECK(ascii.err.starts_with("shelfctl decode: <stdin>: at byte 0 (STRING 'S'): "));
  Run latin1 = shelfctl({"decode", "--encoding", "latin1"}, py2);
  CHECK(latin1.exit_code == 0);
  CHECK(latin1.out == "'café'\n");
  Run bytes = shelfctl({"decode", "--encoding", "bytes"}, py2);
  CHECK(bytes.exit_code == 0);
  CHECK(bytes.out == "b'caf\\xe9'\n");
  Run plain = shelfctl({"decode"}, "S'abc'\np0\n.");
  CHECK(plain.out == "'abc'\n");
}

TEST_CASE("shelfctl decode refuses non-data globals, naming them", "[cli]") {
  Run evil = shelfctl({"decode"}, kEvil);
  CHECK(evil.exit_code == 1);
  CHECK(evil.out.empty());
  CHECK(evil.err.find("os") != std::string::npos);
  CHECK(evil.err.find("system") != std::string::npos);
  CHECK(count_lines(evil.err) == 1);

  // A class instance the way pickle.py writes one at protocol 2.
  const std::string instance = hex("80 02 63 5f 5f 6d 61 69 6e 5f 5f 0a 50 6f 69 6e 74 0a 71 00 29 81 71 01 7d 71 02 "
                                   "58 01 00 00 00 78 71 03 4b 01 73 62 2e");
  Run cls = shelfctl({"decode"}, instance);
  CHECK(cls.exit_code == 1);
  CHECK(cls.err.find("__main__") != std::string::npos);
  CHECK(cls.err.find("Point") != std::string::npos);

  // --inert prints them in the notation no Python literal can take.
  Run inert = shelfctl({"decode", "--inert"}, kEvil);
  INFO(inert.err);
  CHECK(inert.exit_code == 0);
  CHECK(inert.out == "<object os.system REDUCE('echo hi',)>\n");
  Run inert_cls = shelfctl({"decode", "--inert"}, instance);
  CHECK(inert_cls.exit_code == 0);
  CHECK(inert_cls.out.starts_with("<object __main__.Point NEWOBJ()"));

  // Data constructors are data: a set at protocol 2 is builtins.set(...).
  Run set2 = shelfctl({"decode"}, hex("80 02 63 5f 5f 62 75 69 6c 74 69 6e 5f 5f 0a 73 65 74 0a 71 00 5d 71 01 "
                                      "28 4b 01 4b 02 65 85 71 02 52 71 03 2e"));
  INFO(set2.err);
  CHECK(set2.exit_code == 0);
  CHECK(set2.out == "{1, 2}\n");
}

TEST_CASE("shelfctl decode refuses persistent ids unless --inert", "[cli]") {
  const std::string pers = "Pkey-1\n.";  // PERSID 'key-1'
  Run r = shelfctl({"decode"}, pers);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("key-1") != std::string::npos);
  Run inert = shelfctl({"decode", "--inert"}, pers);
  CHECK(inert.exit_code == 0);
  CHECK(inert.out == "<persistent_ref 'key-1'>\n");
}

TEST_CASE("shelfctl decode: malformed input is one line on stderr, exit 1", "[cli]") {
  Run memo = shelfctl({"decode"}, hex("80 05 5d 68 07 2e"));  // BINGET of a key never PUT
  CHECK(memo.exit_code == 1);
  CHECK(memo.out.empty());
  CHECK(memo.err.starts_with("shelfctl decode: <stdin>: at byte 3 (BINGET 'h'): "));
  CHECK(count_lines(memo.err) == 1);

  Run empty = shelfctl({"decode"}, "");
  CHECK(empty.exit_code == 1);
  CHECK(count_lines(empty.err) == 1);

  Run missing = shelfctl({"decode", "/nonexistent/shelf.pickle"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err == "shelfctl decode: /nonexistent/shelf.pickle: No such file or directory\n");

  // Every truncation of a real pickle fails cleanly: never a signal, never 0.
  for (size_t n = 0; n < kSeedP5.size(); ++n) {
    Run cut = shelfctl({"decode"}, kSeedP5.substr(0, n));
    INFO("prefix of " << n << " bytes: " << cut.err);
    CHECK_FALSE(cut.signaled);
    CHECK(cut.exit_code == 1);
    CHECK(count_lines(cut.err) == 1);
    CHECK(cut.err.starts_with("shelfctl decode: <stdin>: at byte "));
  }
}

TEST_CASE("shelfctl dis: the listing, and the lines before a fault", "[cli]") {
  Run r = shelfctl({"dis"}, kSeedP5);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("PROTO      5") != std::string::npos);
  CHECK(r.out.find("STACK_GLOBAL") != std::string::npos);
  CHECK(r.out.ends_with("highest protocol among opcodes = 4\n"));  // as pickletools counts

  // Same text as pickletools.dis, where CPython is installed.
  auto py = shelf::testutil::run_python(
      "", "import pickle, pickletools, sys\npickletools.dis(sys.stdin.buffer.read())\n", kSeedP5);
  if (py) {
    REQUIRE(py->exit_code == 0);
    CHECK(r.out == py->out);
  }

  Run bad = shelfctl({"dis"}, hex("80 05 5d 68 07 2e"));
  CHECK(bad.exit_code == 1);
  CHECK(bad.out.find("EMPTY_LIST") != std::string::npos);
  CHECK(bad.err.starts_with("shelfctl dis: <stdin>: at byte 3 (BINGET 'h'): "));
}

}  // namespace
}  // namespace shelf::cli
