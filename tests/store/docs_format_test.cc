// docs/format.md shows the Python programs that read and write shelves;
// they must be exactly the scripts the interop tests run.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The fenced block between <!-- begin NAME --> and <!-- end NAME -->.
std::string block(const std::string& doc, const std::string& name) {
  std::string begin = "<!-- begin " + name + " -->\n```python\n";
  std::string end = "```\n<!-- end " + name + " -->";
  size_t b = doc.find(begin);
  size_t e = doc.find(end);
  if (b == std::string::npos || e == std::string::npos || e < b) return {};
  return doc.substr(b + begin.size(), e - b - begin.size());
}

}  // namespace

TEST_CASE("docs/format.md shows the scripts the tests run", "[store][docs]") {
  std::string root = SHELF_SOURCE_DIR;
  std::string doc = slurp(root + "/docs/format.md");
  for (const char* name : {"tests/store/shelf_reader.py", "tests/store/shelf_writer.py"}) {
    INFO(name);
    CHECK(block(doc, name) == slurp(root + "/" + name));
  }
}
