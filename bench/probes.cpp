// trit_bench: the machine's own limits, measured in the same run as the kernels:
//   probe/dram_read_bw/t1|t2   reads of a 1 GiB buffer, the fastest of several strategies (GBps)
//   probe/int8_dot_peak/t1|t2  a register-only loop of the best int8 dot instruction (GOPS)
// Kernel rows divide by these to report frac_of_limit.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

#include "bench_common.hpp"

// GCC 12's AVX-512 reductions start from "undefined" vectors initialised from themselves,
// which -Wuninitialized reports at every inlined use; the values are never read.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace trit_bench {
namespace {

// Runs work(thread_index) on `threads` threads (the caller is thread 0) and returns the
// wall-clock seconds until all have finished.
template <class Work>
double timed_on_threads(unsigned threads, const Work& work) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> helpers;
  for (unsigned t = 1; t < threads; ++t) helpers.emplace_back([&work, t] { work(t); });
  work(0u);
  for (std::thread& helper : helpers) helper.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// ---- DRAM read bandwidth ----------------------------------------------------------------------

constexpr std::size_t kDramProbeBytes = std::size_t{1} << 30;

struct DramProbeBuffer {
  trit::detail::AlignedBuffer<std::uint8_t> bytes{kDramProbeBytes};
  DramProbeBuffer() {
    // Written (not just allocated) so that every page is backed before it is timed.
    for (std::size_t i = 0; i < kDramProbeBytes; i += 4096) std::memset(bytes.data() + i, static_cast<int>(i >> 12), 4096);
  }
};

// A kernel that reads its weights in several sequential streams (the GEMV takes the rows of a
// block from 8 stretches) can pull more from DRAM than one front-to-back stream does, because
// more hardware prefetchers and fill buffers work at once. A probe that only streamed once was
// beaten by the kernels it was meant to bound, so it now tries several ways of reading and
// keeps the fastest: each thread splits its share into `streams` equal stretches read side by
// side, with or without software prefetches ahead of every stream.
struct ReadStrategy {
  unsigned streams;
  bool prefetch;
  const char* name;
};

constexpr ReadStrategy kReadStrategies[] = {
    {1, false, "1 stream"},   {1, true, "1 stream+pf"},   {2, false, "2 streams"},  {2, true, "2 streams+pf"},
    {4, false, "4 streams"},  {4, true, "4 streams+pf"},  {8, false, "8 streams"},  {8, true, "8 streams+pf"},
    {16, false, "16 streams"}, {16, true, "16 streams+pf"},
};
constexpr std::size_t kReadStrategyCount = sizeof(kReadStrategies) / sizeof(kReadStrategies[0]);

// Far enough ahead to cover DRAM latency at full bandwidth for one stream, near enough that
// the lines are still in L1/L2 when the loads arrive.
constexpr std::size_t kPrefetchAhead = 1024;

// The counter name of a strategy in the JSON, e.g. "GBps_8s_pf".
std::string strategy_counter(const ReadStrategy& strategy) {
  return "GBps_" + std::to_string(strategy.streams) + "s" + (strategy.prefetch ? "_pf" : "");
}

#if defined(__x86_64__)
// One cache line per stream per step, widest loads; four accumulators keep the adds off the
// critical path without running out of ymm registers at 16 streams.
template <unsigned Streams, bool Prefetch>
__attribute__((target("avx512f"))) std::uint64_t read_streams_zmm(const std::uint8_t* p, std::size_t bytes) {
  const std::size_t stretch = bytes / Streams;
  __m512i acc[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
  for (std::size_t i = 0; i < stretch; i += 64) {
    for (unsigned s = 0; s < Streams; ++s) {
      const std::uint8_t* line = p + s * stretch + i;
      if (Prefetch) _mm_prefetch(reinterpret_cast<const char*>(line + kPrefetchAhead), _MM_HINT_T0);
      acc[s % 4] = _mm512_add_epi64(acc[s % 4], _mm512_load_si512(line));
    }
  }
  const __m512i sum = _mm512_add_epi64(_mm512_add_epi64(acc[0], acc[1]), _mm512_add_epi64(acc[2], acc[3]));
  return static_cast<std::uint64_t>(_mm512_reduce_add_epi64(sum));
}

template <unsigned Streams, bool Prefetch>
__attribute__((target("avx2"))) std::uint64_t read_streams_ymm(const std::uint8_t* p, std::size_t bytes) {
  const std::size_t stretch = bytes / Streams;
  __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
  for (std::size_t i = 0; i < stretch; i += 64) {
    for (unsigned s = 0; s < Streams; ++s) {
      const std::uint8_t* line = p + s * stretch + i;
      if (Prefetch) _mm_prefetch(reinterpret_cast<const char*>(line + kPrefetchAhead), _MM_HINT_T0);
      const __m256i lo = _mm256_load_si256(reinterpret_cast<const __m256i*>(line));
      const __m256i hi = _mm256_load_si256(reinterpret_cast<const __m256i*>(line + 32));
      acc[s % 4] = _mm256_add_epi64(acc[s % 4], _mm256_add_epi64(lo, hi));
    }
  }
  const __m256i sum = _mm256_add_epi64(_mm256_add_epi64(acc[0], acc[1]), _mm256_add_epi64(acc[2], acc[3]));
  alignas(32) std::uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), sum);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}
