#!/usr/bin/env python3
"""Writes pickle/opcodes.def from CPython's pickletools.opcodes.

Run with the CPython whose opcode set is the reference (3.11):
    python3 tools/gen_opcodes_def.py > pickle/opcodes.def
The table is then ours: tests/pickle/opcodes_test.cc checks it has no
duplicate bytes or names, and tests/interop checks it against pickletools.
"""
import pickletools
import sys

print("// The one opcode table: the Pickler's constants, the Unpickler's dispatch")
print("// and the disassembler all expand it. Generated from CPython 3.11's")
print("// pickletools.opcodes by tools/gen_opcodes_def.py; on disk: never renumber.")
print("//")
print("// OP(name, byte, argument kind, protocol, pops to MARK?, pops below it,")
print("//    pushes, one-line doc)")
for o in pickletools.opcodes:
    before = [s.name for s in o.stack_before]
    after = [s.name for s in o.stack_after]
    mark = "mark" in before
    if mark:
        pops = before.index("mark")
    else:
        pops = len(before)
    pushes = len(after)
    if o.name == "MARK":
        pushes = 0  # MARK pushes a mark, not an item; the verifier knows.
    arg = o.arg.name if o.arg else "none"
    # The first line, as pickletools.dis(annotate=...) prints it.
    doc = o.doc.split("\n", 1)[0]
    doc = doc.replace('"', "'")
    doc = doc.replace("found-byte", "four-byte")  # CPython typo
    print('OP(%s, 0x%02x, %s, %d, %s, %d, %d, "%s")' % (
        o.name, ord(o.code), arg, o.proto, "true" if mark else "false",
        pops, pushes, doc))
