// trit: the public GEMV/GEMM entry points on packed ternary weights x int8 activations.
//
//   y[n][m] = ((float)acc[n][m] / x.scale(n)) * w.scale(m) + bias[m]
//   acc[n][m] = sum_k W[m][k] * x[n][k]       (int32, exact)
//
// W is M x K in either layout (a PackedMatrixView or a TwoBitMatrixView: the owning matrices
// convert to them, a mapped file gives them), x holds N tokens of K values, y and acc are
// N x M (token-major). Every kernel path gives the same int32 and bit-identical floats as
// trit::ref, in either layout.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "trit/kernels/contract.hpp"
#include "trit/driver/run.hpp"
#include "trit/error.hpp"
#include "trit/format/packed_matrix.hpp"
#include "trit/format/two_bit.hpp"
#include "trit/paths/isa.hpp"
#include "trit/version.hpp"
#include "trit/views/activations.hpp"
#include "trit/views/matrix_ref.hpp"

TRIT_BEGIN_NAMESPACE

struct GemmOptions {
  Isa isa = Isa::automatic;  // a path this CPU lacks throws unsupported_isa_error
  // 0 = one per hardware thread; more than the hardware has is clamped to it. Results do
  // not depend on it.
  unsigned threads = 1;
};

namespace detail {

// The int8 product each weight view is multiplied by: the one table of what the entry points
// below accept.
template <class Weights>
struct Int8ProductOf;
template <>
struct Int8ProductOf<PackedMatrixView> {
  using type = Dense243Int8Product;
};
template <>
struct Int8ProductOf<TwoBitMatrixView> {
  using type = TwoBitInt8Product;
};

template <class Weights>
BasicGemmProblem<Weights> make_problem(const Weights& w, const ActivationsView& x, const char* fn) {
  require(!w.empty(), fn, "w is empty");
  check_activations(x, w.cols(), fn);
  BasicGemmProblem<Weights> problem;
  problem.w = w;
  problem.x = x;
  return problem;
}

inline void check_range(std::size_t rows, std::size_t m0, std::size_t m1, const char* fn) {
  require(m0 <= m1 && m1 <= rows, fn, "row range [", m0, ", ", m1, ") is not inside [0, ", rows, ")");
}

// A bias is null or finite floats (BitLinear and the products agree on this).
inline void check_bias(const float* bias, std::size_t rows, const char* fn) {
  if (bias == nullptr) return;
  for (std::size_t m = 0; m < rows; ++m) {
    require(std::isfinite(bias[m]), fn, "bias[", m, "] = ", bias[m], " is not finite");
  }
}

template <class Weights>
BasicGemmProblem<Weights> float_problem(const Weights& w, const ActivationsView& x, MatrixRef<float> y,
                                        const float* bias, const char* fn) {
  BasicGemmProblem<Weights> problem = make_problem(w, x, fn);
  check_shape(y, x.tokens, w.rows(), fn, "y");
  problem.y = y;
  problem.bias = bias;
  return problem;
}

template <class Weights>
BasicGemmProblem<Weights> int32_problem(const Weights& w, const ActivationsView& x, MatrixRef<std::int32_t> acc,
                                        const char* fn) {
  BasicGemmProblem<Weights> problem = make_problem(w, x, fn);
  check_shape(acc, x.tokens, w.rows(), fn, "acc");
  problem.acc = acc;
  return problem;
}

// The bodies of the public entry points below, once for every weight view.
template <class Weights>
void gemm_impl(const Weights& w, const ActivationsView& x, MatrixRef<float> y, const float* bias,
               const GemmOptions& options) {
  using P = typename Int8ProductOf<Weights>::type;
  const BasicGemmProblem<Weights> problem = float_problem(w, x, y, bias, "gemm");
  check_bias(bias, w.rows(), "gemm");
  run_product<P>(problem, options.isa, options.threads);
}

template <class Weights>
void gemm_int32_impl(const Weights& w, const ActivationsView& x, MatrixRef<std::int32_t> acc,
                     const GemmOptions& options) {
  using P = typename Int8ProductOf<Weights>::type;
  run_product<P>(int32_problem(w, x, acc, "gemm_int32"), options.isa, options.threads);
}

template <class Weights>
void gemv_impl(const Weights& w, const std::int8_t* x, float x_scale, float* y, const float* bias,
               const GemmOptions& options) {
  require(y != nullptr, "gemv", "y is null");
  gemm_impl(w, ActivationsView{x, 1, w.cols(), w.cols(), &x_scale}, matrix(y, 1, w.rows()), bias, options);
}

template <class Weights>
void gemm_rows_impl(const Weights& w, const ActivationsView& x, MatrixRef<float> y, const float* bias, std::size_t m0,
                    std::size_t m1, Isa isa) {
  constexpr const char* fn = "gemm_rows";
  using P = typename Int8ProductOf<Weights>::type;
  const BasicGemmProblem<Weights> problem = float_problem(w, x, y, bias, fn);
  check_range(w.rows(), m0, m1, fn);
  if (bias != nullptr) check_bias(bias + m0, m1 - m0, fn);
  run_product_rows<P>(problem, isa, m0, m1);
}

template <class Weights>
void gemm_int32_rows_impl(const Weights& w, const ActivationsView& x, MatrixRef<std::int32_t> acc, std::size_t m0,
                          std::size_t m1, Isa isa) {
  constexpr const char* fn = "gemm_int32_rows";
  using P = typename Int8ProductOf<Weights>::type;
  const BasicGemmProblem<Weights> problem = int32_problem(w, x, acc, fn);
  check_range(w.rows(), m0, m1, fn);
  run_product_rows<P>(problem, isa, m0, m1);
}

}  // namespace detail

