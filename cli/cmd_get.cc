// shelfctl get PATH KEY [--format repr|json|raw|dis] [--resolve N|all]
//
// Prints one record: as Python repr (references and other non-data nodes in
// shelf's <...> notation), as JSON, as its raw pickle bytes, or
// disassembled.
#include <memory>
#include <string>

#include "cli/store_common.h"
#include "pickle/dis.h"
#include "pickle/repr.h"

namespace shelf::cli {
namespace {

struct GetOptions {
  std::string path;
  std::string key;
  std::string format = "repr";
  std::string resolve = "0";
};

store::Resolve parse_resolve(const std::string& text) {
  if (text == "all") return {store::Resolve::kAll};
  try {
    size_t used = 0;
    unsigned long depth = std::stoul(text, &used);
    if (used == text.size()) return {depth};
  } catch (const std::exception&) {
  }
  throw CommandError("--resolve", "expected a depth or 'all', got '" + text + "'");
}

int run_get(const GetOptions& opts) {
  store::Shelf shelf = open_shelf(opts.path, false);
  store::ReadTxn txn = with_store_errors(opts.path, [&] { return shelf.read(); });
  std::optional<std::string_view> raw = with_store_errors(opts.path, [&] { return txn.get_raw(opts.key); });
  if (!raw) throw CommandError(opts.path, "no record for key '" + opts.key + "'");
  if (opts.format == "raw") {
    write_stdout(*raw);
    return kExitOk;
  }
  if (opts.format == "dis") {
    try {
      write_stdout(pickle::dis(*raw));
    } catch (const pickle::UnpicklingError& e) {
      throw CommandError(opts.key, e.what());
    }
    return kExitOk;
  }
  pickle::Value value =
      with_store_errors(opts.path, [&] { return txn.get(opts.key, parse_resolve(opts.resolve)); });
  std::string text;
  try {
    text = opts.format == "json" ? to_json(value) : pickle::repr(value);
  } catch (const pickle::ReprError& e) {
    throw CommandError(opts.key, e.what());
  } catch (const CommandError& e) {
    throw CommandError(opts.key, e.what());
  }
  write_stdout(text + "\n");
  return kExitOk;
}

}  // namespace

RunFn setup_get(CLI::App& app) {
  auto opts = std::make_shared<GetOptions>();
  app.add_option("path", opts->path, "The shelf file.")->required();
  app.add_option("key", opts->key, "The record's key.")->required();
  app.add_option("--format", opts->format,
                 "repr (the default): Python's repr, references as <persistent_ref ...>;\n"
                 "json: JSON as json.dumps writes it; raw: the pickle bytes; dis: the disassembly.")
      ->check(CLI::IsMember({"repr", "json", "raw", "dis"}));
  app.add_option("--resolve", opts->resolve,
                 "Follow references to other records this many levels deep, or 'all' (default 0).");
  return [opts] { return run_get(*opts); };
}

}  // namespace shelf::cli
