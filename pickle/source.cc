#include "pickle/source.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <unistd.h>

namespace shelf::pickle {

size_t MemorySource::read(char* dst, size_t n) {
  size_t k = std::min(n, data_.size() - pos_);
  if (k != 0) std::memcpy(dst, data_.data() + pos_, k);
  pos_ += k;
  return k;
}

size_t MemorySource::readline(std::string& line, size_t max) {
  std::string_view rest = data_.substr(pos_, max);
  size_t nl = rest.find('\n');
  size_t k = nl == std::string_view::npos ? rest.size() : nl + 1;
  line.append(rest.data(), k);
  pos_ += k;
  return k;
}

// Through the streambuf, so a short read at the end does not leave the
// stream failed for whoever reads it next; eofbit is still set.
size_t IstreamSource::read(char* dst, size_t n) {
  std::streambuf* sb = in_.rdbuf();
  if (sb == nullptr || n == 0) return 0;
  auto got = static_cast<size_t>(sb->sgetn(dst, static_cast<std::streamsize>(n)));
  if (got < n) in_.setstate(std::ios::eofbit);
  return got;
}

size_t IstreamSource::readline(std::string& line, size_t max) {
  std::streambuf* sb = in_.rdbuf();
  if (sb == nullptr) return 0;
  size_t k = 0;
  while (k < max) {
    int c = sb->sbumpc();
    if (c == std::char_traits<char>::eof()) {
      in_.setstate(std::ios::eofbit);
      break;
    }
    line += static_cast<char>(c);
    ++k;
    if (c == '\n') break;
  }
  return k;
}

namespace {

// One read(2), retried on EINTR; 0 at the end of input.
size_t read_some(int fd, char* dst, size_t n) {
  for (;;) {
    ssize_t r = ::read(fd, dst, n);
    if (r >= 0) return static_cast<size_t>(r);
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "read");
  }
}

}  // namespace

size_t FdSource::read(char* dst, size_t n) {
  size_t got = 0;
  while (got < n) {
    size_t r = read_some(fd_, dst + got, n - got);
    if (r == 0) break;
    got += r;
  }
  return got;
}

// A byte at a time: anything read past the '\n' could not be given back.
size_t FdSource::readline(std::string& line, size_t max) {
  size_t k = 0;
  char c;
  while (k < max && read_some(fd_, &c, 1) == 1) {
    line += c;
    ++k;
    if (c == '\n') break;
  }
  return k;
}

}  // namespace shelf::pickle
