// trit: NEON (armv8-a) and NEON dot-product (armv8.2-a+dotprod) kernels for Dense243
// weights x int8 activations.
//
// Both paths decode a 64-byte group with the byte chain of docs/FORMAT.md: four 16-byte
// vectors, tripled (wrapping) once per digit, so digit i of the group lines up with the 64
// consecutive activations at group base + 64 * i.
//
// - gemv on dotprod never extracts a digit: it multiplies the signed chain bytes
//   s_i = x_i ^ 0x80 with the activations, and as 256 * t_i = 3 * s_i - s_{i+1} byte by
//   byte, 3 * sum(s_i * a) - sum(s_{i+1} * a) is exactly 256 times the dot product in every
//   int32 lane. That is 2 sdot + 1 multiply per 16 trits, against 2 compares + 1 subtract +
//   1 multiply + 1 sdot with extracted trits, when each decoded vector meets one token.
// - gemm extracts trits (t = [x < 86] - [x >= 171] from byte masks) once per panel of 4 rows
//   into a small buffer and multiplies it with up to 64 tokens, four at a time, so only one
//   sdot (or two vmlal) per 16 trits grows with the token count.
// - Plain NEON always extracts trits: |t * a| <= 128 lets vmlal_s8 add 240 products into an
//   int16 lane before widening, where a chain byte (|s * a| <= 2^14) would need a widening
//   step for every product.
//
// Tail groups (g < 64 bytes): the token's tail activations are staged into a zero-filled
// 320-byte buffer at 64 * i + j for trit j + g * i, and the group's 64 weight bytes are
// loaded from the row as if it were full (PackedMatrix keeps 64 readable bytes after every
// row start of a tail); whatever those extra bytes decode to meets a zero activation.
// Activation rows are only ever read below cols.
#pragma once

#include <cstddef>
#include <cstdint>

#include "trit/paths/cpu_features.hpp"
#include "trit/kernels/path_kernels.hpp"
#include "trit/kernels/contract.hpp"

#if TRIT_HAS_NEON_KERNELS

#include <arm_neon.h>

#include <algorithm>
#include <cstring>

#include "trit/format/dense243.hpp"
#include "trit/detail/float_order.hpp"
#include "trit/detail/target.hpp"

// GCC's vdotq_s32 is declared for arch=armv8.2-a+dotprod, and a caller must have at least
// its features; raising the arch of a baseline that already has dotprod (armv8.4-a and up)
// would instead lower it and redefine __ARM_ARCH, so then only the extension is named.
// Clang accepts just the feature name (and not "arch=...+dotprod").
#if defined(__clang__)
#define TRIT_NEON_DOTPROD_TARGET "dotprod"
#elif defined(__ARM_FEATURE_DOTPROD)
#define TRIT_NEON_DOTPROD_TARGET "+dotprod"
#else
#define TRIT_NEON_DOTPROD_TARGET "arch=armv8.2-a+dotprod"
#endif

TRIT_BEGIN_NAMESPACE

