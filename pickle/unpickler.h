// pickle/unpickler.h: pickle bytes to values. Never executes anything:
// globals the find_global policy lets through either build a native value
// (data constructors such as set or complex) or stay inert nodes.
//
// Every one of the 68 opcodes of CPython 3.11's pickletools, protocols 0-5,
// with the protocol detected from the stream. Errors are UnpicklingError
// with a stable reason, the byte offset and the opcode. Threads: an
// Unpickler belongs to one thread.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pickle/errors.h"
#include "pickle/extensions.h"
#include "pickle/hooks.h"
#include "pickle/limits.h"
#include "pickle/source.h"
#include "pickle/value.h"

namespace shelf::pickle {

// How Python 2 str (STRING, BINSTRING, SHORT_BINSTRING) is loaded: the
// `encoding` argument of Python 3's Unpickler.
enum class StringEncoding : uint8_t {
  kAscii,   // str, failing on bytes >= 0x80 (CPython's default)
  kLatin1,  // str, one code point per byte
  kUtf8,    // str, decoded as UTF-8
  kBytes,   // bytes
};

struct UnpicklerOptions {
  StringEncoding encoding = StringEncoding::kAscii;
  // Map Python 2 module names to Python 3 ones (__builtin__ -> builtins,
  // copy_reg -> copyreg, ...), as pickle.py does.
  bool fix_imports = true;
  // Defaults to FindGlobal::build_data(); a FindGlobalFn lambda converts.
  FindGlobalPolicy find_global;
  // Without it, persistent ids load as PersistentRef nodes.
  PersistentLoadFn persistent_load;
  // Out-of-band buffers for NEXT_BUFFER, in order (Buffer, Bytes or
  // ByteArray values).
  std::vector<Value> buffers;
  // The copyreg extension registry EXT1/EXT2/EXT4 codes are looked up in
  // (the global found goes through fix_imports and find_global as a GLOBAL
  // would). Without one, every code is unregistered, as in a fresh CPython.
  std::shared_ptr<const ExtensionRegistry> extensions;
  Limits limits;
  // The graph loaded objects are created in; a new one per Unpickler when
  // unset. Loading into a graph that already holds values (a transaction's)
  // saves copying the result in with Graph::adopt. A load that fails may
  // leave unreachable objects behind in it, freed with the graph.
  std::optional<Graph> into;
};

// What noload() found: the seed's sniffing use of noload().
struct NoloadResult {
  std::vector<Value> persistent_ids;  // in stream order
  int protocol = 0;                   // from PROTO, or 0
  size_t bytes_read = 0;              // up to and including STOP
};

class Unpickler {
 public:
  // `source` must outlive the Unpickler.
  explicit Unpickler(Source& source, UnpicklerOptions options = {});
  ~Unpickler();
  Unpickler(const Unpickler&) = delete;
  Unpickler& operator=(const Unpickler&) = delete;

  // Loads the next pickle from the source, up to its STOP. Successive
  // loads share the memo, so a stream written by one Pickler with many
  // dump()s loads with as many load()s, identity intact; the values of one
  // Unpickler share one Graph. Throws UnpicklingError; at the end of input
  // before any byte, the reason is kTruncated with offset 0.
  Value load();

  // Walks the next pickle creating no objects, checking it as load() would
  // (same argument decoding), and collects its persistent ids.
  NoloadResult noload();

  // The graph values are loaded into.
  Graph graph() const;
  // Offset, in the source, of the end of the last pickle loaded.
  size_t position() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// One pickle from memory; bytes after STOP are ignored, as pickle.loads does.
Value loads(std::string_view data, const UnpicklerOptions& options = {});

// loads() without copying payloads: str and bytes that lie in `data` as
// they are read (BINUNICODE, BINBYTES and the like; not escaped or decoded
// text) point into it, and the loaded graph holds `owner` (what keeps
// `data` alive, e.g. the shared_ptr<const std::string> it lives in) until
// its last Graph or Value is gone. `data` must not change meanwhile. No
// copy of a large bytes object, and no second copy of the text of many
// strings; in exchange the whole input lives as long as the graph.
// Graph::adopt copies such payloads into the adopting graph. A null owner
// borrows nothing: a plain loads().
Value loads_borrowing(std::string_view data, std::shared_ptr<const void> owner, const UnpicklerOptions& options = {});

}  // namespace shelf::pickle
