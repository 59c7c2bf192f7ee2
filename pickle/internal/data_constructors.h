// pickle/internal/data_constructors.h: the globals whose calls the
// Unpickler builds as native values (set, complex, _codecs.encode, ...),
// without running anything. The one list behind is_data_constructor().
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "pickle/internal/nodes.h"

namespace shelf::pickle::internal {

enum class DataCtor : uint8_t {
  kNone,
  kBool,
  kByteArray,
  kBytes,
  kComplex,
  kDict,
  kFloat,
  kFrozenSet,
  kInt,
  kList,
  kSet,
  kStr,
  kTuple,
  kCodecsEncode,   // _codecs.encode: CPython 3's bytes at protocols 0-2
  kOrderedDict,    // collections.OrderedDict: loads as a plain dict
  kReconstructor,  // copyreg._reconstructor
};

// The constructor named module.name (Python 3 names), or kNone.
DataCtor data_ctor(std::string_view module, std::string_view name);

// Globals the loader resolved as buildable data constructors.
using CtorMap = std::unordered_map<const Node*, DataCtor>;

// The native value of calling `ctor` the way `how` calls (REDUCE, INST and
// OBJ call it; NEWOBJ and NEWOBJ_EX call __new__, which leaves mutable types
// empty), with the Tuple `args` and (NEWOBJ_EX) the Dict `kwargs`. Returns
// nullopt when the arguments are not plain data this constructor takes: the
// caller keeps an inert instance rather than guess. Throws DecodeFailure
// (kBadValue) where Python itself would refuse the data outright (an
// unhashable set member, a negative count), and kLimitExceeded when a call
// asks for more than `room` bytes (bytes(10**12)). Adds the bytes it
// allocates to `charged`.
std::optional<Slot> build_native(Arena& arena, const CtorMap& ctors, DataCtor ctor, Construction how,
                                 const Slot& args, const Slot& kwargs, size_t& charged, size_t room);

// Python's hash of `key` for a dict or set, or DecodeFailure kBadValue
// "unhashable type: 'list'".
uint64_t key_hash(const Slot& key);

}  // namespace shelf::pickle::internal
