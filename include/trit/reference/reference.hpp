// trit: the scalar reference GEMV/GEMM. This is the specification every SIMD kernel is
// tested against: plain loops over decoded trits, no blocking, no cleverness.
#pragma once

#include <cstddef>
#include <cstdint>

#include "trit/views/activations.hpp"
#include "trit/format/dense243.hpp"
#include "trit/detail/float_order.hpp"
#include "trit/views/matrix_ref.hpp"
#include "trit/format/packed_matrix.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace ref {

// sum_k W[m][k] * x[k] over the K columns of row m, in int32 (exact for K <= kMaxCols).
inline std::int32_t dot_row(const PackedMatrixView& w, std::size_t m, const std::int8_t* x) {
  std::int32_t acc = 0;
  const std::uint8_t* row = w.row(m);
  for (std::size_t k = 0; k < w.cols(); ++k) {
    const dense243::TritPosition at = dense243::locate(w.layout(), k);
    acc += dense243::decode_trit(row[at.byte], at.digit) * static_cast<std::int32_t>(x[k]);
  }
  return acc;
}

// acc[n][m] = sum_k W[m][k] * x[n][k] for output rows [m0, m1) of every token.
inline void gemm_int32_rows(const PackedMatrixView& w, const ActivationsView& x, MatrixRef<std::int32_t> acc,
                            std::size_t m0, std::size_t m1) {
  for (std::size_t n = 0; n < x.tokens; ++n) {
    for (std::size_t m = m0; m < m1; ++m) acc(n, m) = dot_row(w, m, x.row(n));
  }
}

// y[n][m] = ((float)acc[n][m] / x.scales[n]) * w.scale(m) (+ bias[m]) for rows [m0, m1).
inline void gemm_rows(const PackedMatrixView& w, const ActivationsView& x, MatrixRef<float> y, const float* bias,
                      std::size_t m0, std::size_t m1) {
  for (std::size_t n = 0; n < x.tokens; ++n) {
    for (std::size_t m = m0; m < m1; ++m) {
      y(n, m) = detail::epilogue(dot_row(w, m, x.row(n)), x.scales[n], w.scale(m), bias, m);
    }
  }
}

}  // namespace ref
TRIT_END_NAMESPACE