// Plain armv8-a Advanced SIMD is the AArch64 baseline, so this path needs no target region.
// Its drivers (blocking, tail staging, output) and scalar helpers also serve neon_dotprod:
// baseline code may be called from any region, and a driver instantiated for a path's
// microkernels is a symbol of its own.
namespace neon {

inline constexpr std::size_t kVectorBytes = 16;
inline constexpr std::size_t kVectorsPerGroup = dense243::kGroupBytes / kVectorBytes;
inline constexpr std::size_t kDigits = dense243::kTritsPerByte;
inline constexpr std::size_t kRowTile = 4;
inline constexpr std::size_t kTokenTile = 4;
// Tokens whose tails are staged together; each decoded panel is reused across all of them.
inline constexpr std::size_t kTokenChunk = 64;

inline std::size_t group_count(const dense243::RowLayout& layout) {
  return layout.full_groups + (layout.tail_bytes != 0 ? 1 : 0);
}

// Trit j + g * i of the tail group goes to 64 * i + j; the rest of the 320 bytes is zero.
inline void stage_tail_activations(const std::int8_t* token_row, const dense243::RowLayout& layout,
                                   std::int8_t* staged) {
  std::memset(staged, 0, dense243::kGroupTrits);
  const std::int8_t* tail = token_row + layout.full_groups * dense243::kGroupTrits;
  const std::size_t g = layout.tail_bytes;
  for (std::size_t digit = 0; digit * g < layout.tail_trits; ++digit) {
    const std::size_t count = std::min(g, layout.tail_trits - digit * g);
    std::memcpy(staged + digit * dense243::kGroupBytes, tail + digit * g, count);
  }
}

inline void store_result(const detail::GemmProblem& problem, std::size_t n, std::size_t m, std::int32_t acc) {
  if (problem.acc.data != nullptr) {
    problem.acc(n, m) = acc;
  } else {
    problem.y(n, m) = detail::epilogue(acc, problem.x.scales[n], problem.w.scale(m), problem.bias, m);
  }
}

inline int8x16_t trits_of(uint8x16_t link) {
  const int8x16_t below = vreinterpretq_s8_u8(vcltq_u8(link, vdupq_n_u8(86)));
  const int8x16_t above = vreinterpretq_s8_u8(vcgeq_u8(link, vdupq_n_u8(171)));
  return vsubq_s8(below, above);
}

inline uint8x16_t next_link(uint8x16_t link) { return vmulq_u8(link, vdupq_n_u8(3)); }

// The trits of groups [first_group, first_group + panel_groups) of up to kRowTile rows, in
// activation order, row r at trits + r * row_pitch; rows past row_count are zero.
inline void decode_panel(const std::uint8_t* const* rows, std::size_t row_count, std::size_t first_group,
                         std::size_t panel_groups, std::size_t row_pitch, std::int8_t* trits) {
  for (std::size_t r = 0; r < kRowTile; ++r) {
    std::int8_t* out = trits + r * row_pitch;
    if (r >= row_count) {
      std::memset(out, 0, panel_groups * dense243::kGroupTrits);
      continue;
    }
    for (std::size_t gi = 0; gi < panel_groups; ++gi) {
      const std::uint8_t* bytes = rows[r] + (first_group + gi) * dense243::kGroupBytes;
      std::int8_t* group_out = out + gi * dense243::kGroupTrits;
      for (std::size_t v = 0; v < kVectorsPerGroup; ++v) {
        uint8x16_t link = vld1q_u8(bytes + v * kVectorBytes);
        TRIT_UNROLL
        for (std::size_t digit = 0; digit < kDigits; ++digit) {
          vst1q_s8(group_out + digit * dense243::kGroupBytes + v * kVectorBytes, trits_of(link));
          link = next_link(link);
        }
      }
    }
  }
}

// One token at a time, kRowTile rows per microkernel call (then single rows).
template <class Microkernels>
inline void gemv_rows_with(const detail::GemmProblem& problem, std::size_t m0, std::size_t m1) {
  const PackedMatrixView& w = problem.w;
  const dense243::RowLayout& layout = w.layout();
  alignas(16) std::int8_t staged_tail[dense243::kGroupTrits];
  for (std::size_t n = 0; n < problem.x.tokens; ++n) {
    const std::int8_t* x = problem.x.row(n);
    if (layout.tail_bytes != 0) stage_tail_activations(x, layout, staged_tail);
    std::size_t m = m0;
    for (; m + kRowTile <= m1; m += kRowTile) {
      const std::uint8_t* rows[kRowTile] = {w.row(m), w.row(m + 1), w.row(m + 2), w.row(m + 3)};
      std::int32_t sums[kRowTile];
      Microkernels::template dot_rows_one_token<kRowTile>(rows, layout, x, staged_tail, sums);
      for (std::size_t r = 0; r < kRowTile; ++r) store_result(problem, n, m + r, sums[r]);
    }
    for (; m < m1; ++m) {
      const std::uint8_t* row = w.row(m);
      std::int32_t sum;
      Microkernels::template dot_rows_one_token<1>(&row, layout, x, staged_tail, &sum);
      store_result(problem, n, m, sum);
    }
  }
}

// For each chunk of tokens and each block of kRowTile rows, panel by panel: decode the
// block's trits once, then run the microkernel over kTokenTile tokens at a time.
template <class Microkernels>
inline void gemm_rows_with(const detail::GemmProblem& problem, std::size_t m0, std::size_t m1) {
  constexpr std::size_t kPanelGroups = Microkernels::kPanelGroups;
  constexpr std::size_t kPanelRowPitch = kPanelGroups * dense243::kGroupTrits;
  const PackedMatrixView& w = problem.w;
  const dense243::RowLayout& layout = w.layout();
  const std::size_t groups = group_count(layout);
  alignas(16) std::int8_t staged_tails[kTokenChunk * dense243::kGroupTrits];
  alignas(16) std::int8_t trits[kRowTile * kPanelRowPitch];
  std::int32_t partial[kTokenChunk * kRowTile];  // token-major: partial[kRowTile * n + r]
  const std::int8_t* token_rows[kTokenChunk];
  const std::int8_t* token_tails[kTokenChunk];
  for (std::size_t n0 = 0; n0 < problem.x.tokens; n0 += kTokenChunk) {
    const std::size_t tokens = std::min(kTokenChunk, problem.x.tokens - n0);
    for (std::size_t n = 0; n < tokens; ++n) {
      token_rows[n] = problem.x.row(n0 + n);
      token_tails[n] = staged_tails + n * dense243::kGroupTrits;
      if (layout.tail_bytes != 0) stage_tail_activations(token_rows[n], layout, staged_tails + n * dense243::kGroupTrits);
    }
    for (std::size_t m = m0; m < m1; m += kRowTile) {
      const std::size_t row_count = std::min(kRowTile, m1 - m);
      const std::uint8_t* rows[kRowTile] = {};
      for (std::size_t r = 0; r < row_count; ++r) rows[r] = w.row(m + r);
      std::fill(partial, partial + tokens * kRowTile, 0);
      for (std::size_t first = 0; first < groups; first += kPanelGroups) {
        const std::size_t panel_groups = std::min(kPanelGroups, groups - first);
        decode_panel(rows, row_count, first, panel_groups, kPanelRowPitch, trits);
        for (std::size_t n = 0; n < tokens; n += kTokenTile) {
          const std::int8_t* const* block_rows = token_rows + n;
          const std::int8_t* const* block_tails = token_tails + n;
          std::int32_t* block_partial = partial + kRowTile * n;
          switch (std::min(kTokenTile, tokens - n)) {
            case 4:
              Microkernels::template accumulate_panel<4>(trits, first, panel_groups, layout.full_groups,
                                                         block_rows, block_tails, block_partial);
              break;
            case 3:
              Microkernels::template accumulate_panel<3>(trits, first, panel_groups, layout.full_groups,
                                                         block_rows, block_tails, block_partial);
              break;
            case 2:
              Microkernels::template accumulate_panel<2>(trits, first, panel_groups, layout.full_groups,
                                                         block_rows, block_tails, block_partial);
              break;
            default:
              Microkernels::template accumulate_panel<1>(trits, first, panel_groups, layout.full_groups,
                                                         block_rows, block_tails, block_partial);
              break;
          }
        }
      }
      for (std::size_t n = 0; n < tokens; ++n) {
        for (std::size_t r = 0; r < row_count; ++r) store_result(problem, n0 + n, m + r, partial[kRowTile * n + r]);
      }
    }
  }
}

// Trits multiplied with vmlal_s8 into int16 lanes, widened before they can overflow.
struct Microkernels {
  // gemm: an int16 lane takes 40 products of |t * a| <= 128 per group; 6 groups stay below 2^15.
  static constexpr std::size_t kPanelGroups = 6;
  // gemv: an int16 lane takes 20 such products per group; 12 groups stay below 2^15.
  static constexpr std::size_t kGemvGroupsPerWiden = 12;