#endif

template <unsigned Streams, bool Prefetch>
std::uint64_t read_streams_portable(const std::uint8_t* p, std::size_t bytes) {
  const std::size_t stretch = bytes / Streams;
  std::uint64_t acc[4] = {};
  for (std::size_t i = 0; i < stretch; i += 64) {
    for (unsigned s = 0; s < Streams; ++s) {
      const std::uint8_t* line = p + s * stretch + i;
      if (Prefetch) __builtin_prefetch(line + kPrefetchAhead);
      for (int j = 0; j < 8; ++j) {
        std::uint64_t v;
        std::memcpy(&v, line + 8 * j, 8);
        acc[j % 4] += v;
      }
    }
  }
  return acc[0] + acc[1] + acc[2] + acc[3];
}

using ReadFunction = std::uint64_t (*)(const std::uint8_t*, std::size_t);

template <unsigned Streams, bool Prefetch>
ReadFunction read_function() {
#if defined(__x86_64__)
  if (trit::cpu_features().avx512bw) return read_streams_zmm<Streams, Prefetch>;
  if (trit::cpu_features().avx2) return read_streams_ymm<Streams, Prefetch>;
#endif
  return read_streams_portable<Streams, Prefetch>;
}

ReadFunction read_function(const ReadStrategy& strategy) {
  switch (strategy.streams * 2 + (strategy.prefetch ? 1 : 0)) {
    case 2: return read_function<1, false>();
    case 3: return read_function<1, true>();
    case 4: return read_function<2, false>();
    case 5: return read_function<2, true>();
    case 8: return read_function<4, false>();
    case 9: return read_function<4, true>();
    case 16: return read_function<8, false>();
    case 17: return read_function<8, true>();
    case 32: return read_function<16, false>();
    default: return read_function<16, true>();
  }
}

// One pass over the buffer with one strategy, split in contiguous shares, one per thread; GB/s.
double dram_read_pass(const std::uint8_t* buffer, unsigned threads, const ReadStrategy& strategy) {
  const ReadFunction read = read_function(strategy);
  std::vector<std::uint64_t> sums(threads);
  const std::size_t share = kDramProbeBytes / threads;
  const double seconds = timed_on_threads(threads, [&](unsigned t) { sums[t] = read(buffer + t * share, share); });
  benchmark::DoNotOptimize(sums.data());
  return static_cast<double>(share * threads) / seconds / 1e9;
}

