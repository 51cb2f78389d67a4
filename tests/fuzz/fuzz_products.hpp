// Differential checks for the fuzz targets: on weights that loaded, every kernel path this
// CPU runs must give the scalar reference's exact int32 accumulators (reading nothing past
// what the format promises is readable: ASan watches).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_support.hpp"
#include "trit/driver/gemm.hpp"
#include "trit/paths/cpu_features.hpp"
#include "trit/paths/path_table.hpp"
#include "trit/reference/reference.hpp"
#include "trit/quantize/activations.hpp"
#include "trit/views/activations.hpp"

namespace trit_fuzz {

// Activations derived from a seed (values over the whole int8 range, so that sums reach
// the extremes), tokens x K with the aligned, zero-padded stride the kernels expect.
inline trit::QuantizedActivations some_activations(std::size_t tokens, std::size_t cols, std::uint32_t seed) {
  trit::QuantizedActivations q(tokens, cols, trit::ActivationScheme::int8_absmax);
  std::uint32_t s = seed * 2654435761u + 1u;
  for (std::size_t n = 0; n < tokens; ++n) {
    for (std::size_t k = 0; k < cols; ++k) {
      s = s * 1664525u + 1013904223u;
      q.row(n)[k] = static_cast<std::int8_t>(s >> 24);
    }
  }
  return q;
}

inline void check_products(const trit::PackedMatrixView& w, std::uint32_t seed) {
  const std::size_t tokens = 1 + seed % 3;
  const trit::QuantizedActivations x = some_activations(tokens, w.cols(), seed);
  std::vector<std::int32_t> want(tokens * w.rows()), got(tokens * w.rows());
  trit::ref::gemm_int32_rows(w, x, trit::matrix(want.data(), tokens, w.rows()), 0, w.rows());
  for (trit::Isa isa : trit::paths_with_product(trit::kProductDense243Int8)) {
    if (!trit::isa_supported(isa)) continue;
    std::fill(got.begin(), got.end(), 0x5a5a5a5a);
    must_not_throw([&] { trit::gemm_int32(w, x, trit::matrix(got.data(), tokens, w.rows()), trit::GemmOptions{isa, 1}); },
                   "gemm_int32 on a loaded matrix");
    if (got != want) {
      std::fprintf(stderr, "trit fuzz: %s disagrees with the reference on a %zux%zu matrix (stride %zu)\n",
                   trit::isa_name(isa), w.rows(), w.cols(), w.row_stride());
      std::abort();
    }
  }
}

}  // namespace trit_fuzz