  // sums[r] = sum_k W[rows[r]][k] * x[k], each activation load shared by the kRows rows.
  template <std::size_t kRows>
  static void dot_rows_one_token(const std::uint8_t* const* rows, const dense243::RowLayout& layout,
                                 const std::int8_t* x, const std::int8_t* staged_tail, std::int32_t* sums) {
    const std::size_t groups = group_count(layout);
    int32x4_t total[kRows];
    TRIT_UNROLL
    for (std::size_t r = 0; r < kRows; ++r) total[r] = vdupq_n_s32(0);
    for (std::size_t g0 = 0; g0 < groups; g0 += kGemvGroupsPerWiden) {
      const std::size_t g1 = std::min(groups, g0 + kGemvGroupsPerWiden);
      int16x8_t low[kRows], high[kRows];
      TRIT_UNROLL
      for (std::size_t r = 0; r < kRows; ++r) low[r] = high[r] = vdupq_n_s16(0);
      for (std::size_t g = g0; g < g1; ++g) {
        const std::int8_t* act = g < layout.full_groups ? x + g * dense243::kGroupTrits : staged_tail;
        for (std::size_t v = 0; v < kVectorsPerGroup; ++v) {
          uint8x16_t link[kRows];
          TRIT_UNROLL
          for (std::size_t r = 0; r < kRows; ++r) {
            link[r] = vld1q_u8(rows[r] + g * dense243::kGroupBytes + v * kVectorBytes);
          }
          TRIT_UNROLL
          for (std::size_t digit = 0; digit < kDigits; ++digit) {
            const int8x16_t a = vld1q_s8(act + digit * dense243::kGroupBytes + v * kVectorBytes);
            TRIT_UNROLL
            for (std::size_t r = 0; r < kRows; ++r) {
              const int8x16_t t = trits_of(link[r]);
              low[r] = vmlal_s8(low[r], vget_low_s8(t), vget_low_s8(a));
              high[r] = vmlal_high_s8(high[r], t, a);
              link[r] = next_link(link[r]);
            }
          }
        }
      }
      TRIT_UNROLL
      for (std::size_t r = 0; r < kRows; ++r) total[r] = vpadalq_s16(vpadalq_s16(total[r], low[r]), high[r]);
    }
    TRIT_UNROLL
    for (std::size_t r = 0; r < kRows; ++r) sums[r] = vaddvq_s32(total[r]);
  }

