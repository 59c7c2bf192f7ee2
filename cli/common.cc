#include "cli/common.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace shelf::cli {

namespace {

// Reads `fd` to its end. Returns false with errno set on a read error.
bool read_all(int fd, std::string& out) {
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      return true;
    } else if (errno != EINTR) {
      return false;
    }
  }
}

}  // namespace

std::string input_name(const std::string& path) { return path == "-" ? "<stdin>" : path; }

std::string read_input(const std::string& path) {
  std::string data;
  if (path == "-") {
    if (!read_all(STDIN_FILENO, data)) throw CommandError(input_name(path), std::strerror(errno));
    return data;
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw CommandError(path, std::strerror(errno));
  bool ok = read_all(fd, data);
  int saved = errno;
  ::close(fd);
  // A directory opens fine and fails on read with EISDIR.
  if (!ok) throw CommandError(path, std::strerror(saved));
  return data;
}

void write_stdout(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(STDOUT_FILENO, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw CommandError("<stdout>", std::strerror(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace shelf::cli
