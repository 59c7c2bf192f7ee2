#include "pickle/value.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "pickle/internal/bigint.h"
#include "pickle/internal/nodes.h"
#include "pickle/internal/utf8.h"

namespace shelf::pickle {

using internal::Arena;
using internal::BigInt;
using internal::BigIntNode;
using internal::BufferNode;
using internal::ByteArrayNode;
using internal::ComplexNode;
using internal::GlobalNode;
using internal::HashEntry;
using internal::HashNode;
using internal::InstanceNode;
using internal::ListNode;
using internal::MutableNode;
using internal::Node;
using internal::PersistentRefNode;
using internal::Slot;
using internal::TextNode;
using internal::TupleNode;

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::None: return "NoneType";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::Complex: return "complex";
    case Kind::Bytes: return "bytes";
    case Kind::Str: return "str";
    case Kind::ByteArray: return "bytearray";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Set: return "set";
    case Kind::FrozenSet: return "frozenset";
    case Kind::Global: return "global";
    case Kind::Instance: return "object";
    case Kind::PersistentRef: return "persistent_ref";
    case Kind::Buffer: return "PickleBuffer";
  }
  return "?";
}

// ---------------------------------------------------------------------------
// Arena

namespace internal {

namespace {

constexpr size_t kMinCachedBlock = size_t{64} << 10;
constexpr int kMinCachedClass = 16;  // log2(kMinCachedBlock)
// Bigger blocks are not kept: a decode that needs them is long enough for
// page faults not to matter, and keeping them would raise its peak memory.
constexpr int kMaxCachedClass = 22;  // 4 MiB
constexpr size_t kMaxCachedBytes = size_t{16} << 20;  // per thread
constexpr size_t kMaxBlocksPerClass = 4;

int block_class(size_t bytes) { return std::bit_width(bytes - 1); }  // ceil(log2)

struct BlockCache {
  void* blocks[kMaxCachedClass + 1][kMaxBlocksPerClass] = {};
  size_t count[kMaxCachedClass + 1] = {};
  size_t cached_bytes = 0;
  ~BlockCache();
};
// Set when the thread's cache is gone (thread exit): blocks freed after
// that, by static destructors, go straight back to the system.
thread_local bool block_cache_dead = false;
thread_local BlockCache block_cache;

BlockCache::~BlockCache() {
  for (int c = kMinCachedClass; c <= kMaxCachedClass; ++c)
    for (size_t i = 0; i < count[c]; ++i) ::operator delete(blocks[c][i]);
  block_cache_dead = true;
}

}  // namespace

void* block_allocate(size_t bytes) {
  if (bytes < kMinCachedBlock) return ::operator new(bytes);
  int c = block_class(bytes);
  if (c <= kMaxCachedClass && !block_cache_dead) {
    BlockCache& cache = block_cache;
    if (cache.count[c] > 0) {
      cache.cached_bytes -= size_t{1} << c;
      return cache.blocks[c][--cache.count[c]];
    }
  }
  return ::operator new(c <= kMaxCachedClass ? size_t{1} << c : bytes);
}

void block_free(void* p, size_t bytes) noexcept {
  if (p == nullptr) return;
  if (bytes >= kMinCachedBlock && !block_cache_dead) {
    int c = block_class(bytes);
    BlockCache& cache = block_cache;
    if (c <= kMaxCachedClass && cache.count[c] < kMaxBlocksPerClass &&
        cache.cached_bytes + (size_t{1} << c) <= kMaxCachedBytes) {
      cache.blocks[c][cache.count[c]++] = p;
      cache.cached_bytes += size_t{1} << c;
      return;
    }
  }
  ::operator delete(p);
}

void Arena::hold(std::shared_ptr<const void> owner) { make<HeldNode>(std::move(owner)); }

Arena::~Arena() {
  for (OwnedLink* link = owned_; link != nullptr; link = link->next) {
    auto* node = reinterpret_cast<Node*>(link + 1);
    switch (node->kind) {
      case Kind::ByteArray: static_cast<ByteArrayNode*>(node)->~ByteArrayNode(); break;
      case Kind::List: static_cast<ListNode*>(node)->~ListNode(); break;
      case Kind::Dict:
      case Kind::Set:
      case Kind::FrozenSet: static_cast<HashNode*>(node)->~HashNode(); break;
      case Kind::Instance: static_cast<InstanceNode*>(node)->~InstanceNode(); break;
      case Kind::None: static_cast<internal::HeldNode*>(node)->~HeldNode(); break;
      default: break;
    }
  }
  while (chunks_ != nullptr) {
    ChunkHeader* prev = chunks_->prev;
    block_free(chunks_, chunks_->bytes);
    chunks_ = prev;
  }
}

char* Arena::new_chunk(size_t size) {
  auto* header = static_cast<ChunkHeader*>(block_allocate(sizeof(ChunkHeader) + size));
  header->prev = chunks_;
  header->bytes = sizeof(ChunkHeader) + size;
  chunks_ = header;
  reserved_ += size;
  return reinterpret_cast<char*>(header + 1);
}

void* Arena::allocate_slow(size_t size, size_t align) {
  size_t need = size + align;
  if (need > next_chunk_ / 4) {
    // A large payload gets a chunk of its own, so the current chunk's
    // remaining space is not wasted.
    uintptr_t base = reinterpret_cast<uintptr_t>(new_chunk(need));
    return reinterpret_cast<void*>((base + align - 1) & ~(uintptr_t{align} - 1));
  }
  // Header and chunk together make a power of two, as block_allocate
  // would round them up to.
  capacity_ = next_chunk_ - sizeof(ChunkHeader);
  current_ = new_chunk(capacity_);
  used_ = 0;
  if (next_chunk_ < (size_t{1} << 20)) next_chunk_ *= 2;
  return allocate(size, align);
}

}  // namespace internal

// ---------------------------------------------------------------------------
// Hashing and equality

