// trit_cuda_bench: trit's CUDA kernels against cuBLAS fp16 (cublasGemmEx, tensor cores, fp32
// accumulate) and cuBLAS int8 (int32 accumulate), on the BitNet b1.58 2B4T layer shapes and
// 16384 x 16384, N = 1, 8, 128; and a copy kernel, for the device's reachable bandwidth.
//
// How a product is timed, so that weights come from device memory as in a model too big for
// L2, and launch overhead does not count:
// - Enough copies of the weights that together they are at least 3x the L2 size; launches
//   rotate through them, so each launch reads weights the previous ones have pushed out.
// - kBatch launches are captured into one CUDA graph and timed with one event pair (plain
//   launches between the events if capture fails); the time per product is the pair's time
//   divided by kBatch.
// - Before each timed batch a kernel reads (never writes) a buffer of 2x the L2 size, so L2
//   holds clean lines that nothing has to write back during the measurement.
// Counters, as in the CPU bench: GOPS = 2 M K N / time, weight_GBps = weight bytes read /
// time, bits_per_weight, copy_frac = weight_GBps / the copy kernel's GB/s (read + write bytes
// / time, same binary, same run). At the end a table lists every target of issue 18 with the
// measured ratio. Without a GPU it says so and exits 0.
#include <benchmark/benchmark.h>
#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
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

// BitNet b1.58 2B4T, per layer: [out x in]; then a square shape large enough to show the
// steady-state bandwidth.
const Shape kShapes[] = {{"q_o", 2560, 2560},
                         {"k_v", 640, 2560},
                         {"gate_up", 6912, 2560},
                         {"down", 2560, 6912},
                         {"square", 16384, 16384}};
const std::size_t kTokenCounts[] = {1, 8, 128};
constexpr int kBatch = 50;        // products per event pair
constexpr int kIterations = 5;    // timed batches per benchmark
constexpr std::size_t kCopyBytes = std::size_t{1} << 30;

void check(cudaError_t code, const char* call) { tc::detail::check_cuda(code, "bench", call); }

struct DeviceInfo {
  std::string name;
  double peak_bandwidth_gbps = 0.0;
  std::size_t l2_bytes = 0;
  int sms = 0;
};

DeviceInfo query_device() {
  DeviceInfo info;
  int device = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  cudaDeviceProp properties{};
  check(cudaGetDeviceProperties(&properties, device), "cudaGetDeviceProperties");
  info.name = properties.name;
  int memory_clock_khz = 0;
  int bus_width_bits = 0;
  int l2_bytes = 0;
  check(cudaDeviceGetAttribute(&memory_clock_khz, cudaDevAttrMemoryClockRate, device), "cudaDeviceGetAttribute");
  check(cudaDeviceGetAttribute(&bus_width_bits, cudaDevAttrGlobalMemoryBusWidth, device), "cudaDeviceGetAttribute");
  check(cudaDeviceGetAttribute(&l2_bytes, cudaDevAttrL2CacheSize, device), "cudaDeviceGetAttribute");
  check(cudaDeviceGetAttribute(&info.sms, cudaDevAttrMultiProcessorCount, device), "cudaDeviceGetAttribute");
  // Double data rate: two transfers per memory clock. Nominal only; the copy kernel's
  // measured bandwidth is what the targets compare with.
  info.peak_bandwidth_gbps = 2.0 * memory_clock_khz * 1e3 * (bus_width_bits / 8.0) / 1e9;
  info.l2_bytes = static_cast<std::size_t>(l2_bytes);
  return info;
}

const DeviceInfo& device_info() {
  static const DeviceInfo info = query_device();
  return info;
}

// ---- Kernels of the bench itself -----------------------------------------------------------

// Reads every 16 bytes of `data` and writes only if an impossible sum turns up, so the
// compiler keeps the loads and L2 ends up holding clean lines of this buffer.
__global__ void read_only_flush(const uint4* data, std::size_t count, unsigned* sink) {
  unsigned acc = 0;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const uint4 v = __ldg(data + i);
    acc ^= v.x ^ v.y ^ v.z ^ v.w;
  }
  if (acc == 0x9E3779B9u) *sink = acc;
}