  // partial[kRowTile * n + r] += the panel's trits of row r times token n's activations.
  template <std::size_t kTokens>
  static void accumulate_panel(const std::int8_t* trits, std::size_t first_group, std::size_t panel_groups,
                               std::size_t full_groups, const std::int8_t* const* token_rows,
                               const std::int8_t* const* token_tails, std::int32_t* partial) {
    constexpr std::size_t kRowPitch = kPanelGroups * dense243::kGroupTrits;
    int16x8_t acc[kRowTile][kTokens];
    TRIT_UNROLL
    for (std::size_t r = 0; r < kRowTile; ++r) {
      TRIT_UNROLL
      for (std::size_t n = 0; n < kTokens; ++n) acc[r][n] = vdupq_n_s16(0);
    }
    for (std::size_t gi = 0; gi < panel_groups; ++gi) {
      const std::size_t g = first_group + gi;
      const std::int8_t* act[kTokens];
      TRIT_UNROLL
      for (std::size_t n = 0; n < kTokens; ++n) {
        act[n] = g < full_groups ? token_rows[n] + g * dense243::kGroupTrits : token_tails[n];
      }
      const std::int8_t* group_trits = trits + gi * dense243::kGroupTrits;
      for (std::size_t c = 0; c < dense243::kGroupTrits; c += kVectorBytes) {
        int8x16_t t[kRowTile];
        TRIT_UNROLL
        for (std::size_t r = 0; r < kRowTile; ++r) t[r] = vld1q_s8(group_trits + r * kRowPitch + c);
        TRIT_UNROLL
        for (std::size_t n = 0; n < kTokens; ++n) {
          const int8x16_t a = vld1q_s8(act[n] + c);
          TRIT_UNROLL
          for (std::size_t r = 0; r < kRowTile; ++r) {
            acc[r][n] = vmlal_s8(acc[r][n], vget_low_s8(t[r]), vget_low_s8(a));
            acc[r][n] = vmlal_high_s8(acc[r][n], t[r], a);
          }
        }
      }
    }
    TRIT_UNROLL
    for (std::size_t n = 0; n < kTokens; ++n) {
      const int32x4_t row_sums = vpaddq_s32(vpaddq_s32(vpaddlq_s16(acc[0][n]), vpaddlq_s16(acc[1][n])),
                                            vpaddq_s32(vpaddlq_s16(acc[2][n]), vpaddlq_s16(acc[3][n])));
      vst1q_s32(partial + kRowTile * n, vaddq_s32(vld1q_s32(partial + kRowTile * n), row_sums));
    }
  }
};

inline void gemv_rows(const detail::GemmProblem& problem, std::size_t m0, std::size_t m1, std::uint8_t*) noexcept {
  gemv_rows_with<Microkernels>(problem, m0, m1);
}

inline void gemm_rows(const detail::GemmProblem& problem, std::size_t m0, std::size_t m1, std::uint8_t*) noexcept {
  gemm_rows_with<Microkernels>(problem, m0, m1);
}

inline constexpr detail::Dense243Int8Kernels kKernels{
    Isa::neon, gemv_rows, gemm_rows, detail::no_scratch<detail::GemmProblem>, detail::no_scratch<detail::GemmProblem>, kRowTile, 2, 0, 0};

}  // namespace neon
TRIT_END_NAMESPACE

