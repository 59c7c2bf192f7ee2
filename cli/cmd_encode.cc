// shelfctl encode [--protocol N] [--python2-str] [LITERAL|-]
//
// Parses a Python literal (ast.literal_eval's language) and writes its
// pickle to standard output, byte for byte what CPython 3.11's
// pickle.dumps(value, protocol=N) writes.
#include <memory>
#include <string>

#include "cli/common.h"
#include "pickle/errors.h"
#include "pickle/literal.h"
#include "pickle/pickler.h"
#include "pickle/value.h"

namespace shelf::cli {
namespace {

struct EncodeOptions {
  std::string literal = "-";
  int protocol = pickle::kDefaultProtocol;
  bool python2_str = false;
};

int run_encode(const EncodeOptions& opts) {
  bool from_stdin = opts.literal == "-";
  std::string name = from_stdin ? "<stdin>" : "<argument>";
  std::string text = from_stdin ? read_input("-") : opts.literal;

  pickle::Value value;
  try {
    value = pickle::parse_literal(text);
  } catch (const pickle::LiteralError& e) {
    throw CommandError(name + ":" + std::to_string(e.line()) + ":" + std::to_string(e.column()), e.message());
  }

  pickle::PicklerOptions popts;
  popts.protocol = opts.protocol;
  popts.python2_str = opts.python2_str;
  std::string out;
  try {
    out = pickle::dumps(value, popts);
  } catch (const pickle::PicklingError& e) {
    throw CommandError(name, e.what());
  }
  write_stdout(out);
  return kExitOk;
}

}  // namespace

RunFn setup_encode(CLI::App& app) {
  auto opts = std::make_shared<EncodeOptions>();
  app.add_option("literal", opts->literal,
                 "A Python literal, e.g. \"{'a': [1, 2.0, 4+6j]}\"; '-' (the default) reads it\n"
                 "from standard input. Put '--' before a literal that starts with '-'.");
  app.add_option("-p,--protocol", opts->protocol,
                 "Pickle protocol 0-5 (default 5); a negative number means the highest.")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            try {
              size_t used = 0;
              int p = std::stoi(text, &used);
              if (used == text.size() && p <= pickle::kHighestProtocol) return {};
            } catch (const std::exception&) {
            }
            return "protocol must be 0 to 5, or negative for the highest, not '" + text + "'";
          },
          "PROTOCOL"));
  app.add_flag("--python2-str", opts->python2_str,
               "At protocols 0-2 write bytes as Python 2 str (STRING, BINSTRING,\n"
               "SHORT_BINSTRING), which Python 2 loads as str; Python 3 then needs\n"
               "encoding='bytes' or 'latin1'.");
  return [opts] { return run_encode(*opts); };
}

}  // namespace shelf::cli
