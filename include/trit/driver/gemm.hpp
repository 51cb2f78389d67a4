// trit: the public GEMV/GEMM entry points on packed ternary weights x int8 activations.
//
//   y[n][m] = ((float)acc[n][m] / x.scale(n)) * w.scale(m) + bias[m]
//   acc[n][m] = sum_k W[m][k] * x[n][k]       (int32, exact)
//
// W is M x K (PackedMatrix), x holds N tokens of K values, y and acc are N x M (token-major).
// Every kernel path gives the same int32 and bit-identical floats as trit::ref.
#pragma once

#include <cstddef>
#include <cstdint>

#include "trit/views/activations.hpp"
#include "trit/driver/driver.hpp"
#include "trit/error.hpp"
#include "trit/paths/isa.hpp"
#include "trit/views/matrix_ref.hpp"
#include "trit/format/packed_matrix.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

struct GemmOptions {
  Isa isa = Isa::automatic;  // a path this CPU lacks throws unsupported_isa_error
  unsigned threads = 1;      // 0 = one per hardware thread; results do not depend on it
};

namespace detail {

inline GemmProblem make_problem(const PackedMatrix& w, const ActivationsView& x, const char* fn) {
  require(!w.empty(), fn, "w is empty");
  check_activations(x, w.cols(), fn);
  GemmProblem problem;
  problem.w = &w;
  problem.x = x;
  return problem;
}

inline void check_range(const GemmProblem& problem, std::size_t m0, std::size_t m1, const char* fn) {
  require(m0 <= m1 && m1 <= problem.w->rows(), fn, "row range [", m0, ", ", m1, ") is not inside [0, ",
          problem.w->rows(), ")");
}

}  // namespace detail

// ---- Whole products --------------------------------------------------------------------------

// Float output, with an optional bias of M floats.
inline void gemm(const PackedMatrix& w, const ActivationsView& x, MatrixRef<float> y, const float* bias = nullptr,
                 const GemmOptions& options = {}) {
  constexpr const char* fn = "gemm";
  detail::GemmProblem problem = detail::make_problem(w, x, fn);
  detail::check_shape(y, x.tokens, w.rows(), fn, "y");
  problem.y = y;
  problem.bias = bias;
  detail::run_parallel(problem, detail::select_kernels(options.isa), options.threads);
}

// The exact int32 accumulators, no epilogue.
inline void gemm_int32(const PackedMatrix& w, const ActivationsView& x, MatrixRef<std::int32_t> acc,
                       const GemmOptions& options = {}) {
  constexpr const char* fn = "gemm_int32";
  detail::GemmProblem problem = detail::make_problem(w, x, fn);
  detail::check_shape(acc, x.tokens, w.rows(), fn, "acc");
  problem.acc = acc;
  detail::run_parallel(problem, detail::select_kernels(options.isa), options.threads);
}

// One token: x holds K int8 values with scale x_scale; y receives M floats.
inline void gemv(const PackedMatrix& w, const std::int8_t* x, float x_scale, float* y, const float* bias = nullptr,
                 const GemmOptions& options = {}) {
  detail::require(y != nullptr, "gemv", "y is null");
  gemm(w, ActivationsView{x, 1, w.cols(), w.cols(), &x_scale}, matrix(y, 1, w.rows()), bias, options);
}

// ---- Row ranges, for callers with their own thread pool ---------------------------------------
// Computes output rows [m0, m1) of every token and touches nothing else; disjoint ranges
// may run concurrently on the same y. Same results as the whole-product calls.

inline void gemm_rows(const PackedMatrix& w, const ActivationsView& x, MatrixRef<float> y, const float* bias,
                      std::size_t m0, std::size_t m1, Isa isa = Isa::automatic) {
  constexpr const char* fn = "gemm_rows";
  detail::GemmProblem problem = detail::make_problem(w, x, fn);
  detail::check_shape(y, x.tokens, w.rows(), fn, "y");
  detail::check_range(problem, m0, m1, fn);
  problem.y = y;
  problem.bias = bias;
  detail::run_rows(problem, detail::select_kernels(isa), m0, m1);
}

inline void gemm_int32_rows(const PackedMatrix& w, const ActivationsView& x, MatrixRef<std::int32_t> acc,
                            std::size_t m0, std::size_t m1, Isa isa = Isa::automatic) {
  constexpr const char* fn = "gemm_int32_rows";
  detail::GemmProblem problem = detail::make_problem(w, x, fn);
  detail::check_shape(acc, x.tokens, w.rows(), fn, "acc");
  detail::check_range(problem, m0, m1, fn);
  problem.acc = acc;
  detail::run_rows(problem, detail::select_kernels(isa), m0, m1);
}

TRIT_END_NAMESPACE
