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

// Weights in the device layout (trit/cuda/device_layout.hpp): every row is `groups` whole
// 64-byte groups, zero trits past K.
struct WeightArgs {
  const std::uint8_t* bytes;
  const float* scales;
  std::size_t rows;
  std::size_t cols;
  std::size_t row_stride;
  std::uint32_t groups;      // 64-byte groups per row, ceil(K / 320)
  std::uint32_t scale_step;  // 1 for per-row scales, 0 for one per tensor

  TRIT_CUDA_HD const std::uint8_t* row(std::size_t m) const { return bytes + m * row_stride; }
  TRIT_CUDA_HD float scale(std::size_t m) const { return scales[m * scale_step]; }
};

inline WeightArgs make_weight_args(const std::uint8_t* bytes, const float* scales, std::size_t rows, std::size_t cols,
                                   std::size_t row_stride, bool per_row_scales) {
  return WeightArgs{bytes,
                    scales,
                    rows,
                    cols,
                    row_stride,
                    static_cast<std::uint32_t>((cols + dense243::kGroupTrits - 1) / dense243::kGroupTrits),
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
  // The 16 bytes of memory a 16-byte copy at activation k would take, with the bytes of
  // activations at or past `cols` zero and never read: what the last chunk of a row stages.
  TRIT_CUDA_HD Words16 raw16_bounded(std::size_t n, std::size_t k, std::size_t cols) const {
    Words16 out{{0u, 0u, 0u, 0u}};
    for (int b = 0; b < 16; ++b) {
      if (k + b < cols) out.w[b / 4] |= static_cast<std::uint32_t>(row(n)[k + b]) << (8 * (b % 4));
    }
    return out;
  }
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
  // As Int8Source::raw16_bounded: 16 packed bytes (32 values from k, k even), zero nibbles
  // at or past `cols`.
  TRIT_CUDA_HD Words16 raw16_bounded(std::size_t n, std::size_t k, std::size_t cols) const {
    Words16 out{{0u, 0u, 0u, 0u}};
    for (int b = 0; b < 16; ++b) {
      const std::size_t even = k + 2 * static_cast<std::size_t>(b);
      if (even >= cols) break;
      std::uint32_t byte = row(n)[even / 2];
      if (even + 1 >= cols) byte &= 0x0Fu;
      out.w[b / 4] |= byte << (8 * (b % 4));
    }
    return out;
  }
};

// Activations k .. k + 15 of token n as int8 lanes, zero at or past `cols`: the last chunk
// of a row, read one value at a time so that nothing past the row is touched.
template <class Source>
TRIT_CUDA_HD Words16 load16_bounded(const Source& x, std::size_t n, std::size_t k, std::size_t cols) {
  Words16 out{{0u, 0u, 0u, 0u}};
  for (int b = 0; b < 16; ++b) {
    if (k + b < cols) out.w[b / 4] |= (static_cast<std::uint32_t>(x.value(n, k + b)) & 0xFFu) << (8 * (b % 4));
  }
  return out;
}

// Where results go: float y and/or int32 acc, both token-major (token n at n * stride).
// With split-K, each slice's int32 sum is added atomically to `partial` instead (zeroed
// before, turned into floats after by the epilogue kernel when y is wanted).
struct OutputArgs {
  float* y;
  std::size_t y_stride;
  std::int32_t* acc;
  std::size_t acc_stride;
  const float* bias;        // M floats or null
  const float* act_scales;  // one per token
  std::int32_t* partial = nullptr;
  std::size_t partial_stride = 0;
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

// A kernel's result for (token n, row m): stored, or, with split-K, added to the partial sums.
TRIT_CUDA_HD void emit_result(const OutputArgs& out, const WeightArgs& w, std::size_t n, std::size_t m,
                              std::int32_t acc) {
  if (out.partial != nullptr) {
    std::int32_t* target = out.partial + n * out.partial_stride + m;
#if defined(__CUDA_ARCH__)
    atomicAdd(reinterpret_cast<unsigned*>(target), static_cast<unsigned>(acc));
#else
    *target = wrapping_add(*target, acc);
#endif
    return;
  }
  store_result(out, w, n, m, acc);
}

}  // namespace detail
}  // namespace cuda
TRIT_END_NAMESPACE
