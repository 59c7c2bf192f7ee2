// tests/fuzz/fuzz_dis.cc: the disassembler, over one pickle (dis) and over
// a stream of them (DisStream). A listing is bounded by max_output; on
// success it ends with pickletools' "highest protocol" line.
#include "pickle/dis.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace shelf;
  std::string_view data = fuzz::as_view(bytes, size);
  pickle::DisOptions options;
  options.annotate = size % 2;
  options.max_output = size_t{1} << 20;
  std::string partial;
  try {
    std::string listing = pickle::dis(data, options, &partial);
    SHELF_FUZZ_CHECK(listing.find("highest protocol among opcodes = ") != std::string::npos, listing);
    SHELF_FUZZ_CHECK(listing.size() <= options.max_output, std::to_string(listing.size()));
  } catch (const pickle::UnpicklingError& e) {
    SHELF_FUZZ_CHECK(partial.size() <= options.max_output, std::to_string(partial.size()));
    SHELF_FUZZ_CHECK(e.offset() <= size, e.what());
  }

  pickle::DisStream stream(data, options);
  for (int i = 0; i < 4 && stream.has_next(); ++i) {
    size_t before = stream.position();
    try {
      stream.next();
      SHELF_FUZZ_CHECK(stream.position() > before, std::to_string(before));
    } catch (const pickle::UnpicklingError&) {
      SHELF_FUZZ_CHECK(stream.position() == before, std::to_string(stream.position()));
      break;
    }
  }
  return 0;
}
