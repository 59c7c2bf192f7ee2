// shelfctl put PATH KEY [LITERAL|-] [--pickle-file F] [--create]
//
// Stores a Python literal (or a pickle file's bytes, after checking that
// they load) under KEY. `ref('other')` in the literal is not Python: use
// --pickle-file for records holding references.
#include <memory>
#include <string>

#include "cli/store_common.h"
#include "pickle/literal.h"
#include "pickle/unpickler.h"

namespace shelf::cli {
namespace {

struct PutOptions {
  std::string path;
  std::string key;
  std::string literal;
  std::string pickle_file;
  bool create = false;
};

int run_put(const PutOptions& opts) {
  if (opts.literal.empty() == opts.pickle_file.empty())
    throw CommandError("", "give either a LITERAL (or - for standard input) or --pickle-file");
  store::Shelf shelf = open_shelf(opts.path, true, opts.create);
  if (!opts.pickle_file.empty()) {
    std::string bytes = read_input(opts.pickle_file);
    try {
      pickle::UnpicklerOptions check;
      check.find_global = pickle::FindGlobal::build_data();
      pickle::loads(bytes, check);  // refuse what would not load back
    } catch (const pickle::UnpicklingError& e) {
      throw CommandError(input_name(opts.pickle_file), e.what());
    }
    with_store_errors(opts.path, [&] { shelf.put_raw(opts.key, bytes); });
    return kExitOk;
  }
  std::string text = opts.literal == "-" ? read_input("-") : opts.literal;
  pickle::Value value;
  try {
    value = pickle::parse_literal(text);
  } catch (const pickle::LiteralError& e) {
    std::string name = opts.literal == "-" ? "<stdin>" : "<argument>";
    throw CommandError(name + ":" + std::to_string(e.line()) + ":" + std::to_string(e.column()), e.message());
  }
  with_store_errors(opts.path, [&] { shelf.put(opts.key, value); });
  return kExitOk;
}

}  // namespace

RunFn setup_put(CLI::App& app) {
  auto opts = std::make_shared<PutOptions>();
  app.add_option("path", opts->path, "The shelf file.")->required();
  app.add_option("key", opts->key, "The record's key (UTF-8, 1 to 511 bytes).")->required();
  app.add_option("literal", opts->literal, "A Python literal; '-' reads it from standard input.");
  app.add_option("--pickle-file", opts->pickle_file, "Store this file's pickle bytes as they are ('-': stdin).");
  app.add_flag("--create", opts->create, "Create the shelf if it does not exist.");
  return [opts] { return run_put(*opts); };
}

}  // namespace shelf::cli
