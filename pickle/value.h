// pickle/value.h: the value graph that pickles load into and dump from.
//
// A Graph owns an arena of nodes; a Value is a cheap handle to one value in a
// graph (or a scalar needing no graph). Python object graphs have identity: a
// list may hold the same dict twice, or itself. Nodes are shared by pointer,
// so sharing and cycles survive a load and a dump, and the whole arena is
// freed at once when the last Value of the graph goes, cycles included.
// docs/value-graph.md walks through an example.
//
// Threads: a Graph and every Value that refers into it belong to one thread
// at a time (the reference count is not atomic). Different graphs are
// independent.
//
// Equality follows Python where Python defines it (1 == 1.0 == True,
// b'a' == bytearray(b'a'), set == frozenset) and is structural where Python
// would call a class's __eq__, which an inert node does not have.
#pragma once

#include <complex>
#include <concepts>
#include <functional>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shelf::pickle {

// The kinds of value a pickle can carry. Int covers every size: values that
// fit in int64 are stored inline, larger ones as a node.
enum class Kind : uint8_t {
  None,
  Bool,
  Int,
  Float,
  Complex,
  Bytes,      // Python 3 bytes; Python 2 str
  Str,        // Python 3 str; Python 2 unicode
  ByteArray,
  Tuple,
  List,
  Dict,
  Set,
  FrozenSet,
  Global,         // a reference to a module-level name: module + qualified name
  Instance,       // an object of a class we do not build: how it was built, inert
  PersistentRef,  // a persistent id met while loading, kept as data
  Buffer,         // a protocol 5 PickleBuffer
};

// Python's name for the kind: "NoneType", "int", "dict", ... ("object" for
// Instance, "global" and "persistent_ref" for our own kinds).
std::string_view kind_name(Kind kind);

// How an Instance was built; it decides the opcodes it re-pickles with.
enum class Construction : uint8_t {
  Reduce,    // callable(*args)                 REDUCE
  NewObj,    // cls.__new__(cls, *args)         NEWOBJ
  NewObjEx,  // cls.__new__(cls, *args, **kw)   NEWOBJ_EX
  Inst,      // module.name(*args), old-style   INST
  Obj,       // cls(*args), old-style           OBJ
};

// Thrown when a Value is used as a kind it is not (e.g. append on a dict), or
// an operation Python would refuse (an unhashable dict key, an index out of
// range). Programming errors, not data errors: loaders report bad data with
// UnpicklingError instead.
class ValueError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

struct None_t {
  explicit constexpr None_t(int) {}
};
inline constexpr None_t None{0};

namespace internal {
class Arena;
struct Node;
struct ValueAccess;

// One value as stored inside a container: a kind and an inline payload.
// Scalars (None, bool, small int, float) live here; everything else points
// at a node in the same arena.
struct Slot {
  Slot() : i(0) {}
  bool is_node() const { return kind >= Kind::Complex || (kind == Kind::Int && is_big); }

  union {
    bool b;
    int64_t i;
    double f;
    Node* node;
  };
  Kind kind = Kind::None;
  bool is_big = false;  // an Int held by a BigIntNode
};
}  // namespace internal

class Graph;
class Value;

class Item;

// A handle to one value. Copying a Value copies the handle, not the value:
// both refer to the same object, as two Python names do.
class Value {
 public:
  Value() = default;  // None
  Value(None_t) {}    // NOLINT(google-explicit-constructor)
  Value(bool b) { slot_.kind = Kind::Bool; slot_.b = b; }  // NOLINT
  template <std::integral T>
    requires(!std::same_as<T, bool> && !std::same_as<T, char> &&
             (std::is_signed_v<T> || sizeof(T) < sizeof(int64_t)))
  Value(T v) {  // NOLINT
    slot_.kind = Kind::Int;
    slot_.i = static_cast<int64_t>(v);
  }
  Value(double d) { slot_.kind = Kind::Float; slot_.f = d; }  // NOLINT
  Value(const char*) = delete;  // text needs a graph: use Graph::str or an Item

