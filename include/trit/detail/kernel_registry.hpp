// trit: what a kernel path is (a KernelSet), how a product is split into row ranges, and how
// threads share them. Paths register themselves in select_kernels().
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

#include "trit/activations.hpp"
#include "trit/detail/cpu_features.hpp"
#include "trit/detail/gemm_problem.hpp"
#include "trit/isa.hpp"
#include "trit/kernels/neon.hpp"
#include "trit/kernels/x86.hpp"
#include "trit/matrix_ref.hpp"
#include "trit/packed_matrix.hpp"
#include "trit/reference.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace detail {

inline void scalar_rows(const GemmProblem& p, std::size_t m0, std::size_t m1) {
  if (p.acc.data != nullptr) {
    ref::gemm_int32_rows(*p.w, p.x, p.acc, m0, m1);
  } else {
    ref::gemm_rows(*p.w, p.x, p.y, p.bias, m0, m1);
  }
}

inline constexpr KernelSet kScalarKernels{Isa::scalar, scalar_rows, scalar_rows, 1};

// The kernels of one path, or of the best path this CPU has for Isa::automatic. Throws
// unsupported_isa_error for a path this build or this CPU cannot run: never SIGILL.
inline const KernelSet& select_kernels(Isa isa) {
  if (isa == Isa::automatic) isa = best_isa();
  if (!isa_supported(isa)) {
    throw unsupported_isa_error(concat("trit: kernel path '", isa_name(isa),
                                       "' is not supported here: ", isa_unsupported_reason(isa)));
  }
  switch (isa) {
#if TRIT_HAS_X86_KERNELS
    case Isa::avx2: return avx2::kKernels;
    case Isa::avxvnni: return avxvnni::kKernels;
    case Isa::avx512bw: return avx512bw::kKernels;
    case Isa::avx512vnni: return avx512vnni::kKernels;
#endif
#if TRIT_HAS_NEON_KERNELS
    case Isa::neon: return neon::kKernels;
    case Isa::neon_dotprod: return neon_dotprod::kKernels;
#endif
    default: return kScalarKernels;
  }
}

inline void run_rows(const GemmProblem& problem, const KernelSet& kernels, std::size_t m0, std::size_t m1) {
  if (m0 >= m1) return;
  (problem.x.tokens == 1 ? kernels.gemv : kernels.gemm)(problem, m0, m1);
}

inline unsigned resolve_threads(unsigned threads) {
  if (threads != 0) return threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : hw;
}

// Splits the M rows into one contiguous range per thread, each a multiple of the path's row
// tile (the last takes the rest). Every row is computed by exactly one kernel call with the
// same code, so the result does not depend on the thread count.
inline void run_parallel(const GemmProblem& problem, const KernelSet& kernels, unsigned threads) {
  const std::size_t rows = problem.w->rows();
  const std::size_t tile = kernels.row_tile;
  const std::size_t tiles = (rows + tile - 1) / tile;
  const std::size_t workers = std::min<std::size_t>(resolve_threads(threads), tiles);
  if (workers <= 1) {
    run_rows(problem, kernels, 0, rows);
    return;
  }
  const auto range_begin = [&](std::size_t t) { return std::min(rows, (tiles * t / workers) * tile); };
#if defined(_OPENMP)
#pragma omp parallel for num_threads(static_cast<int>(workers)) schedule(static, 1)
  for (long t = 0; t < static_cast<long>(workers); ++t) {
    run_rows(problem, kernels, range_begin(static_cast<std::size_t>(t)), range_begin(static_cast<std::size_t>(t) + 1));
  }
#else
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (std::size_t t = 1; t < workers; ++t) {
    pool.emplace_back([&, t] { run_rows(problem, kernels, range_begin(t), range_begin(t + 1)); });
  }
  run_rows(problem, kernels, range_begin(0), range_begin(1));
  for (std::thread& worker : pool) worker.join();
#endif
}

}  // namespace detail
TRIT_END_NAMESPACE