namespace internal {
namespace {

constexpr size_t kMaxHashDepth = 1000;

uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

const BigIntNode* big(const Slot& s) { return static_cast<const BigIntNode*>(s.node); }

BigInt to_bigint(const Slot& s) {
  if (s.kind == Kind::Bool) return BigInt::from_int64(s.b ? 1 : 0);
  if (s.is_big) return BigInt::from_le(big(s)->bytes);
  return BigInt::from_int64(s.i);
}

std::optional<uint64_t> hash_at_depth(const Slot& s, size_t depth) {
  if (depth > kMaxHashDepth) throw ValueError("value nested too deeply to hash");
  switch (s.kind) {
    case Kind::None: return 0x5bd1e995u;
    case Kind::Bool: return static_cast<uint64_t>(s.b ? 1 : 0);
    case Kind::Int:
      if (s.is_big) return static_cast<uint64_t>(to_bigint(s).python_hash());
      return static_cast<uint64_t>(python_hash_int64(s.i));
    case Kind::Float: return static_cast<uint64_t>(python_hash_double(s.f));
    case Kind::Complex: {
      auto* c = static_cast<const ComplexNode*>(s.node);
      return static_cast<uint64_t>(python_hash_double(c->real)) +
             1000003u * static_cast<uint64_t>(python_hash_double(c->imag));
    }
    case Kind::Str: return text_hash(static_cast<const TextNode*>(s.node)->data);
    case Kind::Bytes: return mix(text_hash(static_cast<const TextNode*>(s.node)->data) ^ 0xb17e5);
    case Kind::Tuple: {
      auto* t = static_cast<const TupleNode*>(s.node);
      uint64_t h = 0x27d4eb2f165667c5ull;
      for (uint32_t i = 0; i < t->size; ++i) {
        auto item = hash_at_depth(t->items[i], depth + 1);
        if (!item) return std::nullopt;
        h = mix(h ^ *item) + i;
      }
      return h;
    }
    case Kind::FrozenSet: {
      // Order-independent, as frozenset's hash is.
      uint64_t h = 0x1f123bb5u;
      for (const auto& e : static_cast<const HashNode*>(s.node)->table.entries)
        if (!e.erased) h += mix(e.hash);
      return h;
    }
    case Kind::Global: {
      auto* g = static_cast<const GlobalNode*>(s.node);
      return mix(std::hash<std::string_view>{}(g->module) * 31 + std::hash<std::string_view>{}(g->name));
    }
    case Kind::Instance:
    case Kind::PersistentRef: return mix(reinterpret_cast<uintptr_t>(s.node));
    case Kind::ByteArray:
    case Kind::List:
    case Kind::Dict:
    case Kind::Set:
    case Kind::Buffer: return std::nullopt;
  }
  return std::nullopt;
}

bool is_numeric(Kind k) { return k == Kind::Bool || k == Kind::Int || k == Kind::Float || k == Kind::Complex; }
bool is_integral(Kind k) { return k == Kind::Bool || k == Kind::Int; }

bool int_equals_double(const Slot& i, double d) {
  if (!std::isfinite(d) || std::floor(d) != d) return false;
  if (!i.is_big && std::fabs(d) < 9.0e18) return static_cast<double>(static_cast<int64_t>(d)) == d &&
                                                  static_cast<int64_t>(d) == (i.kind == Kind::Bool ? i.b : i.i);
  return to_bigint(i).compare(BigInt::from_double(d)) == 0;
}

bool numeric_equal(const Slot& a, const Slot& b) {
  auto parts = [](const Slot& s, double& re, double& im) {
    auto* c = static_cast<const ComplexNode*>(s.node);
    re = c->real;
    im = c->imag;
  };
  if (a.kind == Kind::Complex || b.kind == Kind::Complex) {
    if (a.kind == Kind::Complex && b.kind == Kind::Complex) {
      double ar, ai, br, bi;
      parts(a, ar, ai);
      parts(b, br, bi);
      return ar == br && ai == bi;
    }
    const Slot& c = a.kind == Kind::Complex ? a : b;
    const Slot& o = a.kind == Kind::Complex ? b : a;
    double re, im;
    parts(c, re, im);
    if (im != 0) return false;
    Slot real_slot = float_slot(re);
    return numeric_equal(o, real_slot);
  }
  if (is_integral(a.kind) && is_integral(b.kind)) {
    if (a.is_big || b.is_big) {
      if (a.is_big && b.is_big) return big(a)->bytes == big(b)->bytes;
      return false;  // a big int never fits in int64
    }
    int64_t av = a.kind == Kind::Bool ? a.b : a.i;
    int64_t bv = b.kind == Kind::Bool ? b.b : b.i;
    return av == bv;
  }
  if (a.kind == Kind::Float && b.kind == Kind::Float) return a.f == b.f;
  return a.kind == Kind::Float ? int_equals_double(b, a.f) : int_equals_double(a, b.f);
}

bool float_bits_equal(double a, double b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
}

std::string_view byte_view(const Slot& s) {
  switch (s.kind) {
    case Kind::Bytes:
    case Kind::Str: return static_cast<const TextNode*>(s.node)->data;
    case Kind::ByteArray: return static_cast<const ByteArrayNode*>(s.node)->data;
    case Kind::Buffer: return static_cast<const BufferNode*>(s.node)->data;
    default: return {};
  }
}

bool bytes_like(Kind k) { return k == Kind::Bytes || k == Kind::ByteArray || k == Kind::Buffer; }
bool set_like(Kind k) { return k == Kind::Set || k == Kind::FrozenSet; }

struct PairHash {
  size_t operator()(const std::pair<const Node*, const Node*>& p) const {
    return std::hash<const void*>{}(p.first) * 31 + std::hash<const void*>{}(p.second);
  }
};

// Deep equality with an explicit stack (no recursion on depth) and a set of
// node pairs already assumed equal (so cycles terminate).
class EqualityWalk {
 public:
  explicit EqualityWalk(bool strict) : strict_(strict) {}

  bool run(const Slot& a, const Slot& b) {
    stack_.push_back({a, b});
    while (!stack_.empty()) {
      auto [x, y] = stack_.back();
      stack_.pop_back();
      if (!step(x, y)) return false;
    }
    return true;
  }

