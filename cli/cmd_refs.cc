// shelfctl refs PATH KEY
//
// Lists the records a record refers to, one key per line, marking the ones
// that do not exist: `KEY (missing)`. Exit 1 when any is missing.
#include <memory>
#include <string>

#include "cli/store_common.h"

namespace shelf::cli {
namespace {

struct RefsOptions {
  std::string path;
  std::string key;
};

int run_refs(const RefsOptions& opts) {
  store::Shelf shelf = open_shelf(opts.path, false);
  bool dangling = false;
  std::string out;
  with_store_errors(opts.path, [&] {
    store::ReadTxn txn = shelf.read();
    for (const std::string& key : store::references(txn.get(opts.key))) {
      bool present = txn.contains(key);
      dangling |= !present;
      out += key + (present ? "\n" : " (missing)\n");
    }
  });
  write_stdout(out);
  if (dangling) throw CommandError(opts.key, "refers to missing records");
  return kExitOk;
}

}  // namespace

RunFn setup_refs(CLI::App& app) {
  auto opts = std::make_shared<RefsOptions>();
  app.add_option("path", opts->path, "The shelf file.")->required();
  app.add_option("key", opts->key, "The record's key.")->required();
  return [opts] { return run_refs(*opts); };
}

}  // namespace shelf::cli
