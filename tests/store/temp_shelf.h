// tests/store/temp_shelf.h: a shelf in a fresh temporary directory, removed
// afterwards, with reopen() and corrupt_record() as leveldb's
// CorruptionTest has.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/shelf.h"

namespace shelf::testutil {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class TempShelf {
 public:
  explicit TempShelf(store::Options options = {});
  store::Shelf& shelf() { return *shelf_; }
  store::Shelf* operator->() { return &*shelf_; }
  const std::filesystem::path& path() const { return file_; }
  // Closes this handle and opens the file again with `options`.
  store::Shelf& reopen(store::Options options = {});
  void close() { shelf_.reset(); }
  // Flips the byte at `offset` of the record's stored pickle bytes.
  void corrupt_record(const std::string& key, size_t offset);

 private:
  TempDir dir_;
  std::filesystem::path file_;
  std::optional<store::Shelf> shelf_;
};

// Path of the store worker executable (tests/store/worker.cc).
std::string store_worker_path();

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string out, err;
};

// A child process running `argv` (argv[0] looked up in PATH) with `input`
// on stdin, started now; wait() collects it.
class Process {
 public:
  Process(const std::vector<std::string>& argv, std::string_view input = {});
  ~Process();
  ProcessResult wait();
  void signal(int sig);

 private:
  TempDir dir_;
  int pid_ = -1;
};

ProcessResult run_process(const std::vector<std::string>& argv, std::string_view input = {});

}  // namespace shelf::testutil