// One pass of every strategy, in a fixed order; GB/s of each.
std::vector<double> dram_read_round(const std::uint8_t* buffer, unsigned threads) {
  std::vector<double> rates;
  for (const ReadStrategy& strategy : kReadStrategies) rates.push_back(dram_read_pass(buffer, threads, strategy));
  return rates;
}

// ---- int8 dot-product peak --------------------------------------------------------------------

// Chains of dependent dot instructions, more of them than latency x throughput (5 x 2 on
// current cores), so that the loop runs at the instruction's throughput. The x86 loops are
// written in asm: compilers copy accumulators of destructive instructions around, and each
// copy would take an issue slot from the instruction being measured.
constexpr std::size_t kDotLoops = std::size_t{1} << 21;  // a few ms a pass: thread start-up is noise

struct DotPeakKernel {
  const char* instruction;
  double ops_per_loop;  // 2 per multiply-add
  std::int64_t (*run)(std::size_t loops);
};

#if defined(__x86_64__)
constexpr int kVnniChains = 12;  // asm allows 30 operands: 12 in-out accumulators and 2 inputs

#define TRIT_BENCH_DOT12(op)                                                                               \
  op "%[u], %[s], %[a0]\n\t" op "%[u], %[s], %[a1]\n\t" op "%[u], %[s], %[a2]\n\t" op "%[u], %[s], %[a3]\n\t"     \
  op "%[u], %[s], %[a4]\n\t" op "%[u], %[s], %[a5]\n\t" op "%[u], %[s], %[a6]\n\t" op "%[u], %[s], %[a7]\n\t"   \
  op "%[u], %[s], %[a8]\n\t" op "%[u], %[s], %[a9]\n\t" op "%[u], %[s], %[a10]\n\t" op "%[u], %[s], %[a11]\n\t"
#define TRIT_BENCH_ACC12(c)                                                                                \
  [a0] c(a0), [a1] c(a1), [a2] c(a2), [a3] c(a3), [a4] c(a4), [a5] c(a5), [a6] c(a6), [a7] c(a7), [a8] c(a8), \
      [a9] c(a9), [a10] c(a10), [a11] c(a11)
// Twelve named accumulators: an array would be written back to the stack after every asm.
#define TRIT_BENCH_DECLARE12(type, zero) \
  type a0 = zero, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0
#define TRIT_BENCH_SUM12(add) \
  add(add(add(add(a0, a1), add(a2, a3)), add(add(a4, a5), add(a6, a7))), add(add(a8, a9), add(a10, a11)))

__attribute__((target("avx512f,avx512bw,avx512vnni"))) std::int64_t dot_loop_vpdpbusd_zmm(std::size_t loops) {
  TRIT_BENCH_DECLARE12(__m512i, _mm512_setzero_si512());
  const __m512i u = _mm512_set1_epi8(1), s = _mm512_set1_epi8(1);
  for (std::size_t i = 0; i < loops; ++i) {
    __asm__ volatile(TRIT_BENCH_DOT12("vpdpbusd ") : TRIT_BENCH_ACC12("+v") : [u] "v"(u), [s] "v"(s));
  }
  return _mm512_reduce_add_epi32(TRIT_BENCH_SUM12(_mm512_add_epi32));
}

__attribute__((target("avx2,avxvnni"))) std::int64_t dot_loop_vpdpbusd_ymm(std::size_t loops) {
  TRIT_BENCH_DECLARE12(__m256i, _mm256_setzero_si256());
  const __m256i u = _mm256_set1_epi8(1), s = _mm256_set1_epi8(1);
  for (std::size_t i = 0; i < loops; ++i) {
    // AVX-VNNI: the VEX encoding, which the assembler picks only when told to.
    __asm__ volatile(TRIT_BENCH_DOT12("%{vex%} vpdpbusd ") : TRIT_BENCH_ACC12("+x") : [u] "x"(u), [s] "x"(s));
  }
  alignas(32) std::int32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), TRIT_BENCH_SUM12(_mm256_add_epi32));
  std::int64_t sum = 0;
  for (std::int32_t v : lanes) sum += v;
  return sum;
}

