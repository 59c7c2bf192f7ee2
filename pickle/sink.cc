#include "pickle/sink.h"

#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace shelf::pickle {

void OstreamSink::write(std::string_view data) {
  out_.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!out_) throw std::ios_base::failure("pickle: writing to the stream failed");
}

void FdSink::write(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "pickle: write to file descriptor failed");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace shelf::pickle
