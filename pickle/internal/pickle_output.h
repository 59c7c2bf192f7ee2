// pickle/internal/pickle_output.h: the Pickler's output buffer and protocol 4
// framing, as CPython's C Pickler frames (_Pickler_Write, _Pickler_CommitFrame,
// _Pickler_OpcodeBoundary, _Pickler_write_bytes in Modules/_pickle.c).
//
// The Pickler writes opcodes into one contiguous buffer and hands the sink
// large pieces: a committed frame, a whole dump, or a large payload written
// straight from the value (no copy). Without a sink the buffer collects the
// whole pickle for take() (dumps()). The buffer grows with realloc, which
// moves large blocks by remapping pages rather than copying them, and a
// collecting buffer is kept per thread for the next dumps(): fresh memory
// costs page faults that would otherwise dominate. The bytes are the same
// either way, so they match CPython's pickle.dumps():
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
#include <string>
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

  // `sink` nullptr: collect everything for take().
  explicit PickleOutput(Sink* sink);
  ~PickleOutput();
  PickleOutput(const PickleOutput&) = delete;
  PickleOutput& operator=(const PickleOutput&) = delete;

  // Framing covers everything written from now until end_framing().
  void start_framing() {
    framing_ = true;
    set_frame_pending(true);
    update_boundary();
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
    // One test on the fast path: a pending frame sets limit_ to 0.
    if (static_cast<ptrdiff_t>(limit_ - len_) < static_cast<ptrdiff_t>(n)) make_room(n);
    return buf_ + len_;
  }
  void advance(size_t n) { len_ += n; }

  // An opcode header followed by a payload. Payloads of 64 KiB or more are
  // written outside any frame, straight to the sink.
  void put_with_payload(const char* header, size_t header_size, std::string_view payload) {
    if (payload.size() >= kFrameSizeTarget) [[unlikely]]
      return put_large_payload(header, header_size, payload);
    char* p = room(header_size + payload.size());
    copy_short(p, header, header_size);  // no library call when the size is not a constant
    copy_short(p + header_size, payload.data(), payload.size());
    len_ += header_size + payload.size();
  }

  // memcpy for the short texts most pickles are made of: a few overlapping
  // word moves instead of a library call that costs more than the copy.
  static void copy_short(char* dst, const char* src, size_t n) {
    if (n > 32) return static_cast<void>(std::memcpy(dst, src, n));
    if (n >= 16) return copy_overlapping<Bytes16>(dst, src, n);
    if (n >= 8) return copy_overlapping<uint64_t>(dst, src, n);
    if (n >= 4) return copy_overlapping<uint32_t>(dst, src, n);
    if (n == 0) return;
    dst[0] = src[0];
    dst[n / 2] = src[n / 2];
    dst[n - 1] = src[n - 1];
  }

  // `count` opcodes of at most `max_size` bytes each, write(i, p) putting
  // the i-th at p and returning its size, with one room check for them all
  // and each one's opcode boundary checked as opcode_boundary() would
  // (the caller checks the first's). Returns how many were written: fewer
  // than `count` when a boundary committed a frame or handed output to the
  // sink, which may run code that changes what the caller writes from.
  template <typename Write>
  size_t put_run(size_t count, size_t max_size, Write&& write) {
    char* base = room(count * max_size);
    char* p = base;
    size_t before_boundary = boundary_at_ - len_;  // boundary_at_ >= len_: the caller checked
    for (size_t i = 0; i < count; ++i) {
      if (i != 0 && static_cast<size_t>(p - base) >= before_boundary) [[unlikely]] {
        len_ += static_cast<size_t>(p - base);
        boundary_reached();
        return i;
      }
      p += write(i, p);
    }
    len_ += static_cast<size_t>(p - base);
    return count;
  }

  // Called at the start of every save(): commits a full frame (or hands
  // unframed output over when there is a lot of it).
  void opcode_boundary() {
    if (len_ >= boundary_at_) boundary_reached();
  }

  // Ends the dump: commits the open frame, stops framing and hands
  // everything to the sink.
  void finish();

  // Without a sink: the pickle collected since the last take().
  std::string take() {
    if (!large_.empty()) {
      large_.append(buf_, len_);
      len_ = 0;
      return std::move(large_);
    }
    std::string out(buf_, len_);
    len_ = 0;
    return out;
  }

  // Keeps this dump's bytes from the sink until finish(): a dump that may
  // still fail (StaleMemo::kThrow) then leaves nothing half-written. The
  // bytes are the same; only when they are handed over changes.
  void hold() {
    held_ = true;
    update_boundary();
  }

  // Drops whatever was not yet handed to the sink (after a failed dump).
  void reset() {
    held_ = false;
    len_ = 0;
    large_.clear();
    framing_ = false;
    set_frame_pending(false);
    frame_start_ = kNoFrame;
    update_boundary();
  }

 private:
  static constexpr size_t kNoFrame = static_cast<size_t>(-1);

  struct Bytes16 {
    uint64_t lo, hi;
  };
  // The first and last sizeof(Word) bytes of n, which cover them all.
  // REQUIRES: sizeof(Word) <= n <= 2 * sizeof(Word).
  template <typename Word>
  static void copy_overlapping(char* dst, const char* src, size_t n) {
    Word head, tail;
    std::memcpy(&head, src, sizeof head);
    std::memcpy(&tail, src + n - sizeof tail, sizeof tail);
    std::memcpy(dst, &head, sizeof head);
    std::memcpy(dst + n - sizeof tail, &tail, sizeof tail);
  }
  void put_large_payload(const char* header, size_t header_size, std::string_view payload);
  void open_frame();
  void make_room(size_t n);
  void boundary_reached();
  // Where opcode_boundary() has work: 64 KiB into an open frame, the flush
  // threshold when unframed, never while a frame is pending.
  void update_boundary() {
    if (frame_start_ != kNoFrame) {
      boundary_at_ = frame_start_ + kFrameHeaderSize + kFrameSizeTarget;
    } else {
      boundary_at_ = framing_ || held_ ? SIZE_MAX : flush_threshold_;
    }
  }
  void set_frame_pending(bool pending) {
    frame_pending_ = pending;
    limit_ = pending ? 0 : cap_;
  }
  void commit_frame();
  void commit_frame_and_flush() {
    commit_frame();
    if (sink_ != nullptr) flush();
  }
  void flush();
  void grow(size_t n);

  Sink* sink_;
  size_t flush_threshold_;
  char* buf_ = nullptr;  // malloc'd, cap_ bytes, len_ used
  size_t limit_ = 0;     // cap_, or 0 while a frame must open first
  size_t boundary_at_ = SIZE_MAX;
  size_t len_ = 0;
  size_t cap_ = 0;
  bool framing_ = false;
  bool held_ = false;  // see hold()
  // A frame must open before the next byte: framing is on and none is open.
  bool frame_pending_ = false;
  size_t frame_start_ = kNoFrame;
  // Without a sink, once a payload of 64 KiB or more was written: the
  // pickle up to the end of that payload. The payload is copied once, into
  // the string take() returns, not into the buffer and then out of it.
  std::string large_;
};

}  // namespace shelf::pickle::internal
