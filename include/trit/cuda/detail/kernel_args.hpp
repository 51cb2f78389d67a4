// trit::cuda: what a kernel receives (weights, activations, outputs, as plain values) and the
// float epilogue. Compiles for the device and the host alike.
#pragma once

#include <cstddef>
#include <cstdint>

#include "trit/cuda/config.hpp"
#include "trit/cuda/detail/decode.hpp"
#include "trit/format/dense243.hpp"
#include "trit/detail/float_order.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace cuda {
namespace detail {

struct WeightArgs {
  const std::uint8_t* bytes;
  const float* scales;
  std::size_t rows;
  std::size_t cols;
  std::size_t row_stride;
  std::uint32_t full_groups;  // 64-byte groups per row
  std::uint32_t tail_bytes;   // bytes of the tail group, 0 when K % 320 == 0
  std::uint32_t tail_trits;   // K % 320
  std::uint32_t scale_step;   // 1 for per-row scales, 0 for one per tensor

  TRIT_CUDA_HD const std::uint8_t* row(std::size_t m) const { return bytes + m * row_stride; }
  TRIT_CUDA_HD float scale(std::size_t m) const { return scales[m * scale_step]; }
  TRIT_CUDA_HD std::uint32_t groups() const { return full_groups + (tail_bytes != 0 ? 1u : 0u); }
};

inline WeightArgs make_weight_args(const std::uint8_t* bytes, const float* scales, std::size_t rows, std::size_t cols,
                                   std::size_t row_stride, bool per_row_scales) {
  const dense243::RowLayout layout = dense243::row_layout(cols);
  return WeightArgs{bytes,
                    scales,
                    rows,
                    cols,
                    row_stride,
                    static_cast<std::uint32_t>(layout.full_groups),
                    static_cast<std::uint32_t>(layout.tail_bytes),
                    static_cast<std::uint32_t>(layout.tail_trits),
                    per_row_scales ? 1u : 0u};
}

// Activation rows of int8 values. kVectorLoads requires 16-byte aligned rows and stride.
template <bool kVectorLoads>
struct Int8Source {
  static constexpr bool kAligned = kVectorLoads;
  // Bytes of global memory per 16 activations: what the mma kernel copies per chunk.
  static constexpr int kBytesPer16 = 16;

  const std::uint8_t* data;
  std::size_t stride;  // bytes between tokens

  TRIT_CUDA_HD const std::uint8_t* row(std::size_t n) const { return data + n * stride; }
  // Where activation k of token n starts in memory (k a multiple of 16 for the loads).
  TRIT_CUDA_HD const std::uint8_t* address(std::size_t n, std::size_t k) const { return row(n) + k; }
  // Activations k .. k + 15 of token n as int8 lanes; k is a multiple of 16.
  TRIT_CUDA_HD Words16 load16(std::size_t n, std::size_t k) const {
    const std::uint8_t* p = address(n, k);
    return kVectorLoads ? load_global16(p) : load_bytes16(p);
  }
  TRIT_CUDA_HD int value(std::size_t n, std::size_t k) const { return static_cast<std::int8_t>(row(n)[k]); }
};

// Activation rows of packed int4 values (trit/cuda/int4.hpp). kVectorLoads requires 16-byte
// aligned rows and stride.
template <bool kVectorLoads>
struct Int4Source {
  static constexpr bool kAligned = kVectorLoads;
  static constexpr int kBytesPer16 = 8;

  const std::uint8_t* data;
  std::size_t stride;  // bytes between tokens

  TRIT_CUDA_HD const std::uint8_t* row(std::size_t n) const { return data + n * stride; }
  TRIT_CUDA_HD const std::uint8_t* address(std::size_t n, std::size_t k) const { return row(n) + k / 2; }
  TRIT_CUDA_HD Words16 load16(std::size_t n, std::size_t k) const {
    const std::uint8_t* p = address(n, k);
    return unpack_int4x16(kVectorLoads ? load_global8(p) : load_bytes8(p));
  }
  TRIT_CUDA_HD int value(std::size_t n, std::size_t k) const {
    const std::uint32_t byte = row(n)[k / 2];
    const std::uint32_t nibble = (k % 2 == 0) ? (byte & 0x0Fu) : (byte >> 4);
    return static_cast<int>(nibble ^ 0x8u) - 8;
  }
};

// Where results go: float y and/or int32 acc, both token-major (token n at n * stride).
struct OutputArgs {
  float* y;
  std::size_t y_stride;
  std::int32_t* acc;
  std::size_t acc_stride;
  const float* bias;        // M floats or null
  const float* act_scales;  // one per token
};

// y = ((float)acc / act_scale) * w_scale, then + bias: the CPU reference's order and
// rounding. On the device the _rn intrinsics keep the compiler from contracting the multiply
// and the add into an FMA; on the host the reference's own epilogue runs.
TRIT_CUDA_HD float epilogue(std::int32_t acc, float act_scale, float w_scale, const float* bias, std::size_t m) {
#if defined(__CUDA_ARCH__)
  float y = __fmul_rn(__fdiv_rn(__int2float_rn(acc), act_scale), w_scale);
  if (bias != nullptr) y = __fadd_rn(y, bias[m]);
  return y;
#else
  return trit::detail::epilogue(acc, act_scale, w_scale, bias, m);
#endif
}

TRIT_CUDA_HD void store_result(const OutputArgs& out, const WeightArgs& w, std::size_t n, std::size_t m,
                               std::int32_t acc) {
  if (out.acc != nullptr) out.acc[n * out.acc_stride + m] = acc;
  if (out.y != nullptr) out.y[n * out.y_stride + m] = epilogue(acc, out.act_scales[n], w.scale(m), out.bias, m);
}

}  // namespace detail
}  // namespace cuda
TRIT_END_NAMESPACE
