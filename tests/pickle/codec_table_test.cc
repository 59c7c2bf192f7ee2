// The codec table (STYLE.md section 6): every row of codec_cases.inc,
// generated from CPython 3.11 by tools/gen_codec_table.py, is checked for
// decode, byte-exact encode at every protocol, a round trip into every other
// protocol, kTruncated on every proper prefix, no crash on any suffix, a
// failing sink at every offset, a byte-at-a-time stream, and the
// disassembly against pickletools.dis.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "pickle/dis.h"
#include "pickle/errors.h"
#include "pickle/literal.h"
#include "pickle/pickler.h"
#include "pickle/unpickler.h"
#include "pickle/value.h"
#include "tests/testutil/testutil.h"

namespace shelf::pickle {
namespace {

using testutil::hex;

// How a row's value is built from its literal (values with no literal form).
enum class Maker { Literal, Bytearray, Frozenset, Nan };

struct CodecCase {
  const char* name;
  Maker maker;
  std::string_view literal;
  std::array<const char*, 6> hex;  // expected pickle per protocol, testutil::hex form
  std::string_view dis2;           // pickletools.dis of the protocol 2 pickle ("" for large rows)
  std::string_view dis4;
};

#define CODEC_CASE(name, maker, literal, ...) \
  CodecCase{#name, Maker::maker, std::string_view(literal, sizeof(literal) - 1), __VA_ARGS__},
const CodecCase kCodecCases[] = {
#include "tests/pickle/codec_cases.inc"
};
#undef CODEC_CASE

Value make_value(const CodecCase& row) {
  switch (row.maker) {
    case Maker::Literal:
      return parse_literal(row.literal);
    case Maker::Bytearray: {
      Value b = parse_literal(row.literal);
      Graph g = b.graph();
      return g.bytearray(b.as_bytes());
    }
    case Maker::Frozenset: {
      Value items = parse_literal(row.literal);
      Graph g = items.graph();
      std::vector<Value> elements;
      for (Value e : items.elements()) elements.push_back(e);
      return g.frozenset(elements);
    }
    case Maker::Nan:
      return Value(std::numeric_limits<double>::quiet_NaN());
  }
  throw std::logic_error("unknown maker");
}

// The offsets worth trying on `size` bytes: all of them for small pickles;
// for large ones the first and last 1024 and a stride through the middle,
// which keeps the quadratic checks (prefixes, suffixes, sinks) fast while
// still crossing every opcode kind the row has.
std::vector<size_t> offsets(size_t size) {
  std::vector<size_t> out;
  constexpr size_t kAll = 8192, kEdge = 1024, kStride = 251;
  for (size_t i = 0; i < size; ++i) {
    if (size <= kAll || i < kEdge || i + kEdge >= size || i % kStride == 0) out.push_back(i);
  }
  return out;
}

// First offset where a and b differ, for a readable failure on big rows.
std::string describe_difference(const std::string& got, const std::string& want) {
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  auto window = [i](const std::string& s) {
    size_t from = i < 16 ? 0 : i - 16;
    return testutil::to_hex(std::string_view(s).substr(from, 48));
  };
  return "sizes " + std::to_string(got.size()) + " vs " + std::to_string(want.size()) +
         "; first difference at byte " + std::to_string(i) + "\n  got:  " + window(got) +
         "\n  want: " + window(want);
}

TEST_CASE("codec table", "[codec]") {
  const CodecCase row = GENERATE(from_range(std::begin(kCodecCases), std::end(kCodecCases)));
  std::array<std::string, 6> expected;
  for (int p = 0; p <= 5; ++p) expected[p] = hex(row.hex[p]);

  DYNAMIC_SECTION(row.name << ": encode") {
    Value value = make_value(row);
    for (int p = 0; p <= 5; ++p) {
      INFO("protocol " << p);
      std::string got = dumps(value, p);
      INFO((got == expected[p] ? std::string("same") : describe_difference(got, expected[p])));
      CHECK(got == expected[p]);
    }
  }

  DYNAMIC_SECTION(row.name << ": decode") {
    Value value = make_value(row);
    for (int p = 0; p <= 5; ++p) {
      INFO("protocol " << p);
      CHECK(strictly_equal(loads(expected[p]), value));
    }
  }

  DYNAMIC_SECTION(row.name << ": round trip through every protocol") {
    for (int p = 0; p <= 5; ++p) {
      Value loaded = loads(expected[p]);
      for (int q = 0; q <= 5; ++q) {
        INFO("loaded protocol " << p << ", dumped protocol " << q);
        std::string got = dumps(loaded, q);
        INFO((got == expected[q] ? std::string("same") : describe_difference(got, expected[q])));
        CHECK(got == expected[q]);
      }
    }
  }

  DYNAMIC_SECTION(row.name << ": every proper prefix is kTruncated") {
    for (int p = 0; p <= 5; ++p) {
      const std::string& data = expected[p];
      size_t failures = 0;
      std::string first_failure;
      for (size_t n : offsets(data.size())) {
        std::string why;
        try {
          loads(std::string_view(data).substr(0, n));
          why = "loaded without error";
        } catch (const UnpicklingError& e) {
          if (e.reason() != UnpicklingReason::kTruncated) why = std::string(reason_name(e.reason())) + ": " + e.what();
        }
        if (!why.empty() && failures++ == 0) first_failure = "prefix of " + std::to_string(n) + " bytes: " + why;
      }
      INFO("protocol " << p << ": " << first_failure);
      CHECK(failures == 0);
    }
  }

  DYNAMIC_SECTION(row.name << ": no crash on any suffix") {
    for (int p = 0; p <= 5; ++p) {
      const std::string& data = expected[p];
      for (size_t n : offsets(data.size())) {
        // Anything but UnpicklingError escaping fails the test.
        try {
          loads(std::string_view(data).substr(n + 1));
        } catch (const UnpicklingError&) {
        }
      }
    }
  }

  DYNAMIC_SECTION(row.name << ": a failing sink at every offset") {
    Value value = make_value(row);
    for (int p = 0; p <= 5; ++p) {
      const std::string& data = expected[p];
      size_t failures = 0;
      std::string first_failure;
      PicklerOptions options;
      options.protocol = p;
      for (size_t n : offsets(data.size())) {
        testutil::FailingSink sink(n);
        Pickler pickler(sink, options);
        std::string why;
        try {
          pickler.dump(value);
          why = "no exception";
        } catch (const PickleError& e) {
          why = std::string("PickleError: ") + e.what();
        } catch (const std::runtime_error& e) {
          if (!sink.failed()) why = std::string("not the sink's error: ") + e.what();
        }
        if (why.empty() && sink.data() != std::string_view(data).substr(0, n)) why = "wrote other bytes";
        if (!why.empty() && failures++ == 0) first_failure = "limit " + std::to_string(n) + ": " + why;
      }
      INFO("protocol " << p << ": " << first_failure);
      CHECK(failures == 0);
      testutil::FailingSink roomy(data.size());
      Pickler pickler(roomy, options);
      pickler.dump(value);
      CHECK(roomy.data() == data);
    }
  }

  DYNAMIC_SECTION(row.name << ": loads from a byte-at-a-time stream") {
    Value value = make_value(row);
    for (int p = 0; p <= 5; ++p) {
      if (expected[p].size() > 200'000) continue;
      INFO("protocol " << p);
      testutil::ShortReadSource source(expected[p] + "trailing");
      Unpickler unpickler(source);
      CHECK(strictly_equal(unpickler.load(), value));
      CHECK(source.position() == expected[p].size());
    }
  }

  DYNAMIC_SECTION(row.name << ": dis matches pickletools.dis") {
    if (!row.dis2.empty()) CHECK(dis(expected[2]) == row.dis2);
    if (!row.dis4.empty()) CHECK(dis(expected[4]) == row.dis4);
  }
}

TEST_CASE("codec table: names are unique and every row has six pickles", "[codec]") {
  std::vector<std::string_view> names;
  for (const CodecCase& row : kCodecCases) {
    names.emplace_back(row.name);
    for (const char* h : row.hex) CHECK_FALSE(hex(h).empty());
  }
  std::sort(names.begin(), names.end());
  CHECK(std::adjacent_find(names.begin(), names.end()) == names.end());
  CHECK(names.size() > 100);
}

}  // namespace
}  // namespace shelf::pickle
