// trit: the scalar reference GEMV/GEMM on TwoBit weights: the specification every TwoBit
// kernel is tested against. Plain loops over decoded trits, the same epilogue as Dense243.
#pragma once

#include <cstddef>
#include <cstdint>

#include "trit/detail/float_order.hpp"
#include "trit/format/two_bit.hpp"
#include "trit/version.hpp"
#include "trit/views/activations.hpp"
#include "trit/views/matrix_ref.hpp"

TRIT_BEGIN_NAMESPACE
namespace ref {

// sum_k W[m][k] * x[k] in int32 (exact for K <= kMaxCols).
inline std::int32_t dot_row(const TwoBitMatrixView& w, std::size_t m, const std::int8_t* x) {
  std::int32_t acc = 0;
  const std::uint8_t* row = w.row(m);
  for (std::size_t k = 0; k < w.cols(); ++k) acc += two_bit::trit_at(row, k) * static_cast<std::int32_t>(x[k]);
  return acc;
}

inline void gemm_int32_rows(const TwoBitMatrixView& w, const ActivationsView& x, MatrixRef<std::int32_t> acc,
                            std::size_t m0, std::size_t m1) {
  for (std::size_t n = 0; n < x.tokens; ++n) {
    for (std::size_t m = m0; m < m1; ++m) acc(n, m) = dot_row(w, m, x.row(n));
  }
}

inline void gemm_rows(const TwoBitMatrixView& w, const ActivationsView& x, MatrixRef<float> y, const float* bias,
                      std::size_t m0, std::size_t m1) {
  for (std::size_t n = 0; n < x.tokens; ++n) {
    for (std::size_t m = m0; m < m1; ++m) {
      y(n, m) = detail::epilogue(dot_row(w, m, x.row(n)), x.scales[n], w.scale(m), bias, m);
    }
  }
}

}  // namespace ref
TRIT_END_NAMESPACE
