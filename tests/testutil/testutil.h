// tests/testutil/testutil.h: small helpers shared by the tests: hex bytes,
// in-memory fakes for sinks and sources that fail or dribble, and a runner
// for the pyenv CPython interpreters used as oracles.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "pickle/sink.h"
#include "pickle/source.h"

namespace shelf::testutil {

// "80 04 95 ..." (whitespace anywhere, upper or lower case) to bytes. A
// run "(78*70000)" stands for 70000 bytes 0x78 (the codec table's form for
// large values). Throws std::invalid_argument on an odd digit count, a
// non-hex character or a malformed run.
std::string hex(std::string_view spaced_hex);

// Bytes to lower-case hex pairs separated by single spaces ("80 04 95").
std::string to_hex(std::string_view bytes);

// A Sink that accepts the first `limit` bytes and then throws
// std::runtime_error (taking the part of a write that still fits, as a disk
// filling up does). Everything accepted is kept in data().
class FailingSink final : public pickle::Sink {
 public:
  explicit FailingSink(size_t limit) : limit_(limit) {}
  void write(std::string_view data) override;
  const std::string& data() const { return data_; }
  bool failed() const { return failed_; }

 private:
  size_t limit_;
  std::string data_;
  bool failed_ = false;
};

// A Source over a string that returns at most one byte per read() and per
// readline() step, as a slow pipe may: exercises every refill path. It
// offers no in-memory view (remaining() is nullopt).
class ShortReadSource final : public pickle::Source {
 public:
  explicit ShortReadSource(std::string data) : data_(std::move(data)) {}
  size_t read(char* dst, size_t n) override;
  size_t readline(std::string& line, size_t max) override;
  size_t position() const { return pos_; }

 private:
  std::string data_;
  size_t pos_ = 0;
};

struct PythonResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string out;     // stdout, bytes as written
  std::string err;     // stderr
};

// Runs `script` (Python source) under the pyenv interpreter `version`
// ("2.7.18", "3.13.0", ...; "" for the default python3) with `input` on its
// stdin. Returns nullopt, after a Catch2 WARN naming the interpreter, when
// it is not installed: callers skip the check. Must run inside a test case.
std::optional<PythonResult> run_python(std::string_view version, std::string_view script,
                                       std::string_view input = {});

// True when the interpreter `version` is installed (no WARN).
bool have_python(std::string_view version);

}  // namespace shelf::testutil
