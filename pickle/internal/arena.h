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
#include <utility>
#include <vector>

namespace shelf::pickle::internal {

struct Node;

class Arena {
 public:
  Arena() = default;
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

  template <typename T, typename... Args>
  T* make(Args&&... args) {
    void* p = allocate(sizeof(T), alignof(T));
    T* node = new (p) T(std::forward<Args>(args)...);
    if constexpr (!std::is_trivially_destructible_v<T>) owned_.push_back(node);
    return node;
  }

  // Intrusive reference count, shared by Graph and Value handles.
  void ref() { ++refs_; }
  void unref() {
    if (--refs_ == 0) delete this;
  }

  uint64_t mutations = 0;
  // Bytes held: the bump chunks plus an estimate of what owned nodes hold.
  size_t bytes_reserved() const { return reserved_; }

 private:
  void* allocate_slow(size_t size, size_t align);

  char* current_ = nullptr;
  size_t used_ = 0;
  size_t capacity_ = 0;
  size_t next_chunk_ = 4096;
  size_t reserved_ = 0;
  uint32_t refs_ = 0;
  std::vector<std::unique_ptr<char[]>> chunks_;
  std::vector<Node*> owned_;  // nodes whose destructor must run
};

}  // namespace shelf::pickle::internal