__global__ void copy_kernel(const uint4* __restrict__ src, uint4* __restrict__ dst, std::size_t count) {
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    dst[i] = src[i];
  }
}

unsigned grid_for(std::size_t count) {
  const std::size_t wanted = (count + 255) / 256;
  const std::size_t cap = static_cast<std::size_t>(device_info().sms) * 16;
  return static_cast<unsigned>(std::max<std::size_t>(1, std::min(wanted, cap)));
}

// The stream, events and flush buffer every measurement uses.
struct Bench {
  cudaStream_t stream = nullptr;
  cudaEvent_t start = nullptr;
  cudaEvent_t stop = nullptr;
  tc::DeviceBuffer<uint4> flush;
  tc::DeviceBuffer<unsigned> sink;

  Bench() : flush((2 * device_info().l2_bytes + 15) / 16 + 1), sink(1) {
    check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
    check(cudaEventCreate(&start), "cudaEventCreate");
    check(cudaEventCreate(&stop), "cudaEventCreate");
  }
  ~Bench() {
    cudaEventDestroy(stop);
    cudaEventDestroy(start);
    cudaStreamDestroy(stream);
  }
  Bench(const Bench&) = delete;
  Bench& operator=(const Bench&) = delete;

  void flush_l2() {
    read_only_flush<<<grid_for(flush.size()), 256, 0, stream>>>(flush.data(), flush.size(), sink.data());
    check(cudaGetLastError(), "read_only_flush");
  }
};

Bench& bench() {
  static Bench instance;
  return instance;
}

// Copies of a product's operands that together cover at least 3x L2 (at most 512).
std::size_t copies_for(double bytes_per_copy) {
  const double wanted = 3.0 * static_cast<double>(device_info().l2_bytes) / bytes_per_copy;
  return static_cast<std::size_t>(std::min(512.0, std::max(1.0, std::ceil(wanted))));
}

// ---- Results, for the summary table -----------------------------------------------------------

struct Result {
  double seconds = 0.0;  // per product
  double weight_gbps = 0.0;
};
std::map<std::string, Result>& results() {
  static std::map<std::string, Result> all;
  return all;
}
double& copy_gbps() {
  static double value = 0.0;
  return value;
}

std::string key(const char* what, const Shape& shape, std::size_t tokens) {
  return std::string(what) + "/" + shape.name + "_" + std::to_string(shape.rows) + "x" + std::to_string(shape.cols) +
         "/N:" + std::to_string(tokens);
}

// Times `product(i)` (which enqueues product i's work on bench().stream) kBatch times per
// event pair, after a read-only L2 flush; sets the counters and records the result.
void measure(benchmark::State& state, const std::string& name, const Shape& shape, std::size_t tokens,
             double weight_bytes, const std::function<bool(int)>& product) {
  Bench& b = bench();
  // Warm up (first launches, lazy module loading, cuBLAS heuristics) outside the capture.
  for (int i = 0; i < 2; ++i) {
    if (!product(i)) return;
  }
  check(cudaStreamSynchronize(b.stream), "cudaStreamSynchronize");
  cudaGraphExec_t exec = nullptr;
  {
    cudaGraph_t graph = nullptr;
    bool captured = cudaStreamBeginCapture(b.stream, cudaStreamCaptureModeThreadLocal) == cudaSuccess;
    bool ok = true;
    if (captured) {
      for (int i = 0; i < kBatch && ok; ++i) ok = product(i);
      captured = cudaStreamEndCapture(b.stream, &graph) == cudaSuccess && ok;
      if (captured) captured = cudaGraphInstantiate(&exec, graph, 0) == cudaSuccess;
      if (graph != nullptr) cudaGraphDestroy(graph);
    }
    if (!captured) {
      exec = nullptr;
      (void)cudaGetLastError();
    }
    if (!ok) return;
  }
  double seconds = 0.0;
  for (auto _ : state) {
    b.flush_l2();
    check(cudaEventRecord(b.start, b.stream), "cudaEventRecord");
    if (exec != nullptr) {
      check(cudaGraphLaunch(exec, b.stream), "cudaGraphLaunch");
    } else {
      for (int i = 0; i < kBatch; ++i) {
        if (!product(i)) return;
      }
    }
    check(cudaEventRecord(b.stop, b.stream), "cudaEventRecord");
    check(cudaEventSynchronize(b.stop), "cudaEventSynchronize");
    float ms = 0.0f;
    check(cudaEventElapsedTime(&ms, b.start, b.stop), "cudaEventElapsedTime");
    state.SetIterationTime(ms / 1e3 / kBatch);
    seconds += ms / 1e3 / kBatch;
  }
  if (exec != nullptr) cudaGraphExecDestroy(exec);
  state.SetLabel(exec != nullptr ? "graph" : "launches");
  if (seconds <= 0.0) return;
  const double per_product = seconds / static_cast<double>(state.iterations());
  const double weights = static_cast<double>(shape.rows) * static_cast<double>(shape.cols);
  const double gbps = weight_bytes / per_product / 1e9;
  state.counters["GOPS"] = 2.0 * weights * static_cast<double>(tokens) / per_product / 1e9;
  state.counters["weight_GBps"] = gbps;
  state.counters["bits_per_weight"] = 8.0 * weight_bytes / weights;
  if (copy_gbps() > 0.0) state.counters["copy_frac"] = gbps / copy_gbps();
  results()[name] = Result{per_product, gbps};
}

