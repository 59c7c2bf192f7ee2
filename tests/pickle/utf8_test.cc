// UTF-8 as the loader checks it, against CPython: every 1- and 2-byte
// sequence, every three-byte lead with every second byte and the boundary values
// of the third, every four-byte lead with boundary values after it,
// bare and inside ASCII so that sequences straddle the validator's 16- and
// 32-byte blocks; BINUNICODE checks with 'surrogatepass' (what pickle.py
// writes), STRING under encoding='utf-8' strictly. And str → bytes through
// _codecs.encode(str, 'latin1'), what protocols 0-2 make of every bytes
// object, at every length and mix of one- and two-byte characters; and
// str at protocol 0 (raw-unicode-escape) byte for byte as CPython writes it.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "pickle/pickler.h"
#include "pickle/unpickler.h"
#include "tests/testutil/testutil.h"

namespace shelf::pickle {
namespace {

std::string le32(size_t n) {
  std::string s;
  for (int shift = 0; shift < 32; shift += 8) s += static_cast<char>((n >> shift) & 0xff);
  return s;
}

bool loads_ok(const std::string& pickle, const UnpicklerOptions& options) {
  try {
    loads(pickle, options);
    return true;
  } catch (const UnpicklingError&) {
    return false;
  }
}

std::vector<std::string> utf8_candidates() {
  const std::vector<int> edges = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
  std::vector<std::string> sequences;
  for (int a = 0; a < 256; ++a) {
    sequences.push_back(std::string(1, static_cast<char>(a)));
    for (int b = 0; b < 256; ++b) sequences.push_back({static_cast<char>(a), static_cast<char>(b)});
  }
  std::vector<std::string> longer;
  for (int a = 0xE0; a < 0xF0; ++a)
    for (int b = 0; b < 256; ++b)
      for (int c : edges) longer.push_back({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
  for (int a = 0xF0; a < 0xF8; ++a)
    for (int b : edges)
      for (int c : edges)
        for (int d : edges)
          longer.push_back({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c), static_cast<char>(d)});
  std::vector<std::string> out = sequences;
  out.insert(out.end(), longer.begin(), longer.end());
  for (size_t before : {15, 47})
    for (const std::string& s : longer) out.push_back(std::string(before, 'a') + s + std::string(20, 'b'));
  return out;
}

TEST_CASE("interop: UTF-8 validity of str payloads agrees with CPython", "[unpickler][interop]") {
  std::vector<std::string> candidates = utf8_candidates();
  std::string input;
  for (const std::string& c : candidates) input += static_cast<char>(c.size()) + c;
  // One byte per candidate: 2 valid strictly, 1 only with surrogatepass, 0 invalid.
  const char* script = R"(
import sys
data = sys.stdin.buffer.read()
out = bytearray()
i = 0
while i < len(data):
    n = data[i]; s = data[i + 1:i + 1 + n]; i += 1 + n
    try:
        s.decode('utf-8'); out.append(50); continue
    except UnicodeDecodeError:
        pass
    try:
        s.decode('utf-8', 'surrogatepass'); out.append(49)
    except UnicodeDecodeError:
        out.append(48)
sys.stdout.buffer.write(bytes(out))
)";
  auto result = testutil::run_python("", script, input);
  if (!result) return;
  REQUIRE(result->exit_code == 0);
  REQUIRE(result->out.size() == candidates.size());
  UnpicklerOptions surrogatepass;
  UnpicklerOptions strict;
  strict.encoding = StringEncoding::kUtf8;
  size_t mismatches = 0;
  for (size_t k = 0; k < candidates.size(); ++k) {
    const std::string& c = candidates[k];
    char verdict = result->out[k];
    bool ours_sp = loads_ok("X" + le32(c.size()) + c + ".", surrogatepass);
    bool ours_strict = loads_ok("T" + le32(c.size()) + c + ".", strict);
    if (ours_sp != (verdict != '0') || ours_strict != (verdict == '2')) {
      if (++mismatches <= 10) FAIL_CHECK("candidate " << testutil::to_hex(c) << ": CPython says " << verdict);
    }
  }
  CHECK(mismatches == 0);
}

// _codecs.encode(str, 'latin1') at protocol 2, as pickle.py writes bytes.
std::string encode_pickle(const std::string& utf8) {
  return "\200\002c_codecs\nencode\nX" + le32(utf8.size()) + utf8 + "X" + le32(6) + "latin1\206R.";
}

void append_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

TEST_CASE("_codecs.encode(str, 'latin1') gives the bytes back at every length and mix", "[unpickler]") {
  std::mt19937 rng(7);
  for (int round = 0; round < 3000; ++round) {
    size_t length = round < 200 ? round % 100 : rng() % 300;
    unsigned high_share = rng() % 5;  // 0: ASCII only ... 4: all above 0x7F
    std::string bytes;
    std::string utf8;
    for (size_t k = 0; k < length; ++k) {
      unsigned c = (rng() % 4 < high_share) ? 0x80 + rng() % 0x80 : rng() % 0x80;
      if (rng() % 16 == 0) c = "\\\n\r\0\x1a"[rng() % 5];  // what raw-unicode-escape escapes
      bytes += static_cast<char>(c);
      append_utf8(utf8, c);
    }
    INFO("round " << round << ", text " << testutil::to_hex(utf8));
    Value v = loads(encode_pickle(utf8));
    REQUIRE(v.kind() == Kind::Bytes);
    CHECK(v.as_bytes() == bytes);
    // Protocols 0 and 1 write the text raw-unicode-escaped (\u005c for a
    // backslash, \u000a for a newline, ...), read back through UNICODE.
    for (int protocol : {0, 1}) CHECK(loads(dumps(v, protocol)).as_bytes() == bytes);
    if (length == 0) continue;
    // One character above U+00FF anywhere: CPython raises UnicodeEncodeError;
    // the call stays inert (a known difference, docs/security.md).
    std::string wide;
    size_t at = rng() % length;
    for (size_t k = 0; k < length; ++k) append_utf8(wide, k == at ? 0x100 + rng() % 0x1000 : static_cast<unsigned char>(bytes[k]));
    CHECK(loads(encode_pickle(wide)).kind() == Kind::Instance);
  }
}

TEST_CASE("interop: str and bytes at protocol 0 are CPython's raw-unicode-escape, byte for byte", "[pickler][interop]") {
  // Runs of Latin-1 go out in one step and the rest is escaped: mixes of
  // ASCII, the five escaped bytes, U+0080..U+00FF, the BMP beyond, astral
  // code points and lone surrogates, at random lengths.
  std::mt19937 rng(11);
  const unsigned escaped[] = {'\\', '\n', '\r', 0, 0x1a};
  std::vector<std::string> texts;
  for (int round = 0; round < 400; ++round) {
    std::string utf8;
    size_t length = rng() % 70;
    for (size_t k = 0; k < length; ++k) {
      unsigned kind = rng() % 8;
      unsigned cp = kind < 3   ? 0x20 + rng() % 0x5F
                    : kind == 3 ? escaped[rng() % 5]
                    : kind < 6  ? 0x80 + rng() % 0x80
                    : kind == 6 ? 0x100 + rng() % 0xFF00
                                : 0x10000 + rng() % 0x100000;
      append_utf8(utf8, cp);
    }
    texts.push_back(utf8);
  }
  // Then bytes, which protocol 0 writes as _codecs.encode(their Latin-1
  // text, 'latin1'): straight from the bytes.
  const size_t first_bytes = texts.size();
  for (int round = 0; round < 200; ++round) {
    std::string data(rng() % 70, '\0');
    for (char& c : data) c = static_cast<char>(rng() % 8 == 0 ? escaped[rng() % 5] : rng() % 256);
    texts.push_back(data);
  }
  std::string input;
  for (size_t k = 0; k < texts.size(); ++k)
    input += (k < first_bytes ? "s" : "b") + le32(texts[k].size()) + texts[k];
  const char* script = R"(
import pickle, struct, sys
data = sys.stdin.buffer.read()
i = 0
while i < len(data):
    kind = data[i:i + 1]; (n,) = struct.unpack_from('<I', data, i + 1); i += 5
    s = data[i:i + n]; i += n
    p = pickle.dumps(s.decode('utf-8', 'surrogatepass') if kind == b's' else s, 0)
    sys.stdout.buffer.write(struct.pack('<I', len(p)) + p)
)";
  auto result = testutil::run_python("", script, input);
  if (!result) return;
  REQUIRE(result->exit_code == 0);
  size_t at = 0;
  for (size_t k = 0; k < texts.size(); ++k) {
    const std::string& t = texts[k];
    REQUIRE(at + 4 <= result->out.size());
    uint32_t n = 0;
    for (int k = 3; k >= 0; --k) n = (n << 8) | static_cast<unsigned char>(result->out[at + k]);
    std::string cpython = result->out.substr(at + 4, n);
    at += 4 + n;
    Graph g;
    bool is_str = k < first_bytes;
    Value v = is_str ? g.str(t) : g.bytes(t);
    std::string ours = dumps(v, 0);
    INFO((is_str ? "str " : "bytes ") << testutil::to_hex(t));
    CHECK(testutil::to_hex(ours) == testutil::to_hex(cpython));
    Value back = loads(ours);
    CHECK((is_str ? back.as_str() : back.as_bytes()) == t);
  }
}

}  // namespace
}  // namespace shelf::pickle
