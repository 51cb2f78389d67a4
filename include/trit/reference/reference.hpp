// trit: the scalar reference GEMV/GEMM, on Dense243 or TwoBit weights. This is the
// specification every SIMD kernel is tested against: plain loops over decoded trits, no
// blocking, no cleverness, one epilogue.
#pragma once

#include <cstddef>
#include <cstdint>

#include "trit/views/activations.hpp"
#include "trit/format/dense243.hpp"
#include "trit/detail/float_order.hpp"
#include "trit/views/matrix_ref.hpp"
#include "trit/format/packed_matrix.hpp"
#include "trit/format/two_bit.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace detail {

// Trit k of a row, decoded the plainest way each layout allows.
inline int reference_trit(const PackedMatrixView& w, const std::uint8_t* row, std::size_t k) {
  const dense243::TritPosition at = dense243::locate(w.layout(), k);
  return dense243::decode_trit(row[at.byte], at.digit);
}
inline int reference_trit(const TwoBitMatrixView&, const std::uint8_t* row, std::size_t k) {
  return two_bit::trit_at(row, k);
}

// The loops below, once for every weight view.
template <class Weights>
std::int32_t reference_dot_row(const Weights& w, std::size_t m, const std::int8_t* x) {
  std::int32_t acc = 0;
  const std::uint8_t* row = w.row(m);
  for (std::size_t k = 0; k < w.cols(); ++k) acc += reference_trit(w, row, k) * static_cast<std::int32_t>(x[k]);
  return acc;
}

template <class Weights>
void reference_gemm_int32_rows(const Weights& w, const ActivationsView& x, MatrixRef<std::int32_t> acc,
                               std::size_t m0, std::size_t m1) {
  for (std::size_t n = 0; n < x.tokens; ++n) {
    for (std::size_t m = m0; m < m1; ++m) acc(n, m) = reference_dot_row(w, m, x.row(n));
  }
}

template <class Weights>
void reference_gemm_rows(const Weights& w, const ActivationsView& x, MatrixRef<float> y, const float* bias,
                         std::size_t m0, std::size_t m1) {
  for (std::size_t n = 0; n < x.tokens; ++n) {
    for (std::size_t m = m0; m < m1; ++m) {
      y(n, m) = epilogue(reference_dot_row(w, m, x.row(n)), x.scales[n], w.scale(m), bias, m);
    }
  }
}

}  // namespace detail

namespace ref {

// Each function takes either layout (PackedMatrixView: Dense243, TwoBitMatrixView: TwoBit; the
// owning matrices convert), with the same results for the same trits and scales.

// sum_k W[m][k] * x[k] over the K columns of row m, in int32 (exact for K <= kMaxCols).
inline std::int32_t dot_row(const PackedMatrixView& w, std::size_t m, const std::int8_t* x) {
  return detail::reference_dot_row(w, m, x);
}
inline std::int32_t dot_row(const TwoBitMatrixView& w, std::size_t m, const std::int8_t* x) {
  return detail::reference_dot_row(w, m, x);
}

// acc[n][m] = sum_k W[m][k] * x[n][k] for output rows [m0, m1) of every token.
inline void gemm_int32_rows(const PackedMatrixView& w, const ActivationsView& x, MatrixRef<std::int32_t> acc,
                            std::size_t m0, std::size_t m1) {
  detail::reference_gemm_int32_rows(w, x, acc, m0, m1);
}
inline void gemm_int32_rows(const TwoBitMatrixView& w, const ActivationsView& x, MatrixRef<std::int32_t> acc,
                            std::size_t m0, std::size_t m1) {
  detail::reference_gemm_int32_rows(w, x, acc, m0, m1);
}

// y[n][m] = ((float)acc[n][m] / x.scales[n]) * w.scale(m) (+ bias[m]) for rows [m0, m1).
inline void gemm_rows(const PackedMatrixView& w, const ActivationsView& x, MatrixRef<float> y, const float* bias,
                      std::size_t m0, std::size_t m1) {
  detail::reference_gemm_rows(w, x, y, bias, m0, m1);
}
inline void gemm_rows(const TwoBitMatrixView& w, const ActivationsView& x, MatrixRef<float> y, const float* bias,
                      std::size_t m0, std::size_t m1) {
  detail::reference_gemm_rows(w, x, y, bias, m0, m1);
}

}  // namespace ref
TRIT_END_NAMESPACE