// Issue rates of the two instructions trit's GEMV spends its time on, alone and mixed 1:1:
// if the mix ran faster than either alone, they would use different execution ports and the
// raw-chain GEMV could overlap its byte adds with its dot products.
__attribute__((target("avx512f,avx512bw"))) std::int64_t issue_loop_vpaddb(std::size_t loops) {
  TRIT_BENCH_DECLARE12(__m512i, _mm512_setzero_si512());
  const __m512i u = _mm512_set1_epi8(1);
  for (std::size_t i = 0; i < loops; ++i) {
    __asm__ volatile(
        "vpaddb %[u], %[a0], %[a0]\n\tvpaddb %[u], %[a1], %[a1]\n\tvpaddb %[u], %[a2], %[a2]\n\t"
        "vpaddb %[u], %[a3], %[a3]\n\tvpaddb %[u], %[a4], %[a4]\n\tvpaddb %[u], %[a5], %[a5]\n\t"
        "vpaddb %[u], %[a6], %[a6]\n\tvpaddb %[u], %[a7], %[a7]\n\tvpaddb %[u], %[a8], %[a8]\n\t"
        "vpaddb %[u], %[a9], %[a9]\n\tvpaddb %[u], %[a10], %[a10]\n\tvpaddb %[u], %[a11], %[a11]\n\t"
        : TRIT_BENCH_ACC12("+v")
        : [u] "v"(u));
  }
  return _mm512_reduce_add_epi32(TRIT_BENCH_SUM12(_mm512_add_epi32));
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) std::int64_t issue_loop_mixed(std::size_t loops) {
  TRIT_BENCH_DECLARE12(__m512i, _mm512_setzero_si512());
  const __m512i u = _mm512_set1_epi8(1), s = _mm512_set1_epi8(1);
  for (std::size_t i = 0; i < loops; ++i) {
    __asm__ volatile(
        "vpdpbusd %[u], %[s], %[a0]\n\tvpaddb %[u], %[a1], %[a1]\n\t"
        "vpdpbusd %[u], %[s], %[a2]\n\tvpaddb %[u], %[a3], %[a3]\n\t"
        "vpdpbusd %[u], %[s], %[a4]\n\tvpaddb %[u], %[a5], %[a5]\n\t"
        "vpdpbusd %[u], %[s], %[a6]\n\tvpaddb %[u], %[a7], %[a7]\n\t"
        "vpdpbusd %[u], %[s], %[a8]\n\tvpaddb %[u], %[a9], %[a9]\n\t"
        "vpdpbusd %[u], %[s], %[a10]\n\tvpaddb %[u], %[a11], %[a11]\n\t"
        : TRIT_BENCH_ACC12("+v")
        : [u] "v"(u), [s] "v"(s));
  }
  return _mm512_reduce_add_epi32(TRIT_BENCH_SUM12(_mm512_add_epi32));
}

#undef TRIT_BENCH_DOT12
#undef TRIT_BENCH_ACC12
#undef TRIT_BENCH_DECLARE12
#undef TRIT_BENCH_SUM12

// Without VNNI the dot product is vpmaddubsw (u8 x s8 -> pairs summed in int16) plus an int16
// add, the pair the avx512bw and avx2 kernels issue per digit. Six chains: the one-cycle adds
// are the only dependency, and 6 accumulators + 6 products + 2 inputs fit AVX2's 16 registers.
constexpr int kMaddubsChains = 6;

