// trit::cuda: non-owning descriptions of device memory that the entry points take. Plain
// C++ (no CUDA headers): every pointer here is a device pointer, never dereferenced on the host.
#pragma once

#include <cstddef>
#include <cstdint>

#include "trit/format/packed_matrix.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace cuda {

// M x K ternary weights in device memory, in the device layout of trit/cuda/device_layout.hpp
// (whole 64-byte groups per row; identical to Dense243 when K is a multiple of 320): row m at
// bytes + m * row_stride. The kernels load 16 bytes at a time, so bytes must be 16-byte
// aligned and row_stride a multiple of 16 (DeviceMatrix guarantees both). `device` is the
// device the memory is on; the entry points refuse to run when another device is current.
// -1 (a hand-made view) skips that check.
struct DeviceMatrixView {
  const std::uint8_t* bytes = nullptr;
  const float* scales = nullptr;  // 1 (per_tensor) or rows (per_row) floats
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::size_t row_stride = 0;
  ScaleGranularity granularity = ScaleGranularity::per_tensor;
  int device = -1;
};

// N tokens of K int8 values in device memory: token n at data + n * stride (stride counted in
// bytes, 0 means K), one float scale per token in scales (dequantized x = q / scale). The
// int4 schemes' values, stored one per byte, use this too. A 16-byte aligned data pointer and
// stride take the fast path (vector loads, asynchronous copies); any other alignment works.
struct DeviceActivations {
  const std::int8_t* data = nullptr;
  std::size_t tokens = 0;
  std::size_t cols = 0;
  std::size_t stride = 0;
  const float* scales = nullptr;
};

// N tokens of K int4 values packed two per byte (see trit/cuda/int4.hpp for the nibble order):
// token n at data + n * stride bytes, 0 meaning ceil(K / 2). A 16-byte aligned data pointer
// and stride take the fast path.
struct DeviceInt4Activations {
  const std::uint8_t* data = nullptr;
  std::size_t tokens = 0;
  std::size_t cols = 0;
  std::size_t stride = 0;
  const float* scales = nullptr;
};

// Which kernel computes a product. `automatic` takes the tensor-core kernel from
// kMmaMinTokens tokens on, where the device and the build support it, and dp4a otherwise.
enum class KernelChoice : std::uint32_t {
  automatic = 0,
  dp4a = 1,  // decode in registers, integer dot products; any compute capability >= 6.1
  mma = 2,   // int8 tensor-core MMA; compute capability >= 8.0 and a matching build
};

inline const char* kernel_name(KernelChoice kernel) {
  switch (kernel) {
    case KernelChoice::automatic: return "auto";
    case KernelChoice::dp4a: return "dp4a";
    case KernelChoice::mma: return "mma";
  }
  return "unknown";
}

struct LaunchOptions {
  KernelChoice kernel = KernelChoice::automatic;
  // Split-K: how many slices of K run in parallel, their int32 sums added atomically (exact:
  // integer addition is associative) into the output, then an epilogue pass. 0 lets the
  // launcher choose from the shape and the SM count; 1 turns it off. Splitting adds a
  // memset and an epilogue launch, and is worth it only when the rows alone leave SMs idle.
  unsigned split_k = 0;
  // Stages of the mma kernel's copy pipeline: 0 (kMmaDefaultStages), 2 or 3.
  unsigned mma_stages = 0;
};

}  // namespace cuda
TRIT_END_NAMESPACE