 private:
  bool step(const Slot& a, const Slot& b) {
    if (strict_ && (a.kind != b.kind)) return false;
    if (is_numeric(a.kind) || is_numeric(b.kind)) {
      if (!is_numeric(a.kind) || !is_numeric(b.kind)) return false;
      if (!strict_) return numeric_equal(a, b);
      switch (a.kind) {
        case Kind::Float: return float_bits_equal(a.f, b.f);
        case Kind::Complex: {
          auto* ca = static_cast<const ComplexNode*>(a.node);
          auto* cb = static_cast<const ComplexNode*>(b.node);
          return float_bits_equal(ca->real, cb->real) && float_bits_equal(ca->imag, cb->imag);
        }
        default: return numeric_equal(a, b);
      }
    }
    if (a.kind == Kind::None || b.kind == Kind::None) return a.kind == b.kind;
    if (bytes_like(a.kind) && bytes_like(b.kind)) {
      if (strict_ && a.kind == Kind::Buffer &&
          static_cast<const BufferNode*>(a.node)->readonly != static_cast<const BufferNode*>(b.node)->readonly)
        return false;
      return byte_view(a) == byte_view(b);
    }
    bool same_family = a.kind == b.kind || (set_like(a.kind) && set_like(b.kind));
    if (!same_family) return false;
    if (a.node == b.node) return true;
    if (!assumed_.insert({a.node, b.node}).second) return true;
    switch (a.kind) {
      case Kind::Str: return byte_view(a) == byte_view(b);
      case Kind::Tuple: {
        auto* ta = static_cast<const TupleNode*>(a.node);
        auto* tb = static_cast<const TupleNode*>(b.node);
        if (ta->size != tb->size) return false;
        for (uint32_t i = ta->size; i-- > 0;) stack_.push_back({ta->items[i], tb->items[i]});
        return true;
      }
      case Kind::List: {
        auto& la = static_cast<const ListNode*>(a.node)->items;
        auto& lb = static_cast<const ListNode*>(b.node)->items;
        if (la.size() != lb.size()) return false;
        for (size_t i = la.size(); i-- > 0;) stack_.push_back({la[i], lb[i]});
        return true;
      }
      case Kind::Dict:
      case Kind::Set:
      case Kind::FrozenSet: {
        auto& ha = static_cast<const HashNode*>(a.node)->table;
        auto& hb = static_cast<const HashNode*>(b.node)->table;
        if (ha.live != hb.live) return false;
        // Keys hashed by identity (inert instances, persistent references)
        // are never found in another graph. Strictly, a round trip keeps
        // the order of the entries, so such a key is matched with the entry
        // at the same position, and compared by value like any other slot.
        size_t in_order = 0;
        for (const HashEntry& e : ha.entries) {
          if (e.erased) continue;
          while (hb.entries[in_order].erased) ++in_order;
          const HashEntry& same_position = hb.entries[in_order++];
          int64_t pos = hb.find(e.key, e.hash);
          if (pos < 0 && !strict_) return false;
          const HashEntry& other = pos < 0 ? same_position : hb.entries[static_cast<size_t>(pos)];
          if (strict_) stack_.push_back({e.key, other.key});
          if (a.kind == Kind::Dict) stack_.push_back({e.value, other.value});
        }
        return true;
      }
      case Kind::Global: {
        auto* ga = static_cast<const GlobalNode*>(a.node);
        auto* gb = static_cast<const GlobalNode*>(b.node);
        return ga->module == gb->module && ga->name == gb->name;
      }
      case Kind::Instance: {
        auto* ia = static_cast<const InstanceNode*>(a.node);
        auto* ib = static_cast<const InstanceNode*>(b.node);
        if (ia->how != ib->how || ia->has_state != ib->has_state || ia->list_items.size() != ib->list_items.size() ||
            ia->dict_items.size() != ib->dict_items.size())
          return false;
        stack_.push_back({ia->callable, ib->callable});
        stack_.push_back({ia->args, ib->args});
        stack_.push_back({ia->kwargs, ib->kwargs});
        if (ia->has_state) stack_.push_back({ia->state, ib->state});
        for (size_t i = 0; i < ia->list_items.size(); ++i) stack_.push_back({ia->list_items[i], ib->list_items[i]});
        for (size_t i = 0; i < ia->dict_items.size(); ++i) {
          stack_.push_back({ia->dict_items[i].first, ib->dict_items[i].first});
          stack_.push_back({ia->dict_items[i].second, ib->dict_items[i].second});
        }
        return true;
      }
      case Kind::PersistentRef:
        stack_.push_back({static_cast<const PersistentRefNode*>(a.node)->pid,
                          static_cast<const PersistentRefNode*>(b.node)->pid});
        return true;
      default: return false;
    }
  }

  bool strict_;
  std::vector<std::pair<Slot, Slot>> stack_;
  std::unordered_set<std::pair<const Node*, const Node*>, PairHash> assumed_;
};

bool same_object(const Slot& a, const Slot& b) {
  if (a.kind != b.kind) return false;
  if (a.is_node()) return a.node == b.node;
  switch (a.kind) {
    case Kind::None: return true;
    case Kind::Bool: return a.b == b.b;
    case Kind::Int: return a.i == b.i;
    case Kind::Float: return std::bit_cast<uint64_t>(a.f) == std::bit_cast<uint64_t>(b.f);
    default: return false;
  }
}

// Key equality as dict lookups do it: identity first, then ==, where
// instances (which would use their class's __eq__) compare by identity.
bool keys_equal(const Slot& a, const Slot& b) {
  if (same_object(a, b)) return true;
  if (a.kind == Kind::Instance || b.kind == Kind::Instance || a.kind == Kind::PersistentRef ||
      b.kind == Kind::PersistentRef)
    return false;
  if (a.kind == Kind::Str && b.kind == Kind::Str) return byte_view(a) == byte_view(b);
  return EqualityWalk(false).run(a, b);
}

}  // namespace

std::optional<uint64_t> slot_hash(const Slot& s) { return hash_at_depth(s, 0); }

bool slots_equal(const Slot& a, const Slot& b, bool strict) { return EqualityWalk(strict).run(a, b); }

// ---------------------------------------------------------------------------
// HashTable

// CPython's probe sequence: every slot is reached, and all hash bits matter.
size_t HashTable::next_probe(size_t i, size_t& perturb) const {
  perturb >>= 5;
  return (i * 5 + perturb + 1) & mask_;
}

size_t HashTable::free_slot(uint64_t hash) const {
  size_t i = hash & mask_;
  for (size_t perturb = hash; index_[i] >= 0;) i = next_probe(i, perturb);
  return i;
}

int64_t HashTable::find_linear(const Slot& key, uint64_t hash) const {
  for (size_t pos = 0; pos < entries.size(); ++pos) {
    const HashEntry& e = entries[pos];
    if (e.hash == hash && !e.erased && keys_equal(e.key, key)) return static_cast<int64_t>(pos);
  }
  return -1;
}

int64_t HashTable::find(const Slot& key, uint64_t hash) const {
  if (index_ == nullptr) return find_linear(key, hash);
  for (size_t i = hash & mask_, perturb = hash;; i = next_probe(i, perturb)) {
    int32_t pos = index_[i];
    if (pos < 0) return -1;
    const HashEntry& e = entries[static_cast<size_t>(pos)];
    if (!e.erased && e.hash == hash && keys_equal(e.key, key)) return pos;
  }
}

void HashTable::free_index() {
  if (index_ == nullptr) return;
  GraphAllocator<int32_t>(*entries.get_allocator().arena()).deallocate(index_, index_size());
  index_ = nullptr;
  mask_ = 0;
}

void HashTable::rebuild(size_t min_capacity) {
  // Drop erased entries, then index them (at least twice the entries) when
  // there are too many to scan.
  if (live != entries.size()) {
    std::erase_if(entries, [](const HashEntry& e) { return e.erased; });
  }
  free_index();
  size_t n = std::max(min_capacity, entries.size());
  if (n <= kLinearMax) return;
  size_t capacity = 16;
  while (capacity < 2 * n + 2) capacity *= 2;
  index_ = GraphAllocator<int32_t>(*entries.get_allocator().arena()).allocate(capacity);
  std::fill(index_, index_ + capacity, -1);
  mask_ = capacity - 1;
  for (size_t pos = 0; pos < entries.size(); ++pos) {
    uint64_t hash = entries[pos].hash;
    index_[free_slot(hash)] = static_cast<int32_t>(pos);
  }
}

void HashTable::reserve(size_t n) {
  size_t wanted = entries.size() + n;
  if (wanted > kLinearMax && index_too_small(wanted)) rebuild(wanted);
  entries.reserve(wanted);
}

bool HashTable::insert(const Slot& key, uint64_t hash, const Slot& value) {
  if (index_ == nullptr || index_too_small(entries.size() + 1)) {
    // A scanned table, or a new key that would need a bigger index: look
    // the key up first, as replacing a value never rebuilds (entries keep
    // their positions).
    int64_t pos = find(key, hash);
    if (pos >= 0) {
      entries[static_cast<size_t>(pos)].value = value;
      return false;
    }
    // Rebuilding drops erased entries, and indexes the table only when it
    // is too big to scan.
    if (index_ != nullptr || entries.size() >= kLinearMax) rebuild(live + 1);
    if (index_ == nullptr) {
      entries.push_back({hash, key, value, false});
      ++live;
      return true;
    }
  }
  // One probe finds the key or, failing that, the empty index slot where it
  // goes (erased entries keep their slots until a rebuild: the probe passes
  // them as find() does).
  for (size_t i = hash & mask_, perturb = hash;; i = next_probe(i, perturb)) {
    int32_t pos = index_[i];
    if (pos < 0) {
      index_[i] = static_cast<int32_t>(entries.size());
      entries.push_back({hash, key, value, false});
      ++live;
      return true;
    }
    HashEntry& e = entries[static_cast<size_t>(pos)];
    if (!e.erased && e.hash == hash && keys_equal(e.key, key)) {
      e.value = value;
      return false;
    }
  }
}

bool HashTable::erase(const Slot& key, uint64_t hash) {
  int64_t pos = find(key, hash);
  if (pos < 0) return false;
  entries[static_cast<size_t>(pos)].erased = true;
  --live;
  if (live * 2 < entries.size()) rebuild(live);
  return true;
}

void HashTable::clear() {
  entries.clear();
  free_index();
  live = 0;
}

Slot make_int_from_le(Arena& arena, std::string_view le) {
  if (le.size() <= 8) {
    uint64_t v = 0;
    for (size_t i = 0; i < le.size(); ++i) v |= uint64_t{static_cast<uint8_t>(le[i])} << (8 * i);
    if (!le.empty() && le.size() < 8 && (static_cast<uint8_t>(le.back()) & 0x80))
      v |= ~uint64_t{0} << (8 * le.size());  // sign-extend
    return int_slot(static_cast<int64_t>(v));
  }
  BigInt b = BigInt::from_le(le);
  if (b.fits_int64()) return int_slot(b.to_int64());
  return node_slot(arena.make<BigIntNode>(arena.copy_bytes(b.to_le())));
}

}  // namespace internal