#define TRIT_BENCH_MADDUBS6()                                                                         \
  "vpmaddubsw %[s], %[u], %[t0]\n\tvpaddw %[t0], %[a0], %[a0]\n\t"                                  \
  "vpmaddubsw %[s], %[u], %[t1]\n\tvpaddw %[t1], %[a1], %[a1]\n\t"                                  \
  "vpmaddubsw %[s], %[u], %[t2]\n\tvpaddw %[t2], %[a2], %[a2]\n\t"                                  \
  "vpmaddubsw %[s], %[u], %[t3]\n\tvpaddw %[t3], %[a3], %[a3]\n\t"                                  \
  "vpmaddubsw %[s], %[u], %[t4]\n\tvpaddw %[t4], %[a4], %[a4]\n\t"                                  \
  "vpmaddubsw %[s], %[u], %[t5]\n\tvpaddw %[t5], %[a5], %[a5]\n\t"
#define TRIT_BENCH_MADDUBS_OPERANDS(c)                                                                     \
  [a0] "+" c(a0), [a1] "+" c(a1), [a2] "+" c(a2), [a3] "+" c(a3), [a4] "+" c(a4), [a5] "+" c(a5),          \
      [t0] "=&" c(t0), [t1] "=&" c(t1), [t2] "=&" c(t2), [t3] "=&" c(t3), [t4] "=&" c(t4), [t5] "=&" c(t5)

__attribute__((target("avx512f,avx512bw"))) std::int64_t dot_loop_maddubs_zmm(std::size_t loops) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, t0, t1, t2, t3, t4, t5;
  const __m512i u = _mm512_set1_epi8(1), s = _mm512_set1_epi8(1);
  for (std::size_t i = 0; i < loops; ++i) {
    __asm__ volatile(TRIT_BENCH_MADDUBS6() : TRIT_BENCH_MADDUBS_OPERANDS("v") : [u] "v"(u), [s] "v"(s));
  }
  const __m512i sum = _mm512_add_epi16(_mm512_add_epi16(_mm512_add_epi16(a0, a1), _mm512_add_epi16(a2, a3)),
                                       _mm512_add_epi16(a4, a5));
  return _mm512_reduce_add_epi32(_mm512_madd_epi16(sum, _mm512_set1_epi16(1)));
}

__attribute__((target("avx2"))) std::int64_t dot_loop_maddubs_ymm(std::size_t loops) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, t0, t1, t2, t3, t4, t5;
  const __m256i u = _mm256_set1_epi8(1), s = _mm256_set1_epi8(1);
  for (std::size_t i = 0; i < loops; ++i) {
    __asm__ volatile(TRIT_BENCH_MADDUBS6() : TRIT_BENCH_MADDUBS_OPERANDS("x") : [u] "x"(u), [s] "x"(s));
  }
  const __m256i total = _mm256_add_epi16(_mm256_add_epi16(_mm256_add_epi16(a0, a1), _mm256_add_epi16(a2, a3)),
                                         _mm256_add_epi16(a4, a5));
  alignas(32) std::int16_t lanes[16];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), total);
  std::int64_t sum = 0;
  for (std::int16_t v : lanes) sum += v;
  return sum;
}

#undef TRIT_BENCH_MADDUBS6
#undef TRIT_BENCH_MADDUBS_OPERANDS
#endif

#if defined(__aarch64__)
constexpr int kSdotChains = 16;

__attribute__((target("+dotprod"))) std::int64_t dot_loop_sdot(std::size_t loops) {
  int32x4_t acc[kSdotChains];
  for (int32x4_t& a : acc) a = vdupq_n_s32(0);
  int8x16_t u = vdupq_n_s8(1), s = vdupq_n_s8(1);
  for (std::size_t i = 0; i < loops; ++i) {
    __asm__ volatile("" : "+w"(u), "+w"(s));
    for (int c = 0; c < kSdotChains; ++c) acc[c] = vdotq_s32(acc[c], u, s);
  }
  for (int c = 1; c < kSdotChains; ++c) acc[0] = vaddq_s32(acc[0], acc[c]);
  return vaddvq_s32(acc[0]);
}
#endif

