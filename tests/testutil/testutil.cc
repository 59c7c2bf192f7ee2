#include "tests/testutil/testutil.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <catch2/catch.hpp>

extern char** environ;

namespace shelf::testutil {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::filesystem::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// The interpreter binary for `version`: pyenv's own tree, not the shim, so a
// missing version is detected without parsing pyenv's complaint.
std::optional<std::string> interpreter(std::string_view version) {
  if (version.empty()) return std::string("python3");
  const char* root = std::getenv("PYENV_ROOT");
  std::filesystem::path base;
  if (root != nullptr && *root != '\0') {
    base = root;
  } else {
    const char* home = std::getenv("HOME");
    base = std::filesystem::path(home != nullptr ? home : "/root") / ".pyenv";
  }
  std::filesystem::path bin = base / "versions" / std::string(version) / "bin";
  for (const char* name : {"python", "python3", "python2"}) {
    std::error_code ec;
    if (std::filesystem::exists(bin / name, ec)) return (bin / name).string();
  }
  return std::nullopt;
}

// Temporary files for one run, removed on scope exit.
struct TempDir {
  TempDir() {
    static std::atomic<unsigned> counter{0};
    path = std::filesystem::temp_directory_path() /
           ("shelf_py_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::filesystem::path path;
};

}  // namespace

std::string hex(std::string_view spaced_hex) {
  std::string out;
  out.reserve(spaced_hex.size() / 2);
  int high = -1;
  for (size_t i = 0; i < spaced_hex.size(); ++i) {
    char c = spaced_hex[i];
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') continue;
    if (c == '(' && high < 0) {
      // "(xx*N)": N copies of byte xx.
      size_t close = spaced_hex.find(')', i);
      size_t star = spaced_hex.find('*', i);
      if (close == std::string_view::npos || star == std::string_view::npos || star != i + 3 ||
          hex_digit(spaced_hex[i + 1]) < 0 || hex_digit(spaced_hex[i + 2]) < 0) {
        throw std::invalid_argument("hex: malformed run, want (xx*N)");
      }
      size_t count = 0;
      for (size_t j = star + 1; j < close; ++j) {
        if (spaced_hex[j] < '0' || spaced_hex[j] > '9') throw std::invalid_argument("hex: bad run count");
        count = count * 10 + static_cast<size_t>(spaced_hex[j] - '0');
      }
      out.append(count, static_cast<char>(hex_digit(spaced_hex[i + 1]) << 4 | hex_digit(spaced_hex[i + 2])));
      i = close;
      continue;
    }
    int d = hex_digit(c);
    if (d < 0) throw std::invalid_argument(std::string("hex: not a hex digit: '") + c + "'");
    if (high < 0) {
      high = d;
    } else {
      out.push_back(static_cast<char>(high << 4 | d));
      high = -1;
    }
  }
  if (high >= 0) throw std::invalid_argument("hex: odd number of digits");
  return out;
}

std::string to_hex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 3);
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i != 0) out.push_back(' ');
    auto b = static_cast<unsigned char>(bytes[i]);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

void FailingSink::write(std::string_view data) {
  if (failed_) throw std::runtime_error("FailingSink: write after failure");
  size_t room = limit_ - data_.size();
  if (data.size() <= room) {
    data_.append(data);
    return;
  }
  data_.append(data.substr(0, room));
  failed_ = true;
  throw std::runtime_error("FailingSink: no space left after " + std::to_string(limit_) + " bytes");
}

size_t ShortReadSource::read(char* dst, size_t n) {
  if (n == 0 || pos_ >= data_.size()) return 0;
  *dst = data_[pos_++];
  return 1;
}

size_t ShortReadSource::readline(std::string& line, size_t max) {
  size_t got = 0;
  while (got < max && pos_ < data_.size()) {
    char c = data_[pos_++];
    line.push_back(c);
    ++got;
    if (c == '\n') break;
  }
  return got;
}

bool have_python(std::string_view version) { return interpreter(version).has_value(); }

std::optional<PythonResult> run_python(std::string_view version, std::string_view script,
                                       std::string_view input) {
  std::optional<std::string> exe = interpreter(version);
  if (!exe) {
    WARN("Python " << version << " is not installed (pyenv); skipping this check");
    return std::nullopt;
  }
  TempDir dir;
  auto script_path = dir.path / "script.py";
  auto in_path = dir.path / "stdin";
  auto out_path = dir.path / "stdout";
  auto err_path = dir.path / "stderr";
  write_file(script_path, script);
  write_file(in_path, input);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);

  // The child's environment: ours, with PYTHONIOENCODING fixed so text
  // output does not depend on the locale, and no stray PYENV_VERSION.
  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    if (kv.starts_with("PYENV_VERSION=") || kv.starts_with("PYTHONIOENCODING=") ||
        kv.starts_with("PYTHONHASHSEED=")) {
      continue;
    }
    env_store.emplace_back(kv);
  }
  env_store.emplace_back("PYTHONIOENCODING=utf-8:surrogateescape");
  env_store.emplace_back("PYTHONHASHSEED=0");
  if (!version.empty()) env_store.push_back("PYENV_VERSION=" + std::string(version));
  std::vector<char*> envp;
  for (auto& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);

  std::string script_arg = script_path.string();
  std::vector<char*> argv = {exe->data(), script_arg.data(), nullptr};
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, exe->c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    WARN("cannot start " << *exe << ": " << std::strerror(rc) << "; skipping this check");
    return std::nullopt;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  }
  PythonResult result;
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  return result;
}

}  // namespace shelf::testutil