using internal::ValueAccess;

// ---------------------------------------------------------------------------
// Value: handles

Value::Value(Arena* arena, Slot slot) noexcept : arena_(slot.is_node() ? arena : nullptr), slot_(slot) {
  if (arena_) arena_->ref();
}

Value::Value(const Value& other) noexcept : arena_(other.arena_), slot_(other.slot_) {
  if (arena_) arena_->ref();
}

Value::Value(Value&& other) noexcept : arena_(other.arena_), slot_(other.slot_) {
  other.arena_ = nullptr;
  other.slot_ = Slot();
}

Value& Value::operator=(const Value& other) noexcept {
  if (other.arena_) other.arena_->ref();
  if (arena_) arena_->unref();
  arena_ = other.arena_;
  slot_ = other.slot_;
  return *this;
}

Value& Value::operator=(Value&& other) noexcept {
  if (this != &other) {
    if (arena_) arena_->unref();
    arena_ = other.arena_;
    slot_ = other.slot_;
    other.arena_ = nullptr;
    other.slot_ = Slot();
  }
  return *this;
}

Value::~Value() {
  if (arena_) arena_->unref();
}

Graph Value::graph() const { return arena_ ? Graph(arena_) : Graph(); }

bool Value::is(const Value& other) const { return internal::same_object(slot_, other.slot_); }

const void* Value::identity() const { return slot_.is_node() ? slot_.node : nullptr; }

namespace {

[[noreturn]] void wrong_kind(const Value& v, std::string_view wanted) {
  throw ValueError("expected " + std::string(wanted) + ", got " + std::string(v.type_name()));
}

template <typename NodeT>
NodeT* node_as(const Value& v, Kind kind, std::string_view wanted) {
  const Slot& s = ValueAccess::slot(v);
  if (s.kind != kind || !s.is_node()) wrong_kind(v, wanted);
  return static_cast<NodeT*>(s.node);
}

MutableNode* touch(Arena* arena, Node* node) {
  auto* m = static_cast<MutableNode*>(node);
  ++m->version;
  ++arena->mutations;
  return m;
}

uint64_t hash_or_throw(const Slot& key) {
  auto h = internal::slot_hash(key);
  if (!h) throw ValueError("unhashable type: '" + std::string(kind_name(key.kind)) + "'");
  return *h;
}

}  // namespace

// --- scalars ---------------------------------------------------------------

bool Value::as_bool() const {
  if (kind() != Kind::Bool) wrong_kind(*this, "bool");
  return slot_.b;
}

bool Value::fits_int64() const { return kind() == Kind::Bool || (kind() == Kind::Int && !slot_.is_big); }

int64_t Value::as_int() const {
  if (kind() == Kind::Bool) return slot_.b ? 1 : 0;
  if (kind() != Kind::Int) wrong_kind(*this, "int");
  if (slot_.is_big) throw ValueError("int too large for int64: " + int_decimal());
  return slot_.i;
}

std::string Value::int_bytes() const {
  if (kind() != Kind::Int && kind() != Kind::Bool) wrong_kind(*this, "int");
  if (slot_.is_big) return std::string(internal::big(slot_)->bytes);
  return BigInt::from_int64(as_int()).to_le();
}

std::string Value::int_decimal() const {
  if (kind() != Kind::Int && kind() != Kind::Bool) wrong_kind(*this, "int");
  if (slot_.is_big) return internal::to_bigint(slot_).to_decimal();
  return std::to_string(as_int());
}

double Value::as_float() const {
  if (kind() != Kind::Float) wrong_kind(*this, "float");
  return slot_.f;
}

std::complex<double> Value::as_complex() const {
  auto* c = node_as<ComplexNode>(*this, Kind::Complex, "complex");
  return {c->real, c->imag};
}

std::string_view Value::as_str() const { return node_as<TextNode>(*this, Kind::Str, "str")->data; }

std::string_view Value::as_bytes() const {
  if (!internal::bytes_like(kind())) wrong_kind(*this, "bytes-like object");
  return internal::byte_view(slot_);
}

bool Value::readonly() const { return node_as<BufferNode>(*this, Kind::Buffer, "PickleBuffer")->readonly; }

// --- containers --------------------------------------------------------------

size_t Value::size() const {
  switch (kind()) {
    case Kind::Tuple: return static_cast<const TupleNode*>(slot_.node)->size;
    case Kind::List: return static_cast<const ListNode*>(slot_.node)->items.size();
    case Kind::Dict:
    case Kind::Set:
    case Kind::FrozenSet: return static_cast<const HashNode*>(slot_.node)->table.live;
    case Kind::Bytes:
    case Kind::Str:
    case Kind::ByteArray:
    case Kind::Buffer: return internal::byte_view(slot_).size();
    default: wrong_kind(*this, "sized container");
  }
}

