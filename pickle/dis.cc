// The disassembler: pickletools.dis (CPython 3.11) line for line.
//
// A listing line is "%5d: " (offset), the opcode byte as repr() shows it
// padded to 4, one indent chunk per open MARK, the name, then (padded to
// column 10 after the name) repr() of the argument and a note: "(MARK at N)"
// when the opcode consumed a MARK, "(as N)" for MEMOIZE. The checks are
// pickletools': pops beyond the stack, an opcode needing a MARK without
// one, memo keys read before written or written twice, markobjects stored
// in the memo, and a stack not holding exactly one item at STOP.
//
// pickletools tracks each stack item's type; the table gives counts, which
// decide every check. Only whether an item is a MARK matters (POP of a mark
// pops the MARK; a mark may not be memoized), so the stack is one flag per
// item. The one visible difference: pickletools' "stack not empty after
// STOP: [int, mark]" names the types left; ours counts the items and MARKs.
//
// Arguments are decoded by the Unpickler's readers (pickle/args.h), then
// shown as pickletools' readers return them (see print_arg). Where the two
// readers disagree, dis refuses what the Unpickler refuses:
// tests/pickle/dis_test.cc lists those pickles.
#include "pickle/dis.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "pickle/args.h"
#include "pickle/internal/bigint.h"
#include "pickle/internal/utf8.h"
#include "pickle/repr.h"
#include "pickle/value.h"

