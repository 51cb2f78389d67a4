// trit: ternary weights x packed int4 activations, the public entry points.
//
//   y[n][m] = ((float)acc[n][m] / x.scale(n)) * w.scale(m) + bias[m]
//   acc[n][m] = sum_k W[m][k] * x[n][k]       (int32, exact)
//
// The weights are a LutWeights (format/lut_weights.hpp), made once from a PackedMatrixView.
// Every path gives the same int32 and bit-identical floats as trit::ref::gemm_int4_rows on
// the packed weights. The paths with int4 kernels are the table's rows that list
// kProductLutInt4 (scalar, avx2, avx512bw with AVX-512 VBMI, neon); asking for another path
// runs the kernels down its fallback chain (avx512vnni -> avx512bw -> avx2, avxvnni -> avx2,
// neon-dotprod -> neon). TRIT_ENABLE_INT4 decides only whether the SIMD int4 kernels are
// compiled; without it every int4 product runs the scalar kernels, with the same results.
#pragma once

#include <cstddef>
#include <cstdint>

#include "trit/driver/gemm.hpp"
#include "trit/kernels/contract.hpp"
#include "trit/driver/run.hpp"
#include "trit/error.hpp"
#include "trit/format/lut_weights.hpp"
#include "trit/paths/isa.hpp"
#include "trit/version.hpp"
#include "trit/views/int4_activations.hpp"
#include "trit/views/matrix_ref.hpp"

TRIT_BEGIN_NAMESPACE

// The path an int4 product runs on when `isa` is asked for; throws unsupported_isa_error
// where `isa` cannot run.
inline Isa gemm_int4_path(Isa isa = Isa::automatic) { return detail::product_path<detail::LutInt4Product>(isa); }

namespace detail {

inline LutInt4Problem int4_problem(const LutWeights& w, const Int4ActivationsView& x, const char* fn) {
  require(!w.empty(), fn, "w is empty");
  check_int4_activations(x, w.cols(), fn);
  LutInt4Problem problem;
  problem.w = &w;
  problem.tokens = x.tokens;
  problem.packed = &x;
  problem.scales = x.scales;
  return problem;
}

inline LutInt4Problem int4_float_problem(const LutWeights& w, const Int4ActivationsView& x, MatrixRef<float> y,
                                         const float* bias, const char* fn) {
  LutInt4Problem problem = int4_problem(w, x, fn);
  check_shape(y, x.tokens, w.rows(), fn, "y");
  problem.y = y;
  problem.bias = bias;
  return problem;
}

inline LutInt4Problem int4_int32_problem(const LutWeights& w, const Int4ActivationsView& x,
                                         MatrixRef<std::int32_t> acc, const char* fn) {
  LutInt4Problem problem = int4_problem(w, x, fn);
  check_shape(acc, x.tokens, w.rows(), fn, "acc");
  problem.acc = acc;
  return problem;
}

}  // namespace detail

// ---- Whole products --------------------------------------------------------------------------

// Float output, with an optional bias of M floats.
inline void gemm_int4(const LutWeights& w, const Int4ActivationsView& x, MatrixRef<float> y,
                      const float* bias = nullptr, const GemmOptions& options = {}) {
  using P = detail::LutInt4Product;
  const detail::LutInt4Problem problem = detail::int4_float_problem(w, x, y, bias, "gemm_int4");
  detail::check_bias(bias, w.rows(), "gemm_int4");
  detail::run_product<P>(problem, options.isa, options.threads);
}

// The exact int32 accumulators, no epilogue.
inline void gemm_int4_int32(const LutWeights& w, const Int4ActivationsView& x, MatrixRef<std::int32_t> acc,
                            const GemmOptions& options = {}) {
  using P = detail::LutInt4Product;
  detail::run_product<P>(detail::int4_int32_problem(w, x, acc, "gemm_int4_int32"), options.isa, options.threads);
}

// One token: x holds K packed int4 values ((K + 1) / 2 bytes) with scale x_scale; y receives
// M floats.
inline void gemv_int4(const LutWeights& w, const std::uint8_t* x, float x_scale, float* y,
                      const float* bias = nullptr, const GemmOptions& options = {}) {
  detail::require(y != nullptr, "gemv_int4", "y is null");
  gemm_int4(w, Int4ActivationsView{x, 1, w.cols(), (w.cols() + 1) / 2, &x_scale}, matrix(y, 1, w.rows()), bias,
            options);
}

// ---- Row ranges, for callers with their own thread pool ---------------------------------------
// Computes output rows [m0, m1) of every token and touches nothing else; disjoint ranges may
// run concurrently on the same y. Each call builds its tokens' tables (a small cost next to
// the product for ranges of a few hundred rows); ranges that start and end at multiples of
// 64 rows waste no work.

inline void gemm_int4_rows(const LutWeights& w, const Int4ActivationsView& x, MatrixRef<float> y, const float* bias,
                           std::size_t m0, std::size_t m1, Isa isa = Isa::automatic) {
  constexpr const char* fn = "gemm_int4_rows";
  using P = detail::LutInt4Product;
  const detail::LutInt4Problem problem = detail::int4_float_problem(w, x, y, bias, fn);
  detail::check_range(w.rows(), m0, m1, fn);
  if (bias != nullptr) detail::check_bias(bias + m0, m1 - m0, fn);
  detail::run_product_rows<P>(problem, isa, m0, m1);
}

inline void gemm_int4_int32_rows(const LutWeights& w, const Int4ActivationsView& x, MatrixRef<std::int32_t> acc,
                                 std::size_t m0, std::size_t m1, Isa isa = Isa::automatic) {
  constexpr const char* fn = "gemm_int4_int32_rows";
  using P = detail::LutInt4Product;
  const detail::LutInt4Problem problem = detail::int4_int32_problem(w, x, acc, fn);
  detail::check_range(w.rows(), m0, m1, fn);
  detail::run_product_rows<P>(problem, isa, m0, m1);
}

TRIT_END_NAMESPACE

#if !defined(TRIT_DECLARATIONS_ONLY)
#include "trit/driver/driver.hpp"
#endif
