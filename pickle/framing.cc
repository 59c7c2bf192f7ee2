#include "pickle/framing.h"

#include <algorithm>

namespace shelf::pickle::internal {
namespace {

constexpr size_t kFirstChunk = size_t{64} << 10;

[[noreturn]] void truncated() { fail(UnpicklingReason::kTruncated, "pickle data was truncated"); }

[[noreturn]] void exhausted() { fail(UnpicklingReason::kBadArgument, "pickle exhausted before end of frame"); }

}  // namespace

FramedReader::FramedReader(std::string_view data) { restart(data); }

FramedReader::FramedReader(Source* source) : source_(source) {
  stable_ = source == nullptr;
  restart();
}

void FramedReader::restart(std::string_view data) {
  p_ = data.data();
  set_base(p_, 0);
  end_ = data_end_ = data.data() + data.size();
  in_frame_ = false;
}

void FramedReader::restart() {
  p_ = end_ = buf_.data();
  set_base(p_, 0);
  in_frame_ = false;
}

void FramedReader::window(const char* begin, size_t size) {
  set_base(begin, tell());
  p_ = begin;
  end_ = begin + size;
}

size_t FramedReader::input_extent() const {
  if (source_ == nullptr) return tell() + static_cast<size_t>(data_end_ - p_);
  return tell();
}

bool FramedReader::leave_finished_frame() {
  if (!in_frame_) return false;
  if (p_ != end_) exhausted();
  in_frame_ = false;
  if (source_ == nullptr) {
    end_ = data_end_;
  } else {
    window(buf_.data(), 0);
  }
  return true;
}

void FramedReader::begin_frame(uint64_t size) {
  if (in_frame_ && p_ != end_)
    fail(UnpicklingReason::kBadArgument, "beginning of a new frame before end of current frame");
  in_frame_ = false;
  if (source_ == nullptr) {
    if (size > static_cast<uint64_t>(data_end_ - p_)) truncated();
    end_ = p_ + size;
  } else {
    // The frame is read whole, as pickle.py does: it ends at or before the
    // STOP, so nothing past the pickle is consumed.
    if (size > static_cast<uint64_t>(PTRDIFF_MAX)) truncated();
    size_t n = static_cast<size_t>(size);
    size_t offset = tell();
    read_exact(frame_, n);
    p_ = frame_.data();
    set_base(p_, offset);
    end_ = p_ + n;
  }
  in_frame_ = true;
}

void FramedReader::read_exact(std::string& buf, size_t n) {
  // Grow with what arrives: at most twice the bytes actually read.
  // A short read is taken as a slow source, not the end: only a read of
  // nothing is.
  size_t got = 0;
  buf.clear();
  while (got < n) {
    if (buf.size() == got) buf.resize(got + std::min(n - got, std::max(kFirstChunk, got)));
    size_t r = source_->read(buf.data() + got, buf.size() - got);
    if (r == 0) {
      buf.resize(got);
      truncated();
    }
    got += r;
  }
}

const char* FramedReader::take_slow(size_t n) {
  if (leave_finished_frame() && source_ == nullptr) return take(n);
  if (source_ == nullptr) truncated();
  // Stream, outside any frame: the window is empty; read just `n` bytes.
  size_t offset = tell();
  read_exact(buf_, n);
  set_base(buf_.data(), offset);
  p_ = end_ = buf_.data() + n;
  return buf_.data();
}

std::string_view FramedReader::take_line_slow() {
  if (leave_finished_frame() && source_ == nullptr) return take_line();
  if (source_ == nullptr) fail(UnpicklingReason::kTruncated, "pickle data was truncated (no newline)");
  if (in_frame_) exhausted();
  size_t offset = tell();
  buf_.clear();
  size_t chunk = 256;
  for (;;) {
    size_t r = source_->readline(buf_, chunk);
    if (!buf_.empty() && buf_.back() == '\n') break;
    if (r == 0) {
      set_base(buf_.data(), offset);
      p_ = end_ = buf_.data() + buf_.size();
      fail(UnpicklingReason::kTruncated, "pickle data was truncated (no newline)");
    }
    chunk = std::min(chunk * 2, size_t{1} << 20);
  }
  set_base(buf_.data(), offset);
  p_ = end_ = buf_.data() + buf_.size();
  return {buf_.data(), buf_.size() - 1};
}

}  // namespace shelf::pickle::internal
