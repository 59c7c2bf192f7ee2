// docs/types.md: your own C++ types in pickles. The examples, compiled and
// run.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

#include "pickle/extensions.h"
#include "pickle/pickler.h"
#include "pickle/repr.h"
#include "pickle/types.h"
#include "pickle/unpickler.h"
#include "store/typed.h"
#include "tests/store/temp_shelf.h"

namespace {

// [doc:types_point_struct]
struct Point {
  int64_t x = 0;
  int64_t y = 0;
};
// [/doc:types_point_struct]

TEST_CASE("docs example: registering a type with fields", "[docs][types]") {
  // [doc:types_register]
  using namespace shelf::pickle;
  using namespace std::string_literals;

  TypeRegistry types;
  types.add<Point>("geometry", "Point").field("x", &Point::x).field("y", &Point::y);

  // What CPython 3.11 writes for geometry.Point(1, 2) at protocol 2:
  //   class Point:
  //       def __init__(self, x, y): self.x = x; self.y = y
  Graph g;
  std::string bytes = dumps(types.to_value(g, Point{1, 2}, 2), 2);
  CHECK(bytes ==
        "\x80\x02" "cgeometry\nPoint\nq\x00)\x81q\x01}q\x02"
        "(X\x01\x00\x00\x00xq\x03K\x01X\x01\x00\x00\x00yq\x04K\x02ub."s);

  // And back: only the registration builds a Point.
  Point p = types.from_value<Point>(loads(bytes));
  CHECK(p.x == 1);
  CHECK(p.y == 2);
  // [/doc:types_register]
}

TEST_CASE("docs example: __reduce__ and a safe constructor", "[docs][types]") {
  // [doc:types_reduce]
  using namespace shelf::pickle;

  struct Color {
    int64_t rgb = 0;
  };
  TypeRegistry types;
  types.add<Color>("paint", "Color")
      // def __reduce__(self): return (paint.from_hex, ('#%06x' % self.rgb,))
      .reduce([](Context& cx, const Color& c) {
        char text[24];
        std::snprintf(text, sizeof text, "#%06llx", static_cast<unsigned long long>(c.rgb));
        return Reduction{cx.graph().global("paint", "from_hex"), cx.graph().tuple({text})};
      })
      // paint.from_hex may build a Color: the seed's "safe constructor".
      .constructor("paint", "from_hex", [](std::string text) {
        return Color{std::stoll(text.substr(1), nullptr, 16)};
      });

  Graph g;
  Value v = loads(dumps(types.to_value(g, Color{0x336699}, 0), 0));
  CHECK(repr(v.args()) == "('#336699',)");
  CHECK(types.from_value<Color>(v).rgb == 0x336699);

  // Any other callable is refused, whatever the pickle says.
  Value evil = loads("cos\nsystem\n(S'rm -rf /'\ntR.");
  CHECK_THROWS_AS(types.from_value<Color>(evil), TypeError);
  // [/doc:types_reduce]
}

TEST_CASE("docs example: a versioned state", "[docs][types]") {
  // [doc:types_versioning]
  using namespace shelf::pickle;

  struct Account {
    std::string owner;
    int64_t cents = 0;  // version 1 kept whole euros in "balance"
  };
  TypeRegistry types;
  types.add<Account>("bank", "Account")
      .getstate([](Context& cx, const Account& a) {
        return cx.graph().dict({{"version", 2}, {"owner", a.owner}, {"cents", a.cents}});
      })
      .setstate([](Context& cx, Account& a, const Value& state) {
        auto version = state.get("version");
        a.owner = cx.from_value<std::string>(*state.get("owner"));
        if (!version) {  // version 1 wrote no version number
          a.cents = 100 * cx.from_value<int64_t>(*state.get("balance"));
        } else {
          a.cents = cx.from_value<int64_t>(*state.get("cents"));
        }
      });

  // A version 1 pickle, as CPython wrote it years ago.
  Account old = types.from_value<Account>(loads(
      "ccopy_reg\n_reconstructor\n(cbank\nAccount\nc__builtin__\nobject\nNtR"
      "(dVowner\nVada\nsVbalance\nI12\nsb."));
  CHECK(old.owner == "ada");
  CHECK(old.cents == 1200);
  // [/doc:types_versioning]
}

// [doc:types_textreader_struct]
// The seed's TextReader: prints and numbers the lines of a text file.
struct TextReader {
  std::string file;
  int64_t lineno = 0;
  std::ifstream fh;  // not part of the state

