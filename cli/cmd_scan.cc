// shelfctl scan FILE|- | scan PATH KEY
//
// A safety report of a pickle (a file, or a shelf's record): every global
// it names and every call it would make if CPython loaded it, each flagged
// when it is known to be dangerous (runs commands, evaluates code, opens
// files or sockets, imports). Nothing is executed: the pickle is loaded
// with every global kept inert.
//
// Exit codes: 0 only data (no global but the data constructors), 1 error,
// 2 usage, 3 a known-dangerous global or call, 4 other globals (classes
// and functions not known to be dangerous: review them).
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli/store_common.h"
#include "pickle/hooks.h"
#include "pickle/repr.h"
#include "pickle/unpickler.h"

namespace shelf::cli {
namespace {

constexpr int kExitDangerous = 3;
constexpr int kExitReview = 4;

// Modules and names a malicious pickle reaches for (as security scanners
// such as fickling and picklescan list them). A module entry matches the
// module and its submodules.
constexpr std::string_view kDangerousModules[] = {
    "os",      "posix",    "nt",         "subprocess", "sys",    "builtins.eval", "pty",     "socket",
    "shutil",  "runpy",    "importlib",  "marshal",    "ctypes", "code",          "codeop",  "pickle",
    "_pickle", "cPickle",  "commands",   "popen2",     "platform", "webbrowser",  "asyncio", "multiprocessing",
    "types",   "operator", "functools",  "timeit",     "pdb",    "bdb",           "http",    "urllib",
    "requests", "telnetlib", "ftplib",   "smtplib",    "tempfile", "glob",        "io",      "_io",
};
constexpr std::string_view kDangerousNames[] = {
    "builtins.eval",     "builtins.exec",    "builtins.compile",  "builtins.open",    "builtins.__import__",
    "builtins.getattr",  "builtins.setattr", "builtins.delattr",  "builtins.globals", "builtins.locals",
    "builtins.vars",     "builtins.input",   "builtins.breakpoint", "builtins.exit",  "builtins.quit",
    "builtins.memoryview", "builtins.type",  "builtins.object.__reduce__",
};

bool dangerous(std::string_view module, std::string_view name) {
  std::string qualified = std::string(module) + "." + std::string(name);
  for (std::string_view n : kDangerousNames)
    if (qualified == n) return true;
  for (std::string_view m : kDangerousModules)
    if (module == m || (module.size() > m.size() && module.starts_with(m) && module[m.size()] == '.')) return true;
  return false;
}

struct ScanOptions {
  std::string source;
  std::string key;
};

const char* construction_name(pickle::Construction how) {
  switch (how) {
    case pickle::Construction::Reduce: return "REDUCE";
    case pickle::Construction::NewObj: return "NEWOBJ";
    case pickle::Construction::NewObjEx: return "NEWOBJ_EX";
    case pickle::Construction::Inst: return "INST";
    case pickle::Construction::Obj: return "OBJ";
  }
  return "?";
}

int run_scan(const ScanOptions& opts) {
  std::string subject;
  std::string bytes;
  if (opts.key.empty()) {
    subject = input_name(opts.source);
    bytes = read_input(opts.source);
  } else {
    subject = opts.key;
    store::Shelf shelf = open_shelf(opts.source, false);
    std::optional<std::string> raw = with_store_errors(opts.source, [&] { return shelf.get_raw(opts.key); });
    if (!raw) throw CommandError(opts.source, "no record for key '" + opts.key + "'");
    bytes = std::move(*raw);
  }

  std::vector<std::pair<std::string, std::string>> globals;  // every global the stream names, in order
  std::set<std::pair<std::string, std::string>> seen;
  pickle::UnpicklerOptions load;
  load.find_global = [&](std::string_view module, std::string_view name) {
    if (seen.emplace(module, name).second) globals.emplace_back(module, name);
    return pickle::GlobalAction::kInert;
  };
  pickle::Value value;
  try {
    value = pickle::loads(bytes, load);
  } catch (const pickle::UnpicklingError& e) {
    throw CommandError(subject, e.what());
  }

  std::string report;
  bool any_dangerous = false, any_review = false;
  for (const auto& [module, name] : globals) {
    bool bad = dangerous(module, name);
    bool data = pickle::is_data_constructor(module, name);
    any_dangerous |= bad;
    any_review |= !bad && !data;
    report += "global " + module + "." + name + (bad ? "  [dangerous]" : data ? "  [data]" : "  [review]") + "\n";
  }
  pickle::ReprOptions short_repr;
  short_repr.max_output = 200;
  pickle::walk(value, [&](const pickle::Value& node) {
    if (node.kind() != pickle::Kind::Instance) return true;
    pickle::Value callable = node.callable();
    std::string who = callable.kind() == pickle::Kind::Global
                          ? std::string(callable.module()) + "." + std::string(callable.name())
                          : "<" + std::string(callable.type_name()) + ">";
    std::string args;
    try {
      args = pickle::repr(node.args(), short_repr);
    } catch (const pickle::ReprError&) {
      args = "(...)";
    }
    bool bad = callable.kind() == pickle::Kind::Global && dangerous(callable.module(), callable.name());
    report += std::string("call ") + construction_name(node.construction()) + " " + who + args +
              (bad ? "  [dangerous]" : "") + "\n";
    if (node.state()) report += "  then BUILD (" + who + ".__setstate__ or __dict__ update)\n";
    return true;
  });
  if (globals.empty()) report += "no globals: plain data\n";
  write_stdout(report);
  return any_dangerous ? kExitDangerous : any_review ? kExitReview : kExitOk;
}

}  // namespace

RunFn setup_scan(CLI::App& app) {
  auto opts = std::make_shared<ScanOptions>();
  app.add_option("source", opts->source, "A pickle file ('-': standard input), or a shelf with KEY.")->required();
  app.add_option("key", opts->key, "Scan this record of the shelf SOURCE.");
  return [opts] { return run_scan(*opts); };
}

}  // namespace shelf::cli
