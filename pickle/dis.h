// pickle/dis.h: a disassembler in the manner of pickletools.dis, which also
// verifies: stack underflow, opcodes needing a MARK without one, GET before
// PUT, items left after STOP. It decodes arguments with the same code as the
// Unpickler (pickle/args.h), so a listing and a load can never read the same
// bytes differently.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_set>

#include "pickle/errors.h"

namespace shelf::pickle {

struct DisOptions {
  int indent = 4;  // blanks per open MARK, as pickletools' indentlevel
  // Nonzero: append each opcode's one-line doc (the table's doc column),
  // aligned as pickletools' annotate=N aligns it (N is a column hint; 1,
  // or `true`, is the usual choice).
  int annotate = 0;
  // A listing longer than this throws UnpicklingError (kLimitExceeded):
  // deeply nested MARKs indent every line, so a small hostile pickle could
  // otherwise ask for a quadratic amount of text.
  size_t max_output = size_t{256} << 20;
};

// The listing of the first pickle in `data`, as pickletools.dis(data) prints
// it, ending with "highest protocol among opcodes = N". Throws
// UnpicklingError (with offset and opcode) where pickletools raises
// ValueError; `partial`, when given, receives the lines printed before the
// error.
std::string dis(std::string_view data, const DisOptions& options = {}, std::string* partial = nullptr);

// Listings of consecutive pickles in one buffer (one Pickler's many dump()s),
// as repeated pickletools.dis(f, memo=memo) calls on one file: listing
// offsets count from the start of `data`, and a memo key stored by an
// earlier pickle may be read by a later one. An error's offset() counts
// from the start of the failing pickle, as every UnpicklingError's does.
class DisStream {
 public:
  // `data` must outlive the DisStream.
  explicit DisStream(std::string_view data, const DisOptions& options = {}) : data_(data), options_(options) {}

  // True while bytes remain after the last pickle listed.
  bool has_next() const { return pos_ < data_.size(); }
  // The listing of the pickle at position(), which then moves past its
  // STOP. Throws as dis() does, leaving position() where it was.
  std::string next(std::string* partial = nullptr);
  size_t position() const { return pos_; }

 private:
  std::string_view data_;
  DisOptions options_;
  size_t pos_ = 0;
  std::unordered_set<std::string> memo_;
};

}  // namespace shelf::pickle
