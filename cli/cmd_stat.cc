// shelfctl stat PATH
//
// Prints a shelf's statistics, one `name: value` per line, as mdb_stat
// prints an environment's.
#include <memory>
#include <sstream>
#include <string>

#include "cli/store_common.h"

namespace shelf::cli {
namespace {

int run_stat(const std::string& path) {
  store::Shelf shelf = open_shelf(path, false);
  store::ShelfStat s = with_store_errors(path, [&] { return shelf.stat(); });
  std::ostringstream out;
  out << "records: " << s.records << "\n"
      << "key bytes: " << s.key_bytes << "\n"
      << "value bytes: " << s.value_bytes << "\n"
      << "format version: " << s.format_version << "\n"
      << "pickle protocol: " << s.protocol << "\n"
      << "created by: " << s.created_by << "\n"
      << "map size: " << s.map_size << "\n"
      << "used bytes: " << s.used_bytes << "\n"
      << "page size: " << s.page_size << "\n"
      << "tree depth: " << s.depth << "\n"
      << "branch pages: " << s.branch_pages << "\n"
      << "leaf pages: " << s.leaf_pages << "\n"
      << "overflow pages: " << s.overflow_pages << "\n"
      << "readers: " << s.readers_used << "/" << s.max_readers << "\n";
  write_stdout(out.str());
  return kExitOk;
}

}  // namespace

RunFn setup_stat(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  app.add_option("path", *path, "The shelf file.")->required();
  return [path] { return run_stat(*path); };
}

}  // namespace shelf::cli
