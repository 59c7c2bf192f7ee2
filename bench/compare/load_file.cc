// bench/compare/load_file.cc: shelf_load_file [--borrow] FILE: maps FILE
// and decodes the one pickle in it, for the memory target (peak resident
// memory of decoding a 100 MB pickle, read with /usr/bin/time -v by
// compare.py). The input is mapped, as LMDB hands records out, and counts
// in the resident set once read. With --borrow, loads_borrowing: str and
// bytes point into the mapping, which the graph keeps. Prints the decode
// time and the top-level size.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>

#include "pickle/unpickler.h"

int main(int argc, char** argv) {
  bool borrow = argc == 3 && std::strcmp(argv[1], "--borrow") == 0;
  if (argc != 2 && !borrow) {
    std::fprintf(stderr, "usage: shelf_load_file [--borrow] FILE\n");
    return 2;
  }
  const char* path = argv[argc - 1];
  int fd = ::open(path, O_RDONLY);
  struct stat st;
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    std::perror(path);
    return 1;
  }
  size_t size = static_cast<size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) {
    std::perror("mmap");
    return 1;
  }
  std::string_view data(static_cast<const char*>(map), size);
  std::shared_ptr<const void> mapping(map, [size](const void* p) { ::munmap(const_cast<void*>(p), size); });
  auto start = std::chrono::steady_clock::now();
  shelf::pickle::Value v = borrow ? shelf::pickle::loads_borrowing(data, std::move(mapping)) : shelf::pickle::loads(data);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("loaded %zu bytes in %.3f s: %s of %zu items\n", size, secs,
              std::string(v.type_name()).c_str(), v.size());
  return 0;
}