Value Value::operator[](size_t i) const {
  if (kind() == Kind::Tuple) {
    auto* t = static_cast<const TupleNode*>(slot_.node);
    if (i >= t->size) throw ValueError("tuple index out of range");
    return Value(arena_, t->items[i]);
  }
  auto& items = node_as<ListNode>(*this, Kind::List, "list or tuple")->items;
  if (i >= items.size()) throw ValueError("list index out of range");
  return Value(arena_, items[i]);
}

Value::Elements Value::elements() const {
  switch (kind()) {
    case Kind::Tuple:
    case Kind::List:
    case Kind::Dict:
    case Kind::Set:
    case Kind::FrozenSet: return Elements(*this);
    default: wrong_kind(*this, "iterable container");
  }
}

Value::Items Value::items() const {
  node_as<HashNode>(*this, Kind::Dict, "dict");
  return Items(*this);
}

std::optional<Value> Value::get(const Item& key) const {
  auto* h = node_as<HashNode>(*this, Kind::Dict, "dict");
  Slot k = internal::slot_in(*arena_, key);
  int64_t pos = h->table.find(k, hash_or_throw(k));
  if (pos < 0) return std::nullopt;
  return Value(arena_, h->table.entries[static_cast<size_t>(pos)].value);
}

bool Value::contains(const Item& key) const {
  if (kind() != Kind::Dict && kind() != Kind::Set && kind() != Kind::FrozenSet) wrong_kind(*this, "dict or set");
  auto* h = static_cast<const HashNode*>(slot_.node);
  Slot k = internal::slot_in(*arena_, key);
  auto hash = internal::slot_hash(k);
  return hash && h->table.find(k, *hash) >= 0;
}

void Value::append(const Item& item) {
  auto* l = node_as<ListNode>(*this, Kind::List, "list");
  Slot s = internal::slot_in(*arena_, item);
  touch(arena_, l);
  l->items.push_back(s);
}

void Value::extend(std::initializer_list<Item> items) {
  for (const Item& item : items) append(item);
}

void Value::set(size_t i, const Item& item) {
  auto* l = node_as<ListNode>(*this, Kind::List, "list");
  if (i >= l->items.size()) throw ValueError("list assignment index out of range");
  Slot s = internal::slot_in(*arena_, item);
  touch(arena_, l);
  l->items[i] = s;
}

void Value::insert(size_t i, const Item& item) {
  auto* l = node_as<ListNode>(*this, Kind::List, "list");
  Slot s = internal::slot_in(*arena_, item);
  touch(arena_, l);
  l->items.insert(l->items.begin() + static_cast<std::ptrdiff_t>(std::min(i, l->items.size())), s);
}

void Value::erase(size_t i) {
  auto* l = node_as<ListNode>(*this, Kind::List, "list");
  if (i >= l->items.size()) throw ValueError("list index out of range");
  touch(arena_, l);
  l->items.erase(l->items.begin() + static_cast<std::ptrdiff_t>(i));
}

void Value::set_item(const Item& key, const Item& value) {
  auto* h = node_as<HashNode>(*this, Kind::Dict, "dict");
  Slot k = internal::slot_in(*arena_, key);
  uint64_t hash = hash_or_throw(k);
  Slot v = internal::slot_in(*arena_, value);
  touch(arena_, h);
  h->table.insert(k, hash, v);
}

bool Value::erase_key(const Item& key) {
  auto* h = node_as<HashNode>(*this, Kind::Dict, "dict");
  Slot k = internal::slot_in(*arena_, key);
  if (!h->table.erase(k, hash_or_throw(k))) return false;
  touch(arena_, h);
  return true;
}

void Value::add(const Item& item) {
  auto* h = node_as<HashNode>(*this, Kind::Set, "set");
  Slot k = internal::slot_in(*arena_, item);
  uint64_t hash = hash_or_throw(k);
  if (h->table.find(k, hash) >= 0) return;
  touch(arena_, h);
  h->table.insert(k, hash, Slot());
}

bool Value::discard(const Item& item) {
  auto* h = node_as<HashNode>(*this, Kind::Set, "set");
  Slot k = internal::slot_in(*arena_, item);
  if (!h->table.erase(k, hash_or_throw(k))) return false;
  touch(arena_, h);
  return true;
}

void Value::clear() {
  switch (kind()) {
    case Kind::List: static_cast<ListNode*>(touch(arena_, slot_.node))->items.clear(); return;
    case Kind::Dict:
    case Kind::Set: static_cast<HashNode*>(touch(arena_, slot_.node))->table.clear(); return;
    case Kind::ByteArray: static_cast<ByteArrayNode*>(touch(arena_, slot_.node))->data.clear(); return;
    default: wrong_kind(*this, "list, dict, set or bytearray");
  }
}

void Value::assign_bytes(std::string_view data) {
  auto* b = node_as<ByteArrayNode>(*this, Kind::ByteArray, "bytearray");
  touch(arena_, b);
  b->data.assign(data);
}

uint64_t Value::version() const {
  switch (kind()) {
    case Kind::ByteArray:
    case Kind::List:
    case Kind::Dict:
    case Kind::Set:
    case Kind::FrozenSet:
    case Kind::Instance: return static_cast<const MutableNode*>(slot_.node)->version;
    default: return 0;
  }
}

// --- Global, Instance, PersistentRef -------------------------------------------

std::string_view Value::module() const { return node_as<GlobalNode>(*this, Kind::Global, "global")->module; }
std::string_view Value::name() const { return node_as<GlobalNode>(*this, Kind::Global, "global")->name; }

Construction Value::construction() const {
  return node_as<InstanceNode>(*this, Kind::Instance, "instance")->how;
}
Value Value::callable() const {
  return Value(arena_, node_as<InstanceNode>(*this, Kind::Instance, "instance")->callable);
}
Value Value::args() const { return Value(arena_, node_as<InstanceNode>(*this, Kind::Instance, "instance")->args); }
Value Value::kwargs() const {
  return Value(arena_, node_as<InstanceNode>(*this, Kind::Instance, "instance")->kwargs);
}
std::optional<Value> Value::state() const {
  auto* inst = node_as<InstanceNode>(*this, Kind::Instance, "instance");
  if (!inst->has_state) return std::nullopt;
  return Value(arena_, inst->state);
}
void Value::set_state(const Item& state) {
  auto* inst = node_as<InstanceNode>(*this, Kind::Instance, "instance");
  Slot s = internal::slot_in(*arena_, state);
  touch(arena_, inst);
  inst->state = s;
  inst->has_state = true;
}
std::vector<Value> Value::list_items() const {
  std::vector<Value> out;
  for (const Slot& s : node_as<InstanceNode>(*this, Kind::Instance, "instance")->list_items)
    out.push_back(Value(arena_, s));
  return out;
}
std::vector<std::pair<Value, Value>> Value::dict_items() const {
  std::vector<std::pair<Value, Value>> out;
  for (const auto& [k, v] : node_as<InstanceNode>(*this, Kind::Instance, "instance")->dict_items)
    out.emplace_back(Value(arena_, k), Value(arena_, v));
  return out;
}
void Value::add_list_item(const Item& item) {
  auto* inst = node_as<InstanceNode>(*this, Kind::Instance, "instance");
  Slot s = internal::slot_in(*arena_, item);
  touch(arena_, inst);
  inst->list_items.push_back(s);
}
void Value::add_dict_item(const Item& key, const Item& value) {
  auto* inst = node_as<InstanceNode>(*this, Kind::Instance, "instance");
  Slot k = internal::slot_in(*arena_, key);
  Slot v = internal::slot_in(*arena_, value);
  touch(arena_, inst);
  inst->dict_items.emplace_back(k, v);
}

