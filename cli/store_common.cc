#include "cli/store_common.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "pickle/internal/bigint.h"

namespace shelf::cli {

store::Shelf open_shelf(const std::string& path, bool write, bool create) {
  store::Options options;
  options.mode = !write ? store::OpenMode::kReadOnly : create ? store::OpenMode::kCreate : store::OpenMode::kReadWrite;
  return with_store_errors(path, [&] { return store::Shelf::open(path, options); });
}

namespace {

using pickle::Kind;
using pickle::Value;

std::string quote(std::string_view s) {
  return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string base64(std::string_view data) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t n = uint32_t(uint8_t(data[i])) << 16 | uint32_t(uint8_t(data[i + 1])) << 8 | uint8_t(data[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(n >> s) & 63];
  }
  if (i < data.size()) {
    uint32_t n = uint32_t(uint8_t(data[i])) << 16;
    if (i + 1 < data.size()) n |= uint32_t(uint8_t(data[i + 1])) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < data.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string number(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  return pickle::internal::python_float_repr(d);
}

class JsonWriter {
 public:
  std::string write(const Value& v) {
    emit(v);
    return out_;
  }

 private:
  void emit(const Value& v) {
    switch (v.kind()) {
      case Kind::None: out_ += "null"; return;
      case Kind::Bool: out_ += v.as_bool() ? "true" : "false"; return;
      case Kind::Int: out_ += v.int_decimal(); return;
      case Kind::Float: out_ += number(v.as_float()); return;
      case Kind::Str: out_ += quote(v.as_str()); return;
      case Kind::Bytes:
      case Kind::ByteArray:
      case Kind::Buffer: out_ += "{\"$bytes\": " + quote(base64(v.as_bytes())) + "}"; return;
      case Kind::Complex: {
        auto c = v.as_complex();
        out_ += "{\"$complex\": [" + number(c.real()) + ", " + number(c.imag()) + "]}";
        return;
      }
      case Kind::Global:
        out_ += "{\"$global\": " + quote(std::string(v.module()) + "." + std::string(v.name())) + "}";
        return;
      case Kind::PersistentRef: {
        std::optional<std::string> key = store::reference_key(v);
        if (key) {
          out_ += "{\"$ref\": " + quote(*key) + "}";
        } else {
          out_ += "{\"$persistent_id\": ";
          emit(v.pid());
          out_ += "}";
        }
        return;
      }
      default: break;
    }
    if (!active_.insert(v.identity()).second) throw CommandError("", "a value that contains itself has no JSON form");
    if (active_.size() > kMaxDepth) throw CommandError("", "the value is nested too deeply for JSON");
    switch (v.kind()) {
      case Kind::Tuple:
      case Kind::List:
      case Kind::Set:
      case Kind::FrozenSet: {
        out_ += '[';
        bool first = true;
        for (Value e : v.elements()) {
          if (!first) out_ += ", ";
          first = false;
          emit(e);
        }
        out_ += ']';
        break;
      }
      case Kind::Dict: {
        out_ += '{';
        bool first = true;
        for (auto [k, x] : v.items()) {
          if (!first) out_ += ", ";
          first = false;
          out_ += key_text(k);
          out_ += ": ";
          emit(x);
        }
        out_ += '}';
        break;
      }
      case Kind::Instance: {
        Value callable = v.callable();
        out_ += "{\"$object\": ";
        emit(callable);
        out_ += ", \"args\": ";
        emit(v.args());
        if (auto state = v.state()) {
          out_ += ", \"state\": ";
          emit(*state);
        }
        out_ += '}';
        break;
      }
      default: break;
    }
    active_.erase(v.identity());
  }

  // Dict keys as json.dumps converts them.
  std::string key_text(const Value& k) {
    switch (k.kind()) {
      case Kind::Str: return quote(k.as_str());
      case Kind::Int: return quote(k.int_decimal());
      case Kind::Float: return quote(number(k.as_float()));
      case Kind::Bool: return k.as_bool() ? "\"true\"" : "\"false\"";
      case Kind::None: return "\"null\"";
      default: throw CommandError("", std::string("a dict key of type ") + std::string(k.type_name()) +
                                          " has no JSON form");
    }
  }

  static constexpr size_t kMaxDepth = 1000;  // Python's json stops near its recursion limit too
  std::string out_;
  std::unordered_set<const void*> active_;  // containers being written: a cycle check
};

}  // namespace

std::string to_json(const pickle::Value& value) { return JsonWriter().write(value); }

}  // namespace shelf::cli