constexpr int kScalarChains = 8;

std::int64_t dot_loop_scalar(std::size_t loops) {
  std::int32_t acc[kScalarChains] = {};
  std::int32_t u = 1, s = 1;
  for (std::size_t i = 0; i < loops; ++i) {
    __asm__ volatile("" : "+r"(u), "+r"(s));
    for (int c = 0; c < kScalarChains; ++c) acc[c] += u * s;
  }
  std::int64_t sum = 0;
  for (std::int32_t a : acc) sum += a;
  return sum;
}

const DotPeakKernel& best_dot_kernel() {
  static const DotPeakKernel kernel = []() -> DotPeakKernel {
    const trit::CpuFeatures& cpu = trit::cpu_features();
    (void)cpu;
#if defined(__x86_64__)
    if (cpu.avx512vnni) return {"vpdpbusd zmm (AVX-512 VNNI)", 2.0 * 64 * kVnniChains, dot_loop_vpdpbusd_zmm};
    if (cpu.avxvnni) return {"vpdpbusd ymm (AVX-VNNI)", 2.0 * 32 * kVnniChains, dot_loop_vpdpbusd_ymm};
    if (cpu.avx512bw) return {"vpmaddubsw+vpaddw zmm (AVX-512BW)", 2.0 * 64 * kMaddubsChains, dot_loop_maddubs_zmm};
    if (cpu.avx2) return {"vpmaddubsw+vpaddw ymm (AVX2)", 2.0 * 32 * kMaddubsChains, dot_loop_maddubs_ymm};
#elif defined(__aarch64__)
    if (cpu.dotprod) return {"sdot (NEON dotprod)", 2.0 * 16 * kSdotChains, dot_loop_sdot};
#endif
    return {"scalar int32 multiply-add", 2.0 * kScalarChains, dot_loop_scalar};
  }();
  return kernel;
}

double dot_peak_pass(unsigned threads) {
  const DotPeakKernel& kernel = best_dot_kernel();
  std::vector<std::int64_t> sums(threads);
  const double seconds = timed_on_threads(threads, [&](unsigned t) { sums[t] = kernel.run(kDotLoops); });
  benchmark::DoNotOptimize(sums.data());
  return kernel.ops_per_loop * static_cast<double>(kDotLoops) * threads / seconds / 1e9;
}

// ---- Recorded limits --------------------------------------------------------------------------

struct LimitRecord {
  std::mutex mutex;
  std::map<std::pair<Bound, unsigned>, std::vector<double>> values;
};

LimitRecord& limit_record() {
  static LimitRecord record;
  return record;
}

const char* probe_key = "probe: 1 GiB read buffer";

// A "max" aggregate beside mean and median: the best pass over all repetitions is the limit
// that frac_of_limit divides by.
double largest(const std::vector<double>& values) {
  return values.empty() ? 0.0 : *std::max_element(values.begin(), values.end());
}

void register_dram_probe(unsigned threads) {
  const std::string name = "probe/dram_read_bw/t" + std::to_string(threads);
  benchmark::RegisterBenchmark(name.c_str(), [threads](benchmark::State& state) {
    const auto& buffer = hot_data().get<DramProbeBuffer>(probe_key, [] { return DramProbeBuffer(); });
    std::vector<double> total(kReadStrategyCount, 0.0);
    double best = 0;
    for (auto _ : state) {
      const std::vector<double> rates = dram_read_round(buffer.bytes.data(), threads);
      for (std::size_t i = 0; i < kReadStrategyCount; ++i) {
        record_probe_result(Bound::dram_bandwidth, threads, rates[i]);
        total[i] += rates[i];
        best = std::max(best, rates[i]);
      }
    }
    const double iterations = static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1));
    std::size_t winner = 0;
    for (std::size_t i = 0; i < kReadStrategyCount; ++i) {
      state.counters[strategy_counter(kReadStrategies[i])] = total[i] / iterations;
      if (total[i] > total[winner]) winner = i;
    }
    // The row's figure is its fastest strategy's; its time covers one pass of every strategy.
    state.counters["GBps"] = total[winner] / iterations;
    state.counters["best_pass_GBps"] = best;
    state.SetLabel(kReadStrategies[winner].name);
  })->ComputeStatistics("max", largest);
}

