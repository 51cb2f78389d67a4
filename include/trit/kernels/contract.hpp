// trit: the contract between the driver and the kernels: what the driver hands a kernel
// (GemmProblem for Dense243 x int8) and the descriptor of a path's kernels for a product.
#pragma once

#include <cstddef>
#include <cstdint>

#include "trit/format/packed_matrix.hpp"
#include "trit/paths/isa.hpp"
#include "trit/version.hpp"
#include "trit/views/activations.hpp"
#include "trit/views/matrix_ref.hpp"

TRIT_BEGIN_NAMESPACE
class LutWeights;
struct Int4ActivationsView;

namespace detail {

// Exactly one of acc (int32 output) and y (float output, with optional bias) is set. The
// entry points have checked every shape, pointer and scale before a kernel sees it.
struct GemmProblem {
  PackedMatrixView w{};
  ActivationsView x{};
  MatrixRef<std::int32_t> acc{};
  MatrixRef<float> y{};
  const float* bias = nullptr;
};

// Computes output rows [m0, m1) for every token of the problem and writes nothing else.
// scratch holds the bytes the kernel's ScratchBytes asked for (64-byte aligned), reserved
// by the driver on the calling thread: kernels never allocate and never throw.
using RowsKernel = void (*)(const GemmProblem&, std::size_t m0, std::size_t m1, std::uint8_t* scratch) noexcept;
// Scratch bytes a kernel needs for `rows` output rows of the problem.
using ScratchBytes = std::size_t (*)(const GemmProblem&, std::size_t rows);

inline std::size_t no_scratch(const GemmProblem&, std::size_t) { return 0; }

// A path's kernels for Dense243 weights x int8 activations.
struct Dense243Int8Kernels {
  Isa isa;
  RowsKernel gemv;  // one token
  RowsKernel gemm;  // min_gemm_tokens or more tokens
  ScratchBytes gemv_scratch;
  ScratchBytes gemm_scratch;
  std::size_t row_tile;  // threads split M at multiples of this
  // Below this many tokens the driver runs the GEMV kernel once per token: decoding a
  // panel only pays off when enough tokens share it (the measured crossover).
  std::size_t min_gemm_tokens;
  // Trits of K between two widenings of the GEMV's partial sums (0: none); the tests sweep
  // K below, at and above it.
  std::size_t gemv_flush_trits;
  std::uint32_t extra_needs;  // CpuFeatureBit set beyond the path's own
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
