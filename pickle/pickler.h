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
  PersistentIdFn persistent_id;
  BufferCallbackFn buffer_callback;  // protocol 5 only
  // copyreg's extension registry: at protocol 2 and above a global with a
  // code is written EXT1 / EXT2 / EXT4 instead of GLOBAL / STACK_GLOBAL,
  // as CPython's save_global does (protocols 0-1 still write GLOBAL).
  // The reader needs the same codes (UnpicklerOptions::extensions).
  std::shared_ptr<const ExtensionRegistry> extensions;
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
  // (footnote 3 of the seed): the matching Unpickler must load() the dumps
  // in order. Throws PicklingError for what cannot be pickled (nesting past
  // max_depth, a persistent id hook that fails, an out-of-band buffer below
  // protocol 5); whatever the sink throws passes through.
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
