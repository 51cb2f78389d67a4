// trit::cuda: ternary GEMV/GEMM on NVIDIA GPUs. Include from a .cu file compiled by nvcc.
//
//   acc[n][m] = sum_k W[m][k] * x[n][k]                              (int32, exact)
//   y[n][m]   = ((float)acc[n][m] / x.scales[n]) * w.scale(m) + bias[m]
//
// W is M x K Dense243 weights in device memory (DeviceMatrix), x holds N tokens of K int8
// (or packed int4) values, y and acc are N x M, token-major. Every pointer is a device
// pointer; every call is asynchronous on `stream` and checks its arguments (throwing
// std::invalid_argument) before touching the device. Results equal trit::ref's: the same
// int32, bit-identical floats.
#pragma once

#if !defined(__CUDACC__)
#error "trit/cuda/gemm.cuh launches CUDA kernels: include it from a .cu file compiled by nvcc"
#endif

#include <cuda_runtime.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "trit/cuda/config.hpp"
#include "trit/cuda/detail/kernel_args.hpp"
#include "trit/cuda/detail/kernels.cuh"
#include "trit/cuda/detail/plan.hpp"
#include "trit/cuda/device_buffer.hpp"
#include "trit/cuda/device_matrix.hpp"
#include "trit/cuda/error.hpp"
#include "trit/cuda/int4.hpp"
#include "trit/cuda/views.hpp"
#include "trit/error.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace cuda {
namespace detail {

// Whether `kernel` runs int8 MMA on the current device: the binary the runtime picked for
// this device must be sm_80 or newer (an older build keeps an empty body). Cached per device.
template <class Kernel>
bool mma_kernel_runs_here(Kernel* kernel, const char* fn) {
  constexpr int kCachedDevices = 64;
  static std::atomic<int> cache[kCachedDevices];  // 0 unknown, 1 no, 2 yes (static: zeroed)
  int device = 0;
  check_cuda(cudaGetDevice(&device), fn, "cudaGetDevice");
  if (device >= 0 && device < kCachedDevices) {
    const int known = cache[device].load(std::memory_order_relaxed);
    if (known != 0) return known == 2;
  }
  cudaFuncAttributes attributes{};
  check_cuda(cudaFuncGetAttributes(&attributes, kernel), fn, "cudaFuncGetAttributes");
  const bool runs = attributes.binaryVersion >= 80;
  if (device >= 0 && device < kCachedDevices) cache[device].store(runs ? 2 : 1, std::memory_order_relaxed);
  return runs;
}

inline void check_launch(const char* fn) { check_cuda(cudaGetLastError(), fn, "kernel launch"); }

// The current device's SM count, cached per device (automatic split-K needs it).
inline int sm_count_here(const char* fn) {
  constexpr int kCachedDevices = 64;
  static std::atomic<int> cache[kCachedDevices];  // 0 unknown (static: zeroed)
  int device = 0;
  check_cuda(cudaGetDevice(&device), fn, "cudaGetDevice");
  if (device >= 0 && device < kCachedDevices) {
    const int known = cache[device].load(std::memory_order_relaxed);
    if (known != 0) return known;
  }
  int count = 0;
  check_cuda(cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device), fn, "cudaDeviceGetAttribute");
  if (device >= 0 && device < kCachedDevices) cache[device].store(count, std::memory_order_relaxed);
  return count;
}

// Split-K adds each slice's int32 sums atomically: into acc, or into y's own memory (an int32
// per float), zeroed first on the same stream; the float epilogue then runs in place. No
// workspace is allocated, so a split launch can be captured in a CUDA graph like any other.
inline void prepare_split(const WeightArgs& w, std::size_t tokens, OutputArgs& out, cudaStream_t stream,
                          const char* fn) {
  if (out.acc != nullptr) {
    out.partial = out.acc;
    out.partial_stride = out.acc_stride;
  } else {
    out.partial = reinterpret_cast<std::int32_t*>(out.y);
    out.partial_stride = out.y_stride;
  }
  check_cuda(cudaMemset2DAsync(out.partial, out.partial_stride * sizeof(std::int32_t), 0,
                               w.rows * sizeof(std::int32_t), tokens, stream),
             fn, "cudaMemset2DAsync");
}

inline void finish_split(const WeightArgs& w, std::size_t tokens, const OutputArgs& out, cudaStream_t stream,
                         const char* fn) {
  check_launch(fn);
  if (out.acc != nullptr) return;
  const std::size_t total = tokens * w.rows;
  const std::size_t blocks = ceil_div(total, 256);
  d243_split_epilogue_kernel<<<static_cast<unsigned>(blocks < 65535 ? blocks : 65535), 256, 0, stream>>>(w, tokens,
                                                                                                       out);
}

