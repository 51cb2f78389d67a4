// trit: the TwoBit x int8 product for the driver: what a kernel is handed (TwoBitProblem),
// the descriptor of a path's kernels (TwoBitInt8Kernels), and the product type the driver
// runs (TwoBitInt8Product). Kernels files specialise detail::KernelsFor<TwoBitInt8Product, Isa>.
#pragma once

#include <cstddef>
#include <cstdint>

#include "trit/kernels/path_kernels.hpp"
#include "trit/format/two_bit.hpp"
#include "trit/paths/path_table.hpp"
#include "trit/version.hpp"
#include "trit/views/activations.hpp"
#include "trit/views/matrix_ref.hpp"

TRIT_BEGIN_NAMESPACE
namespace detail {

// Exactly one of acc and y is set; the entry points have checked everything before.
struct TwoBitProblem {
  TwoBitMatrixView w{};
  ActivationsView x{};
  MatrixRef<std::int32_t> acc{};
  MatrixRef<float> y{};
  const float* bias = nullptr;
};

// Output rows [m0, m1) of every token of the problem; scratch as asked by the ScratchBytes.
using TwoBitRowsKernel = void (*)(const TwoBitProblem&, std::size_t m0, std::size_t m1, std::uint8_t* scratch) noexcept;
using TwoBitScratchBytes = std::size_t (*)(const TwoBitProblem&, std::size_t rows);

inline std::size_t two_bit_no_scratch(const TwoBitProblem&, std::size_t) { return 0; }

struct TwoBitInt8Kernels {
  Isa isa;
  TwoBitRowsKernel gemv;  // one token
  TwoBitRowsKernel gemm;  // min_gemm_tokens or more tokens
  TwoBitScratchBytes gemv_scratch;
  TwoBitScratchBytes gemm_scratch;
  std::size_t row_tile;         // threads split M at multiples of this
  std::size_t min_gemm_tokens;  // below it the GEMV kernel runs once per token
  std::uint32_t extra_needs;    // CpuFeatureBit set beyond the path's own
};

inline TwoBitProblem single_token(const TwoBitProblem& problem, std::size_t n) {
  TwoBitProblem one = problem;
  one.x.data = problem.x.row(n);
  one.x.tokens = 1;
  one.x.scales = problem.x.scales + n;
  if (problem.acc.data != nullptr) one.acc = MatrixRef<std::int32_t>{problem.acc.row(n), 1, problem.acc.cols, problem.acc.stride};
  if (problem.y.data != nullptr) one.y = MatrixRef<float>{problem.y.row(n), 1, problem.y.cols, problem.y.stride};
  return one;
}

struct TwoBitInt8Product {
  using Kernels = TwoBitInt8Kernels;
  using Problem = TwoBitProblem;
  static constexpr std::uint32_t kBit = kProductTwoBitInt8;
  static constexpr const char* kName = "two_bit x int8";

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

}  // namespace detail
TRIT_END_NAMESPACE
