// The docs' examples are code that runs:
// - every ```cpp block of docs/pickle.md (and of any doc that labels one)
//   is the text of a region
//   `// [doc:NAME]` ... `// [/doc:NAME]` of a tests/docs/*_example.cc file
//   (announced by `<!-- example: NAME -->` right above the block), and those
//   files are Catch2 tests that compile and run the same code;
// - every ```console block of docs/shelfctl.md runs: each `$ ` line is a
//   shell command (with shelfctl on PATH, in a scratch directory) and the
//   lines under it are its output (stdout and stderr).
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

extern char** environ;

namespace shelf::docs {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

// Removes the indentation common to all non-blank lines.
std::string dedent(const std::vector<std::string>& lines) {
  size_t common = std::string::npos;
  for (const auto& l : lines) {
    size_t ind = l.find_first_not_of(' ');
    if (ind != std::string::npos) common = std::min(common, ind);
  }
  if (common == std::string::npos) common = 0;
  std::string out;
  for (const auto& l : lines) {
    out += l.size() >= common ? l.substr(common) : std::string();
    out += '\n';
  }
  return out;
}

struct Block {
  std::string lang;
  std::string label;  // from `<!-- example: NAME -->` above it
  std::vector<std::string> lines;
  size_t line_no = 0;
};

std::vector<Block> fenced_blocks(const std::string& markdown) {
  std::vector<Block> blocks;
  auto lines = lines_of(markdown);
  std::string pending_label;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string t = trim(lines[i]);
    if (t.starts_with("<!-- example:")) {
      size_t end = t.find("-->");
      pending_label = trim(t.substr(13, end == std::string::npos ? std::string::npos : end - 13));
      continue;
    }
    if (t.starts_with("```") && t.size() > 3) {
      Block b;
      b.lang = t.substr(3);
      b.label = pending_label;
      b.line_no = i + 1;
      for (++i; i < lines.size() && trim(lines[i]) != "```"; ++i) b.lines.push_back(lines[i]);
      blocks.push_back(std::move(b));
    }
    if (!t.empty()) pending_label.clear();
  }
  return blocks;
}

// Every `// [doc:NAME]` region of the example sources, dedented.
std::map<std::string, std::string> example_regions() {
  std::map<std::string, std::string> regions;
  for (const auto& entry : fs::directory_iterator(SHELF_SOURCE_DIR "/tests/docs")) {
    std::string file = entry.path().filename().string();
    if (!file.ends_with("_example.cc")) continue;
    auto lines = lines_of(slurp(entry.path()));
    for (size_t i = 0; i < lines.size(); ++i) {
      std::string t = trim(lines[i]);
      if (!t.starts_with("// [doc:")) continue;
      std::string name = t.substr(8, t.size() - 9);
      std::vector<std::string> body;
      size_t j = i + 1;
      for (; j < lines.size() && trim(lines[j]) != "// [/doc:" + name + "]"; ++j) body.push_back(lines[j]);
      INFO(file << ": region " << name << " has no end marker");
      REQUIRE(j < lines.size());
      INFO(file << ": region " << name << " is defined twice");
      REQUIRE(regions.emplace(name, dedent(body)).second);
      i = j;
    }
  }
  return regions;
}

TEST_CASE("docs: every C++ example of the docs is compiled and run", "[docs]") {
  // A doc opts in by labelling a block; from then on all its C++ blocks
  // must be examples (docs/pickle.md, docs/store.md, ...).
  auto regions = example_regions();
  std::map<std::string, int> used;
  int pickle_md_blocks = 0;
  for (const auto& entry : fs::directory_iterator(SHELF_SOURCE_DIR "/docs")) {
    if (entry.path().extension() != ".md") continue;
    std::string doc = "docs/" + entry.path().filename().string();
    auto blocks = fenced_blocks(slurp(entry.path()));
    bool opted_in = false;
    for (const Block& b : blocks) opted_in |= b.lang == "cpp" && !b.label.empty();
    if (!opted_in) continue;
    for (const Block& b : blocks) {
      if (b.lang != "cpp") continue;
      if (doc == "docs/pickle.md") ++pickle_md_blocks;
      INFO(doc << " line " << b.line_no);
      CHECK_FALSE(b.label.empty());  // add <!-- example: NAME --> above the block
      if (b.label.empty()) continue;
      auto it = regions.find(b.label);
      INFO("example " << b.label);
      CHECK(it != regions.end());
      if (it == regions.end()) continue;
      CHECK(dedent(b.lines) == it->second);
      ++used[b.label];
    }
  }
  CHECK(pickle_md_blocks > 5);
  for (const auto& [name, text] : regions) {
    INFO("tests/docs region " << name << " must appear in exactly one block of docs/*.md");
    CHECK(used[name] == 1);
  }
}

// Runs `command` with /bin/sh in `dir`, shelfctl's directory first on PATH;
// returns stdout and stderr together.
std::string run_shell(const std::string& command, const fs::path& dir) {
  fs::path out = dir / ".output";
  std::string script = "cd '" + dir.string() + "' && { " + command + "\n} >'" + out.string() + "' 2>&1 </dev/null";
  std::string path = "PATH=" + fs::path(SHELFCTL_PATH).parent_path().string() + ":" +
                     (std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!std::string_view(*e).starts_with("PATH=")) env_store.emplace_back(*e);
  }
  env_store.push_back(path);
  std::vector<char*> envp;
  for (auto& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c";
  std::vector<char*> argv = {sh.data(), dash_c.data(), script.data(), nullptr};
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv.data(), envp.data()) == 0);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) REQUIRE(errno == EINTR);
  return slurp(out);
}

TEST_CASE("docs: every console example of docs/shelfctl.md runs as shown", "[docs][cli]") {
  auto blocks = fenced_blocks(slurp(SHELF_SOURCE_DIR "/docs/shelfctl.md"));
  fs::path dir = fs::temp_directory_path() / ("shelfctl_docs_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::copy(SHELF_SOURCE_DIR "/docs/examples", dir / "examples");
  int commands = 0;
  for (const Block& b : blocks) {
    if (b.lang != "console") continue;
    for (size_t i = 0; i < b.lines.size(); ++i) {
      if (!b.lines[i].starts_with("$ ")) continue;
      std::string command = b.lines[i].substr(2);
      std::string expected;
      size_t j = i + 1;
      for (; j < b.lines.size() && !b.lines[j].starts_with("$ "); ++j) expected += b.lines[j] + "\n";
      INFO("docs/shelfctl.md line " << b.line_no + i + 1 << ": $ " << command);
      CHECK(run_shell(command, dir) == expected);
      ++commands;
      i = j - 1;
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  CHECK(commands > 5);
}

}  // namespace
}  // namespace shelf::docs
