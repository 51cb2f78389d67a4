// trit: recommend_layout, which says when TwoBit beats Dense243. The GEMV/GEMM entry points on
// TwoBit weights are driver/gemm.hpp's, which take either layout (included here for the code
// that included this header for them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "trit/driver/gemm.hpp"
#include "trit/driver/worker_pool.hpp"
#include "trit/format/two_bit.hpp"
#include "trit/version.hpp"

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

TRIT_BEGIN_NAMESPACE

// ---- Choosing a layout ------------------------------------------------------------------------

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
