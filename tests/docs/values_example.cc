// docs/pickle.md, "Building values": the examples, compiled and run.
#include <cmath>
#include <complex>
#include <string>

#include <catch2/catch.hpp>

#include "pickle/pickler.h"
#include "pickle/repr.h"
#include "pickle/unpickler.h"
#include "pickle/value.h"

namespace {

TEST_CASE("docs example: the seed value in a few lines", "[docs]") {
  // [doc:seed]
  using namespace shelf::pickle;

  Graph g;
  Value seed = g.dict({
      {"a", g.list({1, 2.0, 3, std::complex<double>(4, 6)})},
      {"b", g.tuple({g.bytes("string"), "Unicode string"})},
      {"c", None},
  });
  std::string text = repr(seed);
  // {'a': [1, 2.0, 3, (4+6j)], 'b': (b'string', 'Unicode string'), 'c': None}
  // [/doc:seed]
  CHECK(text == "{'a': [1, 2.0, 3, (4+6j)], 'b': (b'string', 'Unicode string'), 'c': None}");
}

TEST_CASE("docs example: reading values", "[docs]") {
  using namespace shelf::pickle;
  Graph g;
  Value seed = g.dict({
      {"a", g.list({1, 2.0, 3, std::complex<double>(4, 6)})},
      {"b", g.tuple({g.bytes("string"), "Unicode string"})},
      {"c", None},
  });
  // [doc:read]
  Value a = *seed.get("a");          // nullopt when the key is absent
  int64_t first = a[0].as_int();     // 1
  double second = a[1].as_float();   // 2.0
  std::complex<double> z = a[3].as_complex();

  std::string keys;
  for (auto [key, value] : seed.items()) keys += key.as_str();  // "abc", in insertion order
  bool has_b = seed.contains("b");                       // true
  std::string_view text = (*seed.get("b"))[1].as_str();  // "Unicode string"
  // [/doc:read]
  CHECK(first == 1);
  CHECK(second == 2.0);
  CHECK(z == std::complex<double>(4, 6));
  CHECK(has_b);
  CHECK(text == "Unicode string");
  CHECK(keys == "abc");
}

TEST_CASE("docs example: identity, sharing and cycles", "[docs]") {
  // [doc:cycles]
  using namespace shelf::pickle;

  Graph g;
  Value l = g.list();
  l.append(l);                        // l = []; l.append(l)
  Value shared = g.list({1, 2});
  Value pair = g.tuple({shared, shared});

  std::string a = repr(l);            // [[...]]
  bool same = pair[0].is(pair[1]);    // true: one list, referred to twice

  Value back = loads(dumps(l));
  bool cyclic = back[0].is(back);     // true: the cycle survives a round trip
  // [/doc:cycles]
  CHECK(a == "[[...]]");
  CHECK(same);
  CHECK(cyclic);
  Value pair2 = loads(dumps(pair));
  CHECK(pair2[0].is(pair2[1]));
}

TEST_CASE("docs example: equality", "[docs]") {
  // [doc:equality]
  using namespace shelf::pickle;

  Graph g;
  bool py_equal = Value(1) == Value(1.0);                   // true, as in Python
  bool strict = strictly_equal(Value(1), Value(1.0));       // false: int vs float
  bool nan_eq = strictly_equal(Value(NAN), Value(NAN));     // true: same bits
  bool mixed = g.bytes("ab") == g.bytearray("ab");          // true, as in Python
  // [/doc:equality]
  CHECK(py_equal);
  CHECK_FALSE(strict);
  CHECK(nan_eq);
  CHECK(mixed);
}

TEST_CASE("docs example: change tracking", "[docs]") {
  // [doc:versions]
  using namespace shelf::pickle;

  Graph g;
  Value inner = g.list({1});
  Value outer = g.dict({{"inner", inner}});
  uint64_t before = g.mutation_count();
  uint64_t inner_before = inner.version();

  inner.append(2);

  bool graph_changed = g.mutation_count() != before;    // true
  bool inner_changed = inner.version() != inner_before; // true
  // [/doc:versions]
  CHECK(graph_changed);
  CHECK(inner_changed);
  CHECK(outer.version() == 0);
}

TEST_CASE("docs example: big ints", "[docs]") {
  // [doc:bigint]
  using namespace shelf::pickle;

  Graph g;
  Value big = g.integer_from_decimal("-123456789012345678901234567890");
  bool fits = big.fits_int64();        // false
  std::string digits = big.int_decimal();
  std::string text = repr(g.list({big, Item(uint64_t{1} << 63)}));
  // [-123456789012345678901234567890, 9223372036854775808]
  // [/doc:bigint]
  CHECK_FALSE(fits);
  CHECK(digits == "-123456789012345678901234567890");
  CHECK(text == "[-123456789012345678901234567890, 9223372036854775808]");
}

}  // namespace
