// pickle/dis.h: a disassembler in the manner of pickletools.dis, which also
// verifies: stack underflow, opcodes needing a MARK without one, GET before
// PUT, items left after STOP. It decodes arguments with the same code as the
// Unpickler (pickle/args.h), so a listing and a load can never read the same
// bytes differently.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

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

}  // namespace shelf::pickle