namespace shelf::pickle {
namespace {

using R = UnpicklingReason;

// CPython's sys.int_info.default_max_str_digits: repr() of a longer int
// raises ValueError, and so does pickletools.dis on a LONG1/LONG4 holding one.
constexpr size_t kMaxReprDigits = 4300;

// Code points in UTF-8 text: Python's len() of a line, for annotate's
// column arithmetic.
size_t code_points(std::string_view utf8) {
  return static_cast<size_t>(std::count_if(utf8.begin(), utf8.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

// repr(opcode.code)[1:-1]: the character itself when printable ASCII (no
// opcode is a quote or a backslash), else \xNN.
std::string code_text(uint8_t byte) {
  char buf[8];
  if (byte >= 0x20 && byte < 0x7f)
    std::snprintf(buf, sizeof buf, "%c", byte);
  else
    std::snprintf(buf, sizeof buf, "\\x%02x", byte);
  return buf;
}

// repr() of text and binary values, through the one repr (pickle/repr.h).
std::string str_repr(std::string_view utf8) { return repr(Graph().str(utf8)); }
std::string bytes_repr(std::string_view data) { return repr(Graph().bytes(data)); }

// What a decoded argument prints as, and, for memo opcodes, the memo key.
struct PrintedArg {
  std::string text;      // repr(arg)
  std::string memo_key;  // decimal form of an int argument (False is 0)
  // repr() of an int of more than 4300 digits raises, after the line's
  // offset was printed: the caller fails then.
  bool too_many_digits = false;
};

std::string decimal_text(const DecimalArg& d) {
  if (d.is_bool) return d.value ? "True" : "False";
  if (d.fits) return std::to_string(d.value);
  std::string_view digits = d.digits;
  while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
  return (d.negative ? "-" : "") + std::string(digits);
}

void require_ascii(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x80) {
      char buf[128];
      std::snprintf(buf, sizeof buf,
                    "'ascii' codec can't decode byte 0x%02x in position %zu: ordinal not in range(128)", byte, i);
      fail(UnpicklingReason::kBadArgument, buf);
    }
  }
}

// pickletools decodes GLOBAL, INST and PERSID lines with escape_decode and
// then as ASCII (the Unpickler reads them raw): what the listing shows.
std::string noescape_text(std::string_view raw, std::string& scratch) {
  std::string_view decoded = escape_decode(raw, scratch);
  require_ascii(decoded);
  return std::string(decoded);
}

// repr(arg) for every argument kind, as pickletools' readers return it:
// ints, bools for "00"/"01", floats, str for the Python 2 string kinds
// (Latin-1 for the counted ones), bytes, bytearray. Throws DecodeFailure.
PrintedArg print_arg(const ArgValue& a) {
  PrintedArg p;
  std::string scratch;
  switch (a.kind) {
    case ArgKind::none:
      break;
    case ArgKind::uint1:
    case ArgKind::uint2:
    case ArgKind::uint4:
    case ArgKind::uint8:
      p.text = std::to_string(a.uint);
      break;
    case ArgKind::int4:
      p.text = std::to_string(a.int4);
      break;
    case ArgKind::decimalnl_short:
    case ArgKind::decimalnl_long:
      p.text = decimal_text(a.decimal);
      p.memo_key = a.decimal.is_bool ? std::to_string(a.decimal.value) : p.text;
      return p;
    case ArgKind::long1:
    case ArgKind::long4: {
      // 1787 bytes hold more than 14,287 bits: over 4300 decimal digits,
      // known without the quadratic conversion.
      if (a.text.size() >= 1787) {
        p.too_many_digits = true;
        return p;
      }
      p.text = Graph().integer_from_le(a.text).int_decimal();
      p.too_many_digits = p.text.size() - (p.text[0] == '-') > kMaxReprDigits;
      break;
    }
    case ArgKind::floatnl:
    case ArgKind::float8:
      p.text = internal::python_float_repr(a.real);
      break;
    case ArgKind::stringnl:
      require_ascii(a.text);
      p.text = str_repr(a.text);
      break;
    case ArgKind::stringnl_noescape:
      p.text = str_repr(noescape_text(a.text, scratch));
      break;
    case ArgKind::stringnl_noescape_pair: {
      std::string module = noescape_text(a.text, scratch);
      p.text = str_repr(module + " " + noescape_text(a.name, scratch));
      break;
    }
    case ArgKind::string1:
    case ArgKind::string4:
      p.text = str_repr(internal::latin1_to_utf8(a.text));
      break;
    case ArgKind::bytes1:
    case ArgKind::bytes4:
    case ArgKind::bytes8:
      p.text = bytes_repr(a.text);
      break;
    case ArgKind::bytearray8:
      p.text = repr(Graph().bytearray(a.text));
      break;
    case ArgKind::unicodestringnl:
    case ArgKind::unicodestring1:
    case ArgKind::unicodestring4:
    case ArgKind::unicodestring8:
      p.text = str_repr(a.text);
      break;
  }
  p.memo_key = p.text;
  return p;
}

// One pickle starting at data[start]. Listing offsets count from data[0]
// (pickletools prints f.tell()); error offsets from data[start], as every
// UnpicklingError's do.
class Disassembler {
 public:
  Disassembler(std::string_view data, size_t start, const DisOptions& options, std::unordered_set<std::string>& memo)
      : data_(data.substr(start)),
        start_(start),
        options_(options),
        indent_(static_cast<size_t>(std::max(options.indent, 0)), ' '),
        memo_(memo) {}

  // Offset in `data` just past the STOP, after run() succeeded.
  size_t end() const { return start_ + end_; }

  std::string run(std::string* partial) {
    try {
      loop();
    } catch (...) {
      if (partial) *partial = std::move(out_);
      throw;
    }
    return std::move(out_);
  }

 private:
  void loop();
  void emit(std::string_view text, size_t pos, Op op);

  [[noreturn]] void fail(R reason, std::string detail, size_t pos, std::optional<Op> op) {
    throw UnpicklingError(reason, std::move(detail), pos, op);
  }

  std::string_view data_;  // from the pickle's first byte
  size_t start_;
  size_t end_ = 0;
  const DisOptions& options_;
  std::string indent_;
  std::string out_;
  std::vector<bool> stack_;        // true: a markobject
  std::vector<size_t> markstack_;  // listing offsets of the open MARKs
  std::unordered_set<std::string>& memo_;  // keys stored, as decimal text
  // pickletools' annocol: signed, as a negative annotate hint is legal.
  int64_t annocol_ = 0;
};

void Disassembler::emit(std::string_view text, size_t pos, Op op) {
  if (out_.size() + text.size() > options_.max_output)
    fail(R::kLimitExceeded, "listing longer than max_output", pos, op);
  out_ += text;
}

void Disassembler::loop() {
  int maxproto = -1;
  annocol_ = options_.annotate;
  ByteReader in(data_);
  std::string scratch;
  size_t pos = 0;
  for (;;) {
    pos = in.tell();
    if (pos >= data_.size())
      fail(R::kTruncated, "pickle exhausted before seeing STOP", data_.size(), std::nullopt);
    const uint8_t byte = static_cast<uint8_t>(*in.take(1));
    const OpInfo* info = op_info_for_byte(byte);
    if (!info) fail(R::kUnknownOpcode, "opcode " + bytes_repr(data_.substr(pos, 1)) + " unknown", pos, std::nullopt);
    const Op op = info->op;
    const bool has_arg = info->arg != ArgKind::none;

    // The argument is read and decoded before anything of the line is
    // printed, as genops() does; its errors name this opcode.
    PrintedArg printed;
    try {
      printed = print_arg(read_arg(info->arg, in, scratch));
    } catch (const DecodeFailure& e) {
      fail(e.reason(), e.detail(), pos, op);
    } catch (const ValueError& e) {  // a str the value graph refuses
      fail(R::kBadArgument, e.what(), pos, op);
    }

    char offset[32];
    std::snprintf(offset, sizeof offset, "%5zu: ", start_ + pos);
    emit(offset, pos, op);

    std::string line = code_text(byte);
    line.resize(std::max<size_t>(line.size(), 4), ' ');
    line += ' ';
    for (size_t i = 0; i < markstack_.size(); ++i) line += indent_;
    line += info->name;
    maxproto = std::max<int>(maxproto, info->protocol);

    size_t numtopop = info->pops;
    std::string markmsg;
    std::string errormsg;
    R error_reason = R::kNoMark;
    if (info->pops_mark || (op == Op::POP && !stack_.empty() && stack_.back())) {
      if (!markstack_.empty()) {
        markmsg = "(MARK at " + std::to_string(markstack_.back()) + ")";
        markstack_.pop_back();
        // The topmost markobject may have been popped as a plain item
        // (APPEND under a MARK); pickletools then runs off the stack with
        // an IndexError after printing this line's offset.
        while (!stack_.empty() && !stack_.back()) stack_.pop_back();
        if (stack_.empty()) fail(R::kNoMark, "no markobject left on the stack", pos, op);
        stack_.pop_back();
        numtopop = info->pops_mark ? info->pops : 0;
      } else {
        errormsg = markmsg = "no MARK exists on stack";
      }
    }

    if (printed.too_many_digits)
      fail(R::kLimitExceeded,
           "Exceeds the limit (4300 digits) for integer string conversion; "
           "use sys.set_int_max_str_digits() to increase the limit",
           pos, op);

    size_t pushes = info->pushes;
    switch (op) {
      case Op::PUT:
      case Op::BINPUT:
      case Op::LONG_BINPUT:
      case Op::MEMOIZE: {
        std::string key = printed.memo_key;
        if (op == Op::MEMOIZE) {
          key = std::to_string(memo_.size());
          markmsg = "(as " + key + ")";
        }
        if (memo_.count(key)) {
          errormsg = "memo key " + (op == Op::MEMOIZE ? std::string("None") : printed.text) + " already defined";
          error_reason = R::kBadArgument;
        } else if (stack_.empty()) {
          errormsg = "stack is empty -- can't store into memo";
          error_reason = R::kStackUnderflow;
        } else if (stack_.back()) {
          errormsg = "can't store markobject in the memo";
          error_reason = R::kBadValue;
        } else {
          memo_.insert(std::move(key));
        }
        break;
      }
      case Op::GET:
      case Op::BINGET:
      case Op::LONG_BINGET:
        if (!memo_.count(printed.memo_key)) {
          errormsg = "memo key " + printed.text + " has never been stored into";
          error_reason = R::kMemoMissing;
        }
        break;
      default:
        break;
    }

    if (has_arg || !markmsg.empty()) {
      if (info->name.size() < 10) line.append(10 - info->name.size(), ' ');
      if (has_arg) line += ' ' + printed.text;
      if (!markmsg.empty()) line += ' ' + markmsg;
    }
    if (options_.annotate != 0) {
      size_t len = code_points(line);
      if (annocol_ > static_cast<int64_t>(len)) line.append(static_cast<size_t>(annocol_) - len, ' ');
      annocol_ = static_cast<int64_t>(code_points(line));
      if (annocol_ > 50) annocol_ = options_.annotate;
      line += ' ';
      line += info->doc;
    }
    line += '\n';
    emit(line, pos, op);
    if (!errormsg.empty()) fail(error_reason, errormsg, pos, op);

    if (stack_.size() < numtopop)
      fail(R::kStackUnderflow,
           "tries to pop " + std::to_string(numtopop) + " items from stack with only " +
               std::to_string(stack_.size()) + " items",
           pos, op);
    stack_.resize(stack_.size() - numtopop);
    if (op == Op::MARK) {
      markstack_.push_back(start_ + pos);
      stack_.push_back(true);
    }
    stack_.insert(stack_.end(), pushes, false);

    if (op == Op::STOP) break;
  }
  end_ = in.tell();
  emit("highest protocol among opcodes = " + std::to_string(maxproto) + "\n", pos, Op::STOP);
  if (!stack_.empty()) {
    size_t marks = static_cast<size_t>(std::count(stack_.begin(), stack_.end(), true));
    std::string detail = "stack not empty after STOP: " + std::to_string(stack_.size()) + " item" +
                         (stack_.size() == 1 ? "" : "s");
    if (marks) detail += " (" + std::to_string(marks) + " of them MARKs)";
    fail(R::kBadValue, detail, pos, Op::STOP);
  }
}

}  // namespace

std::string dis(std::string_view data, const DisOptions& options, std::string* partial) {
  std::unordered_set<std::string> memo;
  Disassembler d(data, 0, options, memo);
  return d.run(partial);
}

std::string DisStream::next(std::string* partial) {
  Disassembler d(data_, pos_, options_, memo_);
  std::string listing = d.run(partial);
  pos_ = d.end();
  return listing;
}

}  // namespace shelf::pickle
