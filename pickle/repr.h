// pickle/repr.h: what CPython 3's repr() writes for a value.
//
// Built-in values print exactly as CPython 3.11 prints them: floats
// (shortest round-trip digits, `1e+16`, `100000.0`, `inf`, `-0.0`), complex
// (`(1+2j)`, `2j`, `(-0-0j)`), str and bytes quoting and escapes with
// CPython 3.11's Unicode printability table, big ints, `set()`,
// `frozenset({1})`, `(1,)`, and `[...]`, `{...}`, `(...)`, `set(...)` for a
// container met again while it is still being printed (recursion). A value
// shared without recursion prints in full each time, as in Python.
//
// Known differences from CPython:
// - Sets and frozensets print in insertion order; CPython prints them in
//   hash-table order (the same for small ints inserted in ascending order,
//   random for strings under hash randomization).
// - Python has no Global, Instance, PersistentRef or Buffer data; their
//   notation below is ours. Each starts with `<`, which no Python literal
//   does, so parse_literal() rejects it and it is never mistaken for data:
//
//     Global         <global os.system>
//                    <global 'my mod' 'odd-name'>   (module or name that is
//                                                    not a dotted identifier:
//                                                    both as str reprs)
//     Instance       <object CALLABLE HOW(ARGS) kwargs=K state=S items=[...] dictitems={...}>
//                      CALLABLE is the class or function as `module.name`
//                      when it is a Global, else its repr. HOW is REDUCE,
//                      NEWOBJ, NEWOBJ_EX, INST or OBJ, written against the
//                      repr of the args tuple: `REDUCE(1, 2)`, `NEWOBJ()`.
//                      kwargs= appears for NEWOBJ_EX, state= when BUILD gave
//                      a state, items= / dictitems= when APPEND(S) /
//                      SETITEM(S) added items to the object. For example
//                      <object collections.OrderedDict REDUCE() dictitems={'a': 1}>
//                      <object datetime.date REDUCE(b'\x07\xe9\x01\x01',)>
//     PersistentRef  <persistent_ref 'key'>   (the repr of the pid)
//     Buffer         <PickleBuffer readonly b'abc'>, <PickleBuffer writable b'abc'>
//
//   An instance or persistent ref met again while it is still being printed
//   prints as `<object module.name ...>` (or `<object ...>`) and
//   `<persistent_ref ...>`.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "pickle/value.h"

namespace shelf::pickle {

struct ReprOptions {
  // Output longer than this throws ReprError (a list holding the same list
  // twice, 30 levels deep, prints 2^30 times: GET amplification).
  size_t max_output = size_t{256} << 20;
  // Nesting deeper than this throws ReprError (CPython raises RecursionError).
  // The printer keeps its own stack, so any depth is safe to allow.
  size_t max_depth = 100'000;
  // An int with more decimal digits throws ReprError, as CPython 3.11
  // raises ValueError past sys.get_int_max_str_digits() (default 4300):
  // converting to decimal takes time quadratic in the length. 0 = no limit.
  size_t max_int_digits = 4300;
};

class ReprError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Python's repr() of `value` (see the top of this file), as UTF-8.
// Throws ReprError when a limit of `options` is exceeded.
std::string repr(const Value& value, const ReprOptions& options = {});

// True when every node `value` reaches is a built-in data value (no Global,
// Instance, PersistentRef or Buffer): what repr() prints as Python would.
// Cycle-safe and iterative.
bool is_plain_data(const Value& value);

}  // namespace shelf::pickle
