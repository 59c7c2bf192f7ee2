#include "pickle/value.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <complex>
#include <algorithm>
#include <limits>
#include <random>
#include <set>
#include <vector>

using namespace shelf::pickle;

TEST_CASE("the seed example builds in a few lines", "[value]") {
  Graph g;
  Value data = g.dict({
      {"a", g.list({1, 2.0, 3, std::complex<double>(4, 6)})},
      {"b", g.tuple({g.bytes("string"), "Unicode string"})},
      {"c", None},
  });
  REQUIRE(data.kind() == Kind::Dict);
  REQUIRE(data.size() == 3);
  Value a = *data.get("a");
  REQUIRE(a.kind() == Kind::List);
  CHECK(a[0].as_int() == 1);
  CHECK(a[1].as_float() == 2.0);
  CHECK(a[3].as_complex() == std::complex<double>(4, 6));
  Value b = *data.get("b");
  CHECK(b[0].kind() == Kind::Bytes);
  CHECK(b[0].as_bytes() == "string");
  CHECK(b[1].as_str() == "Unicode string");
  CHECK(data.get("c")->is_none());
  CHECK_FALSE(data.get("d").has_value());
}

TEST_CASE("python equality across numeric kinds", "[value]") {
  Graph g;
  CHECK(Value(1) == Value(1.0));
  CHECK(Value(true) == Value(1));
  CHECK(Value(1) == g.complex(1, 0));
  CHECK_FALSE(Value(1) == g.complex(1, 1));
  CHECK_FALSE(strictly_equal(Value(1), Value(1.0)));
  CHECK(g.bytes("ab") == g.bytearray("ab"));
  CHECK_FALSE(strictly_equal(g.bytes("ab"), g.bytearray("ab")));
  CHECK(g.set({1, 2}) == g.frozenset({2, 1}));
  CHECK_FALSE(g.str("a") == g.bytes("a"));
  double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK_FALSE(Value(nan) == Value(nan));
  CHECK(strictly_equal(Value(nan), Value(nan)));
  Value big = g.integer_from_decimal("18446744073709551616");  // 2**64
  CHECK(big == Value(18446744073709551616.0));
  CHECK(big.int_decimal() == "18446744073709551616");
  CHECK(big.hash() == Value(18446744073709551616.0).hash());
  CHECK(Value(7).hash() == Value(7.0).hash());
  CHECK(Value(-1).hash() == Value(-1.0).hash());
}

TEST_CASE("dict keys follow python equality", "[value]") {
  Graph g;
  Value d = g.dict();
  d.set_item(1, "one");
  d.set_item(1.0, "float one");
  d.set_item(true, "true");
  REQUIRE(d.size() == 1);
  auto [key, value] = *d.items().begin();
  CHECK(key.kind() == Kind::Int);  // the first key object stays, as in Python
  CHECK(value.as_str() == "true");
  CHECK_THROWS_AS(d.set_item(g.list(), 1), ValueError);
  d.set_item(g.tuple({1, "x"}), 2);
  CHECK(d.get(g.tuple({1.0, "x"}))->as_int() == 2);
  CHECK(d.erase_key(1));
  CHECK(d.size() == 1);
}

TEST_CASE("ints of any size convert between forms", "[value]") {
  Graph g;
  CHECK(g.integer_from_le("").as_int() == 0);
  CHECK(g.integer_from_le("\xff").as_int() == -1);
  CHECK(g.integer_from_le("\x80").as_int() == -128);
  CHECK(g.integer_from_le(std::string("\x00\x80", 2)).as_int() == -32768);
  Value big = g.integer_from_decimal("-123456789012345678901234567890");
  CHECK_FALSE(big.fits_int64());
  CHECK(big.int_decimal() == "-123456789012345678901234567890");
  CHECK(g.integer_from_le(big.int_bytes()) == big);
  CHECK(Value(int64_t{-9223372036854775807 - 1}).int_bytes() == std::string("\0\0\0\0\0\0\0\x80", 8));
  CHECK(g.integer_from_decimal("9223372036854775808").int_bytes() == std::string("\0\0\0\0\0\0\0\x80\0", 9));
  CHECK(g.integer_from_digits("ff", 16, true).as_int() == -255);
  CHECK(Value(255).int_bytes() == std::string("\xff\x00", 2));
  CHECK(Value(0).int_bytes().empty());
}

TEST_CASE("shared and cyclic graphs compare and free", "[value]") {
  Graph g;
  Value l = g.list();
  l.append(l);
  Value m = g.list();
  m.append(m);
  CHECK(l == m);
  CHECK(l[0].is(l));
  Value shared = g.dict({{"k", 1}});
  Value outer = g.list({shared, shared});
  CHECK(outer[0].is(outer[1]));

  Graph other;
  Value copy = other.adopt(outer);
  CHECK(copy == outer);
  CHECK(copy[0].is(copy[1]));
  CHECK_FALSE(copy[0].is(shared));
  Value cyc = other.adopt(l);
  CHECK(cyc[0].is(cyc));
}