// Deterministic values without std::uniform_int_distribution, which is slow for 2^28 of them.
std::vector<std::int8_t> random_int8(std::size_t count, int lo, int hi, std::uint32_t seed) {
  std::vector<std::int8_t> values(count);
  std::uint64_t state = 0x9E3779B97F4A7C15ull * (seed + 1);
  const std::uint64_t span = static_cast<std::uint64_t>(hi - lo + 1);
  for (auto& v : values) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    v = static_cast<std::int8_t>(lo + static_cast<int>((state >> 32) % span));
  }
  return values;
}

// The host operands of a shape, made once: packing 2^28 trits takes seconds, and every
// benchmark of a shape uses the same weights.
const trit::PackedMatrix& packed_weights(const Shape& shape) {
  static std::map<std::string, std::unique_ptr<trit::PackedMatrix>> cache;
  auto& slot = cache[shape.name];
  if (!slot) {
    const std::vector<std::int8_t> trits = random_int8(shape.rows * shape.cols, -1, 1, 1);
    const float scale = 0.02f;
    slot = std::make_unique<trit::PackedMatrix>(
        trit::pack_trits(trit::matrix(trits.data(), shape.rows, shape.cols), &scale, 1));
  }
  return *slot;
}

const std::vector<__half>& half_weights(const Shape& shape) {
  static std::map<std::string, std::vector<__half>> cache;
  auto& slot = cache[shape.name];
  if (slot.empty()) {
    const std::vector<std::int8_t> trits = random_int8(shape.rows * shape.cols, -1, 1, 1);
    slot.resize(trits.size());
    for (std::size_t i = 0; i < trits.size(); ++i) slot[i] = __float2half(static_cast<float>(trits[i]));
  }
  return slot;
}

// ---- The copy kernel: the bandwidth the targets compare with ----------------------------------

void bench_copy(benchmark::State& state) {
  Bench& b = bench();
  const std::size_t count = kCopyBytes / 16;
  tc::DeviceBuffer<uint4> src(count);
  tc::DeviceBuffer<uint4> dst(count);
  copy_kernel<<<grid_for(count), 256, 0, b.stream>>>(src.data(), dst.data(), count);
  check(cudaGetLastError(), "copy_kernel");
  double seconds = 0.0;
  constexpr int kCopies = 5;
  for (auto _ : state) {
    check(cudaEventRecord(b.start, b.stream), "cudaEventRecord");
    for (int i = 0; i < kCopies; ++i) copy_kernel<<<grid_for(count), 256, 0, b.stream>>>(src.data(), dst.data(), count);
    check(cudaEventRecord(b.stop, b.stream), "cudaEventRecord");
    check(cudaEventSynchronize(b.stop), "cudaEventSynchronize");
    float ms = 0.0f;
    check(cudaEventElapsedTime(&ms, b.start, b.stop), "cudaEventElapsedTime");
    state.SetIterationTime(ms / 1e3 / kCopies);
    seconds += ms / 1e3 / kCopies;
  }
  const double per_copy = seconds / static_cast<double>(state.iterations());
  copy_gbps() = 2.0 * static_cast<double>(kCopyBytes) / per_copy / 1e9;  // read + write
  state.counters["GBps"] = copy_gbps();
  state.counters["nominal_peak_GBps"] = device_info().peak_bandwidth_gbps;
}