// More than 48 KiB of dynamic shared memory needs the kernel's consent, once per device.
template <class Kernel>
void allow_shared_bytes(Kernel* kernel, std::size_t bytes, const char* fn) {
  constexpr int kCachedDevices = 64;
  static std::atomic<int> done[kCachedDevices];  // per instantiation, i.e. per kernel
  if (bytes <= 48 * 1024) return;
  int device = 0;
  check_cuda(cudaGetDevice(&device), fn, "cudaGetDevice");
  if (device >= 0 && device < kCachedDevices && done[device].load(std::memory_order_relaxed) != 0) return;
  check_cuda(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)), fn,
             "cudaFuncSetAttribute");
  if (device >= 0 && device < kCachedDevices) done[device].store(1, std::memory_order_relaxed);
}

template <class Source, int kStages>
void launch_mma(const WeightArgs& w, const Source& x, std::size_t tokens, const OutputArgs& out,
                const LaunchOptions& options, int sm_count, cudaStream_t stream, const char* fn) {
  const MmaPlan plan = mma_plan(w.rows, w.cols, tokens, options.split_k, sm_count, fn, kStages);
  constexpr std::size_t bytes = MmaSharedLayout<Source, kStages>::kBytes;
  allow_shared_bytes(d243_mma_kernel<Source, kStages>, bytes, fn);
  OutputArgs split_out = out;
  const bool split = plan.grid.blocks_z > 1;
  if (split) prepare_split(w, tokens, split_out, stream, fn);
  d243_mma_kernel<Source, kStages><<<dim3(plan.grid.blocks_x, plan.grid.blocks_y, plan.grid.blocks_z),
                                     dim3(plan.grid.threads), bytes, stream>>>(w, x, tokens, split_out,
                                                                               plan.groups_per_split);
  if (split) finish_split(w, tokens, split_out, stream, fn);
}

template <int kTokens, int kRows, class Source>
void launch_dp4a_tile(const WeightArgs& w, const Source& x, std::size_t tokens, OutputArgs out, const GemvPlan& plan,
                      cudaStream_t stream, const char* fn) {
  const bool split = plan.grid.blocks_z > 1;
  if (split) prepare_split(w, tokens, out, stream, fn);
  d243_dp4a_kernel<kTokens, kRows, Source>
      <<<dim3(plan.grid.blocks_x, plan.grid.blocks_y, plan.grid.blocks_z), dim3(plan.grid.threads),
         plan.shared_bytes, stream>>>(w, x, tokens, out, plan.slice);
  if (split) finish_split(w, tokens, out, stream, fn);
}

template <class Source>
void launch(const WeightArgs& w, const Source& x, std::size_t tokens, const OutputArgs& out,
            const LaunchOptions& options, cudaStream_t stream, const char* fn) {
  const KernelChoice requested = options.kernel;
  KernelChoice kernel = KernelChoice::dp4a;
  if constexpr (Source::kAligned) {
    bool mma_runs_here = false;
    if (needs_mma_query(requested, tokens)) {
      mma_runs_here = mma_kernel_runs_here(d243_mma_kernel<Source, kMmaDefaultStages>, fn);
    }
    kernel = resolve_kernel(requested, tokens, mma_runs_here, fn);
  } else {
    // The mma kernel copies activations with 16-byte asynchronous copies only.
    trit::detail::require(requested != KernelChoice::mma, fn,
                          "the mma kernel needs x.data and x.stride aligned to 16 bytes");
    kernel = resolve_kernel(requested, tokens, false, fn);
  }
  const int sm_count = options.split_k == 0 ? sm_count_here(fn) : 0;
  // A stale error from an earlier call, already reported to whoever made it, must not be
  // blamed on this launch. (Sticky errors survive this and fail the launch itself.)
  (void)cudaGetLastError();
  if (kernel == KernelChoice::mma) {
    if constexpr (Source::kAligned) {
      if (options.mma_stages == 3) {
        launch_mma<Source, 3>(w, x, tokens, out, options, sm_count, stream, fn);
      } else {
        launch_mma<Source, kMmaDefaultStages>(w, x, tokens, out, options, sm_count, stream, fn);
      }
    }
  } else {
    const GemvPlan plan = gemv_plan(w.rows, w.cols, tokens, options.split_k, sm_count, fn);
    if (plan.tile.tokens == 1) {
      launch_dp4a_tile<1, 2>(w, x, tokens, out, plan, stream, fn);
    } else if (plan.tile.tokens == 2) {
      launch_dp4a_tile<2, 2>(w, x, tokens, out, plan, stream, fn);
    } else if (plan.tile.tokens == 4) {
      launch_dp4a_tile<4, 2>(w, x, tokens, out, plan, stream, fn);
    } else {
      launch_dp4a_tile<kGemvMaxTokens, 2>(w, x, tokens, out, plan, stream, fn);
    }
  }
  check_launch(fn);
}

template <template <bool> class Source>
void launch_with_source(const WeightArgs& w, const ActivationLayout& x, const OutputArgs& out,
                        const LaunchOptions& options, cudaStream_t stream, const char* fn) {
  if (x.vector_loads) {
    launch(w, Source<true>{x.data, x.stride}, x.tokens, out, options, stream, fn);
  } else {
    launch(w, Source<false>{x.data, x.stride}, x.tokens, out, options, stream, fn);
  }
}