// The path a Dense243 (TwoBit) x int8 product runs on when `isa` is asked for (Isa::automatic:
// the best this CPU has); throws unsupported_isa_error where `isa` cannot run.
inline Isa gemm_path(Isa isa = Isa::automatic) { return detail::product_path<detail::Dense243Int8Product>(isa); }
inline Isa two_bit_path(Isa isa = Isa::automatic) { return detail::product_path<detail::TwoBitInt8Product>(isa); }

// Each entry point below takes either weight layout: a PackedMatrixView (Dense243) or a
// TwoBitMatrixView (TwoBit), or the owning matrices, which convert to them. Both give the
// same int32 accumulators and bit-identical floats for the same trits and scales.

// ---- Whole products --------------------------------------------------------------------------

// Float output, with an optional bias of M floats.
inline void gemm(const PackedMatrixView& w, const ActivationsView& x, MatrixRef<float> y, const float* bias = nullptr,
                 const GemmOptions& options = {}) {
  detail::gemm_impl(w, x, y, bias, options);
}
inline void gemm(const TwoBitMatrixView& w, const ActivationsView& x, MatrixRef<float> y, const float* bias = nullptr,
                 const GemmOptions& options = {}) {
  detail::gemm_impl(w, x, y, bias, options);
}

// The exact int32 accumulators, no epilogue.
inline void gemm_int32(const PackedMatrixView& w, const ActivationsView& x, MatrixRef<std::int32_t> acc,
                       const GemmOptions& options = {}) {
  detail::gemm_int32_impl(w, x, acc, options);
}
inline void gemm_int32(const TwoBitMatrixView& w, const ActivationsView& x, MatrixRef<std::int32_t> acc,
                       const GemmOptions& options = {}) {
  detail::gemm_int32_impl(w, x, acc, options);
}

// One token: x holds K int8 values with scale x_scale; y receives M floats.
inline void gemv(const PackedMatrixView& w, const std::int8_t* x, float x_scale, float* y, const float* bias = nullptr,
                 const GemmOptions& options = {}) {
  detail::gemv_impl(w, x, x_scale, y, bias, options);
}
inline void gemv(const TwoBitMatrixView& w, const std::int8_t* x, float x_scale, float* y, const float* bias = nullptr,
                 const GemmOptions& options = {}) {
  detail::gemv_impl(w, x, x_scale, y, bias, options);
}

// ---- Row ranges, for callers with their own thread pool ---------------------------------------
// Computes output rows [m0, m1) of every token and touches nothing else; disjoint ranges
// may run concurrently on the same y. Same results as the whole-product calls.

inline void gemm_rows(const PackedMatrixView& w, const ActivationsView& x, MatrixRef<float> y, const float* bias,
                      std::size_t m0, std::size_t m1, Isa isa = Isa::automatic) {
  detail::gemm_rows_impl(w, x, y, bias, m0, m1, isa);
}
inline void gemm_rows(const TwoBitMatrixView& w, const ActivationsView& x, MatrixRef<float> y, const float* bias,
                      std::size_t m0, std::size_t m1, Isa isa = Isa::automatic) {
  detail::gemm_rows_impl(w, x, y, bias, m0, m1, isa);
}

inline void gemm_int32_rows(const PackedMatrixView& w, const ActivationsView& x, MatrixRef<std::int32_t> acc,
                            std::size_t m0, std::size_t m1, Isa isa = Isa::automatic) {
  detail::gemm_int32_rows_impl(w, x, acc, m0, m1, isa);
}
inline void gemm_int32_rows(const TwoBitMatrixView& w, const ActivationsView& x, MatrixRef<std::int32_t> acc,
                            std::size_t m0, std::size_t m1, Isa isa = Isa::automatic) {
  detail::gemm_int32_rows_impl(w, x, acc, m0, m1, isa);
}

TRIT_END_NAMESPACE

// The definitions of what run.hpp declares, unless trit/api.hpp asked for declarations only
// (trit::trit_compiled then provides them).
#if !defined(TRIT_DECLARATIONS_ONLY)
#include "trit/driver/driver.hpp"
#endif
