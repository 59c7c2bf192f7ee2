// shelfctl del PATH KEY
//
// Deletes one record; exit 1 when there is none.
#include <memory>
#include <string>

#include "cli/store_common.h"

namespace shelf::cli {
namespace {

struct DelOptions {
  std::string path;
  std::string key;
};

int run_del(const DelOptions& opts) {
  store::Shelf shelf = open_shelf(opts.path, true);
  bool erased = with_store_errors(opts.path, [&] { return shelf.erase(opts.key); });
  if (!erased) throw CommandError(opts.path, "no record for key '" + opts.key + "'");
  return kExitOk;
}

}  // namespace

RunFn setup_del(CLI::App& app) {
  auto opts = std::make_shared<DelOptions>();
  app.add_option("path", opts->path, "The shelf file.")->required();
  app.add_option("key", opts->key, "The record's key.")->required();
  return [opts] { return run_del(*opts); };
}

}  // namespace shelf::cli
