// shelfctl decode [FILE|-] [--encoding ascii|latin1|bytes] [--inert]
//
// Prints the repr of one pickle on one line. By default only what CPython
// would print as data loads: globals other than the data constructors are
// refused (FindGlobal::data_only) and so are persistent ids, so the output
// is exactly CPython 3's repr of pickle.loads(data). --inert loads with the
// engine's default policy and prints classes, instances and persistent ids
// in repr's non-Python notation instead.
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "cli/common.h"
#include "pickle/errors.h"
#include "pickle/hooks.h"
#include "pickle/repr.h"
#include "pickle/unpickler.h"
#include "pickle/value.h"

namespace shelf::cli {
namespace {

using pickle::Kind;
using pickle::Value;

struct DecodeOptions {
  std::string file = "-";
  std::string encoding = "ascii";
  bool inert = false;
};

pickle::StringEncoding parse_encoding(const std::string& name) {
  if (name == "latin1") return pickle::StringEncoding::kLatin1;
  if (name == "bytes") return pickle::StringEncoding::kBytes;
  return pickle::StringEncoding::kAscii;  // CLI11 admits only the three names
}

// How an error message names a node that is not data.
std::string describe(const Value& v) {
  switch (v.kind()) {
    case Kind::Global:
      return "global " + std::string(v.module()) + "." + std::string(v.name());
    case Kind::Instance: {
      Value callable = v.callable();
      if (callable.kind() == Kind::Global) return describe(callable) + " (called)";
      return "an instance built by a non-global callable";
    }
    case Kind::PersistentRef:
      return "persistent id " + pickle::repr(v.pid());
    case Kind::Buffer:
      return "an out-of-band buffer";
    default:
      return std::string(v.type_name());
  }
}

// The first node of `root` (depth first) that is not plain data. Only
// called after is_plain_data() said there is one; walks iteratively with a
// visited set, so deep and cyclic graphs are fine.
std::optional<Value> first_non_data(const Value& root) {
  std::vector<Value> todo{root};
  std::unordered_set<const void*> seen;
  while (!todo.empty()) {
    Value v = todo.back();
    todo.pop_back();
    if (!v.has_node() || !seen.insert(v.identity()).second) continue;
    switch (v.kind()) {
      case Kind::Global:
      case Kind::Instance:
      case Kind::PersistentRef:
      case Kind::Buffer:
        return v;
      case Kind::Tuple:
      case Kind::List:
      case Kind::Set:
      case Kind::FrozenSet:
        for (Value e : v.elements()) todo.push_back(e);
        break;
      case Kind::Dict:
        for (auto [k, x] : v.items()) {
          todo.push_back(x);
          todo.push_back(k);
        }
        break;
      default:
        break;
    }
  }
  return std::nullopt;
}

int run_decode(const DecodeOptions& opts) {
  std::string name = input_name(opts.file);
  std::string data = read_input(opts.file);

  pickle::UnpicklerOptions uopts;
  uopts.encoding = parse_encoding(opts.encoding);
  if (opts.inert) {
    uopts.find_global = pickle::FindGlobal::build_data();
  } else {
    uopts.find_global = pickle::FindGlobal::data_only();
    // CPython's pickle.loads has no persistent_load either: it refuses.
    uopts.persistent_load = [](const Value& pid, pickle::Graph&) -> Value {
      throw pickle::UnpicklingError(pickle::UnpicklingReason::kBadPersistentId,
                                    "persistent id " + pickle::repr(pid) +
                                        " needs a persistent_load hook (use --inert to print it)",
                                    0, std::nullopt);
    };
  }

  Value value;
  try {
    value = pickle::loads(data, uopts);
  } catch (const pickle::UnpicklingError& e) {
    throw CommandError(name, e.what());
  }
  if (!opts.inert && !pickle::is_plain_data(value)) {
    // data_only() refuses such globals while loading; this is the backstop
    // that keeps a non-data node from ever printing as if it were data.
    std::optional<Value> bad = first_non_data(value);
    throw CommandError(name, "the value holds " + (bad ? describe(*bad) : std::string("a non-data node")) +
                                 ", which is not data (use --inert to print it)");
  }
  std::string text;
  try {
    text = pickle::repr(value);
  } catch (const pickle::ReprError& e) {
    throw CommandError(name, e.what());
  }
  text.push_back('\n');
  write_stdout(text);
  return kExitOk;
}

}  // namespace

RunFn setup_decode(CLI::App& app) {
  auto opts = std::make_shared<DecodeOptions>();
  app.add_option("file", opts->file, "The pickle to read; '-' (the default) reads standard input.");
  app.add_option("--encoding", opts->encoding,
                 "How Python 2 str (STRING, BINSTRING, SHORT_BINSTRING) loads, as the encoding\n"
                 "argument of Python 3's pickle.loads: ascii (the default), latin1 or bytes.")
      ->check(CLI::IsMember({"ascii", "latin1", "bytes"}));
  app.add_flag("--inert", opts->inert,
               "Load globals that are not data constructors (classes, functions), instances\n"
               "and persistent ids as inert nodes and print them in shelf's <...> notation\n"
               "instead of refusing the pickle. Nothing is ever executed either way.");
  return [opts] { return run_decode(*opts); };
}

}  // namespace shelf::cli
