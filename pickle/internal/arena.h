// pickle/internal/arena.h: the memory of one Graph. Never installed.
//
// Immutable payloads (text, bytes, big ints, tuples' items) are bump-allocated
// and never freed one by one; nodes that own heap memory (lists, dicts, ...)
// are registered and destroyed with the arena. Freeing a graph is therefore
// one pass over a vector, however deep or cyclic the graph is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace shelf::pickle::internal {

struct Node;

// Large blocks (the storage of big lists and dicts, big arena chunks) come
// from a small per-thread cache of blocks freed earlier. glibc returns
// freed memory at the top of its heap to the kernel, so a program decoding
// big pickles one after another would otherwise page-fault in fresh memory
// on every decode (costing more than the decode itself for a 100k-element
// list). Blocks of 64 KiB and more are rounded up to a power of two (pages
// never touched cost no memory); smaller ones go straight to operator new.
void* block_allocate(size_t bytes);
void block_free(void* p, size_t bytes) noexcept;

template <typename T>
struct BlockAllocator {
  using value_type = T;
  BlockAllocator() = default;
  template <typename U>
  BlockAllocator(const BlockAllocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)
  T* allocate(size_t n) { return static_cast<T*>(block_allocate(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { block_free(p, n * sizeof(T)); }
  friend bool operator==(const BlockAllocator&, const BlockAllocator&) { return true; }
};

// Vectors of a graph's containers and of the Unpickler's stack and memo.
template <typename T>
using BlockVector = std::vector<T, BlockAllocator<T>>;

class Arena {
 public:
  Arena() {}  // not = default: `new Arena()` would zero the inline chunk
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena();

  void* allocate(size_t size, size_t align) {
    size_t pos = (used_ + align - 1) & ~(align - 1);
    if (pos + size > capacity_) return allocate_slow(size, align);
    used_ = pos + size;
    return current_ + pos;
  }

  std::string_view copy_bytes(std::string_view data) {
    // An empty view still points somewhere: callers hand data() to memcpy
    // and memchr, which require a non-null pointer even for zero bytes.
    if (data.empty()) return {"", 0};
    char* dst = static_cast<char*>(allocate(data.size(), 1));
    std::memcpy(dst, data.data(), data.size());
    return {dst, data.size()};
  }

  // Nodes whose constructor takes the Arena first (containers, whose
  // storage comes from it) get this one.
  template <typename T, typename... Args>
  T* make(Args&&... args) {
    if constexpr (std::is_trivially_destructible_v<T>) {
      return new (allocate(sizeof(T), alignof(T))) T(std::forward<Args>(args)...);
    } else {
      // A node whose destructor must run is preceded by a link in the
      // list the destructor walks: registering it allocates nothing.
      static_assert(alignof(T) <= sizeof(OwnedLink));
      auto* link = static_cast<OwnedLink*>(allocate(sizeof(OwnedLink) + sizeof(T), alignof(OwnedLink)));
      T* node;
      if constexpr (std::is_constructible_v<T, Arena&, Args...>) {
        node = new (link + 1) T(*this, std::forward<Args>(args)...);
      } else {
        node = new (link + 1) T(std::forward<Args>(args)...);
      }
      link->next = owned_;
      owned_ = link;
      return node;
    }
  }

  // Keeps `owner` alive as long as the arena: what nodes pointing into
  // memory the arena does not own (a borrowed input) rely on.
  void hold(std::shared_ptr<const void> owner);  // value.cc: a HeldNode

  // Intrusive reference count, shared by Graph and Value handles.
  void ref() { ++refs_; }
  void unref() {
    if (--refs_ == 0) delete this;
  }

  uint64_t mutations = 0;
  // Bytes held in bump chunks.
  size_t bytes_reserved() const { return reserved_; }

 private:
  // 8 bytes, so nodes stay 8-aligned and packed as tightly as the ones
  // without a destructor (the Pickler's memo hashes node addresses >> 3).
  struct OwnedLink {
    OwnedLink* next;
  };
  struct alignas(16) ChunkHeader {
    ChunkHeader* prev;
    size_t bytes;  // with the header, as block_allocate was asked
  };
  // Small graphs (a store record, one small pickle) fit in the arena's own
  // first chunk: no allocation beyond the Arena itself, which stays small
  // enough for malloc's fast per-thread cache (blocks up to 1 KiB).
  static constexpr size_t kInlineBytes = 912;

  void* allocate_slow(size_t size, size_t align);
  char* new_chunk(size_t size);

  char* current_ = inline_;
  size_t used_ = 0;
  size_t capacity_ = kInlineBytes;
  size_t next_chunk_ = 4096;
  size_t reserved_ = 0;
  uint32_t refs_ = 0;
  ChunkHeader* chunks_ = nullptr;  // newest first
  OwnedLink* owned_ = nullptr;     // nodes whose destructor must run, newest first
  alignas(16) char inline_[kInlineBytes];
};
static_assert(sizeof(Arena) <= 1016, "the Arena should stay a tcache-sized allocation");

// The storage of a graph's containers: small vectors (up to 1 KiB) are
// bump-allocated in the graph's arena, so building a small list or dict
// calls no malloc and freeing the graph frees them all at once; a vector
// that grows leaves its old small block behind until the graph dies (at
// most as much again as it holds). Larger storage comes from
// block_allocate and is freed when the vector lets it go.
template <typename T>
class GraphAllocator {
 public:
  using value_type = T;
  static constexpr size_t kMaxInArena = 1024;

  explicit GraphAllocator(Arena& arena) noexcept : arena_(&arena) {}
  template <typename U>
  GraphAllocator(const GraphAllocator<U>& other) noexcept : arena_(other.arena()) {}  // NOLINT

  T* allocate(size_t n) {
    size_t bytes = n * sizeof(T);
    if (bytes <= kMaxInArena) return static_cast<T*>(arena_->allocate(bytes, alignof(T)));
    return static_cast<T*>(block_allocate(bytes));
  }
  void deallocate(T* p, size_t n) noexcept {
    if (n * sizeof(T) > kMaxInArena) block_free(p, n * sizeof(T));
  }
  Arena* arena() const { return arena_; }
  friend bool operator==(const GraphAllocator& a, const GraphAllocator& b) { return a.arena_ == b.arena_; }

 private:
  Arena* arena_;
};

template <typename T>
using GraphVector = std::vector<T, GraphAllocator<T>>;

}  // namespace shelf::pickle::internal