// A DeviceMatrix's memory belongs to one device; a kernel launched on another would fault
// (or, with peer access, read it slowly). Refused with the two devices named.
inline void check_device(const DeviceMatrixView& w, const char* fn) {
  if (w.device < 0) return;
  int current = 0;
  check_cuda(cudaGetDevice(&current), fn, "cudaGetDevice");
  trit::detail::require(current == w.device, fn, "w lives on device ", w.device, " but device ", current,
                        " is current (cudaSetDevice(", w.device, ") first)");
}

inline WeightArgs weight_args(const DeviceMatrixView& w) {
  return make_weight_args(w.bytes, w.scales, w.rows, w.cols, w.row_stride, w.granularity == ScaleGranularity::per_row);
}

// Where a product's results go: floats (with the epilogue) or the int32 accumulators.
struct ProductOutput {
  bool int32_results = false;
  float* y = nullptr;
  std::int32_t* acc = nullptr;
  std::size_t stride = 0;
  const float* bias = nullptr;
};

template <class Activations>
void run_product(const DeviceMatrixView& w, const Activations& x, const ProductOutput& result, cudaStream_t stream,
                 const LaunchOptions& options, const char* fn) {
  check_weights(w, fn);
  const ActivationLayout layout = check_activations(x, w.cols, fn);
  OutputArgs out{nullptr, 0, nullptr, 0, result.bias, layout.scales};
  if (result.int32_results) {
    out.acc = result.acc;
    out.acc_stride = check_output(result.acc, result.stride, w.rows, "acc", fn);
  } else {
    out.y = result.y;
    out.y_stride = check_output(result.y, result.stride, w.rows, "y", fn);
  }
  check_bias(result.bias, fn);
  check_options(options, fn);
  check_device(w, fn);
  if constexpr (std::is_same<Activations, DeviceInt4Activations>::value) {
    launch_with_source<Int4Source>(weight_args(w), layout, out, options, stream, fn);
  } else {
    launch_with_source<Int8Source>(weight_args(w), layout, out, options, stream, fn);
  }
}

inline ProductOutput float_output(float* y, std::size_t stride, const float* bias) {
  ProductOutput out;
  out.y = y;
  out.stride = stride;
  out.bias = bias;
  return out;
}

inline ProductOutput int32_output(std::int32_t* acc, std::size_t stride) {
  ProductOutput out;
  out.int32_results = true;
  out.acc = acc;
  out.stride = stride;
  return out;
}

}  // namespace detail

// ---- int8 activations ------------------------------------------------------------------------

// y (x.tokens x w.rows floats, token n at y + n * y_stride; 0 means w.rows) with an optional
// bias of w.rows floats.
inline void gemm(const DeviceMatrixView& w, const DeviceActivations& x, float* y, std::size_t y_stride,
                 const float* bias, cudaStream_t stream, const LaunchOptions& options = {}) {
  detail::run_product(w, x, detail::float_output(y, y_stride, bias), stream, options, "cuda::gemm");
}

// The exact int32 accumulators, no epilogue.
inline void gemm_int32(const DeviceMatrixView& w, const DeviceActivations& x, std::int32_t* acc,
                       std::size_t acc_stride, cudaStream_t stream, const LaunchOptions& options = {}) {
  detail::run_product(w, x, detail::int32_output(acc, acc_stride), stream, options, "cuda::gemm_int32");
}

// One token: x holds K int8 values, x_scale one float (both in device memory); y gets M floats.
inline void gemv(const DeviceMatrixView& w, const std::int8_t* x, const float* x_scale, float* y, const float* bias,
                 cudaStream_t stream, const LaunchOptions& options = {}) {
  detail::run_product(w, DeviceActivations{x, 1, w.cols, 0, x_scale}, detail::float_output(y, 0, bias), stream, options,
                      "cuda::gemv");
}

// ---- packed int4 activations -----------------------------------------------------------------

inline void gemm(const DeviceMatrixView& w, const DeviceInt4Activations& x, float* y, std::size_t y_stride,
                 const float* bias, cudaStream_t stream, const LaunchOptions& options = {}) {
  detail::run_product(w, x, detail::float_output(y, y_stride, bias), stream, options, "cuda::gemm");
}

inline void gemm_int32(const DeviceMatrixView& w, const DeviceInt4Activations& x, std::int32_t* acc,
                       std::size_t acc_stride, cudaStream_t stream, const LaunchOptions& options = {}) {
  detail::run_product(w, x, detail::int32_output(acc, acc_stride), stream, options, "cuda::gemm_int32");
}

// One token of K packed int4 values (ceil(K / 2) bytes).
inline void gemv_int4(const DeviceMatrixView& w, const std::uint8_t* x, const float* x_scale, float* y,
                      const float* bias, cudaStream_t stream, const LaunchOptions& options = {}) {
  detail::run_product(w, DeviceInt4Activations{x, 1, w.cols, 0, x_scale}, detail::float_output(y, 0, bias), stream,
                      options, "cuda::gemv_int4");
}

}  // namespace cuda
TRIT_END_NAMESPACE