Value Value::pid() const {
  return Value(arena_, node_as<PersistentRefNode>(*this, Kind::PersistentRef, "persistent_ref")->pid);
}

std::optional<uint64_t> Value::hash() const { return internal::slot_hash(slot_); }

bool operator==(const Value& a, const Value& b) {
  return internal::slots_equal(ValueAccess::slot(a), ValueAccess::slot(b), false);
}

bool strictly_equal(const Value& a, const Value& b) {
  return internal::slots_equal(ValueAccess::slot(a), ValueAccess::slot(b), true);
}

// --- iteration -------------------------------------------------------------------

namespace {

// Position of the first live entry at or after `pos` in a hash node.
size_t skip_erased(const Value& owner, size_t pos) {
  const Slot& s = ValueAccess::slot(owner);
  if (s.kind != Kind::Dict && s.kind != Kind::Set && s.kind != Kind::FrozenSet) return pos;
  auto& entries = static_cast<const HashNode*>(s.node)->table.entries;
  while (pos < entries.size() && entries[pos].erased) ++pos;
  return pos;
}

size_t slot_count(const Value& owner) {
  const Slot& s = ValueAccess::slot(owner);
  switch (s.kind) {
    case Kind::Tuple: return static_cast<const TupleNode*>(s.node)->size;
    case Kind::List: return static_cast<const ListNode*>(s.node)->items.size();
    default: return static_cast<const HashNode*>(s.node)->table.entries.size();
  }
}

}  // namespace

Value Value::Elements::iterator::operator*() const {
  const Slot& s = ValueAccess::slot(*owner_);
  Arena* arena = ValueAccess::arena(*owner_);
  switch (s.kind) {
    case Kind::Tuple: return ValueAccess::make(arena, static_cast<const TupleNode*>(s.node)->items[pos_]);
    case Kind::List: return ValueAccess::make(arena, static_cast<const ListNode*>(s.node)->items[pos_]);
    default: return ValueAccess::make(arena, static_cast<const HashNode*>(s.node)->table.entries[pos_].key);
  }
}

Value::Elements::iterator& Value::Elements::iterator::operator++() {
  pos_ = skip_erased(*owner_, pos_ + 1);
  return *this;
}

Value::Elements::iterator Value::Elements::begin() const {
  iterator it;
  it.owner_ = &owner_;
  it.pos_ = skip_erased(owner_, 0);
  return it;
}

Value::Elements::iterator Value::Elements::end() const {
  iterator it;
  it.owner_ = &owner_;
  it.pos_ = slot_count(owner_);
  return it;
}

std::pair<Value, Value> Value::Items::iterator::operator*() const {
  const Slot& s = ValueAccess::slot(*owner_);
  Arena* arena = ValueAccess::arena(*owner_);
  const HashEntry& e = static_cast<const HashNode*>(s.node)->table.entries[pos_];
  return {ValueAccess::make(arena, e.key), ValueAccess::make(arena, e.value)};
}

Value::Items::iterator& Value::Items::iterator::operator++() {
  pos_ = skip_erased(*owner_, pos_ + 1);
  return *this;
}

Value::Items::iterator Value::Items::begin() const {
  iterator it;
  it.owner_ = &owner_;
  it.pos_ = skip_erased(owner_, 0);
  return it;
}

Value::Items::iterator Value::Items::end() const {
  iterator it;
  it.owner_ = &owner_;
  it.pos_ = slot_count(owner_);
  return it;
}

// ---------------------------------------------------------------------------
// Copying between graphs

namespace internal {
namespace {

// Copies nodes of one arena into another with an explicit worklist, so depth
// costs heap, not stack. Hash tables are re-indexed last, once every node
// they may hash through is complete.
class Copier {
 public:
  explicit Copier(Arena& to) : to_(to) {}

  Slot copy(const Slot& root) {
    Slot out = shallow(root);
    while (!pending_.empty()) {
      auto [from, to] = pending_.back();
      pending_.pop_back();
      fill(from, to);
    }
    for (HashNode* h : tables_) {
      auto entries = std::move(h->table.entries);
      h->table.clear();
      h->table.reserve(entries.size());
      for (auto& e : entries) h->table.insert(e.key, hash_or_throw(e.key), e.value);
    }
    return out;
  }

 private:
  Slot shallow(const Slot& s) {
    if (!s.is_node()) return s;
    auto found = copies_.find(s.node);
    if (found != copies_.end()) return node_slot(found->second);
    Node* from = s.node;
    Node* to = nullptr;
    switch (from->kind) {
      case Kind::Int: to = to_.make<BigIntNode>(to_.copy_bytes(static_cast<BigIntNode*>(from)->bytes)); break;
      case Kind::Complex: {
        auto* c = static_cast<ComplexNode*>(from);
        to = to_.make<ComplexNode>(c->real, c->imag);
        break;
      }
      case Kind::Str:
      case Kind::Bytes:
        to = to_.make<TextNode>(from->kind, to_.copy_bytes(static_cast<TextNode*>(from)->data));
        break;
      case Kind::ByteArray: to = to_.make<ByteArrayNode>(static_cast<ByteArrayNode*>(from)->data); break;
      case Kind::Tuple: {
        auto* t = static_cast<TupleNode*>(from);
        auto* items = static_cast<Slot*>(to_.allocate(sizeof(Slot) * t->size, alignof(Slot)));
        for (uint32_t i = 0; i < t->size; ++i) new (&items[i]) Slot();
        to = to_.make<TupleNode>(items, t->size);
        break;
      }
      case Kind::List: to = to_.make<ListNode>(); break;
      case Kind::Dict:
      case Kind::Set:
      case Kind::FrozenSet: to = to_.make<HashNode>(from->kind); break;
      case Kind::Global: {
        auto* g = static_cast<GlobalNode*>(from);
        to = to_.make<GlobalNode>(to_.copy_bytes(g->module), to_.copy_bytes(g->name));
        break;
      }
      case Kind::Instance: to = to_.make<InstanceNode>(); break;
      case Kind::PersistentRef: to = to_.make<PersistentRefNode>(Slot()); break;
      case Kind::Buffer: {
        auto* b = static_cast<BufferNode*>(from);
        to = to_.make<BufferNode>(to_.copy_bytes(b->data), b->readonly);
        break;
      }
      default: break;
    }
    copies_.emplace(from, to);
    pending_.emplace_back(from, to);
    return node_slot(to);
  }

