#include "tests/store/temp_shelf.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace shelf::testutil {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "shelf-test-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

TempShelf::TempShelf(store::Options options) : file_(dir_.path() / "test.shelf") {
  shelf_.emplace(store::Shelf::open(file_, options));
}

store::Shelf& TempShelf::reopen(store::Options options) {
  shelf_.reset();
  shelf_.emplace(store::Shelf::open(file_, options));
  return *shelf_;
}

void TempShelf::corrupt_record(const std::string& key, size_t offset) {
  auto raw = shelf_->get_raw(key);
  if (!raw || offset >= raw->size()) throw std::out_of_range("corrupt_record: no such byte");
  (*raw)[offset] = static_cast<char>((*raw)[offset] ^ 0xff);
  shelf_->put_raw(key, *raw);
}

std::string store_worker_path() { return SHELF_STORE_WORKER_PATH; }

namespace {

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

Process::Process(const std::vector<std::string>& argv, std::string_view input) {
  {
    std::ofstream in(dir_.path() / "stdin", std::ios::binary);
    in.write(input.data(), static_cast<std::streamsize>(input.size()));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, (dir_.path() / "stdin").c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, (dir_.path() / "stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, (dir_.path() / "stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> args = argv;
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  int rc = posix_spawnp(&pid_, cargs[0], &actions, nullptr, cargs.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
}

Process::~Process() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status;
    ::waitpid(pid_, &status, 0);
  }
}

void Process::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

ProcessResult Process::wait() {
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  }
  pid_ = -1;
  ProcessResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = slurp(dir_.path() / "stdout");
  result.err = slurp(dir_.path() / "stderr");
  return result;
}

ProcessResult run_process(const std::vector<std::string>& argv, std::string_view input) {
  return Process(argv, input).wait();
}

}  // namespace shelf::testutil