  Value(const Value& other) noexcept;
  Value(Value&& other) noexcept;
  Value& operator=(const Value& other) noexcept;
  Value& operator=(Value&& other) noexcept;
  ~Value();

  Kind kind() const { return slot_.kind; }
  std::string_view type_name() const { return kind_name(kind()); }
  bool is_none() const { return kind() == Kind::None; }
  // True for values that live in a graph's arena (everything but None,
  // bool, int64-sized ints and floats).
  bool has_node() const { return slot_.is_node(); }

  // The graph this value lives in; a new empty graph for scalars.
  Graph graph() const;

  // Identity, as Python's `is`: the same node, or equal scalars.
  bool is(const Value& other) const;
  // A stable address for identity maps; nullptr for scalars.
  const void* identity() const;

  // --- scalars -----------------------------------------------------------
  bool as_bool() const;            // Bool
  bool fits_int64() const;         // Int within int64, or Bool
  int64_t as_int() const;          // Int (or Bool) that fits in int64
  // Minimal two's-complement little-endian bytes of an Int: pickle's LONG1
  // payload, b"" for zero.
  std::string int_bytes() const;
  std::string int_decimal() const;  // decimal text of an Int, as str(int)
  double as_float() const;          // Float
  std::complex<double> as_complex() const;  // Complex

  // --- text and binary ---------------------------------------------------
  // Str: UTF-8 text; lone surrogates (legal in Python str) are kept as their
  // 3-byte encodings, as CPython's 'surrogatepass' handler writes them.
  std::string_view as_str() const;
  // Bytes, ByteArray, Buffer: the bytes. For ByteArray the view lasts until
  // the next mutation.
  std::string_view as_bytes() const;
  bool readonly() const;  // Buffer: the READONLY_BUFFER flag

  // --- containers --------------------------------------------------------
  // Items of a Tuple, List, Set, FrozenSet or Dict; bytes of a Bytes,
  // ByteArray, Buffer; UTF-8 bytes of a Str.
  size_t size() const;
  bool empty() const { return size() == 0; }
  // Element `i` of a Tuple or List. Throws ValueError when out of range.
  Value operator[](size_t i) const;

  // Elements of a Tuple, List, Set or FrozenSet (insertion order for sets),
  // or keys of a Dict.
  class Elements;
  Elements elements() const;
  // (key, value) pairs of a Dict, in insertion order.
  class Items;
  Items items() const;

  // Dict lookup with Python's key equality. Throws ValueError for an
  // unhashable key.
  std::optional<Value> get(const Item& key) const;
  bool contains(const Item& key) const;  // Dict key, or Set/FrozenSet member

  // --- mutation (List, Dict, Set, ByteArray, Instance) ---------------------
  // Each bumps version() of this node and the graph's mutation_count().
  void append(const Item& item);                   // List
  void extend(std::initializer_list<Item> items);  // List
  void set(size_t i, const Item& item);            // List
  void insert(size_t i, const Item& item);         // List
  void erase(size_t i);                            // List
  void set_item(const Item& key, const Item& value);  // Dict
  bool erase_key(const Item& key);                 // Dict; false if absent
  void add(const Item& item);                      // Set
  bool discard(const Item& item);                  // Set; false if absent
  void clear();                                    // List, Dict, Set, ByteArray
  void assign_bytes(std::string_view data);        // ByteArray

  // How many times this node was mutated (0 for immutable values): compare
  // two readings to learn whether anything changed in between.
  uint64_t version() const;

  // --- Global ------------------------------------------------------------
  std::string_view module() const;  // Global
  std::string_view name() const;    // Global: the qualified name

