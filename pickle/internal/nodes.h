// pickle/internal/nodes.h: the node layouts behind Value, for the engine's
// hot loops (Pickler, Unpickler, repr). Never installed; users go through
// value.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "pickle/internal/arena.h"
#include "pickle/internal/text_hash.h"
#include "pickle/value.h"

namespace shelf::pickle::internal {

struct Node {
  explicit Node(Kind k) : kind(k) {}
  Kind kind;
  // The Pickler's scratch, in the padding after `kind` (no node grows): the
  // memo index a dump gave this node. A Pickler trusts it only once its own
  // memo confirms it, so what other dumps and Picklers left here is harmless.
  mutable uint32_t memo_mark = 0;
};

// Int outside int64: minimal two's-complement little-endian bytes (never
// empty, never representable in int64).
struct BigIntNode : Node {
  explicit BigIntNode(std::string_view le) : Node(Kind::Int), bytes(le) {}
  std::string_view bytes;
};

struct ComplexNode : Node {
  ComplexNode(double r, double i) : Node(Kind::Complex), real(r), imag(i) {}
  double real, imag;
};

// Str (UTF-8, surrogatepass) or Bytes: immutable, payload in the arena.
struct TextNode : Node {
  TextNode(Kind k, std::string_view d) : Node(k), data(d) {}
  std::string_view data;
};

// Not a value: an owned node of the arena whose destructor lets go of
// what borrowed payloads point into (Arena::hold). Kind::None, never the
// kind of a value's node, tells the arena's destructor what it is.
struct HeldNode : Node {
  explicit HeldNode(std::shared_ptr<const void> o) : Node(Kind::None), owner(std::move(o)) {}
  std::shared_ptr<const void> owner;
};

struct TupleNode : Node {
  TupleNode(Slot* it, uint32_t n) : Node(Kind::Tuple), items(it), size(n) {}
  Slot* items;
  uint32_t size;
};

struct MutableNode : Node {
  using Node::Node;
  uint64_t version = 0;
};

struct ByteArrayNode : MutableNode {
  explicit ByteArrayNode(std::string_view d) : MutableNode(Kind::ByteArray), data(d) {}
  std::string data;
};

struct ListNode : MutableNode {
  explicit ListNode(Arena& arena) : MutableNode(Kind::List), items(GraphAllocator<Slot>(arena)) {}
  GraphVector<Slot> items;
};

// Insertion-ordered hash table, as CPython's compact dict: entries in order,
// plus an open-addressing index of positions into them. Erased entries stay
// as holes (key kind None with `erased`) until the next rebuild. Tables of
// up to kLinearMax entries (most dicts a pickle holds: records, kwargs,
// instance state) have no index: a scan of their stored hashes finds a key
// as fast as a probe, and building them costs no index at all.
struct HashEntry {
  uint64_t hash;
  Slot key;
  Slot value;
  bool erased = false;
};

class HashTable {
 public:
  explicit HashTable(Arena& arena) : entries(GraphAllocator<HashEntry>(arena)) {}
  HashTable(const HashTable&) = delete;
  HashTable& operator=(const HashTable&) = delete;
  ~HashTable() { free_index(); }

  GraphVector<HashEntry> entries;
  size_t live = 0;

  // Position of the entry whose key equals `key`, or -1.
  int64_t find(const Slot& key, uint64_t hash) const;
  // Inserts or (for an existing key) replaces the value, keeping the first
  // key object as Python does. Returns true when a new key was added.
  bool insert(const Slot& key, uint64_t hash, const Slot& value);
  bool erase(const Slot& key, uint64_t hash);
  void clear();
  // Makes room for `n` more entries without rehashing on each insert.
  void reserve(size_t n);
  // Inserts the `n` keys at items[0], items[stride], ... (each followed by
  // its value when stride is 2; sets pass 1), hashing each with
  // hash_of(key): what DICT and SETITEMS do with the items of a MARK. A
  // new key landing in an empty index slot is stored inline, the rest go
  // through insert().
  template <typename HashOf>
  void insert_all(const Slot* items, size_t n, size_t stride, HashOf&& hash_of) {
    reserve(n);
    for (size_t k = 0; k < n; ++k, items += stride) {
      const Slot& key = items[0];
      const Slot value = stride == 2 ? items[1] : Slot();
      uint64_t hash = hash_of(key);
      if (index_ != nullptr && !index_too_small(entries.size() + 1)) [[likely]] {
        int32_t& slot = index_[hash & mask_];
        if (slot < 0) {
          slot = static_cast<int32_t>(entries.size());
          entries.push_back({hash, key, value, false});
          ++live;
          continue;
        }
      }
      insert(key, hash, value);
    }
  }

