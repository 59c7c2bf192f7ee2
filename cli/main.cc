// shelfctl: the admin tool over shelf's engine and stores.
//
// main() owns the subcommand table, parsing, dispatch and the one place
// where failures become `shelfctl <cmd>: <what>: <why>` on stderr with exit
// code 1 (2 for bad usage). A command lives in its own cmd_<name>.cc: to add
// one, write setup_<name>() and add a row to kCommands.
#include <cstdio>
#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/common.h"

namespace shelf::cli {
namespace {

constexpr Command kCommands[] = {
    {"decode", "Print the Python repr of a pickle.", setup_decode},
    {"encode", "Write a Python literal as a pickle.", setup_encode},
    {"dis", "Disassemble a pickle, as pickletools.dis does.", setup_dis},
    {"scan", "Report every global and call of a pickle, flagging dangerous ones.", setup_scan},
    {"keys", "List a shelf's keys.", setup_keys},
    {"get", "Print a record of a shelf.", setup_get},
    {"put", "Store a Python literal (or a pickle file) in a shelf.", setup_put},
    {"del", "Delete a record of a shelf.", setup_del},
    {"stat", "Print a shelf's statistics.", setup_stat},
    {"refs", "List the records a record refers to.", setup_refs},
    {"check", "Verify every record and reference of a shelf.", setup_check},
};

// The command named on the command line, for error messages of a parse
// that failed before CLI11 could tell us.
std::string named_command(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    for (const Command& c : kCommands) {
      if (std::string_view(argv[i]) == c.name) return c.name;
    }
  }
  return {};
}

std::string prefix(const std::string& command) {
  return command.empty() ? std::string("shelfctl") : "shelfctl " + command;
}

int run_main(int argc, char** argv) {
  CLI::App app{"shelfctl: inspect and write pickles and shelves.\n"
               "See docs/shelfctl.md for the full manual.",
               "shelfctl"};
  app.require_subcommand(1, 1);
  std::vector<std::pair<CLI::App*, RunFn>> runners;
  for (const Command& c : kCommands) {
    CLI::App* sub = app.add_subcommand(c.name, c.summary);
    runners.emplace_back(sub, c.setup(*sub));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      return app.exit(e);  // --help: the help text on stdout, exit 0
    }
    std::string command = named_command(argc, argv);
    std::cerr << prefix(command) << ": " << e.what() << "\n"
              << "Run '" << prefix(command) << " --help' for usage.\n";
    return kExitUsage;
  }

  for (auto& [sub, run] : runners) {
    if (!sub->parsed()) continue;
    std::string where = prefix(sub->get_name());
    try {
      return run();
    } catch (const CommandError& e) {
      std::cerr << where << ": ";
      if (!e.subject().empty()) std::cerr << e.subject() << ": ";
      std::cerr << e.what() << "\n";
    } catch (const std::bad_alloc&) {
      std::cerr << where << ": out of memory\n";
    } catch (const std::exception& e) {
      std::cerr << where << ": " << e.what() << "\n";
    }
    return kExitFailure;
  }
  return kExitUsage;  // unreachable: require_subcommand(1) guarantees one
}

}  // namespace
}  // namespace shelf::cli

int main(int argc, char** argv) { return shelf::cli::run_main(argc, argv); }
