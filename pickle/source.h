// pickle/source.h: where an Unpickler's bytes come from.
//
// Two paths, as DESIGN.md fixes: contiguous memory (what LMDB hands out) is
// parsed in place; a stream is read with the seed's file semantics, read(n)
// and readline(), never past the STOP of the pickle being loaded, so a stream
// holding several pickles (or a pickle followed by other data) is left
// positioned right after each one.
#pragma once

#include <cstddef>
#include <istream>
#include <optional>
#include <string>
#include <string_view>

namespace shelf::pickle {

class Source {
 public:
  virtual ~Source() = default;
  // Copies up to `n` bytes into `dst`; fewer only at the end of the input.
  virtual size_t read(char* dst, size_t n) = 0;
  // Appends the bytes up to and including the next '\n' to `line`, reading
  // at most `max` bytes; returns how many were appended (the line lacks its
  // '\n' when the input ended or `max` was reached).
  virtual size_t readline(std::string& line, size_t max) = 0;
  // The rest of the input when it is all in memory, for in-place parsing;
  // the Unpickler then reports what it used through consume().
  virtual std::optional<std::string_view> remaining() { return std::nullopt; }
  virtual void consume(size_t n) { (void)n; }
};

// Bytes in memory. The bytes must outlive the source and every load from it.
class MemorySource final : public Source {
 public:
  explicit MemorySource(std::string_view data) : data_(data) {}
  size_t read(char* dst, size_t n) override;
  size_t readline(std::string& line, size_t max) override;
  std::optional<std::string_view> remaining() override { return data_.substr(pos_); }
  void consume(size_t n) override { pos_ += n; }
  size_t position() const { return pos_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// A std::istream (a file, a pipe, a stringstream).
class IstreamSource final : public Source {
 public:
  explicit IstreamSource(std::istream& in) : in_(in) {}
  size_t read(char* dst, size_t n) override;
  size_t readline(std::string& line, size_t max) override;

 private:
  std::istream& in_;
};

// A POSIX file descriptor, read unbuffered so that nothing past the pickle
// is consumed (a pipe shared with other readers stays correct).
class FdSource final : public Source {
 public:
  explicit FdSource(int fd) : fd_(fd) {}
  size_t read(char* dst, size_t n) override;
  size_t readline(std::string& line, size_t max) override;

 private:
  int fd_;
};

}  // namespace shelf::pickle
