// shelfctl dis [FILE|-] [--annotate] [--indent N]
//
// Prints the disassembly of one pickle, as pickletools.dis prints it. On a
// malformed pickle the lines before the fault are still printed (as
// pickletools does before raising) and the error goes to stderr.
#include <memory>
#include <string>

#include "cli/common.h"
#include "pickle/dis.h"
#include "pickle/errors.h"

namespace shelf::cli {
namespace {

struct DisCmdOptions {
  std::string file = "-";
  bool annotate = false;
  int indent = 4;
};

int run_dis(const DisCmdOptions& opts) {
  std::string name = input_name(opts.file);
  std::string data = read_input(opts.file);
  pickle::DisOptions dopts;
  dopts.annotate = opts.annotate;
  dopts.indent = opts.indent;
  std::string partial;
  std::string listing;
  try {
    listing = pickle::dis(data, dopts, &partial);
  } catch (const pickle::UnpicklingError& e) {
    write_stdout(partial);
    throw CommandError(name, e.what());
  }
  write_stdout(listing);
  return kExitOk;
}

}  // namespace

RunFn setup_dis(CLI::App& app) {
  auto opts = std::make_shared<DisCmdOptions>();
  app.add_option("file", opts->file, "The pickle to read; '-' (the default) reads standard input.");
  app.add_flag("-a,--annotate", opts->annotate, "Add each opcode's one-line description.");
  app.add_option("--indent", opts->indent, "Spaces of indentation per open MARK (default 4).")
      ->check(CLI::Range(0, 16));
  return [opts] { return run_dis(*opts); };
}

}  // namespace shelf::cli
