#include "pickle/internal/pickle_output.h"

#include <algorithm>

#include "pickle/opcodes.h"

namespace shelf::pickle::internal {

void PickleOutput::grow(size_t n) {
  size_t want = std::max(len_ + n, cap_ < 4096 ? size_t{4096} : cap_ * 2);
  std::unique_ptr<char[]> bigger(new char[want]);
  if (len_ != 0) std::memcpy(bigger.get(), buf_.get(), len_);
  buf_ = std::move(bigger);
  cap_ = want;
}

void PickleOutput::open_frame() {
  frame_pending_ = false;
  frame_start_ = len_;
  if (cap_ - len_ < kFrameHeaderSize) grow(kFrameHeaderSize);
  len_ += kFrameHeaderSize;  // filled in by commit_frame()
}

void PickleOutput::commit_frame() {
  if (frame_start_ == kNoFrame) return;
  char* header = buf_.get() + frame_start_;
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
  frame_pending_ = framing_;
}

void PickleOutput::flush() {
  if (len_ == 0) return;
  // Hand the bytes over before clearing: if the sink throws, the Pickler
  // resets the buffer anyway.
  sink_.write(std::string_view(buf_.get(), len_));
  len_ = 0;
}

void PickleOutput::put_with_payload(const char* header, size_t header_size, std::string_view payload) {
  if (payload.size() < kFrameSizeTarget) {
    char* p = room(header_size + payload.size());
    std::memcpy(p, header, header_size);
    std::memcpy(p + header_size, payload.data(), payload.size());
    len_ += header_size + payload.size();
    return;
  }
  // CPython commits the frame, writes header and payload with framing off,
  // and lets the next write open a new frame.
  commit_frame();
  frame_pending_ = false;
  if (cap_ - len_ < header_size) grow(header_size);
  std::memcpy(buf_.get() + len_, header, header_size);
  len_ += header_size;
  flush();
  sink_.write(payload);
  frame_pending_ = framing_;
}

void PickleOutput::finish() {
  commit_frame();
  framing_ = false;
  frame_pending_ = false;
  flush();
}

}  // namespace shelf::pickle::internal
