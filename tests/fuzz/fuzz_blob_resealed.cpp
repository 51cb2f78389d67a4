// libFuzzer target: trit::deserialize behind the checksum. Input: one mode byte, then a
// matrix blob. The harness re-seals the mutated blob (the version-1 checksum for a blob whose
// version field says 1, the version-2 one otherwise); mode bit 0 also rewrites the header's
// payload size to what the blob holds. A resealed blob must never fail its checksum; one
// that loads must satisfy check_loaded_matrix, and every kernel path must agree with the
// reference on it.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_products.hpp"
#include "fuzz_support.hpp"
#include "trit/format/serialize.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  std::vector<std::uint8_t> blob(data + 1, data + size);
  trit_fuzz::reseal_matrix(blob.data(), blob.size(), (mode & 1) != 0);
  const bool sealed = blob.size() >= trit_fuzz::kHeader;
  trit::PackedMatrix m;
  const bool loaded = trit_fuzz::documented([&] { m = trit::deserialize(blob.data(), blob.size()); },
                                            [&](const char* what) {
                                              if (sealed && trit_fuzz::mentions_checksum(what)) {
                                                std::fprintf(stderr, "resealed blob rejected: %s\n", what);
                                                std::abort();
                                              }
                                            });
  if (!loaded) return 0;
  trit_fuzz::check_loaded_matrix(m, blob.data(), blob.size());
  trit_fuzz::check_products(m, mode);
  return 0;
}
