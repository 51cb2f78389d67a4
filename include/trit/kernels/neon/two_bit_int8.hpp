// trit: the NEON (armv8-a) and NEON dot-product (armv8.2-a+dotprod) TwoBit x int8 paths:
// kernels/two_bit_int8_body.inl compiled in trit::neon::twobit (the AArch64 baseline, no
// target region) and in trit::neon_dotprod::twobit (inside the dotprod target region).
//   neon          codes by vshl + vand, then vmlal_s8 / vmlal_high_s8 into int16 lanes
//                 (|code * a| <= 256; a group adds 2 x 4 shifts x 4 vectors = 32 products per
//                 lane, so 2 groups reach 16384), widened by vpadal every 2 groups
//   neon-dotprod  codes by vshl + vand, then one sdot per 16 weights into int32 lanes
// A 64-byte group is four 16-byte vectors; the codes of shift i in vector c line up with the
// 16 consecutive activations at 64 i + 16 c.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "trit/detail/float_order.hpp"
#include "trit/detail/target.hpp"
#include "trit/kernels/path_kernels.hpp"
#include "trit/kernels/two_bit_contract.hpp"
#include "trit/format/two_bit.hpp"
#include "trit/paths/cpu_features.hpp"

#if TRIT_HAS_NEON_KERNELS
#include <arm_neon.h>

// As in neon/dense243_int8.hpp: GCC needs the arch raised for vdotq_s32 unless the baseline
// already has dotprod; clang takes the feature name.
#if defined(__clang__)
#define TRIT_TWO_BIT_DOTPROD_TARGET "dotprod"
#elif defined(__ARM_FEATURE_DOTPROD)
#define TRIT_TWO_BIT_DOTPROD_TARGET "+dotprod"
#else
#define TRIT_TWO_BIT_DOTPROD_TARGET "arch=armv8.2-a+dotprod"
#endif

// The vector primitives both NEON paths share. NEON's immediate shifts need constants, and
// the body's shift count is a (fully unrolled) loop variable: vshlq by a negative count is a
// right shift that takes a register.
#define TRIT_TWO_BIT_NEON_COMMON                                                                 \
  using Vec = int8x16_t;                                                                         \
  using Acc = int32x4_t;                                                                         \
  inline constexpr std::size_t kVecBytes = 16;                                                   \
  inline Vec zero() { return vdupq_n_s8(0); }                                                    \
  inline Acc acc_zero() { return vdupq_n_s32(0); }                                               \
  inline Vec load(const void* p) { return vld1q_s8(static_cast<const std::int8_t*>(p)); }        \
  inline Vec codes(Vec w, int i) {                                                               \
    const uint8x16_t shifted = vshlq_u8(vreinterpretq_u8_s8(w), vdupq_n_s8(static_cast<std::int8_t>(-2 * i))); \
    return vreinterpretq_s8_u8(vandq_u8(shifted, vdupq_n_u8(3)));                                \
  }                                                                                              \
  inline std::int32_t reduce_add(Acc v) { return vaddvq_s32(v); }                                \
  inline void prefetch(const void* p) { __builtin_prefetch(p); }                                 \
  /* The int32 outputs, or detail::epilogue itself lane by lane (bit-identical floats). */      \
  inline void store_outputs(const detail::TwoBitProblem& p, std::size_t n, std::size_t m, std::size_t count, \
                            const std::uint32_t* sums, std::uint32_t act_sum) {                  \
    for (std::size_t r = 0; r < count; ++r) {                                                    \
      const std::int32_t acc = static_cast<std::int32_t>(sums[r] - act_sum);                     \
      if (p.acc.data != nullptr) {                                                               \
        p.acc(n, m + r) = acc;                                                                   \
      } else {                                                                                   \
        p.y(n, m + r) = detail::epilogue(acc, p.x.scales[n], p.w.scale(m + r), p.bias, m + r);   \
      }                                                                                          \
    }                                                                                            \
  }

TRIT_BEGIN_NAMESPACE
namespace neon {
namespace twobit {
TRIT_TWO_BIT_NEON_COMMON
using Partial = int16x8_t;
inline constexpr std::size_t kFlushGroups = 2;
inline Partial partial_zero() { return vdupq_n_s16(0); }
inline Partial partial_add(Partial part, Vec c, Vec a) {
  return vmlal_high_s8(vmlal_s8(part, vget_low_s8(c), vget_low_s8(a)), c, a);
}
inline Acc flush(Acc acc, Partial part) { return vpadalq_s16(acc, part); }
inline constexpr std::size_t kGemvRows = 4;
inline constexpr std::size_t kGemmRows = 2;
inline constexpr std::size_t kGemmTokens = 4;
#include "trit/kernels/two_bit_int8_body.inl"
inline constexpr detail::TwoBitInt8Kernels kKernels{Isa::neon, gemv_rows, gemm_rows, scratch_bytes, scratch_bytes,
                                                    kGemvRows, 2, 0};
}  // namespace twobit
}  // namespace neon
TRIT_END_NAMESPACE

TRIT_TARGET_BEGIN(TRIT_TWO_BIT_DOTPROD_TARGET)
TRIT_BEGIN_NAMESPACE
namespace neon_dotprod {
namespace twobit {
TRIT_TWO_BIT_NEON_COMMON
using Partial = int32x4_t;
inline constexpr std::size_t kFlushGroups = 0;
inline Partial partial_zero() { return vdupq_n_s32(0); }
inline Partial partial_add(Partial part, Vec c, Vec a) { return vdotq_s32(part, c, a); }
inline Acc flush(Acc acc, Partial part) { return vaddq_s32(acc, part); }
inline constexpr std::size_t kGemvRows = 4;
inline constexpr std::size_t kGemmRows = 4;
inline constexpr std::size_t kGemmTokens = 4;
#include "trit/kernels/two_bit_int8_body.inl"
inline constexpr detail::TwoBitInt8Kernels kKernels{Isa::neon_dotprod, gemv_rows, gemm_rows, scratch_bytes,
                                                    scratch_bytes, kGemvRows, 2, 0};
}  // namespace twobit
}  // namespace neon_dotprod
TRIT_END_NAMESPACE
TRIT_TARGET_END

TRIT_BEGIN_NAMESPACE
namespace detail {
template <>
struct KernelsFor<TwoBitInt8Product, Isa::neon> {
  static constexpr const TwoBitInt8Kernels* value = &neon::twobit::kKernels;
};
template <>
struct KernelsFor<TwoBitInt8Product, Isa::neon_dotprod> {
  static constexpr const TwoBitInt8Kernels* value = &neon_dotprod::twobit::kKernels;
};
}  // namespace detail
TRIT_END_NAMESPACE

#undef TRIT_TWO_BIT_NEON_COMMON
#undef TRIT_TWO_BIT_DOTPROD_TARGET

#endif  // TRIT_HAS_NEON_KERNELS