  void fill(Node* from, Node* to) {
    switch (from->kind) {
      case Kind::Tuple: {
        auto* f = static_cast<TupleNode*>(from);
        auto* t = static_cast<TupleNode*>(to);
        for (uint32_t i = 0; i < f->size; ++i) t->items[i] = shallow(f->items[i]);
        break;
      }
      case Kind::List: {
        auto& items = static_cast<ListNode*>(to)->items;
        for (const Slot& s : static_cast<ListNode*>(from)->items) items.push_back(shallow(s));
        break;
      }
      case Kind::Dict:
      case Kind::Set:
      case Kind::FrozenSet: {
        auto& entries = static_cast<HashNode*>(to)->table.entries;
        for (const HashEntry& e : static_cast<HashNode*>(from)->table.entries)
          if (!e.erased) entries.push_back({0, shallow(e.key), shallow(e.value), false});
        tables_.push_back(static_cast<HashNode*>(to));
        break;
      }
      case Kind::Instance: {
        auto* f = static_cast<InstanceNode*>(from);
        auto* t = static_cast<InstanceNode*>(to);
        t->how = f->how;
        t->callable = shallow(f->callable);
        t->args = shallow(f->args);
        t->kwargs = shallow(f->kwargs);
        t->has_state = f->has_state;
        t->state = shallow(f->state);
        for (const Slot& s : f->list_items) t->list_items.push_back(shallow(s));
        for (const auto& [k, v] : f->dict_items) t->dict_items.emplace_back(shallow(k), shallow(v));
        break;
      }
      case Kind::PersistentRef:
        static_cast<PersistentRefNode*>(to)->pid = shallow(static_cast<PersistentRefNode*>(from)->pid);
        break;
      default: break;
    }
  }

  Arena& to_;
  std::unordered_map<const Node*, Node*> copies_;
  std::vector<std::pair<Node*, Node*>> pending_;
  std::vector<HashNode*> tables_;
};

}  // namespace

Slot slot_in(Arena& arena, const Item& item) {
  Graph g = ValueAccess::graph(&arena);
  return ValueAccess::slot(item.in(g));
}

}  // namespace internal

// ---------------------------------------------------------------------------
// Item

Value Item::in(Graph& graph) const {
  switch (tag_) {
    case Tag::None: return Value();
    case Tag::Bool: return Value(u_.b);
    case Tag::Int: return Value(u_.i);
    case Tag::U64: return graph.integer_from_digits(std::to_string(u_.u), 10, false);
    case Tag::Float: return Value(u_.f);
    case Tag::Complex: return graph.complex(c_.real(), c_.imag());
    case Tag::Str: return graph.str(text_);
    case Tag::Value: return graph.adopt(value_);
  }
  return Value();
}

// ---------------------------------------------------------------------------
// Graph

Graph::Graph() : arena_(new Arena()) { arena_->ref(); }
Graph::Graph(Arena* arena) noexcept : arena_(arena) { arena_->ref(); }
Graph::Graph(const Graph& other) noexcept : arena_(other.arena_) { arena_->ref(); }
Graph& Graph::operator=(const Graph& other) noexcept {
  other.arena_->ref();
  arena_->unref();
  arena_ = other.arena_;
  return *this;
}
Graph::~Graph() { arena_->unref(); }

uint64_t Graph::mutation_count() const { return arena_->mutations; }

Value Graph::adopt(const Value& v) {
  const Slot& s = ValueAccess::slot(v);
  if (!s.is_node() || ValueAccess::arena(v) == arena_) return v;
  return Value(arena_, internal::Copier(*arena_).copy(s));
}

Value Graph::str(std::string_view utf8) {
  if (!internal::valid_utf8_surrogatepass(utf8)) throw ValueError("str: malformed UTF-8");
  return Value(arena_, internal::node_slot(arena_->make<TextNode>(Kind::Str, arena_->copy_bytes(utf8))));
}

Value Graph::bytes(std::string_view data) {
  return Value(arena_, internal::node_slot(arena_->make<TextNode>(Kind::Bytes, arena_->copy_bytes(data))));
}

Value Graph::bytearray(std::string_view data) {
  return Value(arena_, internal::node_slot(arena_->make<ByteArrayNode>(data)));
}

Value Graph::complex(double real, double imag) {
  return Value(arena_, internal::node_slot(arena_->make<ComplexNode>(real, imag)));
}

Value Graph::integer_from_le(std::string_view le) { return Value(arena_, internal::make_int_from_le(*arena_, le)); }

Value Graph::integer_from_digits(std::string_view digits, int base, bool negative) {
  auto b = BigInt::from_digits(digits, base);
  if (!b) throw ValueError("invalid literal for int() with base " + std::to_string(base) + ": '" +
                           std::string(digits) + "'");
  b->negative = negative && !b->is_zero();
  if (b->fits_int64()) return Value(b->to_int64());
  return Value(arena_, internal::node_slot(arena_->make<BigIntNode>(arena_->copy_bytes(b->to_le()))));
}

Value Graph::integer_from_decimal(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  return integer_from_digits(text, 10, negative);
}

namespace {

template <typename Range>
Value build_tuple(Arena* arena, Graph& g, const Range& items) {
  std::vector<Slot> slots;
  slots.reserve(items.size());
  for (const auto& item : items) slots.push_back(ValueAccess::slot(Item(item).in(g)));
  auto* mem = static_cast<Slot*>(arena->allocate(sizeof(Slot) * slots.size(), alignof(Slot)));
  std::uninitialized_copy(slots.begin(), slots.end(), mem);
  return ValueAccess::make(arena, internal::node_slot(arena->make<TupleNode>(mem, static_cast<uint32_t>(slots.size()))));
}

template <typename Range>
Value build_list(Arena* arena, Graph& g, const Range& items) {
  auto* l = arena->make<ListNode>();
  l->items.reserve(items.size());
  for (const auto& item : items) l->items.push_back(ValueAccess::slot(Item(item).in(g)));
  return ValueAccess::make(arena, internal::node_slot(l));
}

template <typename Range>
Value build_set(Arena* arena, Graph& g, Kind kind, const Range& items) {
  auto* h = arena->make<HashNode>(kind);
  Value result = ValueAccess::make(arena, internal::node_slot(h));
  h->table.reserve(items.size());
  for (const auto& item : items) {
    Slot k = ValueAccess::slot(Item(item).in(g));
    h->table.insert(k, hash_or_throw(k), Slot());
  }
  return result;
}

}  // namespace

