// shelfctl keys PATH [--prefix P]
//
// Prints the keys of a shelf, one per line, in key order.
#include <memory>
#include <string>

#include "cli/store_common.h"

namespace shelf::cli {
namespace {

struct KeysOptions {
  std::string path;
  std::string prefix;
};

int run_keys(const KeysOptions& opts) {
  store::Shelf shelf = open_shelf(opts.path, false);
  std::string out;
  with_store_errors(opts.path, [&] {
    store::ReadTxn txn = shelf.read();
    txn.scan_prefix(opts.prefix, [&](const store::RawRecord& r) {
      out.append(r.key);
      out.push_back('\n');
      if (out.size() > (1u << 16)) {
        write_stdout(out);
        out.clear();
      }
      return true;
    });
  });
  write_stdout(out);
  return kExitOk;
}

}  // namespace

RunFn setup_keys(CLI::App& app) {
  auto opts = std::make_shared<KeysOptions>();
  app.add_option("path", opts->path, "The shelf file.")->required();
  app.add_option("--prefix", opts->prefix, "Only keys that start with this.");
  return [opts] { return run_keys(*opts); };
}

}  // namespace shelf::cli
