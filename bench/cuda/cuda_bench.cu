// trit_cuda_bench: trit's CUDA kernels against cuBLAS fp16 (cublasGemmEx, fp32 accumulate)
// and cuBLAS int8 (int32 accumulate) on the BitNet b1.58 2B4T layer shapes, N = 1, 8, 128.
//
// Each iteration is timed with CUDA events around the product alone, after the L2 cache has
// been flushed, so weights come from device memory as they do in a model too big for L2.
// Counters, as in the CPU bench: GOPS = 2 M K N / time, weight_GBps = weight bytes read /
// time, bits_per_weight, and weight_bw_pct = weight_GBps as a percentage of the device's
// peak memory bandwidth. Without a GPU it says so and exits 0.
#include <benchmark/benchmark.h>
#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "trit/cuda/gemm.cuh"
#include "trit/views/matrix_ref.hpp"
#include "trit/format/pack.hpp"

namespace {

namespace tc = trit::cuda;

struct Shape {
  const char* name;
  std::size_t rows;
  std::size_t cols;
};

// BitNet b1.58 2B4T, per layer: [out x in].
const Shape kShapes[] = {{"q_o", 2560, 2560}, {"k_v", 640, 2560}, {"gate_up", 6912, 2560}, {"down", 2560, 6912}};
const std::size_t kTokenCounts[] = {1, 8, 128};

struct DeviceInfo {
  std::string name;
  double peak_bandwidth_gbps = 0.0;
  std::size_t l2_bytes = 0;
};

DeviceInfo query_device() {
  DeviceInfo info;
  int device = 0;
  tc::detail::check_cuda(cudaGetDevice(&device), "bench", "cudaGetDevice");
  cudaDeviceProp properties{};
  tc::detail::check_cuda(cudaGetDeviceProperties(&properties, device), "bench", "cudaGetDeviceProperties");
  info.name = properties.name;
  int memory_clock_khz = 0;
  int bus_width_bits = 0;
  int l2_bytes = 0;
  tc::detail::check_cuda(cudaDeviceGetAttribute(&memory_clock_khz, cudaDevAttrMemoryClockRate, device), "bench",
                         "cudaDeviceGetAttribute");
  tc::detail::check_cuda(cudaDeviceGetAttribute(&bus_width_bits, cudaDevAttrGlobalMemoryBusWidth, device), "bench",
                         "cudaDeviceGetAttribute");
  tc::detail::check_cuda(cudaDeviceGetAttribute(&l2_bytes, cudaDevAttrL2CacheSize, device), "bench",
                         "cudaDeviceGetAttribute");
  // Double data rate: two transfers per memory clock.
  info.peak_bandwidth_gbps = 2.0 * memory_clock_khz * 1e3 * (bus_width_bits / 8.0) / 1e9;
  info.l2_bytes = static_cast<std::size_t>(l2_bytes);
  return info;
}

const DeviceInfo& device_info() {
  static const DeviceInfo info = query_device();
  return info;
}

// The stream every measurement runs on, and a buffer twice the L2 size whose clearing evicts
// whatever the previous iteration left in L2.
struct Bench {
  cudaStream_t stream = nullptr;
  cudaEvent_t start = nullptr;
  cudaEvent_t stop = nullptr;
  tc::DeviceBuffer<std::uint8_t> flush;

