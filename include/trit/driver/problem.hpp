// trit: the description of one product that the driver hands to a kernel path, and the
// record (KernelSet) that ties a path's kernels to its row tile.
#pragma once

#include <cstddef>
#include <cstdint>

#include "trit/views/activations.hpp"
#include "trit/paths/isa.hpp"
#include "trit/views/matrix_ref.hpp"
#include "trit/format/packed_matrix.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace detail {

// Exactly one of acc (int32 output) and y (float output, with optional bias) is set. The
// entry points have checked every shape, pointer and scale before a kernel sees it.
struct GemmProblem {
  const PackedMatrix* w = nullptr;
  ActivationsView x{};
  MatrixRef<std::int32_t> acc{};
  MatrixRef<float> y{};
  const float* bias = nullptr;
};

// Computes output rows [m0, m1) for every token of the problem and writes nothing else.
using RowsKernel = void (*)(const GemmProblem&, std::size_t m0, std::size_t m1);

struct KernelSet {
  Isa isa;
  RowsKernel gemv;       // used when the problem has one token
  RowsKernel gemm;       // used for min_gemm_tokens or more tokens
  std::size_t row_tile;  // threads split M at multiples of this
  // Below this many tokens the driver runs the GEMV kernel once per token: decoding a
  // panel only pays off when enough tokens share it.
  std::size_t min_gemm_tokens = 2;
};

}  // namespace detail
TRIT_END_NAMESPACE