  static constexpr size_t kLinearMax = 8;

 private:
  int64_t find_linear(const Slot& key, uint64_t hash) const;
  void rebuild(size_t min_capacity);
  void free_index();
  size_t next_probe(size_t i, size_t& perturb) const;
  size_t free_slot(uint64_t hash) const;
  // Whether `n` entries need an index of index_size() slots grown.
  bool index_too_small(size_t n) const { return 2 * n + 2 > index_size(); }
  size_t index_size() const { return index_ == nullptr ? 0 : mask_ + 1; }

  // -1 empty; else position in entries. Null while the table is scanned.
  int32_t* index_ = nullptr;
  size_t mask_ = 0;
};

// Dict, Set or FrozenSet (sets leave HashEntry::value unused).
struct HashNode : MutableNode {
  HashNode(Arena& arena, Kind k) : MutableNode(k), table(arena) {}
  HashTable table;
};

struct GlobalNode : Node {
  GlobalNode(std::string_view m, std::string_view n) : Node(Kind::Global), module(m), name(n) {}
  std::string_view module, name;
};

struct InstanceNode : MutableNode {
  explicit InstanceNode(Arena& arena) : MutableNode(Kind::Instance), list_items(GraphAllocator<Slot>(arena)) {}
  Construction how = Construction::Reduce;
  Slot callable;
  Slot args;
  Slot kwargs;
  Slot state;
  bool has_state = false;
  GraphVector<Slot> list_items;
  std::vector<std::pair<Slot, Slot>> dict_items;
};

struct PersistentRefNode : Node {
  explicit PersistentRefNode(Slot p) : Node(Kind::PersistentRef), pid(p) {}
  Slot pid;
};

struct BufferNode : Node {
  BufferNode(std::string_view d, bool ro) : Node(Kind::Buffer), data(d), readonly(ro) {}
  std::string_view data;  // in the arena
  bool readonly;
};

inline Slot node_slot(Node* node) {
  Slot s;
  s.kind = node->kind;
  s.node = node;
  s.is_big = node->kind == Kind::Int;
  return s;
}

inline Slot int_slot(int64_t v) {
  Slot s;
  s.kind = Kind::Int;
  s.i = v;
  return s;
}

inline Slot float_slot(double v) {
  Slot s;
  s.kind = Kind::Float;
  s.f = v;
  return s;
}

inline Slot bool_slot(bool v) {
  Slot s;
  s.kind = Kind::Bool;
  s.b = v;
  return s;
}

// Python hash and equality on slots (see Value::hash and operator==).
std::optional<uint64_t> slot_hash(const Slot& s);
bool slots_equal(const Slot& a, const Slot& b, bool strict);

// An Int slot from two's-complement little-endian bytes: inline when it
// fits in int64, else a BigIntNode holding the minimal form.
Slot make_int_from_le(Arena& arena, std::string_view le);

// Raw access for the engine: the arena and slot behind a Value, and a Value
// made from them (taking a reference on the arena).
struct ValueAccess {
  static Arena* arena(const Value& v) { return v.arena_; }
  static const Slot& slot(const Value& v) { return v.slot_; }
  static Value make(Arena* arena, const Slot& slot) { return Value(arena, slot); }
  static Arena* arena(const Graph& g) { return g.arena_; }
  static Graph graph(Arena* arena) { return Graph(arena); }
};

// The slot of `item` stored in `arena` (copying a Value of another graph in).
Slot slot_in(Arena& arena, const Item& item);

}  // namespace shelf::pickle::internal
