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
  int indent = 4;            // per MARK level, as pickletools' indentlevel
  bool annotate = false;     // add each opcode's one-line doc, as annotate=1
};

// The listing of the first pickle in `data`, as pickletools.dis(data) prints
// it, ending with "highest protocol among opcodes = N". Throws
// UnpicklingError (with offset and opcode) where pickletools raises
// ValueError; `partial`, when given, receives the lines printed before the
// error.
std::string dis(std::string_view data, const DisOptions& options = {}, std::string* partial = nullptr);

}  // namespace shelf::pickle
