// tests/fuzz/fuzz_roundtrip.cc: decode -> encode -> decode.
//
// For every input the default policy loads, and every protocol 0-5:
// - encode, where the Pickler accepts the value (it refuses, as CPython
//   does, e.g. a global name that protocol cannot spell), must give bytes
//   that load again;
// - re-encoding what they load must give the same bytes (the encoder is a
//   function of the value and its sharing, both of which a load keeps);
// - what they load must be strictly_equal to the first value, at every
//   protocol that can express the value natively: an instance built by
//   NEWOBJ needs protocol 2 (below, it is written as a copyreg.__newobj__
//   call, as CPython writes it), NEWOBJ_EX needs 4, and a PickleBuffer
//   pickled in band comes back as bytes or bytearray, as in CPython; a
//   persistent id that is not a str needs protocol 1 (protocol 0 writes
//   str(pid) on a PERSID line, as CPython does); a global with a dotted
//   name (a nested class) needs 4.
// Names are not mapped (fix_imports=false) on the second leg: mapping
// Python 2 names is not an identity (a protocol 4 "__builtin__" global
// becomes "builtins" once written at protocol 2 and read back).
#include <vector>

#include "pickle/pickler.h"
#include "tests/fuzz/fuzz_common.h"

namespace {

using namespace shelf;

constexpr int kNever = 99;

// The lowest protocol at which `v` pickles to itself. Iterative: pids may
// hold persistent refs nested arbitrarily deep.
int native_protocol(const pickle::Value& root) {
  int needed = 0;
  std::vector<pickle::Value> todo{root};
  while (!todo.empty()) {
    pickle::Value v = todo.back();
    todo.pop_back();
    pickle::walk(v, [&](const pickle::Value& node) {
      if (node.kind() == pickle::Kind::Buffer) needed = kNever;
      // A dotted qualified name needs STACK_GLOBAL; below protocol 4 it is
      // written as getattr(parent, name), as CPython writes it, which loads
      // back as that (inert) call.
      if (node.kind() == pickle::Kind::Global && node.name().find('.') != std::string_view::npos)
        needed = std::max(needed, 4);
      if (node.kind() == pickle::Kind::Instance) {
        if (node.construction() == pickle::Construction::NewObj) needed = std::max(needed, 2);
        if (node.construction() == pickle::Construction::NewObjEx) needed = std::max(needed, 4);
      }
      return true;
    });
    // walk() does not enter the pids of persistent refs.
    for (const pickle::Value& ref : pickle::persistent_refs(v)) {
      if (ref.pid().kind() != pickle::Kind::Str) needed = std::max(needed, 1);
      todo.push_back(ref.pid());
    }
  }
  return needed;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string_view data = fuzz::as_view(bytes, size);
  pickle::UnpicklerOptions options = fuzz::load_options(data, pickle::FindGlobal::build_data());
  pickle::Value v;
  try {
    v = pickle::loads(data, options);
  } catch (const pickle::UnpicklingError&) {
    return 0;
  }
  int native = native_protocol(v);

  pickle::UnpicklerOptions again_options;
  again_options.fix_imports = false;
  again_options.limits = fuzz::fuzz_limits();
  // Encoding can only add sharing-preserving bytes: let the second leg
  // budget scale with the first input, not the encoding.
  again_options.limits.memory_slack = options.limits.memory_slack + size * options.limits.memory_ratio;
  for (int protocol = 0; protocol <= pickle::kHighestProtocol; ++protocol) {
    pickle::PicklerOptions popts;
    popts.protocol = protocol;
    popts.fix_imports = false;
    std::string encoded;
    try {
      encoded = pickle::dumps(v, popts);
    } catch (const pickle::PicklingError&) {
      continue;
    }
    auto where = [&] {
      return "protocol " + std::to_string(protocol) + "\nvalue: " +
                        fuzz::safe_repr(v) + "\nencoded: " + fuzz::safe_repr(pickle::Graph().bytes(encoded));
    };
    pickle::Value back;
    try {
      back = pickle::loads(encoded, again_options);
    } catch (const pickle::UnpicklingError& e) {
      fuzz::fail(__FILE__, __LINE__, "an encoded value failed to load", where() + "\n" + e.what());
    }
    std::string reencoded;
    try {
      reencoded = pickle::dumps(back, popts);
    } catch (const pickle::PicklingError& e) {
      fuzz::fail(__FILE__, __LINE__, "a decoded value failed to encode", where() + "\n" + e.what());
    }
    SHELF_FUZZ_CHECK(reencoded == encoded, where() + "\nreencoded: " + fuzz::safe_repr(pickle::Graph().bytes(reencoded)));
    if (protocol >= native) {
      SHELF_FUZZ_CHECK(fuzz::same_value(v, back), where() + "\nback: " + fuzz::safe_repr(back));
    }
  }
  return 0;
}
