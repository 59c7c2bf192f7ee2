// pickle/internal/pickle_output.h: the Pickler's output buffer and protocol 4
// framing, as CPython's C Pickler frames (_Pickler_Write, _Pickler_CommitFrame,
// _Pickler_OpcodeBoundary, _Pickler_write_bytes in Modules/_pickle.c).
//
// The Pickler writes opcodes into one contiguous buffer and hands the sink
// large pieces: a committed frame, a whole dump, or a large payload written
// straight from the value (no copy). The bytes are the same whatever the
// sink, so they match CPython's pickle.dumps() exactly:
//   - a frame opens lazily at the first write after the previous one closed;
//   - at the start of each save(), a frame holding >= 64 KiB is committed;
//   - a frame with fewer than 4 bytes of payload loses its FRAME header;
//   - a bytes/str payload of >= 64 KiB closes the current frame and is
//     written unframed, its opcode header too.
// docs/format.md describes the framing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include "pickle/sink.h"

namespace shelf::pickle::internal {

class PickleOutput {
 public:
  static constexpr size_t kFrameSizeTarget = 64 * 1024;  // pickle._FRAME_SIZE_TARGET
  static constexpr size_t kFrameSizeMin = 4;             // _pickle.c FRAME_SIZE_MIN
  static constexpr size_t kFrameHeaderSize = 9;          // FRAME + uint64
  // Unframed output (protocols 0-3) is handed to the sink in pieces of
  // about this size, keeping memory flat for large dumps.
  static constexpr size_t kFlushThreshold = 256 * 1024;

  explicit PickleOutput(Sink& sink) : sink_(sink) {}
  PickleOutput(const PickleOutput&) = delete;
  PickleOutput& operator=(const PickleOutput&) = delete;

  // Framing covers everything written from now until end_framing().
  void start_framing() {
    framing_ = true;
    frame_pending_ = true;
  }

  void put(char c) {
    char* p = room(1);
    *p = c;
    len_ += 1;
  }
  void put(const void* data, size_t n) {
    char* p = room(n);
    std::memcpy(p, data, n);
    len_ += n;
  }
  void put(std::string_view s) { put(s.data(), s.size()); }
  void put2(char a, char b) {
    char* p = room(2);
    p[0] = a;
    p[1] = b;
    len_ += 2;
  }
  // Space for `n` more bytes; the caller fills them and calls advance(n).
  char* room(size_t n) {
    if (frame_pending_) open_frame();
    if (cap_ - len_ < n) grow(n);
    return buf_.get() + len_;
  }
  void advance(size_t n) { len_ += n; }

  // An opcode header followed by a payload. Payloads of 64 KiB or more are
  // written outside any frame, straight to the sink.
  void put_with_payload(const char* header, size_t header_size, std::string_view payload);

  // Called at the start of every save(): commits a full frame.
  void opcode_boundary() {
    if (frame_start_ != kNoFrame) {
      if (len_ - frame_start_ - kFrameHeaderSize >= kFrameSizeTarget) commit_frame_and_flush();
    } else if (!framing_ && len_ >= kFlushThreshold) {
      flush();
    }
  }

  // Ends the dump: commits the open frame, stops framing and hands
  // everything to the sink.
  void finish();

  // Drops whatever was not yet handed to the sink (after a failed dump).
  void reset() {
    len_ = 0;
    framing_ = false;
    frame_pending_ = false;
    frame_start_ = kNoFrame;
  }

 private:
  static constexpr size_t kNoFrame = static_cast<size_t>(-1);

  void open_frame();
  void commit_frame();
  void commit_frame_and_flush() {
    commit_frame();
    flush();
  }
  void flush();
  void grow(size_t n);

  Sink& sink_;
  std::unique_ptr<char[]> buf_;
  size_t len_ = 0;
  size_t cap_ = 0;
  bool framing_ = false;
  // A frame must open before the next byte: framing is on and none is open.
  bool frame_pending_ = false;
  size_t frame_start_ = kNoFrame;
};

}  // namespace shelf::pickle::internal