TRIT_TARGET_BEGIN(TRIT_NEON_DOTPROD_TARGET)
TRIT_BEGIN_NAMESPACE
namespace neon_dotprod {

using neon::kDigits;
using neon::kRowTile;
using neon::kVectorBytes;
using neon::kVectorsPerGroup;

// Clang before 16 declares vdotq_s32 only when the whole translation unit has dotprod; its
// builtin (type code 34 = int32x4) is what that declaration calls, and it honours the region.
inline int32x4_t dot_i8(int32x4_t acc, int8x16_t a, int8x16_t b) {
#if defined(__clang__) && !defined(__ARM_FEATURE_DOTPROD) && __clang_major__ < 16
  return vreinterpretq_s32_s8(__builtin_neon_vdotq_v(vreinterpretq_s8_s32(acc), a, b, 34));
#else
  return vdotq_s32(acc, a, b);
#endif
}

struct Microkernels {
  // sdot accumulates in int32, so the panel size only bounds the trit buffer (10 KiB).
  static constexpr std::size_t kPanelGroups = 8;
  // gemv: an int32 lane of sum(s * a) takes 80 products of |s * a| <= 2^14 per group, and
  // 3 times the sum must stay below 2^31: 128 groups leave a factor of four to spare.
  static constexpr std::size_t kGemvGroupsPerFlush = 128;

  // sums[r] = sum_k W[rows[r]][k] * x[k] from the signed chain bytes, without extracting a
  // digit: per byte 3 * s_i * a - s_{i+1} * a = 256 * t_i * a.
  template <std::size_t kRows>
  static void dot_rows_one_token(const std::uint8_t* const* rows, const dense243::RowLayout& layout,
                                 const std::int8_t* x, const std::int8_t* staged_tail, std::int32_t* sums) {
    const std::size_t groups = layout.full_groups + (layout.tail_bytes != 0 ? 1 : 0);
    const int8x16_t three = vdupq_n_s8(3);
    const uint8x16_t sign_flip = vdupq_n_u8(0x80);
    int32x4_t total[kRows];
    TRIT_UNROLL
    for (std::size_t r = 0; r < kRows; ++r) total[r] = vdupq_n_s32(0);
    for (std::size_t g0 = 0; g0 < groups; g0 += kGemvGroupsPerFlush) {
      const std::size_t g1 = std::min(groups, g0 + kGemvGroupsPerFlush);
      int32x4_t sum_this_link[kRows], sum_next_link[kRows];  // sum(s_i * a_i) and sum(s_{i+1} * a_i)
      TRIT_UNROLL
      for (std::size_t r = 0; r < kRows; ++r) sum_this_link[r] = sum_next_link[r] = vdupq_n_s32(0);
      for (std::size_t g = g0; g < g1; ++g) {
        const std::int8_t* act = g < layout.full_groups ? x + g * dense243::kGroupTrits : staged_tail;
        for (std::size_t v = 0; v < kVectorsPerGroup; ++v) {
          int8x16_t link[kRows];
          TRIT_UNROLL
          for (std::size_t r = 0; r < kRows; ++r) {
            const uint8x16_t bytes = vld1q_u8(rows[r] + g * dense243::kGroupBytes + v * kVectorBytes);
            link[r] = vreinterpretq_s8_u8(veorq_u8(bytes, sign_flip));
          }
          TRIT_UNROLL
          for (std::size_t digit = 0; digit < kDigits; ++digit) {
            const int8x16_t a = vld1q_s8(act + digit * dense243::kGroupBytes + v * kVectorBytes);
            TRIT_UNROLL
            for (std::size_t r = 0; r < kRows; ++r) {
              sum_this_link[r] = dot_i8(sum_this_link[r], link[r], a);
              link[r] = vmulq_s8(link[r], three);
              sum_next_link[r] = dot_i8(sum_next_link[r], link[r], a);
            }
          }
        }
      }
      // Every lane holds 256 * sum(t * a), so the arithmetic shift divides exactly.
      TRIT_UNROLL
      for (std::size_t r = 0; r < kRows; ++r) {
        const int32x4_t scaled = vsubq_s32(vmulq_n_s32(sum_this_link[r], 3), sum_next_link[r]);
        total[r] = vaddq_s32(total[r], vshrq_n_s32(scaled, 8));
      }
    }
    TRIT_UNROLL
    for (std::size_t r = 0; r < kRows; ++r) sums[r] = vaddvq_s32(total[r]);
  }