Value Graph::tuple(std::initializer_list<Item> items) { return build_tuple(arena_, *this, items); }
Value Graph::tuple(std::span<const Value> items) { return build_tuple(arena_, *this, items); }
Value Graph::list(std::initializer_list<Item> items) { return build_list(arena_, *this, items); }
Value Graph::list(std::span<const Value> items) { return build_list(arena_, *this, items); }
Value Graph::set(std::initializer_list<Item> items) { return build_set(arena_, *this, Kind::Set, items); }
Value Graph::frozenset(std::initializer_list<Item> items) { return build_set(arena_, *this, Kind::FrozenSet, items); }
Value Graph::frozenset(std::span<const Value> items) { return build_set(arena_, *this, Kind::FrozenSet, items); }

Value Graph::dict(std::initializer_list<std::pair<Item, Item>> items) {
  auto* h = arena_->make<HashNode>(Kind::Dict);
  Value result(arena_, internal::node_slot(h));
  h->table.reserve(items.size());
  for (const auto& [key, value] : items) {
    Slot k = ValueAccess::slot(key.in(*this));
    Slot v = ValueAccess::slot(value.in(*this));
    h->table.insert(k, hash_or_throw(k), v);
  }
  return result;
}

Value Graph::global(std::string_view module, std::string_view name) {
  return Value(arena_, internal::node_slot(
                           arena_->make<GlobalNode>(arena_->copy_bytes(module), arena_->copy_bytes(name))));
}

Value Graph::instance(Construction how, const Item& callable, const Item& args, const Item& kwargs) {
  auto* inst = arena_->make<InstanceNode>();
  Value result(arena_, internal::node_slot(inst));
  inst->how = how;
  inst->callable = ValueAccess::slot(callable.in(*this));
  inst->args = ValueAccess::slot(args.in(*this));
  inst->kwargs = ValueAccess::slot(kwargs.in(*this));
  return result;
}

Value Graph::persistent_ref(const Item& pid) {
  Slot p = ValueAccess::slot(pid.in(*this));
  return Value(arena_, internal::node_slot(arena_->make<internal::PersistentRefNode>(p)));
}

Value Graph::buffer(std::string_view data, bool readonly) {
  return Value(arena_, internal::node_slot(arena_->make<BufferNode>(arena_->copy_bytes(data), readonly)));
}

// ---------------------------------------------------------------------------
// Walking a graph

namespace {

// Calls `visit` on every slot held by `node` (not recursing).
template <typename Visit>
void for_each_child(Node* node, Visit&& visit) {
  switch (node->kind) {
    case Kind::Tuple: {
      auto* t = static_cast<TupleNode*>(node);
      for (uint32_t i = 0; i < t->size; ++i) visit(t->items[i]);
      break;
    }
    case Kind::List:
      for (Slot& s : static_cast<ListNode*>(node)->items) visit(s);
      break;
    case Kind::Dict:
    case Kind::Set:
    case Kind::FrozenSet:
      for (HashEntry& e : static_cast<HashNode*>(node)->table.entries) {
        if (e.erased) continue;
        visit(e.key);
        if (node->kind == Kind::Dict) visit(e.value);
      }
      break;
    case Kind::Instance: {
      auto* inst = static_cast<InstanceNode*>(node);
      visit(inst->callable);
      visit(inst->args);
      visit(inst->kwargs);
      if (inst->has_state) visit(inst->state);
      for (Slot& s : inst->list_items) visit(s);
      for (auto& [k, v] : inst->dict_items) {
        visit(k);
        visit(v);
      }
      break;
    }
    case Kind::PersistentRef: visit(static_cast<PersistentRefNode*>(node)->pid); break;
    default: break;
  }
}

// Depth-first over every node reachable from `root`, each once, with an
// explicit stack. `visit(node)` returns false to skip the node's children.
template <typename Visit>
void walk_nodes(const Slot& root, Visit&& visit) {
  if (!root.is_node()) return;
  std::unordered_set<const Node*> seen{root.node};
  std::vector<Node*> stack{root.node};
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    if (!visit(node)) continue;
    std::vector<Node*> children;
    for_each_child(node, [&](Slot& s) {
      if (s.is_node() && seen.insert(s.node).second) children.push_back(s.node);
    });
    stack.insert(stack.end(), children.rbegin(), children.rend());
  }
}

}  // namespace

void walk(const Value& root, const std::function<bool(const Value& node)>& visit) {
  Arena* arena = ValueAccess::arena(root);
  walk_nodes(ValueAccess::slot(root), [&](Node* node) {
    // A pid is data about the reference, not part of the graph.
    return visit(ValueAccess::make(arena, internal::node_slot(node))) && node->kind != Kind::PersistentRef;
  });
}

std::vector<Value> persistent_refs(const Value& root) {
  std::vector<Value> refs;
  walk(root, [&](const Value& node) {
    if (node.kind() == Kind::PersistentRef) refs.push_back(node);
    return true;
  });
  return refs;
}

Value replace_persistent_refs(const Value& root,
                              const std::function<std::optional<Value>(const Value& ref)>& lookup) {
  Arena* arena = ValueAccess::arena(root);
  if (!arena) return root;
  Graph graph = ValueAccess::graph(arena);
  std::unordered_map<const Node*, Slot> replacements;
  auto replacement_for = [&](Node* node) -> const Slot* {
    auto found = replacements.find(node);
    if (found == replacements.end()) {
      std::optional<Value> value = lookup(ValueAccess::make(arena, internal::node_slot(node)));
      Slot slot = node_slot(node);
      if (value) slot = ValueAccess::slot(graph.adopt(*value));
      found = replacements.emplace(node, slot).first;
    }
    return &found->second;
  };
  const Slot& root_slot = ValueAccess::slot(root);
  if (root_slot.is_node() && root_slot.node->kind == Kind::PersistentRef) {
    return ValueAccess::make(arena, *replacement_for(root_slot.node));
  }
  std::vector<HashNode*> rehash;
  walk_nodes(root_slot, [&](Node* node) {
    if (node->kind == Kind::PersistentRef) return false;
    bool changed = false;
    for_each_child(node, [&](Slot& s) {
      if (s.is_node() && s.node->kind == Kind::PersistentRef) {
        const Slot* r = replacement_for(s.node);
        if (r->node != s.node || !r->is_node()) {
          s = *r;
          changed = true;
        }
      }
    });
    if (changed) {
      ++arena->mutations;
      if (node->kind == Kind::Dict || node->kind == Kind::Set || node->kind == Kind::FrozenSet)
        rehash.push_back(static_cast<HashNode*>(node));
    }
    return true;
  });
  // Replaced keys hash differently (references hash by identity).
  for (HashNode* h : rehash) {
    auto entries = std::move(h->table.entries);
    h->table.clear();
    for (auto& e : entries)
      if (!e.erased) h->table.insert(e.key, hash_or_throw(e.key), e.value);
  }
  return root;
}

}  // namespace shelf::pickle