// ---- trit ----------------------------------------------------------------------------------------

void bench_trit(benchmark::State& state, Shape shape, std::size_t tokens, bool int4, unsigned split_k,
                unsigned mma_stages, std::string name) {
  const trit::PackedMatrix& packed = packed_weights(shape);
  std::vector<std::unique_ptr<tc::DeviceMatrix>> w;
  const std::size_t copies = copies_for(static_cast<double>(tc::device_row_stride(shape.cols) * shape.rows));
  for (std::size_t i = 0; i < copies; ++i) w.push_back(std::make_unique<tc::DeviceMatrix>(packed));
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
  tc::LaunchOptions options;
  options.split_k = split_k;
  options.mma_stages = mma_stages;
  measure(state, name, shape, tokens, static_cast<double>(w[0]->weight_bytes()), [&](int i) {
    const tc::DeviceMatrix& weights = *w[static_cast<std::size_t>(i) % copies];
    if (int4) {
      tc::gemm(weights, tc::DeviceInt4Activations{x.data(), tokens, shape.cols, 0, scales.data()}, y.data(), 0,
               nullptr, bench().stream, options);
    } else {
      tc::gemm(weights,
               tc::DeviceActivations{reinterpret_cast<const std::int8_t*>(x.data()), tokens, shape.cols, 0,
                                     scales.data()},
               y.data(), 0, nullptr, bench().stream, options);
    }
    return true;
  });
}

// ---- cuBLAS --------------------------------------------------------------------------------------

