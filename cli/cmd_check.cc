// shelfctl check PATH [--allow-objects]
//
// Opens every record of a shelf and unpickles it under the data-only
// policy (no globals but the data constructors; nothing ever runs),
// verifies that its references point at existing records, and reports each
// problem as `KEY: <what>` (with the byte offset and opcode of a pickle
// error). Exit 0 when clean, 1 when any problem was found.
#include <memory>
#include <string>

#include "cli/store_common.h"
#include "pickle/hooks.h"
#include "pickle/unpickler.h"

namespace shelf::cli {
namespace {

struct CheckOptions {
  std::string path;
  bool allow_objects = false;
};

int run_check(const CheckOptions& opts) {
  store::Shelf shelf = open_shelf(opts.path, false);
  pickle::UnpicklerOptions load;
  load.find_global = opts.allow_objects ? pickle::FindGlobal::build_data() : pickle::FindGlobal::data_only();
  size_t records = 0, problems = 0;
  std::string report;
  auto problem = [&](std::string_view key, const std::string& what) {
    ++problems;
    report.append(key);
    report += ": " + what + "\n";
  };
  with_store_errors(opts.path, [&] {
    store::ReadTxn txn = shelf.read();
    txn.scan([&](const store::RawRecord& r) {
      ++records;
      pickle::Value value;
      try {
        value = pickle::loads(r.bytes, load);
      } catch (const pickle::UnpicklingError& e) {
        problem(r.key, e.what());
        return true;
      }
      for (const std::string& target : store::references(value)) {
        bool present = false;
        try {
          present = txn.contains(target);
        } catch (const store::StoreError&) {
          // A key LMDB could not hold cannot name a record.
        }
        if (!present) problem(r.key, "refers to missing record '" + target + "'");
      }
      return true;
    });
  });
  report += std::to_string(records) + " records checked, " + std::to_string(problems) + " problems\n";
  write_stdout(report);
  return problems == 0 ? kExitOk : kExitFailure;
}

}  // namespace

RunFn setup_check(CLI::App& app) {
  auto opts = std::make_shared<CheckOptions>();
  app.add_option("path", opts->path, "The shelf file.")->required();
  app.add_flag("--allow-objects", opts->allow_objects,
               "Accept records holding objects of classes (as inert nodes) instead of reporting them.");
  return [opts] { return run_check(*opts); };
}

}  // namespace shelf::cli