  Bench() : flush(2 * device_info().l2_bytes + 1) {
    tc::detail::check_cuda(cudaStreamCreate(&stream), "bench", "cudaStreamCreate");
    tc::detail::check_cuda(cudaEventCreate(&start), "bench", "cudaEventCreate");
    tc::detail::check_cuda(cudaEventCreate(&stop), "bench", "cudaEventCreate");
  }
  ~Bench() {
    cudaEventDestroy(stop);
    cudaEventDestroy(start);
    cudaStreamDestroy(stream);
  }
  Bench(const Bench&) = delete;
  Bench& operator=(const Bench&) = delete;
};

Bench& bench() {
  static Bench instance;
  return instance;
}

// Times `product` (which enqueues work on bench().stream) and sets the counters; returns
// false (after reporting) when a launch fails.
void measure(benchmark::State& state, const Shape& shape, std::size_t tokens, double weight_bytes,
             const std::function<bool()>& product) {
  Bench& b = bench();
  double seconds = 0.0;
  for (auto _ : state) {
    tc::detail::check_cuda(cudaMemsetAsync(b.flush.data(), 0, b.flush.size(),
                                           b.stream),
                           "bench", "cudaMemsetAsync");
    tc::detail::check_cuda(cudaEventRecord(b.start, b.stream), "bench", "cudaEventRecord");
    if (!product()) return;
    tc::detail::check_cuda(cudaEventRecord(b.stop, b.stream), "bench", "cudaEventRecord");
    tc::detail::check_cuda(cudaEventSynchronize(b.stop), "bench", "cudaEventSynchronize");
    float ms = 0.0f;
    tc::detail::check_cuda(cudaEventElapsedTime(&ms, b.start, b.stop), "bench", "cudaEventElapsedTime");
    state.SetIterationTime(ms / 1e3);
    seconds += ms / 1e3;
  }
  if (seconds <= 0.0) return;
  const double iterations = static_cast<double>(state.iterations());
  const double weights = static_cast<double>(shape.rows) * static_cast<double>(shape.cols);
  const double gbps = weight_bytes * iterations / seconds / 1e9;
  state.counters["GOPS"] = 2.0 * weights * static_cast<double>(tokens) * iterations / seconds / 1e9;
  state.counters["weight_GBps"] = gbps;
  state.counters["bits_per_weight"] = 8.0 * weight_bytes / weights;
  state.counters["weight_bw_pct"] = 100.0 * gbps / device_info().peak_bandwidth_gbps;
}

std::vector<std::int8_t> random_int8(std::size_t count, int lo, int hi, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<std::int8_t> values(count);
  for (auto& v : values) v = static_cast<std::int8_t>(dist(rng));
  return values;
}

// ---- trit ----------------------------------------------------------------------------------------

void bench_trit(benchmark::State& state, Shape shape, std::size_t tokens, bool int4) {
  const std::vector<std::int8_t> trits = random_int8(shape.rows * shape.cols, -1, 1, 1);
  const float scale = 0.02f;
  const tc::DeviceMatrix w(trit::pack_trits(trit::matrix(trits.data(), shape.rows, shape.cols), &scale, 1));
  const std::vector<std::int8_t> values = random_int8(tokens * shape.cols, int4 ? -8 : -127, int4 ? 7 : 127, 2);
  const tc::DeviceBuffer<float> scales(std::vector<float>(tokens, 3.0f));
  tc::DeviceBuffer<float> y(tokens * shape.rows);
  tc::DeviceBuffer<std::uint8_t> x;
  if (int4) {
    x = tc::DeviceBuffer<std::uint8_t>(tc::pack_int4(values.data(), tokens, shape.cols, shape.cols).bytes);
  } else {
    x = tc::DeviceBuffer<std::uint8_t>(values.size());
    x.upload(reinterpret_cast<const std::uint8_t*>(values.data()), values.size());
  }
  measure(state, shape, tokens, static_cast<double>(w.weight_bytes()), [&] {
    if (int4) {
      tc::gemm(w, tc::DeviceInt4Activations{x.data(), tokens, shape.cols, 0, scales.data()}, y.data(), 0, nullptr,
               bench().stream);
    } else {
      tc::gemm(w, tc::DeviceActivations{reinterpret_cast<const std::int8_t*>(x.data()), tokens, shape.cols, 0,
                                        scales.data()},
               y.data(), 0, nullptr, bench().stream);
    }
    return true;
  });
}

// ---- cuBLAS --------------------------------------------------------------------------------------

struct Cublas {
  cublasHandle_t handle = nullptr;
  Cublas() {
    if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS) handle = nullptr;
  }
  ~Cublas() {
    if (handle != nullptr) cublasDestroy(handle);
  }
  Cublas(const Cublas&) = delete;
  Cublas& operator=(const Cublas&) = delete;
};

cublasHandle_t cublas() {
  static Cublas instance;
  return instance.handle;
}

