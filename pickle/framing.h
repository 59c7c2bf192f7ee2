// pickle/framing.h: the Unpickler's reader, with protocol 4 frames handled
// apart from the opcodes, as pickle.py's _Unframer is.
//
// Frames follow pickle.py: a read that starts exactly at the end of the
// current frame leaves the frame and reads on from the input; a read that
// starts inside the frame and runs past its end, or a FRAME before the
// current frame is used up, is an error (kBadArgument), since a frame is a
// promise about where opcodes end. (_pickle.c treats FRAME as a hint only;
// CPython never writes a pickle where the two differ.)
//
// Two inputs: contiguous memory, read in place (the argument readers' inline
// fast path over [p_, end_) covers every read; only frame ends and the end
// of input reach the virtual slow path), and a Source, read with
// read(n)/readline() for exactly the bytes each opcode needs, so nothing
// past the STOP of the pickle is consumed. Inside a frame both read from one
// buffer, so framed streams run the same fast path as memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pickle/args.h"
#include "pickle/source.h"

namespace shelf::pickle::internal {

class FramedReader final : public ByteReader {
 public:
  // Over `data`, which must outlive the reader and the load.
  explicit FramedReader(std::string_view data);
  // Over `source` read as a stream (buffers are kept across pickles), or,
  // when `source` is null, over memory given to each restart(data).
  explicit FramedReader(Source* source);

  // Starts the next pickle over new memory (memory mode) or at the source's
  // current position (stream mode); tell() restarts at 0.
  void restart(std::string_view data);
  void restart();

  // FRAME: the next `size` bytes form a frame. Throws DecodeFailure:
  // kBadArgument when the current frame has bytes left, kTruncated when the
  // input ends before the frame does. Reads nothing beyond the frame.
  void begin_frame(uint64_t size);

  // Bytes the input holds that this pickle may still use, for limits
  // checked against the input's size: what remains of memory, or, on a
  // stream, what has been read so far (the best bound known).
  size_t input_extent() const;

 protected:
  const char* take_slow(size_t n) override;
  std::string_view take_line_slow() override;

 private:
  bool leave_finished_frame();
  // Reads exactly `n` bytes from the source into `buf` (growing it as data
  // arrives, so a huge claimed length costs only what the input holds).
  void read_exact(std::string& buf, size_t n);
  void window(const char* begin, size_t size);

  Source* source_ = nullptr;     // null in memory mode
  const char* data_end_ = nullptr;  // memory mode: end of the input
  bool in_frame_ = false;
  std::string buf_;    // stream mode: the current unframed read
  std::string frame_;  // stream mode: the current frame
};

}  // namespace shelf::pickle::internal