  std::optional<std::string> readline() {
    ++lineno;
    std::string line;
    if (!std::getline(fh, line)) return std::nullopt;
    return std::to_string(lineno) + ": " + line;
  }
};
// [/doc:types_textreader_struct]

TEST_CASE("docs example: the seed's TextReader", "[docs][types]") {
  shelf::testutil::TempDir dir;
  std::string path = (dir.path() / "notes.txt").string();
  std::ofstream(path) << "first\nsecond\nthird\nfourth\n";

  // [doc:types_textreader]
  using namespace shelf::pickle;

  TypeRegistry types;
  types.add<TextReader>("TextReader", "TextReader")
      .field("file", &TextReader::file)      // __getstate__: every attribute
      .field("lineno", &TextReader::lineno)  // but the file handle
      .setstate([](Context& cx, TextReader& r, const Value& state) {
        r.file = cx.from_value<std::string>(*state.get("file"));
        r.lineno = cx.from_value<int64_t>(*state.get("lineno"));
        r.fh.open(r.file);  // reopen the file, and read up to the saved line
        std::string skipped;
        for (int64_t i = 0; i < r.lineno; ++i) std::getline(r.fh, skipped);
      });

  TextReader reader{path, 0, std::ifstream(path)};
  CHECK(reader.readline() == "1: first");
  CHECK(reader.readline() == "2: second");
  std::string saved = types.dumps(reader);

  TextReader resumed = types.from_value<TextReader>(loads(saved));
  CHECK(resumed.readline() == "3: third");
  // [/doc:types_textreader]

  // [doc:types_textreader_cpython]
  // CPython 3.11, with the seed's class in TextReader.py:
  //   reader = TextReader.TextReader(path)
  //   reader.readline(); reader.readline()
  //   pickle.dumps(reader, 0)
  std::string from_python =
      "ccopy_reg\n_reconstructor\np0\n(cTextReader\nTextReader\np1\nc__builtin__\nobject\np2\nNtp3\nRp4\n"
      "(dp5\nVfile\np6\nV" + path + "\np7\nsVlineno\np8\nI2\nsb.";
  TextReader from_cpython = types.from_value<TextReader>(loads(from_python));
  CHECK(from_cpython.readline() == "3: third");

  // And ours is what CPython writes, so CPython resumes ours the same way.
  PicklerOptions protocol0;
  protocol0.protocol = 0;
  CHECK(types.dumps(reader, protocol0) == from_python);
  // [/doc:types_textreader_cpython]
}

TEST_CASE("docs example: extension codes", "[docs][types]") {
  // [doc:types_extensions]
  using namespace shelf::pickle;
  using namespace std::string_literals;

  // The Python side ran copyreg.add_extension('geometry', 'Point', 240).
  auto codes = std::make_shared<ExtensionRegistry>();
  codes->add("geometry", "Point", 240);

  TypeRegistry types;
  types.add<Point>("geometry", "Point").field("x", &Point::x).field("y", &Point::y);

  PicklerOptions write;
  write.protocol = 2;
  write.extensions = codes;
  std::string bytes = types.dumps(Point{1, 2}, write);
  // EXT1 240 where "cgeometry\nPoint\nq\x00" stood, as CPython 3.11 writes it.
  CHECK(bytes ==
        "\x80\x02\x82\xf0)\x81q\x00}q\x01"
        "(X\x01\x00\x00\x00xq\x02K\x01X\x01\x00\x00\x00yq\x03K\x02ub."s);

  UnpicklerOptions read;
  read.extensions = codes;
  CHECK(types.from_value<Point>(loads(bytes, read)).y == 2);
  // A reader without the code cannot know the class.
  CHECK_THROWS_WITH(loads(bytes), Catch::Contains("unregistered extension code 240"));
  // [/doc:types_extensions]
}

TEST_CASE("docs example: typed records in a shelf", "[docs][types][store]") {
  shelf::testutil::TempDir dir;
  std::string path = (dir.path() / "shapes.shelf").string();
  shelf::pickle::TypeRegistry types;
  types.add<Point>("geometry", "Point").field("x", &Point::x).field("y", &Point::y);

  // [doc:types_store]
  using namespace shelf::store;

  Shelf shelf = Shelf::open(path);
  put_as(types, shelf, "origin", Point{0, 0});
  shelf.put("name", shelf::pickle::Graph().str("not a point"));

  Point origin = get_as<Point>(types, shelf, "origin");
  CHECK(origin.x == 0);
  CHECK_THROWS_WITH(get_as<Point>(types, shelf, "name"),
                    "record 'name': expected geometry.Point, found str");
  // [/doc:types_store]
}

}  // namespace
