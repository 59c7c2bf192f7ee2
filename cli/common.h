// cli/common.h: what every shelfctl command shares: the command table entry,
// the error a command throws, and reading input / writing output.
//
// A command registers its options on a CLI11 subcommand and hands back the
// function that runs it; main.cc owns parsing, dispatch and the one place
// where errors become `shelfctl <cmd>: <what>: <why>` on stderr.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

namespace shelf::cli {

// Exit codes, documented in docs/shelfctl.md.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command ran and failed
inline constexpr int kExitUsage = 2;    // bad options or arguments

// A failure of a command, printed as `shelfctl <cmd>: <what>: <why>` and
// exiting kExitFailure. `what` names the input (a file, "<stdin>", the
// literal); an empty `what` prints `shelfctl <cmd>: <why>`.
class CommandError : public std::runtime_error {
 public:
  CommandError(std::string what, const std::string& why)
      : std::runtime_error(why), subject_(std::move(what)) {}
  const std::string& subject() const { return subject_; }

 private:
  std::string subject_;
};

// Runs a parsed command; returns its exit code or throws CommandError.
using RunFn = std::function<int()>;

// One row of the subcommand table in main.cc. `setup` adds the command's
// options to `app` (which already carries its name and summary) and returns
// the runner, which reads the options the parse filled in.
struct Command {
  const char* name;
  const char* summary;
  RunFn (*setup)(CLI::App& app);
};

RunFn setup_decode(CLI::App& app);
RunFn setup_encode(CLI::App& app);
RunFn setup_dis(CLI::App& app);
RunFn setup_keys(CLI::App& app);
RunFn setup_get(CLI::App& app);
RunFn setup_put(CLI::App& app);
RunFn setup_del(CLI::App& app);
RunFn setup_stat(CLI::App& app);
RunFn setup_refs(CLI::App& app);
RunFn setup_check(CLI::App& app);
RunFn setup_scan(CLI::App& app);

// The input named `path`: "-" is standard input. Throws CommandError
// (subject: the path, why: the errno text) when it cannot be read.
std::string read_input(const std::string& path);

// How error messages name `path`: "<stdin>" for "-".
std::string input_name(const std::string& path);

// Writes all of `data` to standard output, retrying short writes; throws
// CommandError when stdout fails (a full disk, a closed pipe).
void write_stdout(std::string_view data);

}  // namespace shelf::cli