// Y (N x M, token-major: column-major M x N) = W (M x K, row-major: column-major K x M,
// transposed) times X (N x K token rows: column-major K x N). The "TN" layout both cuBLAS
// int8 and fp16 tensor-core paths take.
bool gemm_ex(benchmark::State& state, const Shape& shape, std::size_t tokens, const void* alpha, const void* w,
             const void* x, cudaDataType_t in_type, const void* beta, void* y, cudaDataType_t out_type,
             cublasComputeType_t compute) {
  const int m = static_cast<int>(shape.rows);
  const int n = static_cast<int>(tokens);
  const int k = static_cast<int>(shape.cols);
  const cublasStatus_t status = cublasGemmEx(cublas(), CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, alpha, w, in_type, k, x,
                                             in_type, k, beta, y, out_type, m, compute, CUBLAS_GEMM_DEFAULT);
  if (status != CUBLAS_STATUS_SUCCESS) {
    state.SkipWithError((std::string("cublasGemmEx failed: ") + cublasGetStatusString(status)).c_str());
    return false;
  }
  return true;
}

void bench_cublas_fp16(benchmark::State& state, Shape shape, std::size_t tokens) {
  if (cublas() == nullptr || cublasSetStream(cublas(), bench().stream) != CUBLAS_STATUS_SUCCESS) {
    state.SkipWithError("cuBLAS could not be initialised");
    return;
  }
  auto to_half = [](const std::vector<std::int8_t>& v) {
    std::vector<__half> out(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) out[i] = __float2half(static_cast<float>(v[i]) * 0.01f);
    return out;
  };
  const tc::DeviceBuffer<__half> w(to_half(random_int8(shape.rows * shape.cols, -1, 1, 1)));
  const tc::DeviceBuffer<__half> x(to_half(random_int8(tokens * shape.cols, -127, 127, 2)));
  tc::DeviceBuffer<__half> y(tokens * shape.rows);
  const float alpha = 1.0f;
  const float beta = 0.0f;
  measure(state, shape, tokens, 2.0 * static_cast<double>(shape.rows * shape.cols), [&] {
    return gemm_ex(state, shape, tokens, &alpha, w.data(), x.data(), CUDA_R_16F, &beta, y.data(), CUDA_R_16F,
                   CUBLAS_COMPUTE_32F);
  });
}

void bench_cublas_int8(benchmark::State& state, Shape shape, std::size_t tokens) {
  if (cublas() == nullptr || cublasSetStream(cublas(), bench().stream) != CUBLAS_STATUS_SUCCESS) {
    state.SkipWithError("cuBLAS could not be initialised");
    return;
  }
  const tc::DeviceBuffer<std::int8_t> w(random_int8(shape.rows * shape.cols, -1, 1, 1));
  const tc::DeviceBuffer<std::int8_t> x(random_int8(tokens * shape.cols, -127, 127, 2));
  tc::DeviceBuffer<std::int32_t> y(tokens * shape.rows);
  const std::int32_t alpha = 1;
  const std::int32_t beta = 0;
  measure(state, shape, tokens, static_cast<double>(shape.rows * shape.cols), [&] {
    return gemm_ex(state, shape, tokens, &alpha, w.data(), x.data(), CUDA_R_8I, &beta, y.data(), CUDA_R_32I,
                   CUBLAS_COMPUTE_32I);
  });
}

std::string benchmark_name(const char* what, const Shape& shape, std::size_t tokens) {
  return std::string(what) + "/" + shape.name + "_" + std::to_string(shape.rows) + "x" + std::to_string(shape.cols) +
         "/N:" + std::to_string(tokens);
}

void register_benchmarks() {
  for (const Shape& shape : kShapes) {
    for (const std::size_t tokens : kTokenCounts) {
      const auto configure = [](benchmark::internal::Benchmark* b) {
        b->UseManualTime()->Unit(benchmark::kMicrosecond);
      };
      configure(benchmark::RegisterBenchmark(benchmark_name("trit", shape, tokens).c_str(), bench_trit, shape, tokens,
                                             false));
      configure(benchmark::RegisterBenchmark(benchmark_name("trit_int4", shape, tokens).c_str(), bench_trit, shape,
                                             tokens, true));
      configure(benchmark::RegisterBenchmark(benchmark_name("cublas_fp16", shape, tokens).c_str(), bench_cublas_fp16,
                                             shape, tokens));
      configure(benchmark::RegisterBenchmark(benchmark_name("cublas_int8", shape, tokens).c_str(), bench_cublas_int8,
                                             shape, tokens));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const tc::DeviceStatus status = tc::device_status();
  if (!status.available()) {
    std::printf("trit_cuda_bench: %s; nothing to measure.\n", status.reason().c_str());
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("gpu", device_info().name);
  benchmark::AddCustomContext("gpu_peak_memory_GBps", std::to_string(device_info().peak_bandwidth_gbps));
  register_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
