// libFuzzer target: trit::BitLinear::deserialize. Input: one mode byte, then a layer blob.
// Mode bit 0 re-seals the mutated blob (the matrix blob inside, then the layer's checksum,
// each by the rule of its version field); with bit 0, bit 1 also makes the size fields agree
// with the blob. Without bit 0 the bytes are parsed raw. A resealed blob must never fail a
// checksum; a layer that loads must re-serialize to a blob that loads as the same layer (and
// be byte-for-byte its input when both blobs were version 2 and the weights kept their
// layout), its weights must give the reference's accumulators on every path, and forward must
// give bit-identical outputs on every path.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_products.hpp"
#include "fuzz_support.hpp"
#include "trit/layers/bitlinear.hpp"

namespace {

void check_same_layer(const trit::BitLinear& a, const trit::BitLinear& b) {
  TRIT_FUZZ_CHECK(a.out_features() == b.out_features() && a.in_features() == b.in_features());
  TRIT_FUZZ_CHECK(a.scheme() == b.scheme());
  TRIT_FUZZ_CHECK(std::memcmp(&a.activations().topk_ratio, &b.activations().topk_ratio, sizeof(double)) == 0);
  TRIT_FUZZ_CHECK(a.bias().size() == b.bias().size());
  TRIT_FUZZ_CHECK(a.bias().empty() || std::memcmp(a.bias().data(), b.bias().data(), 4 * a.bias().size()) == 0);
  TRIT_FUZZ_CHECK(a.uses_int4_kernels() == b.uses_int4_kernels());
  TRIT_FUZZ_CHECK(trit_fuzz::same_matrix(a.packed_weights(), b.packed_weights(), false));
}

void check_forward(const trit::BitLinear& layer, std::uint32_t seed) {
  const std::size_t tokens = 1 + seed % 2, cols = layer.in_features(), rows = layer.out_features();
  std::vector<float> x(tokens * cols);
  std::uint32_t s = seed * 2654435761u + 7u;
  for (float& v : x) {
    s = s * 1664525u + 1013904223u;
    v = static_cast<float>(static_cast<std::int32_t>(s >> 8) - (1 << 23)) / 4096.0f;
  }
  std::vector<float> want(tokens * rows), got(tokens * rows);
  trit_fuzz::must_not_throw(
      [&] {
        layer.forward(trit::matrix<const float>(x.data(), tokens, cols), trit::matrix(want.data(), tokens, rows),
                      trit::GemmOptions{trit::Isa::scalar, 1});
      },
      "BitLinear::forward (scalar) of a loaded layer");
  for (trit::Isa isa : trit::kAllIsas) {
    if (!trit::isa_supported(isa)) continue;
    trit_fuzz::must_not_throw(
        [&] {
          layer.forward(trit::matrix<const float>(x.data(), tokens, cols), trit::matrix(got.data(), tokens, rows),
                        trit::GemmOptions{isa, 1});
        },
        "BitLinear::forward of a loaded layer");
    if (std::memcmp(got.data(), want.data(), 4 * got.size()) != 0) {
      std::fprintf(stderr, "trit fuzz: BitLinear::forward on %s differs from scalar (%zux%zu, scheme %s)\n",
                   trit::isa_name(isa), rows, cols, trit::scheme_name(layer.scheme()));
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  const bool resealed = (mode & 1) != 0;
  std::vector<std::uint8_t> blob(data + 1, data + size);
  if (resealed) trit_fuzz::reseal_layer(blob.data(), blob.size(), (mode & 2) != 0);
  const bool sealed = resealed && blob.size() >= trit_fuzz::kHeader;

  trit::BitLinear layer;
  const bool loaded = trit_fuzz::documented([&] { layer = trit::BitLinear::deserialize(blob.data(), blob.size()); },
                                            [&](const char* what) {
                                              if (sealed && trit_fuzz::mentions_checksum(what)) {
                                                std::fprintf(stderr, "resealed layer blob rejected: %s\n", what);
                                                std::abort();
                                              }
                                            });
  if (!loaded) return 0;

  TRIT_FUZZ_CHECK(!layer.empty());
  std::vector<std::uint8_t> again;
  trit_fuzz::must_not_throw([&] { again = layer.serialize(); }, "BitLinear::serialize of a loaded layer");
  trit::BitLinear back;
  trit_fuzz::must_not_throw([&] { back = trit::BitLinear::deserialize(again); }, "deserialize of a re-serialized layer");
  check_same_layer(layer, back);

  const std::size_t offset = trit_fuzz::layer_weights_offset(blob.data(), blob.size());
  TRIT_FUZZ_CHECK(offset != 0);
  const trit::PackedMatrix weights = layer.packed_weights();
  const bool kept_layout = !layer.uses_int4_kernels() || trit_fuzz::le(blob.data() + offset + 32, 8) == weights.row_bytes();
  if (trit_fuzz::version_of(blob.data()) == trit::detail::layer_blob::kVersion &&
      trit_fuzz::version_of(blob.data() + offset) == trit::serialized::kVersion && kept_layout) {
    TRIT_FUZZ_CHECK(again == blob);
  }
  trit_fuzz::check_products(weights, mode);
  check_forward(layer, mode);
  return 0;
}
