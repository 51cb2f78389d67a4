// trit: the contract between the driver and the kernels: what the driver hands a kernel
// (GemmProblem for Dense243 x int8, TwoBitProblem for TwoBit x int8) and the descriptor of a path's kernels for a product.
#pragma once

#include <cstddef>
#include <cstdint>

#include "trit/format/packed_matrix.hpp"
#include "trit/format/two_bit.hpp"
#include "trit/paths/isa.hpp"
#include "trit/version.hpp"
#include "trit/views/activations.hpp"
#include "trit/views/matrix_ref.hpp"

TRIT_BEGIN_NAMESPACE
class LutWeights;
struct Int4ActivationsView;

namespace detail {

// One product of ternary weights (a view type: PackedMatrixView, TwoBitMatrixView) and int8
// activations. Exactly one of acc (int32 output) and y (float output, with optional bias) is
// set. The entry points have checked every shape, pointer and scale before a kernel sees it.
template <class Weights>
struct BasicGemmProblem {
  Weights w{};
  ActivationsView x{};
  MatrixRef<std::int32_t> acc{};
  MatrixRef<float> y{};
  const float* bias = nullptr;
};

using GemmProblem = BasicGemmProblem<PackedMatrixView>;
using TwoBitProblem = BasicGemmProblem<TwoBitMatrixView>;

// Computes output rows [m0, m1) for every token of the problem and writes nothing else.
// scratch holds the bytes the kernel's ScratchBytes asked for (64-byte aligned), reserved
// by the driver on the calling thread: kernels never allocate and never throw.
template <class Problem>
using BasicRowsKernel = void (*)(const Problem&, std::size_t m0, std::size_t m1, std::uint8_t* scratch) noexcept;
// Scratch bytes a kernel needs for `rows` output rows of the problem.
template <class Problem>
using BasicScratchBytes = std::size_t (*)(const Problem&, std::size_t rows);

using RowsKernel = BasicRowsKernel<GemmProblem>;
using ScratchBytes = BasicScratchBytes<GemmProblem>;

template <class Problem>
std::size_t no_scratch(const Problem&, std::size_t) {
  return 0;
}

// A path's kernels for one weight layout x int8 activations.
template <class Problem>
struct Int8RowsKernels {
  Isa isa;
  BasicRowsKernel<Problem> gemv;  // one token
  BasicRowsKernel<Problem> gemm;  // min_gemm_tokens or more tokens
  BasicScratchBytes<Problem> gemv_scratch;
  BasicScratchBytes<Problem> gemm_scratch;
  std::size_t row_tile;  // threads split M at multiples of this
  // Below this many tokens the driver runs the GEMV kernel once per token: decoding a
  // panel only pays off when enough tokens share it (the measured crossover).
  std::size_t min_gemm_tokens;
  std::uint32_t extra_needs;  // CpuFeatureBit set beyond the path's own
  // Trits of K between two widenings of the GEMV's partial sums (0: none); the tests sweep
  // K below, at and above it.
  std::size_t gemv_flush_trits = 0;
};

using Dense243Int8Kernels = Int8RowsKernels<GemmProblem>;

// The problem restricted to token n, for the one-token kernel.
template <class Problem>
Problem single_token(const Problem& problem, std::size_t n) {
  Problem one = problem;
  one.x.data = problem.x.row(n);
  one.x.tokens = 1;
  one.x.scales = problem.x.scales + n;
  if (problem.acc.data != nullptr) one.acc = MatrixRef<std::int32_t>{problem.acc.row(n), 1, problem.acc.cols, problem.acc.stride};
  if (problem.y.data != nullptr) one.y = MatrixRef<float>{problem.y.row(n), 1, problem.y.cols, problem.y.stride};
  return one;
}

// What the driver needs of a weights x int8 product (driver/driver.hpp): the GEMV kernel once
// per token below the crossover, the GEMM kernel above it.
template <class Problem>
struct Int8RowsProduct {
  using Kernels = Int8RowsKernels<Problem>;

  static std::size_t rows(const Problem& p) { return p.w.rows(); }
  static std::size_t row_tile(const Kernels& k) { return k.row_tile; }
  static bool per_token(const Problem& p, const Kernels& k) { return p.x.tokens < k.min_gemm_tokens; }
  static std::size_t scratch_bytes(const Problem& p, const Kernels& k, std::size_t span) {
    return per_token(p, k) ? k.gemv_scratch(single_token(p, 0), span) : k.gemm_scratch(p, span);
  }
  static void run(const Problem& p, const Kernels& k, std::size_t m0, std::size_t m1, std::uint8_t* scratch) noexcept {
    if (m0 >= m1) return;
    if (!per_token(p, k)) {
      k.gemm(p, m0, m1, scratch);
      return;
    }
    for (std::size_t n = 0; n < p.x.tokens; ++n) k.gemv(single_token(p, n), m0, m1, scratch);
  }
};

// One int4 product (LutWeights x int4): token values come either packed (two per byte) or
// stored one per int8.
struct LutInt4Problem {
  const LutWeights* w = nullptr;
  std::size_t tokens = 0;
  const Int4ActivationsView* packed = nullptr;  // or:
  const std::int8_t* values = nullptr;          // token n at values + n * values_stride
  std::size_t values_stride = 0;
  const float* scales = nullptr;
  MatrixRef<std::int32_t> acc{};
  MatrixRef<float> y{};
  const float* bias = nullptr;
};

}  // namespace detail
TRIT_END_NAMESPACE