struct Cublas {
  cublasHandle_t handle = nullptr;
  tc::DeviceBuffer<std::uint8_t> workspace;
  Cublas() {
    if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS) {
      handle = nullptr;
      return;
    }
    // A workspace of our own, so that cuBLAS allocates nothing while a graph is captured.
    workspace = tc::DeviceBuffer<std::uint8_t>(std::size_t{64} << 20);
    if (cublasSetWorkspace(handle, workspace.data(), workspace.size()) != CUBLAS_STATUS_SUCCESS) {
      cublasDestroy(handle);
      handle = nullptr;
    }
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

template <class T>
std::vector<std::unique_ptr<tc::DeviceBuffer<T>>> weight_copies(const std::vector<T>& host) {
  std::vector<std::unique_ptr<tc::DeviceBuffer<T>>> copies;
  const std::size_t count = copies_for(static_cast<double>(host.size() * sizeof(T)));
  for (std::size_t i = 0; i < count; ++i) copies.push_back(std::make_unique<tc::DeviceBuffer<T>>(host));
  return copies;
}

void bench_cublas_fp16(benchmark::State& state, Shape shape, std::size_t tokens, std::string name) {
  if (cublas() == nullptr || cublasSetStream(cublas(), bench().stream) != CUBLAS_STATUS_SUCCESS) {
    state.SkipWithError("cuBLAS could not be initialised");
    return;
  }
  auto to_half = [](const std::vector<std::int8_t>& v) {
    std::vector<__half> out(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) out[i] = __float2half(static_cast<float>(v[i]) * 0.01f);
    return out;
  };
  const auto w = weight_copies(half_weights(shape));
  const tc::DeviceBuffer<__half> x(to_half(random_int8(tokens * shape.cols, -127, 127, 2)));
  tc::DeviceBuffer<__half> y(tokens * shape.rows);
  const float alpha = 1.0f;
  const float beta = 0.0f;
  measure(state, name, shape, tokens, 2.0 * static_cast<double>(shape.rows * shape.cols), [&](int i) {
    return gemm_ex(state, shape, tokens, &alpha, w[static_cast<std::size_t>(i) % w.size()]->data(), x.data(),
                   CUDA_R_16F, &beta, y.data(), CUDA_R_16F, CUBLAS_COMPUTE_32F);
  });
}

void bench_cublas_int8(benchmark::State& state, Shape shape, std::size_t tokens, std::string name) {
  if (cublas() == nullptr || cublasSetStream(cublas(), bench().stream) != CUBLAS_STATUS_SUCCESS) {
    state.SkipWithError("cuBLAS could not be initialised");
    return;
  }
  const auto w = weight_copies(random_int8(shape.rows * shape.cols, -1, 1, 1));
  const tc::DeviceBuffer<std::int8_t> x(random_int8(tokens * shape.cols, -127, 127, 2));
  tc::DeviceBuffer<std::int32_t> y(tokens * shape.rows);
  const std::int32_t alpha = 1;
  const std::int32_t beta = 0;
  measure(state, name, shape, tokens, static_cast<double>(shape.rows * shape.cols), [&](int i) {
    return gemm_ex(state, shape, tokens, &alpha, w[static_cast<std::size_t>(i) % w.size()]->data(), x.data(),
                   CUDA_R_8I, &beta, y.data(), CUDA_R_32I, CUBLAS_COMPUTE_32I);
  });
}

void register_benchmarks() {
  const auto configure = [](benchmark::internal::Benchmark* b) {
    b->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(kIterations);
  };
  configure(benchmark::RegisterBenchmark("copy/1GiB", bench_copy));
  for (const Shape& shape : kShapes) {
    for (const std::size_t tokens : kTokenCounts) {
      const std::string trit_name = key("trit", shape, tokens);
      configure(benchmark::RegisterBenchmark(trit_name.c_str(), bench_trit, shape, tokens, false, 0u, 0u, trit_name));
      if (tokens != 8) {
        // The same without split-K, to see what the automatic choice is worth (GEMV and GEMM).
        const std::string unsplit = key("trit_split1", shape, tokens);
        configure(benchmark::RegisterBenchmark(unsplit.c_str(), bench_trit, shape, tokens, false, 1u, 0u, unsplit));
      }
      if (tokens == 128) {
        // The mma kernel with a three-stage copy pipeline instead of two.
        const std::string staged = key("trit_mma3", shape, tokens);
        configure(benchmark::RegisterBenchmark(staged.c_str(), bench_trit, shape, tokens, false, 0u, 3u, staged));
      }
      const std::string int4_name = key("trit_int4", shape, tokens);
      configure(benchmark::RegisterBenchmark(int4_name.c_str(), bench_trit, shape, tokens, true, 0u, 0u, int4_name));
      const std::string fp16 = key("cublas_fp16", shape, tokens);
      configure(benchmark::RegisterBenchmark(fp16.c_str(), bench_cublas_fp16, shape, tokens, fp16));
      const std::string int8 = key("cublas_int8", shape, tokens);
      configure(benchmark::RegisterBenchmark(int8.c_str(), bench_cublas_int8, shape, tokens, int8));
    }
  }
}

// ---- The targets of issue 18, with what this run measured -----------------------------------

const Result* find(const char* what, const Shape& shape, std::size_t tokens) {
  const auto it = results().find(key(what, shape, tokens));
  return it == results().end() ? nullptr : &it->second;
}

void print_targets(std::FILE* out) {
  std::fprintf(out, "\n## Targets (issue 18), %s, copy kernel %.0f GB/s (nominal peak %.0f GB/s)\n\n",
               device_info().name.c_str(), copy_gbps(), device_info().peak_bandwidth_gbps);
  std::fprintf(out, "| target | trit us | baseline us | measured | goal | met |\n|---|---|---|---|---|---|\n");
  const auto speedup_row = [&](const char* label, const Shape& shape, std::size_t tokens, double goal) {
    const Result* t = find("trit", shape, tokens);
    const Result* c = find("cublas_fp16", shape, tokens);
    if (t == nullptr || c == nullptr) {
      std::fprintf(out, "| %s | - | - | not measured | >= %.1fx | - |\n", label, goal);
      return;
    }
    const double ratio = c->seconds / t->seconds;
    std::fprintf(out, "| %s | %.2f | %.2f | %.2fx | >= %.1fx | %s |\n", label, t->seconds * 1e6, c->seconds * 1e6,
                 ratio, goal, ratio >= goal ? "yes" : "NO");
  };
  speedup_row("GEMV 6912x2560 vs cuBLAS fp16", kShapes[2], 1, 3.0);
  {
    const Result* t = find("trit", kShapes[4], 1);
    if (t == nullptr || copy_gbps() <= 0.0) {
      std::fprintf(out, "| GEMV 16384x16384 weight GB/s / copy GB/s | - | - | not measured | >= 0.75 | - |\n");
    } else {
      const double frac = t->weight_gbps / copy_gbps();
      std::fprintf(out, "| GEMV 16384x16384 weight GB/s / copy GB/s | %.2f | - | %.2f (%.0f GB/s) | >= 0.75 | %s |\n",
                   t->seconds * 1e6, frac, t->weight_gbps, frac >= 0.75 ? "yes" : "NO");
    }
  }
  for (int s = 0; s < 4; ++s) {
    const std::string label = std::string("GEMM N=128 ") + kShapes[s].name + " vs cuBLAS fp16";
    speedup_row(label.c_str(), kShapes[s], 128, 1.0);
  }
  std::fprintf(out, "| every result bit-identical to the CPU reference | - | - | see the GPU tests | all pass | - |\n");

  std::fprintf(out, "\n## Every shape (us per product; ratio = cuBLAS fp16 time / trit time)\n\n");
  std::fprintf(out,
               "| shape | N | trit | trit split_k=1 | trit 3 stages | trit int4 | cuBLAS fp16 | cuBLAS int8 | fp16/trit "
               "| trit weight GB/s | of copy |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
  const auto us = [](const Result* r) { return r == nullptr ? std::string("-") : std::to_string(r->seconds * 1e6); };
  for (const Shape& shape : kShapes) {
    for (const std::size_t tokens : kTokenCounts) {
      const Result* t = find("trit", shape, tokens);
      const Result* c = find("cublas_fp16", shape, tokens);
      char ratio[32] = "-";
      char gbps[32] = "-";
      char frac[32] = "-";
      if (t != nullptr && c != nullptr) std::snprintf(ratio, sizeof ratio, "%.2f", c->seconds / t->seconds);
      if (t != nullptr) std::snprintf(gbps, sizeof gbps, "%.0f", t->weight_gbps);
      if (t != nullptr && copy_gbps() > 0.0) std::snprintf(frac, sizeof frac, "%.2f", t->weight_gbps / copy_gbps());
      std::fprintf(out, "| %s %zux%zu | %zu | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", shape.name, shape.rows,
                   shape.cols, tokens, us(t).c_str(), us(find("trit_split1", shape, tokens)).c_str(),
                   us(find("trit_mma3", shape, tokens)).c_str(), us(find("trit_int4", shape, tokens)).c_str(),
                   us(c).c_str(),
                   us(find("cublas_int8", shape, tokens)).c_str(), ratio, gbps, frac);
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
  // --trit_table=PATH: also write the targets table there (Google Benchmark never sees it).
  std::string table_path;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--trit_table=", 13) == 0) {
      table_path = argv[i] + 13;
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("gpu", device_info().name);
  benchmark::AddCustomContext("gpu_nominal_peak_memory_GBps", std::to_string(device_info().peak_bandwidth_gbps));
  register_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (!results().empty()) {
    print_targets(stdout);
    if (!table_path.empty()) {
      if (std::FILE* f = std::fopen(table_path.c_str(), "w")) {
        print_targets(f);
        std::fclose(f);
      } else {
        std::fprintf(stderr, "trit_cuda_bench: cannot write %s\n", table_path.c_str());
      }
    }
  }
  return 0;
}
