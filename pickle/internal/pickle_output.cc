#include "pickle/internal/pickle_output.h"

#include <algorithm>
#include <cstdlib>
#include <new>

#include "pickle/opcodes.h"

namespace shelf::pickle::internal {

namespace {

// One collecting buffer per thread, kept between dumps() calls.
struct Scratch {
  static constexpr size_t kKeepAtMost = size_t{8} << 20;
  char* data = nullptr;
  size_t capacity = 0;
  ~Scratch() { std::free(data); }
};
thread_local Scratch scratch;

}  // namespace

PickleOutput::PickleOutput(Sink* sink)
    : sink_(sink), flush_threshold_(sink != nullptr ? kFlushThreshold : SIZE_MAX) {
  update_boundary();
  if (sink == nullptr && scratch.data != nullptr) {
    buf_ = scratch.data;
    cap_ = scratch.capacity;
    scratch.data = nullptr;
    scratch.capacity = 0;
    limit_ = cap_;
  }
}

PickleOutput::~PickleOutput() {
  if (sink_ == nullptr && cap_ <= Scratch::kKeepAtMost && scratch.data == nullptr) {
    scratch.data = buf_;
    scratch.capacity = cap_;
  } else {
    std::free(buf_);
  }
}

void PickleOutput::grow(size_t n) {
  size_t want = std::max(len_ + n, cap_ < 256 ? size_t{256} : cap_ * 2);
  void* bigger = std::realloc(buf_, want);
  if (bigger == nullptr) throw std::bad_alloc();
  buf_ = static_cast<char*>(bigger);
  cap_ = want;
  if (!frame_pending_) limit_ = cap_;
}

void PickleOutput::make_room(size_t n) {
  if (frame_pending_) open_frame();
  if (cap_ - len_ < n) grow(n);
}

void PickleOutput::open_frame() {
  set_frame_pending(false);
  frame_start_ = len_;
  if (cap_ - len_ < kFrameHeaderSize) grow(kFrameHeaderSize);
  len_ += kFrameHeaderSize;  // filled in by commit_frame()
  update_boundary();
}

void PickleOutput::boundary_reached() {
  if (frame_start_ != kNoFrame) {
    commit_frame_and_flush();
  } else {
    flush();
  }
}

void PickleOutput::commit_frame() {
  if (frame_start_ == kNoFrame) return;
  char* header = buf_ + frame_start_;
  size_t frame_len = len_ - frame_start_ - kFrameHeaderSize;
  if (frame_len >= kFrameSizeMin) {
    header[0] = static_cast<char>(Op::FRAME);
    uint64_t n = frame_len;
    for (int i = 0; i < 8; ++i) header[1 + i] = static_cast<char>(n >> (8 * i));
  } else {
    std::memmove(header, header + kFrameHeaderSize, frame_len);
    len_ -= kFrameHeaderSize;
  }
  frame_start_ = kNoFrame;
  set_frame_pending(framing_);
  update_boundary();
}

void PickleOutput::flush() {
  if (len_ == 0 || sink_ == nullptr || held_) return;
  // Hand the bytes over before clearing: if the sink throws, the Pickler
  // resets the buffer anyway.
  sink_->write(std::string_view(buf_, len_));
  len_ = 0;
}

void PickleOutput::put_large_payload(const char* header, size_t header_size, std::string_view payload) {
  // CPython commits the frame, writes header and payload with framing off,
  // and lets the next write open a new frame.
  commit_frame();
  set_frame_pending(false);
  if (sink_ != nullptr && !held_) {
    if (cap_ - len_ < header_size) grow(header_size);
    std::memcpy(buf_ + len_, header, header_size);
    len_ += header_size;
    flush();
    sink_->write(payload);
  } else if (sink_ == nullptr) {
    // As a sink would take it: what the buffer holds, the header, then the
    // payload straight from the value.
    large_.reserve(large_.size() + len_ + header_size + payload.size() + kFrameSizeTarget);
    large_.append(buf_, len_);
    large_.append(header, header_size);
    large_.append(payload);
    len_ = 0;
  } else {
    if (cap_ - len_ < header_size + payload.size()) grow(header_size + payload.size());
    std::memcpy(buf_ + len_, header, header_size);
    std::memcpy(buf_ + len_ + header_size, payload.data(), payload.size());
    len_ += header_size + payload.size();
  }
  set_frame_pending(framing_);
}

void PickleOutput::finish() {
  commit_frame();
  held_ = false;
  framing_ = false;
  set_frame_pending(false);
  update_boundary();
  flush();
}

}  // namespace shelf::pickle::internal
