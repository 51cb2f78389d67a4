// trit: the NEON int4 kernel path (kernel_common.hpp describes what a path does). A table of
// 122 sums is eight Q registers; tbl over the first four and tbx over the last four look up
// 16 rows at once, and the code's top bit negates the sum. Three lookups accumulate in int8
// (|sum| <= 120), then widen to int16 with saddw, then to int32 every
// kInt4PositionsPerFlush positions. Only with TRIT_ENABLE_INT4.
//
// Everything here is baseline AArch64 Advanced SIMD, so unlike the dotprod kernels it needs
// no target region.
#pragma once

#if defined(TRIT_ENABLE_INT4)

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

#include "trit/paths/cpu_features.hpp"
#include "trit/detail/target.hpp"
#include "trit/kernels/path_kernels.hpp"
#include "trit/kernels/lut_int4_common.hpp"
#include "trit/format/lut_weights.hpp"
#include "trit/version.hpp"

#if TRIT_HAS_NEON_KERNELS
#include <arm_neon.h>

// Loops over the four 16-row quarters of a tile index arrays of vector registers; left rolled
// (GCC -O2 does), those arrays live on the stack.
#if !defined(TRIT_UNROLL)
#define TRIT_UNROLL TRIT_PRAGMA(GCC unroll 16)
#endif

