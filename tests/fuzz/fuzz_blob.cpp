// libFuzzer target: trit::deserialize on raw, untrusted bytes. Only the errors trit
// documents may come out; a blob that loads must satisfy check_loaded_matrix. Most mutations
// stop at the checksum; fuzz_blob_resealed reaches the checks behind it.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "trit/format/serialize.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  trit::PackedMatrix m;
  if (trit_fuzz::documented([&] { m = trit::deserialize(data, size); })) trit_fuzz::check_loaded_matrix(m, data, size);
  return 0;
}