TEST_CASE("mutations are counted", "[value]") {
  Graph g;
  Value l = g.list();
  uint64_t before = g.mutation_count();
  l.append(1);
  CHECK(l.version() == 1);
  CHECK(g.mutation_count() == before + 1);
  Value d = g.dict();
  d.set_item("a", 1);
  CHECK(d.version() == 1);
}

TEST_CASE("a 100,000-deep nesting builds, compares and frees", "[value]") {
  Graph g;
  Value root = g.list();
  Value cur = root;
  for (int i = 0; i < 100000; ++i) {
    Value next = g.list();
    cur.append(next);
    cur = next;
  }
  Graph h;
  Value copy = h.adopt(root);
  CHECK(copy == root);
}

TEST_CASE("iteration visits elements in order", "[value]") {
  Graph g;
  Value s = g.set({3, 1, 2});
  s.discard(1);
  std::vector<int64_t> seen;
  for (Value v : s.elements()) seen.push_back(v.as_int());
  CHECK(seen == std::vector<int64_t>{3, 2});
  Value d = g.dict({{"x", 1}, {"y", 2}});
  std::string keys;
  for (auto [k, v] : d.items()) keys += std::string(k.as_str());
  CHECK(keys == "xy");
}

TEST_CASE("str and bytes hash by every byte of their text, at every length", "[value]") {
  Graph g;
  for (size_t n = 0; n <= 70; ++n) {
    std::string text(n, 'a');
    for (size_t i = 0; i < n; ++i) text[i] = static_cast<char>('a' + (i * 7) % 26);
    INFO("length " << n);
    // The same text at another address hashes the same.
    CHECK(g.str(text).hash() == g.str(std::string(text)).hash());
    CHECK(g.bytes(text).hash() == g.bytes(std::string(text)).hash());
    // Changing any one byte changes the hash.
    for (size_t i = 0; i < n; ++i) {
      std::string other = text;
      other[i] = 'Z';
      INFO("byte " << i);
      CHECK(g.str(other).hash() != g.str(text).hash());
    }
  }
}

// Small dicts are scanned and bigger ones indexed; erasures leave holes
// until a rebuild. Whatever the mix, a dict behaves as Python's does: the
// same keys, values and insertion order as a plain list of pairs.
TEST_CASE("dicts match a model through growth and erasure and re-insertion", "[value]") {
  Graph g;
  std::mt19937 random(20261126);
  for (int round = 0; round < 200; ++round) {
    Value d = g.dict();
    std::vector<std::pair<int64_t, int64_t>> model;
    const int64_t key_range = 1 + round % 24;  // from always-scanned to indexed tables
    for (int step = 0; step < 300; ++step) {
      int64_t key = static_cast<int64_t>(random() % key_range);
      auto in_model = std::find_if(model.begin(), model.end(), [&](const auto& kv) { return kv.first == key; });
      if (random() % 3 == 0) {
        CHECK(d.erase_key(key) == (in_model != model.end()));
        if (in_model != model.end()) model.erase(in_model);
      } else {
        d.set_item(key, step);
        if (in_model != model.end()) {
          in_model->second = step;
        } else {
          model.emplace_back(key, step);
        }
      }
      REQUIRE(d.size() == model.size());
    }
    size_t i = 0;
    for (const auto& [k, v] : d.items()) {
      REQUIRE(i < model.size());
      CHECK(k.as_int() == model[i].first);
      CHECK(v.as_int() == model[i].second);
      ++i;
    }
    CHECK(i == model.size());
    for (int64_t key = 0; key < key_range; ++key) {
      auto in_model = std::find_if(model.begin(), model.end(), [&](const auto& kv) { return kv.first == key; });
      std::optional<Value> got = d.get(key);
      REQUIRE(got.has_value() == (in_model != model.end()));
      if (got) CHECK(got->as_int() == in_model->second);
    }
  }
}

// With a fixed, known key, every 16-byte key whose first word equals the
// key's multiplier hashed alike: a pickle of such dict keys loaded in
// quadratic time. The key is random per process now.
TEST_CASE("bytes keys sharing a first word do not collide", "[value]") {
  Graph g;
  for (uint64_t first : {uint64_t{0}, uint64_t{0xe7037ed1a0b428dbull}, ~uint64_t{0}}) {
    std::set<uint64_t> hashes;
    for (uint64_t second = 0; second < 2000; ++second) {
      char key[16];
      std::memcpy(key, &first, 8);
      std::memcpy(key + 8, &second, 8);
      hashes.insert(*g.bytes(std::string_view(key, 16)).hash());
    }
    CHECK(hashes.size() == 2000);
  }
}
