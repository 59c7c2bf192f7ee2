// pickle/pickler.h: values to pickle bytes, as CPython's Pickler writes them.
//
// For built-in values the output is byte-identical to CPython 3.11's
// pickle.dumps(value, protocol=N) for every N; docs/format.md lists the
// encodings per protocol. Threads: a Pickler belongs to one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "pickle/errors.h"
#include "pickle/extensions.h"
#include "pickle/hooks.h"
#include "pickle/sink.h"
#include "pickle/value.h"

namespace shelf::pickle {

inline constexpr int kHighestProtocol = 5;
// pickle.DEFAULT_PROTOCOL since CPython 3.14.
inline constexpr int kDefaultProtocol = 5;

// What dump() does on meeting an object an earlier dump() of the same
// Pickler wrote (its memo still holds it) when that object, or anything it
// reaches, has been mutated since (Value::version()). A memo reference
// would make the reader return the old value: footnote 3 of the seed's
// pickle docs. docs/session.md ("Stream sessions") has the details.
enum class StaleMemo : uint8_t {
  // Write the memo reference anyway, as CPython's Pickler does: the output
  // is byte-identical to CPython's, and the reader gets the old value.
  kIgnore,
  // Write the changed objects again, as new objects under new memo
  // entries (unchanged parts are still memo references). The reader gets
  // the new value in a new object; objects loaded from earlier dumps keep
  // the old one. Later dumps refer to the new object.
  kRewrite,
  // Throw StaleMemoError before anything of the dump reaches the sink;
  // the stream stays as after the previous dump.
  kThrow,
};

// Thrown by dump() under StaleMemo::kThrow.
class StaleMemoError : public PicklingError {
 public:
  using PicklingError::PicklingError;
};

struct PicklerOptions {
  // 0..5; a negative value means kHighestProtocol. Anything else throws
  // std::invalid_argument from the constructor.
  int protocol = kDefaultProtocol;
  // Map Python 3 module names to Python 2 ones at protocols 0-2
  // (builtins -> __builtin__, copyreg -> copy_reg, ...), as pickle.py does.
  bool fix_imports = true;
  // At protocols 0-2, write bytes as Python 2 str (STRING / BINSTRING /
  // SHORT_BINSTRING) instead of CPython 3's _codecs.encode(..., 'latin1')
  // call, so Python 2 readers get a str back. Python 3 readers then need
  // encoding='bytes' (or 'latin1') to load them.
  bool python2_str = false;
  // Nesting beyond this throws PicklingError instead of overflowing the
  // stack (CPython raises RecursionError near 1000).
  size_t max_depth = 1000;
  // Protocols 0 and 1 write a big int in decimal (LONG), as CPython does with
  // repr(): past this many digits that throws PicklingError, as CPython's
  // sys.get_int_max_str_digits() makes repr() fail. 0: no limit.
  size_t max_int_digits = 4300;
  PersistentIdFn persistent_id;
  BufferCallbackFn buffer_callback;  // protocol 5 only
  // copyreg's extension registry: at protocol 2 and above a global with a
  // code is written EXT1 / EXT2 / EXT4 instead of GLOBAL / STACK_GLOBAL,
  // as CPython's save_global does (protocols 0-1 still write GLOBAL).
  // The reader needs the same codes (UnpicklerOptions::extensions).
  std::shared_ptr<const ExtensionRegistry> extensions;
  // Objects of earlier dumps that changed since (see StaleMemo). Checking
  // costs nothing while no graph holding a memoized object was mutated
  // between two dumps; after a mutation, each object of an earlier dump
  // that a dump refers to is checked once, by a walk of what it reaches.
  // Mutations made by hooks during a dump are not seen.
  StaleMemo stale_memo = StaleMemo::kIgnore;
};

class Pickler {
 public:
  // Throws std::invalid_argument for a protocol above kHighestProtocol, or
  // a buffer_callback below protocol 5 (as CPython's ValueError).
  // `sink` must outlive the Pickler.
  explicit Pickler(Sink& sink, PicklerOptions options = {});
  ~Pickler();
  Pickler(const Pickler&) = delete;
  Pickler& operator=(const Pickler&) = delete;

  // Writes one complete pickle of `value` (PROTO ... STOP). Objects pickled
  // by an earlier dump() of this Pickler are written as memo references
  // (footnote 3 of the seed), unless options().stale_memo says otherwise
  // for changed ones: the matching Unpickler must load() the dumps in
  // order. Throws PicklingError for what cannot be pickled (nesting past
  // max_depth, a persistent id hook that fails, an out-of-band buffer below
  // protocol 5), StaleMemoError under StaleMemo::kThrow; whatever the sink
  // throws passes through. After a throw the memo is as before the dump.
  void dump(const Value& value);

  // Forgets every object pickled so far, as Pickler.clear_memo() does.
  void clear_memo();

  const PicklerOptions& options() const { return options_; }
  int protocol() const;

 private:
  class Impl;
  friend std::string dumps(const Value& value, const PicklerOptions& options);
  PicklerOptions options_;
  std::unique_ptr<Impl> impl_;
};

// One value to one pickle.
std::string dumps(const Value& value, const PicklerOptions& options = {});
inline std::string dumps(const Value& value, int protocol) {
  PicklerOptions options;
  options.protocol = protocol;
  return dumps(value, options);
}

}  // namespace shelf::pickle
