// shelfctl's store commands end to end: keys, get, put, del, stat, refs,
// check, scan, with their errors and exit codes.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "pickle/pickler.h"
#include "store/shelf.h"
#include "tests/store/temp_shelf.h"

using namespace shelf;
using testutil::ProcessResult;

namespace {

ProcessResult shelfctl(std::vector<std::string> args, std::string_view input = {}) {
  args.insert(args.begin(), SHELFCTL_PATH);
  return testutil::run_process(args, input);
}

}  // namespace

TEST_CASE("shelfctl put, get, keys, del", "[cli][store]") {
  testutil::TempDir dir;
  std::string path = (dir.path() / "s.shelf").string();
  ProcessResult missing = shelfctl({"keys", path});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("shelfctl keys: " + path + ":") == 0);

  CHECK(shelfctl({"put", path, "a", "{'x': [1, 2.5, None]}", "--create"}).exit_code == 0);
  CHECK(shelfctl({"put", path, "b", "-"}, "(1, 'two')").exit_code == 0);
  CHECK(shelfctl({"keys", path}).out == "a\nb\n");
  CHECK(shelfctl({"keys", path, "--prefix", "b"}).out == "b\n");
  CHECK(shelfctl({"get", path, "a"}).out == "{'x': [1, 2.5, None]}\n");
  CHECK(shelfctl({"get", path, "a", "--format", "json"}).out == "{\"x\": [1, 2.5, null]}\n");
  ProcessResult raw = shelfctl({"get", path, "b", "--format", "raw"});
  CHECK(raw.out.substr(0, 2) == "\x80\x05");
  CHECK(shelfctl({"get", path, "b", "--format", "dis"}).out.find("highest protocol among opcodes") !=
        std::string::npos);

  ProcessResult bad_literal = shelfctl({"put", path, "c", "[1,"});
  CHECK(bad_literal.exit_code == 1);
  CHECK(bad_literal.err.find("shelfctl put: <argument>:1:") == 0);
  ProcessResult no_key = shelfctl({"get", path, "zz"});
  CHECK(no_key.exit_code == 1);
  CHECK(no_key.err == "shelfctl get: " + path + ": no record for key 'zz'\n");
  CHECK(shelfctl({"get", path}).exit_code == 2);  // usage

  CHECK(shelfctl({"del", path, "a"}).exit_code == 0);
  CHECK(shelfctl({"del", path, "a"}).exit_code == 1);
  CHECK(shelfctl({"keys", path}).out == "b\n");
  ProcessResult stat = shelfctl({"stat", path});
  CHECK(stat.out.find("records: 1\n") != std::string::npos);
  CHECK(stat.out.find("format version: 1\n") != std::string::npos);
  CHECK(stat.out.find("pickle protocol: 5\n") != std::string::npos);
}

TEST_CASE("shelfctl put --pickle-file stores bytes that load", "[cli][store]") {
  testutil::TempDir dir;
  std::string path = (dir.path() / "s.shelf").string();
  std::string file = (dir.path() / "p.pickle").string();
  pickle::Graph g;
  std::ofstream(file, std::ios::binary) << pickle::dumps(g.list({1, 2}), 2);
  CHECK(shelfctl({"put", path, "k", "--pickle-file", file, "--create"}).exit_code == 0);
  CHECK(shelfctl({"get", path, "k"}).out == "[1, 2]\n");
  ProcessResult broken = shelfctl({"put", path, "k2", "--pickle-file", "-"}, "\x80\x05]h\x07.");
  CHECK(broken.exit_code == 1);
  CHECK(broken.err.find("at byte") != std::string::npos);
}

TEST_CASE("shelfctl refs and check find dangling references; read-only shelves refuse writes", "[cli][store]") {
  testutil::TempShelf t;
  pickle::Graph g;
  t->put("target", g.str("here"));
  t->put("a", g.list({store::ref(g, "target"), store::ref(g, "gone")}));
  t->put_raw("broken", std::string("\x80\x05]h\x07.", 6));
  t.close();
  std::string path = t.path().string();
  ProcessResult refs = shelfctl({"refs", path, "a"});
  CHECK(refs.out == "target\ngone (missing)\n");
  CHECK(refs.exit_code == 1);
  CHECK(shelfctl({"get", path, "a", "--resolve", "1"}).exit_code == 1);
  ProcessResult check = shelfctl({"check", path});
  CHECK(check.exit_code == 1);
  CHECK(check.out.find("a: refers to missing record 'gone'") != std::string::npos);
  CHECK(check.out.find("broken: at byte 3 (BINGET 'h')") != std::string::npos);
  CHECK(check.out.find("3 records checked, 2 problems") != std::string::npos);

  std::filesystem::permissions(path, std::filesystem::perms::owner_read);
  if (::geteuid() != 0) {  // root writes anyway
    ProcessResult ro = shelfctl({"put", path, "x", "1"});
    CHECK(ro.exit_code == 1);
  }
}

TEST_CASE("shelfctl scan flags dangerous calls and exits accordingly", "[cli][scan]") {
  testutil::TempDir dir;
  std::string evil = (dir.path() / "evil.pickle").string();
  std::ofstream(evil, std::ios::binary) << "cos\nsystem\n(S'echo hi'\ntR.";
  ProcessResult r = shelfctl({"scan", evil});
  CHECK(r.exit_code == 3);
  CHECK(r.out.find("global os.system  [dangerous]") != std::string::npos);
  CHECK(r.out.find("call REDUCE os.system('echo hi',)  [dangerous]") != std::string::npos);
  std::string cls = (dir.path() / "cls.pickle").string();
  static const char kPoint[] = "\x80\x02" "cmymod\nPoint\nq\x00)\x81q\x01}q\x02X\x01\x00\x00\x00xK\x01sb.";
  std::ofstream(cls, std::ios::binary) << std::string(kPoint, sizeof kPoint - 1);
  ProcessResult review = shelfctl({"scan", cls});
  CHECK(review.exit_code == 4);
  CHECK(review.out.find("global mymod.Point  [review]") != std::string::npos);
  std::string data = (dir.path() / "data.pickle").string();
  pickle::Graph g;
  std::ofstream(data, std::ios::binary) << pickle::dumps(g.set({1, 2}), 2);  // builtins.set: a data constructor
  ProcessResult clean = shelfctl({"scan", data});
  CHECK(clean.exit_code == 0);
  CHECK(clean.out.find("[data]") != std::string::npos);
}