void register_dot_probe(unsigned threads) {
  const std::string name = "probe/int8_dot_peak/t" + std::to_string(threads);
  benchmark::RegisterBenchmark(name.c_str(), [threads](benchmark::State& state) {
    double best = 0;
    const double seconds = seconds_per_iteration(state, [&] {
      const double pass = dot_peak_pass(threads);
      record_probe_result(Bound::int8_dot_peak, threads, pass);
      best = std::max(best, pass);
    });
    state.counters["GOPS"] = best_dot_kernel().ops_per_loop * static_cast<double>(kDotLoops) * threads / seconds / 1e9;
    state.counters["best_pass_GOPS"] = best;
    state.SetLabel(best_dot_kernel().instruction);
  })->ComputeStatistics("max", largest);
}

}  // namespace

double measure_dram_read(unsigned threads) {
  // A buffer of its own: the caller may be a row that is still holding the shared slots.
  const DramProbeBuffer buffer;
  const std::vector<double> rates = dram_read_round(buffer.bytes.data(), threads);
  return *std::max_element(rates.begin(), rates.end());
}

double measure_int8_dot_peak(unsigned threads) { return dot_peak_pass(threads); }

const char* int8_dot_peak_instruction() { return best_dot_kernel().instruction; }

void record_probe_result(Bound bound, unsigned threads, double value) {
  LimitRecord& record = limit_record();
  std::lock_guard<std::mutex> lock(record.mutex);
  record.values[{bound, threads}].push_back(value);
}

double machine_limit(Bound bound, unsigned threads) {
  LimitRecord& record = limit_record();
  {
    std::lock_guard<std::mutex> lock(record.mutex);
    const auto found = record.values.find({bound, threads});
    if (found != record.values.end() && !found->second.empty()) {
      return *std::max_element(found->second.begin(), found->second.end());
    }
  }
  // No probe row ran (a filter left it out): measure now and keep the result.
  const double value = bound == Bound::dram_bandwidth ? measure_dram_read(threads) : measure_int8_dot_peak(threads);
  std::fprintf(stderr, "trit_bench: no probe row for %s with %u thread(s) in this run; measured %.1f %s\n",
               bound == Bound::dram_bandwidth ? "DRAM bandwidth" : "the int8 dot peak", threads, value,
               bound == Bound::dram_bandwidth ? "GB/s" : "GOPS");
  record_probe_result(bound, threads, value);
  return value;
}

void register_probes() {
  for (unsigned threads : kThreadCounts) register_dram_probe(threads);
  for (unsigned threads : kThreadCounts) register_dot_probe(threads);
#if defined(__x86_64__)
  if (trit::cpu_features().avx512vnni) {
    const std::pair<const char*, std::int64_t (*)(std::size_t)> loops[] = {
        {"probe/zmm_issue_rate/vpdpbusd", dot_loop_vpdpbusd_zmm},
        {"probe/zmm_issue_rate/vpaddb", issue_loop_vpaddb},
        {"probe/zmm_issue_rate/vpdpbusd+vpaddb", issue_loop_mixed},
    };
    for (const auto& [name, loop] : loops) {
      benchmark::RegisterBenchmark(name, [loop = loop](benchmark::State& state) {
        const double seconds = seconds_per_iteration(state, [&] { benchmark::DoNotOptimize(loop(kDotLoops)); });
        state.counters["G_instructions_per_s"] = 12.0 * static_cast<double>(kDotLoops) / seconds / 1e9;
      });
    }
  }
#endif
}

}  // namespace trit_bench

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