  // partial[kRowTile * n + r] += the panel's trits of row r times token n's activations.
  template <std::size_t kTokens>
  static void accumulate_panel(const std::int8_t* trits, std::size_t first_group, std::size_t panel_groups,
                               std::size_t full_groups, const std::int8_t* const* token_rows,
                               const std::int8_t* const* token_tails, std::int32_t* partial) {
    constexpr std::size_t kRowPitch = kPanelGroups * dense243::kGroupTrits;
    int32x4_t acc[kRowTile][kTokens];
    TRIT_UNROLL
    for (std::size_t r = 0; r < kRowTile; ++r) {
      TRIT_UNROLL
      for (std::size_t n = 0; n < kTokens; ++n) acc[r][n] = vdupq_n_s32(0);
    }
    for (std::size_t gi = 0; gi < panel_groups; ++gi) {
      const std::size_t g = first_group + gi;
      const std::int8_t* act[kTokens];
      TRIT_UNROLL
      for (std::size_t n = 0; n < kTokens; ++n) {
        act[n] = g < full_groups ? token_rows[n] + g * dense243::kGroupTrits : token_tails[n];
      }
      const std::int8_t* group_trits = trits + gi * dense243::kGroupTrits;
      for (std::size_t c = 0; c < dense243::kGroupTrits; c += kVectorBytes) {
        int8x16_t t[kRowTile];
        TRIT_UNROLL
        for (std::size_t r = 0; r < kRowTile; ++r) t[r] = vld1q_s8(group_trits + r * kRowPitch + c);
        TRIT_UNROLL
        for (std::size_t n = 0; n < kTokens; ++n) {
          const int8x16_t a = vld1q_s8(act[n] + c);
          TRIT_UNROLL
          for (std::size_t r = 0; r < kRowTile; ++r) acc[r][n] = dot_i8(acc[r][n], t[r], a);
        }
      }
    }
    TRIT_UNROLL
    for (std::size_t n = 0; n < kTokens; ++n) {
      const int32x4_t row_sums = vpaddq_s32(vpaddq_s32(acc[0][n], acc[1][n]), vpaddq_s32(acc[2][n], acc[3][n]));
      vst1q_s32(partial + kRowTile * n, vaddq_s32(vld1q_s32(partial + kRowTile * n), row_sums));
    }
  }
};

inline void gemv_rows(const detail::GemmProblem& problem, std::size_t m0, std::size_t m1, std::uint8_t*) noexcept {
  neon::gemv_rows_with<Microkernels>(problem, m0, m1);
}

inline void gemm_rows(const detail::GemmProblem& problem, std::size_t m0, std::size_t m1, std::uint8_t*) noexcept {
  neon::gemm_rows_with<Microkernels>(problem, m0, m1);
}

inline constexpr detail::Dense243Int8Kernels kKernels{
    Isa::neon_dotprod, gemv_rows, gemm_rows, detail::no_scratch<detail::GemmProblem>, detail::no_scratch<detail::GemmProblem>, kRowTile, 2, 0, 0};

}  // namespace neon_dotprod
TRIT_END_NAMESPACE
TRIT_TARGET_END

#undef TRIT_NEON_DOTPROD_TARGET

TRIT_BEGIN_NAMESPACE
namespace detail {
template <>
struct KernelsFor<Dense243Int8Product, Isa::neon> {
  static constexpr const Dense243Int8Kernels* value = &neon::kKernels;
};
template <>
struct KernelsFor<Dense243Int8Product, Isa::neon_dotprod> {
  static constexpr const Dense243Int8Kernels* value = &neon_dotprod::kKernels;
};
}  // namespace detail
TRIT_END_NAMESPACE

#endif  // TRIT_HAS_NEON_KERNELS