  // --- Instance ----------------------------------------------------------
  Construction construction() const;
  // REDUCE: the callable; NEWOBJ/NEWOBJ_EX/OBJ: the class; INST: a Global.
  Value callable() const;
  Value args() const;    // a Tuple
  Value kwargs() const;  // NEWOBJ_EX: a Dict; None otherwise
  std::optional<Value> state() const;  // what BUILD gave it, if anything
  void set_state(const Item& state);
  // Items given by APPEND(S) and SET_ITEM(S) on the object; re-pickled in
  // that order after the object, as pickle.py's save_reduce does.
  std::vector<Value> list_items() const;
  std::vector<std::pair<Value, Value>> dict_items() const;
  void add_list_item(const Item& item);
  void add_dict_item(const Item& key, const Item& value);

  // --- PersistentRef -----------------------------------------------------
  Value pid() const;

  // Python's hash() contract: equal values hash equal (1, 1.0, True alike).
  // nullopt for unhashable values (list, dict, set, bytearray, and tuples
  // holding them). Instances and persistent refs hash by identity.
  std::optional<uint64_t> hash() const;

 private:
  friend class Graph;
  friend class Item;
  friend struct internal::ValueAccess;
  Value(internal::Arena* arena, internal::Slot slot) noexcept;

  internal::Arena* arena_ = nullptr;
  internal::Slot slot_;
};

// Anything that can become a Value inside a graph: a Value, None, a bool, an
// integer, a float, a complex, or text (which becomes a str). Containers'
// builders and mutators take Items, so `g.list({1, 2.0, "x"})` just works.
// A Value of another graph is copied in, keeping its internal sharing.
class Item {
 public:
  Item(const Value& v) : tag_(Tag::Value), value_(v) {}  // NOLINT(google-explicit-constructor)
  Item(None_t) {}        // NOLINT
  Item(bool b) : tag_(Tag::Bool) { u_.b = b; }  // NOLINT
  template <std::integral T>
    requires(!std::same_as<T, bool> && !std::same_as<T, char>)
  Item(T v) : tag_(Tag::Int) {  // NOLINT
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(int64_t)) {
      if (v > static_cast<T>(INT64_MAX)) {
        tag_ = Tag::U64;
        u_.u = static_cast<uint64_t>(v);
        return;
      }
    }
    u_.i = static_cast<int64_t>(v);
  }
  Item(double d) : tag_(Tag::Float) { u_.f = d; }                    // NOLINT
  Item(std::complex<double> c) : tag_(Tag::Complex), c_(c) {}        // NOLINT
  Item(const char* s) : tag_(Tag::Str), text_(s) {}                  // NOLINT
  Item(std::string_view s) : tag_(Tag::Str), text_(s) {}             // NOLINT
  Item(const std::string& s) : tag_(Tag::Str), text_(s) {}           // NOLINT

  // The item as a Value of `graph` (copying a Value of another graph in).
  Value in(Graph& graph) const;

 private:
  enum class Tag : uint8_t { None, Bool, Int, U64, Float, Complex, Str, Value };
  Tag tag_ = Tag::None;
  union {
    bool b;
    int64_t i;
    uint64_t u;
    double f;
  } u_{};
  std::complex<double> c_{};
  std::string_view text_;
  Value value_;  // a reference, not a copy of the value
};

// Python's == (see the top of this file), deep and cycle-safe: two cyclic
// graphs are equal when no finite walk tells them apart.
bool operator==(const Value& a, const Value& b);

// Stricter than ==: kinds must match exactly (1 != 1.0 != True, bytes !=
// bytearray, set != frozenset), floats compare by bits (nan equals nan,
// 0.0 != -0.0) and the shape of sharing is not compared. What a round trip
// through a pickle must preserve.
bool strictly_equal(const Value& a, const Value& b);

// Calls `visit` for `root` and every value it reaches that lives in a node
// (scalars are skipped), each node once, depth-first in container order,
// with an explicit stack (depth costs heap). `visit` returns false to skip
// what the node holds. The pid of a PersistentRef is not visited.
void walk(const Value& root, const std::function<bool(const Value& node)>& visit);

// Every PersistentRef node reachable from `root` (each node once, in the
// order a depth-first walk meets them; root itself if it is one).
std::vector<Value> persistent_refs(const Value& root);

