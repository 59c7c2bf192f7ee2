// tests/fuzz/fuzz_load.cc: every input loaded under each find_global policy,
// from memory and from a stream, borrowed by loads_borrowing(), and walked
// by noload() (see fuzz_load.h).
// One target rather than one per policy: the policies share nearly all
// code, so a single corpus covers them at a fraction of the fuzzing time.
#include "tests/fuzz/fuzz_load.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace shelf;
  std::string_view input = fuzz::as_view(data, size);
  fuzz::fuzz_load(input, pickle::FindGlobal::build_data(), fuzz::Strictness::kNone);
  fuzz::fuzz_load(input, pickle::FindGlobal::inert_all(), fuzz::Strictness::kNone);
  fuzz::fuzz_load(input, pickle::FindGlobal::data_only(), fuzz::Strictness::kDataOnly);
  fuzz::fuzz_load(input, pickle::FindGlobal::refuse_all(), fuzz::Strictness::kRefuseAll);
  fuzz::fuzz_borrowing(input);
  fuzz::fuzz_noload(input);
  return 0;
}
