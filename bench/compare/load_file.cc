// bench/compare/load_file.cc: shelf_load_file FILE: maps FILE and decodes
// the one pickle in it, for the memory target (peak resident memory of
// decoding a 100 MB pickle, read with /usr/bin/time -v by compare.py). The
// input is mapped, as LMDB hands records out, and counts in the resident
// set once read. Prints the decode time and the top-level size.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string_view>

#include "pickle/unpickler.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: shelf_load_file FILE\n");
    return 2;
  }
  int fd = ::open(argv[1], O_RDONLY);
  struct stat st;
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    std::perror(argv[1]);
    return 1;
  }
  size_t size = static_cast<size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) {
    std::perror("mmap");
    return 1;
  }
  auto start = std::chrono::steady_clock::now();
  shelf::pickle::Value v = shelf::pickle::loads(std::string_view(static_cast<const char*>(map), size));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("loaded %zu bytes in %.3f s: %s of %zu items\n", size, secs,
              std::string(v.type_name()).c_str(), v.size());
  return 0;
}
