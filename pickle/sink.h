// pickle/sink.h: where a Pickler's bytes go.
//
// The Pickler assembles output in its own buffer and hands it to the sink in
// large pieces (a frame, or a whole dump), so a virtual call per write costs
// nothing measurable. A sink that cannot take the bytes throws; the Pickler
// lets the exception through and stays usable for clear_memo() and a new
// dump().
#pragma once

#include <cstdio>
#include <ostream>
#include <string>
#include <string_view>

namespace shelf::pickle {

class Sink {
 public:
  virtual ~Sink() = default;
  // Takes all of `data`, or throws.
  virtual void write(std::string_view data) = 0;
};

// Appends to a std::string: the fast path (what an LMDB put wants).
class StringSink final : public Sink {
 public:
  explicit StringSink(std::string& out) : out_(out) {}
  void write(std::string_view data) override { out_.append(data); }

 private:
  std::string& out_;
};

// Writes to a std::ostream; throws std::ios_base::failure when it fails.
class OstreamSink final : public Sink {
 public:
  explicit OstreamSink(std::ostream& out) : out_(out) {}
  void write(std::string_view data) override;

 private:
  std::ostream& out_;
};

// Writes to a POSIX file descriptor, retrying short writes and EINTR;
// throws std::system_error with errno on failure.
class FdSink final : public Sink {
 public:
  explicit FdSink(int fd) : fd_(fd) {}
  void write(std::string_view data) override;

 private:
  int fd_;
};

}  // namespace shelf::pickle
