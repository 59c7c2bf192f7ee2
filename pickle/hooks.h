// pickle/hooks.h: the seed's hooks, with the seed's names.
#pragma once

#include <functional>
#include <optional>
#include <type_traits>
#include <utility>
#include <string_view>

#include "pickle/value.h"

namespace shelf::pickle {

// Pickler side: the persistent id of `obj`, or nullopt to pickle it as usual
// (the seed's persistent_id returning None). The id is pickled in place of
// the object: PERSID for a str id at protocol 0, BINPERSID otherwise.
using PersistentIdFn = std::function<std::optional<Value>(const Value& obj)>;

// Unpickler side: the object for persistent id `pid`, built in `graph` (the
// graph of the value being loaded). Throwing UnpicklingError rejects the id.
// Without a hook, a persistent id loads as a PersistentRef node.
using PersistentLoadFn = std::function<Value(const Value& pid, Graph& graph)>;

// Protocol 5: called with each Buffer node; return true to serialize it in
// band, false to leave it out of band (the caller ships it separately and
// hands it to the Unpickler's `buffers`). pickle.py's buffer_callback.
using BufferCallbackFn = std::function<bool(const Value& buffer)>;

// What the Unpickler may do with a global (GLOBAL, STACK_GLOBAL, INST).
enum class GlobalAction : uint8_t {
  kBuild,   // a known data constructor (set, complex, _codecs.encode, ...)
            // becomes the native value; any other global stays inert
  kInert,   // keep the global and whatever calls it as inert nodes
  kRefuse,  // fail the load with kForbiddenGlobal
};

// The find_global policy: asked once per global, with module and name as
// the pickle spells them after Python 2 names are mapped (fix_imports).
using FindGlobalFn = std::function<GlobalAction(std::string_view module, std::string_view name)>;

// A find_global policy: what each global becomes (the FindGlobalFn), and
// what a call of a callable that is not a global becomes: a persistent
// reference no persistent_load resolved, or an inert object. Such a call
// never meets the per-global function, so the policy says for it apart:
// kRefuse fails the load with kForbiddenGlobal, kBuild and kInert keep the
// call as an inert Instance. Deliberately not callable itself, so it cannot
// be wrapped in a FindGlobalFn and lose its answer for those calls.
class FindGlobalPolicy {
 public:
  // FindGlobal::build_data().
  FindGlobalPolicy() = default;
  template <typename Fn>
    requires std::is_invocable_r_v<GlobalAction, Fn&, std::string_view, std::string_view>
  FindGlobalPolicy(Fn per_global, GlobalAction opaque_calls = GlobalAction::kInert)  // NOLINT: implicit from a lambda
      : per_global_(std::move(per_global)), opaque_calls_(opaque_calls) {}

  GlobalAction global(std::string_view module, std::string_view name) const {
    return per_global_ ? per_global_(module, name) : GlobalAction::kBuild;
  }
  GlobalAction opaque_calls() const { return opaque_calls_; }

 private:
  FindGlobalFn per_global_;
  GlobalAction opaque_calls_ = GlobalAction::kInert;
};

// The built-in policies.
struct FindGlobal {
  // The default: data constructors build native values, everything else is
  // inert. Nothing is ever executed, whatever the policy.
  static FindGlobalPolicy build_data();
  // Data constructors build native values; any other global, and any call
  // of a non-global, is refused. What `shelfctl decode` uses: only what
  // CPython would print as data loads.
  static FindGlobalPolicy data_only();
  // Every global and every call is refused: the seed's `find_global = None`.
  static FindGlobalPolicy refuse_all();
  // Every global is kept inert, data constructors too: a lossless view of
  // the pickle's calls.
  static FindGlobalPolicy inert_all();
};

// True when module.name (after fix_imports mapping) is one of the data
// constructors the engine can build natively without running anything.
bool is_data_constructor(std::string_view module, std::string_view name);

}  // namespace shelf::pickle