TRIT_BEGIN_NAMESPACE
namespace neon_int4 {

inline constexpr std::size_t kTableBytes = 128;

namespace detail {
// table[c] = halves[high_of[c]] + halves[low_of[c]] with halves = high[16] then low[16]
// (trit::detail::partial_tables); 255 is out of range, so tbl gives 0 there.
struct TableIndex {
  std::uint8_t high_of[128];
  std::uint8_t low_of[128];
};

constexpr TableIndex make_table_index() {
  TableIndex index{};
  for (int c = 0; c < 128; ++c) {
    index.high_of[c] = static_cast<std::uint8_t>(c < lut::kTableEntries ? c / 9 : 255);
    index.low_of[c] = static_cast<std::uint8_t>(c < lut::kTableEntries ? 16 + c % 9 : 255);
  }
  return index;
}

inline constexpr TableIndex kTableIndex = make_table_index();

inline int8x16x4_t load4(const std::int8_t* p) {
  int8x16x4_t v;
  v.val[0] = vld1q_s8(p);
  v.val[1] = vld1q_s8(p + 16);
  v.val[2] = vld1q_s8(p + 32);
  v.val[3] = vld1q_s8(p + 48);
  return v;
}
}  // namespace detail

inline void prepare(const dense243::RowLayout& layout, const std::int8_t* values, std::int8_t* scratch,
                    std::int8_t* tables) {
  trit::detail::gather_position_activations(layout, values, scratch);
  const std::int8_t* position_activations = scratch;
  for (std::size_t p = 0; p < layout.bytes; ++p) {
    std::int8_t halves_bytes[32];
    trit::detail::partial_tables(position_activations + p * trit::detail::kPositionActivationBytes, halves_bytes,
                                 halves_bytes + 16);
    int8x16x2_t halves;
    halves.val[0] = vld1q_s8(halves_bytes);
    halves.val[1] = vld1q_s8(halves_bytes + 16);
    std::int8_t* table = tables + p * kTableBytes;
    for (std::size_t chunk = 0; chunk < 8; ++chunk) {
      const int8x16_t high = vqtbl2q_s8(halves, vld1q_u8(detail::kTableIndex.high_of + 16 * chunk));
      const int8x16_t low = vqtbl2q_s8(halves, vld1q_u8(detail::kTableIndex.low_of + 16 * chunk));
      vst1q_s8(table + 16 * chunk, vaddq_s8(high, low));
    }
  }
}

inline void lookup_position(int8x16_t (&partial)[4], const std::uint8_t* codes, const std::int8_t* table) {
  const int8x16x4_t table_lo = detail::load4(table);
  const int8x16x4_t table_hi = detail::load4(table + 64);
  TRIT_UNROLL
  for (std::size_t q = 0; q < 4; ++q) {
    const uint8x16_t code = vld1q_u8(codes + 16 * q);
    const uint8x16_t index = vandq_u8(code, vdupq_n_u8(0x7F));
    // Indices 64..127 are out of range for the first lookup (0) and, flipped to 0..63, in
    // range for the second, which keeps the first result elsewhere.
    int8x16_t sum = vqtbl4q_s8(table_lo, index);
    sum = vqtbx4q_s8(sum, table_hi, veorq_u8(index, vdupq_n_u8(0x40)));
    const int8x16_t negate = vreinterpretq_s8_u8(vcltzq_s8(vreinterpretq_s8_u8(code)));
    sum = vsubq_s8(veorq_s8(sum, negate), negate);
    partial[q] = vaddq_s8(partial[q], sum);
  }
}

inline void widen(int8x16_t (&partial)[4], int16x8_t (&low)[4], int16x8_t (&high)[4]) {
  TRIT_UNROLL
  for (std::size_t q = 0; q < 4; ++q) {
    low[q] = vaddw_s8(low[q], vget_low_s8(partial[q]));
    high[q] = vaddw_high_s8(high[q], partial[q]);
    partial[q] = vdupq_n_s8(0);
  }
}

inline void tile_pass(const std::uint8_t* codes, std::size_t positions, const std::int8_t* tables, std::int32_t* acc) {
  std::fill(acc, acc + lut::kTileRows, 0);
  int8x16_t partial[4];
  int16x8_t low[4], high[4];
  std::size_t p = 0;
  while (p < positions) {
    const std::size_t flush_end = std::min(positions, p + trit::detail::kInt4PositionsPerFlush);
    TRIT_UNROLL for (std::size_t q = 0; q < 4; ++q) {
      partial[q] = vdupq_n_s8(0);
      low[q] = high[q] = vdupq_n_s16(0);
    }
    for (; p + 3 <= flush_end; p += 3) {
      lookup_position(partial, codes + p * lut::kTileRows, tables + p * kTableBytes);
      lookup_position(partial, codes + (p + 1) * lut::kTileRows, tables + (p + 1) * kTableBytes);
      lookup_position(partial, codes + (p + 2) * lut::kTileRows, tables + (p + 2) * kTableBytes);
      widen(partial, low, high);
    }
    for (; p < flush_end; ++p) lookup_position(partial, codes + p * lut::kTileRows, tables + p * kTableBytes);
    widen(partial, low, high);
    for (std::size_t q = 0; q < 4; ++q) {
      std::int32_t* rows = acc + 16 * q;
      vst1q_s32(rows, vaddw_s16(vld1q_s32(rows), vget_low_s16(low[q])));
      vst1q_s32(rows + 4, vaddw_high_s16(vld1q_s32(rows + 4), low[q]));
      vst1q_s32(rows + 8, vaddw_s16(vld1q_s32(rows + 8), vget_low_s16(high[q])));
      vst1q_s32(rows + 12, vaddw_high_s16(vld1q_s32(rows + 12), high[q]));
    }
  }
}

inline void tiles(const LutWeights& w, const std::int8_t* tables, std::size_t t0, std::size_t t1, std::int32_t* acc) {
  for (std::size_t t = t0; t < t1; ++t) tile_pass(w.tile(t), w.positions(), tables, acc + (t - t0) * lut::kTileRows);
}

// The division and the products round exactly as the scalar epilogue's; the empty asm makes
// the compiler keep the rounded product, so it cannot fuse it with the bias add.
inline void epilogue(const std::int32_t* acc, std::size_t count, float x_scale, const float* w_scales,
                     std::size_t w_scale_step, const float* bias, float* y) {
  const float32x4_t divisor = vdupq_n_f32(x_scale);
  std::size_t i = 0;
  for (; i + 4 <= count; i += 4) {
    const float32x4_t sums = vcvtq_f32_s32(vld1q_s32(acc + i));
    const float32x4_t w = w_scale_step == 0 ? vdupq_n_f32(w_scales[0]) : vld1q_f32(w_scales + i);
    float32x4_t out = vmulq_f32(vdivq_f32(sums, divisor), w);
    __asm__("" : "+w"(out));
    if (bias != nullptr) out = vaddq_f32(out, vld1q_f32(bias + i));
    vst1q_f32(y + i, out);
  }
  trit::detail::epilogue_rows(acc + i, count - i, x_scale, w_scales + i * w_scale_step, w_scale_step,
                              bias != nullptr ? bias + i : nullptr, y + i);
}

inline constexpr trit::detail::Int4KernelSet kKernels{
    Isa::neon, kTableBytes, trit::detail::unpack_int4_row, prepare, tiles, nullptr, epilogue};

}  // namespace neon_int4
TRIT_END_NAMESPACE

TRIT_BEGIN_NAMESPACE
namespace detail {
template <>
struct KernelsFor<LutInt4Product, Isa::neon> {
  static constexpr const Int4KernelSet* value = &neon_int4::kKernels;
};
}  // namespace detail
TRIT_END_NAMESPACE

#endif  // TRIT_HAS_NEON_KERNELS
#endif  // TRIT_ENABLE_INT4
