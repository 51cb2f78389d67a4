// trit: the public GEMV/GEMM entry points on TwoBit weights x int8 activations (the same
// contract as driver/gemm.hpp's, bit for bit: int32 accumulators equal, floats through the
// same epilogue), and recommend_layout, which says when TwoBit beats Dense243.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "trit/driver/driver.hpp"
#include "trit/driver/gemm.hpp"
#include "trit/kernels/two_bit_contract.hpp"
#include "trit/format/two_bit.hpp"
#include "trit/version.hpp"

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

TRIT_BEGIN_NAMESPACE

namespace detail {

inline TwoBitProblem two_bit_problem(const TwoBitMatrixView& w, const ActivationsView& x, const char* fn) {
  require(!w.empty(), fn, "w is empty");
  check_activations(x, w.cols(), fn);
  TwoBitProblem problem;
  problem.w = w;
  problem.x = x;
  return problem;
}

inline TwoBitProblem two_bit_float_problem(const TwoBitMatrixView& w, const ActivationsView& x, MatrixRef<float> y,
                                           const float* bias, const char* fn) {
  TwoBitProblem problem = two_bit_problem(w, x, fn);
  check_shape(y, x.tokens, w.rows(), fn, "y");
  problem.y = y;
  problem.bias = bias;
  return problem;
}

inline TwoBitProblem two_bit_int32_problem(const TwoBitMatrixView& w, const ActivationsView& x,
                                           MatrixRef<std::int32_t> acc, const char* fn) {
  TwoBitProblem problem = two_bit_problem(w, x, fn);
  check_shape(acc, x.tokens, w.rows(), fn, "acc");
  problem.acc = acc;
  return problem;
}

}  // namespace detail

// The path a TwoBit x int8 product runs on when `isa` is asked for.
inline Isa two_bit_path(Isa isa = Isa::automatic) { return detail::product_path<detail::TwoBitInt8Product>(isa); }

inline void gemm(const TwoBitMatrixView& w, const ActivationsView& x, MatrixRef<float> y, const float* bias = nullptr,
                 const GemmOptions& options = {}) {
  using P = detail::TwoBitInt8Product;
  const detail::TwoBitProblem problem = detail::two_bit_float_problem(w, x, y, bias, "gemm");
  detail::check_bias(bias, w.rows(), "gemm");
  detail::run_parallel<P>(problem, detail::select_kernels<P>(options.isa), options.threads);
}

inline void gemm_int32(const TwoBitMatrixView& w, const ActivationsView& x, MatrixRef<std::int32_t> acc,
                       const GemmOptions& options = {}) {
  using P = detail::TwoBitInt8Product;
  detail::run_parallel<P>(detail::two_bit_int32_problem(w, x, acc, "gemm_int32"), detail::select_kernels<P>(options.isa),
                          options.threads);
}

inline void gemv(const TwoBitMatrixView& w, const std::int8_t* x, float x_scale, float* y, const float* bias = nullptr,
                 const GemmOptions& options = {}) {
  detail::require(y != nullptr, "gemv", "y is null");
  gemm(w, ActivationsView{x, 1, w.cols(), w.cols(), &x_scale}, matrix(y, 1, w.rows()), bias, options);
}

inline void gemm_rows(const TwoBitMatrixView& w, const ActivationsView& x, MatrixRef<float> y, const float* bias,
                      std::size_t m0, std::size_t m1, Isa isa = Isa::automatic) {
  constexpr const char* fn = "gemm_rows";
  using P = detail::TwoBitInt8Product;
  const detail::TwoBitProblem problem = detail::two_bit_float_problem(w, x, y, bias, fn);
  detail::check_range(w.rows(), m0, m1, fn);
  if (bias != nullptr) detail::check_bias(bias + m0, m1 - m0, fn);
  detail::run_range<P>(problem, detail::select_kernels<P>(isa), m0, m1);
}

inline void gemm_int32_rows(const TwoBitMatrixView& w, const ActivationsView& x, MatrixRef<std::int32_t> acc,
                            std::size_t m0, std::size_t m1, Isa isa = Isa::automatic) {
  constexpr const char* fn = "gemm_int32_rows";
  using P = detail::TwoBitInt8Product;
  const detail::TwoBitProblem problem = detail::two_bit_int32_problem(w, x, acc, fn);
  detail::check_range(w.rows(), m0, m1, fn);
  detail::run_range<P>(problem, detail::select_kernels<P>(isa), m0, m1);
}