// Puts values in place of persistent references: every PersistentRef node
// reachable from `root` for which `lookup(ref)` returns a value is
// replaced, in every container (tuples and instances included) that holds
// it, by that value (copied into root's graph if it lives elsewhere).
// Returns root, or its replacement when root itself is a reference. What
// store's eager resolution uses to join records into one object graph.
Value replace_persistent_refs(const Value& root,
                              const std::function<std::optional<Value>(const Value& ref)>& lookup);

// A Graph is a handle to an arena; copies share it. The arena lives as long
// as any Graph or Value of it.
class Graph {
 public:
  Graph();
  Graph(const Graph& other) noexcept;
  Graph& operator=(const Graph& other) noexcept;
  ~Graph();

  // Builders. Text is UTF-8; str() throws ValueError on malformed UTF-8
  // (surrogates encoded as 3 bytes are accepted, as 'surrogatepass' does).
  Value str(std::string_view utf8);
  Value bytes(std::string_view data);
  Value bytearray(std::string_view data);
  Value complex(double real, double imag);
  Value integer(int64_t v) { return Value(v); }
  // An Int from pickle's two's-complement little-endian form (any length).
  Value integer_from_le(std::string_view twos_complement_le);
  // An Int from decimal text: optional sign, digits. ValueError if malformed.
  Value integer_from_decimal(std::string_view text);
  // An Int from digits in `base` (2, 8, 10, 16), no sign, no prefix;
  // `negative` negates it.
  Value integer_from_digits(std::string_view digits, int base, bool negative);
  Value tuple(std::initializer_list<Item> items);
  Value tuple(std::span<const Value> items);
  Value list(std::initializer_list<Item> items = {});
  Value list(std::span<const Value> items);
  Value dict(std::initializer_list<std::pair<Item, Item>> items = {});
  Value set(std::initializer_list<Item> items = {});
  Value frozenset(std::initializer_list<Item> items = {});
  Value frozenset(std::span<const Value> items);
  Value global(std::string_view module, std::string_view name);
  Value instance(Construction how, const Item& callable, const Item& args,
                 const Item& kwargs = None);
  Value persistent_ref(const Item& pid);
  Value buffer(std::string_view data, bool readonly);

  // Copies `v` (and everything it reaches) into this graph, keeping sharing
  // and cycles; returns v itself when it already lives here.
  Value adopt(const Value& v);

  // Bumped by every mutation of any node of this graph.
  uint64_t mutation_count() const;

  bool operator==(const Graph& other) const { return arena_ == other.arena_; }

 private:
  friend class Value;
  friend struct internal::ValueAccess;
  explicit Graph(internal::Arena* arena) noexcept;
  internal::Arena* arena_;
};

// Iteration over a container's elements, yielding Values.
class Value::Elements {
 public:
  class iterator {
   public:
    using value_type = Value;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    Value operator*() const;
    iterator& operator++();
    iterator operator++(int) {
      iterator copy = *this;
      ++*this;
      return copy;
    }
    bool operator==(const iterator& other) const { return pos_ == other.pos_; }

   private:
    friend class Elements;
    const Value* owner_ = nullptr;
    size_t pos_ = 0;
  };
  iterator begin() const;
  iterator end() const;

 private:
  friend class Value;
  explicit Elements(const Value& owner) : owner_(owner) {}
  Value owner_;
};

class Value::Items {
 public:
  class iterator {
   public:
    using value_type = std::pair<Value, Value>;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    std::pair<Value, Value> operator*() const;
    iterator& operator++();
    iterator operator++(int) {
      iterator copy = *this;
      ++*this;
      return copy;
    }
    bool operator==(const iterator& other) const { return pos_ == other.pos_; }

   private:
    friend class Items;
    const Value* owner_ = nullptr;
    size_t pos_ = 0;
  };
  iterator begin() const;
  iterator end() const;

 private:
  friend class Value;
  explicit Items(const Value& owner) : owner_(owner) {}
  Value owner_;
};

}  // namespace shelf::pickle