// ---- Choosing a layout ------------------------------------------------------------------------

enum class WeightLayout : std::uint8_t { dense243, two_bit };

inline const char* layout_name(WeightLayout layout) { return layout == WeightLayout::two_bit ? "two_bit" : "dense243"; }

// Per-core L2 and shared L3 bytes (0 where unknown).
struct CacheSizes {
  std::size_t l2 = 0;
  std::size_t l3 = 0;
};

namespace detail {
// "512K", "16384K", "1M" as in /sys/devices/system/cpu/cpu0/cache/index*/size.
inline std::size_t read_sysfs_cache_size(int level) {
  for (int index = 0; index < 8; ++index) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/";
    std::FILE* f = std::fopen((dir + "level").c_str(), "r");
    if (f == nullptr) continue;
    int found = 0;
    const bool ok = std::fscanf(f, "%d", &found) == 1;
    std::fclose(f);
    if (!ok || found != level) continue;
    f = std::fopen((dir + "size").c_str(), "r");
    if (f == nullptr) return 0;
    unsigned long long value = 0;
    char unit = 0;
    const int read = std::fscanf(f, "%llu%c", &value, &unit);
    std::fclose(f);
    if (read < 1) return 0;
    if (unit == 'K') value <<= 10;
    if (unit == 'M') value <<= 20;
    return static_cast<std::size_t>(value);
  }
  return 0;
}
}  // namespace detail

// This machine's caches, read once: sysfs, then sysconf, then 0.
inline CacheSizes cache_sizes() {
  static const CacheSizes sizes = [] {
    CacheSizes s;
    s.l2 = detail::read_sysfs_cache_size(2);
    s.l3 = detail::read_sysfs_cache_size(3);
#if defined(_SC_LEVEL2_CACHE_SIZE) && defined(_SC_LEVEL3_CACHE_SIZE)
    if (s.l2 == 0) {
      const long v = sysconf(_SC_LEVEL2_CACHE_SIZE);
      s.l2 = v > 0 ? static_cast<std::size_t>(v) : 0;
    }
    if (s.l3 == 0) {
      const long v = sysconf(_SC_LEVEL3_CACHE_SIZE);
      s.l3 = v > 0 ? static_cast<std::size_t>(v) : 0;
    }
#endif
    return s;
  }();
  return sizes;
}

// The layout for an M x K matrix multiplied by `threads` threads (0: all) and reused from
// call to call. The rule (docs/FORMAT.md T5): TwoBit when its bytes fit in the caches the
// threads use, threads * L2 + L3, else Dense243, whose 20% fewer bytes tie or win once the
// weights stream from memory. Measured on a Zen 2 EPYC (512 KiB L2, 16 MiB L3), GEMV M x 2560,
// 1 thread: TwoBit 2.3x faster at 1.6 MB, 1.9x at 8.8 MB, a tie at 17.7 and 35 MB (DRAM);
// cold 6912 x 2560 on 2 threads Dense243 is 18% faster. Unknown caches count as 512 KiB L2
// and 8 MiB L3.
inline WeightLayout recommend_layout(std::size_t rows, std::size_t cols, unsigned threads, const CacheSizes& caches) {
  const std::size_t l2 = caches.l2 != 0 ? caches.l2 : std::size_t{512} << 10;
  const std::size_t l3 = caches.l3 != 0 ? caches.l3 : std::size_t{8} << 20;
  const std::size_t used = threads == 0 ? detail::hardware_threads() : threads;
  const double two_bit_bytes = static_cast<double>(rows) * static_cast<double>(two_bit::row_layout(cols).bytes);
  const double budget = static_cast<double>(used) * static_cast<double>(l2) + static_cast<double>(l3);
  return two_bit_bytes <= budget ? WeightLayout::two_bit : WeightLayout::dense243;
}

inline WeightLayout recommend_layout(std::size_t rows, std::size_t cols, unsigned threads = 1) {
  return recommend_layout(rows, cols, threads, cache_sizes());
}

TRIT_END_NAMESPACE
