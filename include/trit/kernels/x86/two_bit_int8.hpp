// trit: the x86-64 TwoBit x int8 paths. Each is kernels/two_bit_int8_body.inl compiled inside
// its own namespace (trit::<path>::twobit) and target region:
//   avx2        256-bit: shift + mask -> codes, vpmaddubsw into int16, vpmaddwd every 4 groups
//   avxvnni     256-bit: shift + mask -> codes, VEX vpdpbusd straight into int32
//   avx512bw    512-bit: as avx2, one activation load per shift covers 64 consecutive k
//   avx512vnni  512-bit: as avxvnni with EVEX vpdpbusd
// Per 64 weights of a row: a shift, an and and one vpdpbusd (or vpmaddubsw + add), against
// Dense243's two compares, two subtracts, a tripling and a multiply per digit.
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

#if TRIT_HAS_X86_KERNELS
#include <immintrin.h>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

TRIT_BEGIN_NAMESPACE
namespace detail {
// The immediate of _mm512_srli_epi16: GCC declares it int, clang unsigned; passing the declared
// type keeps both quiet under -Wsign-conversion.
#if defined(__clang__)
using Avx512ShiftCount = unsigned;
#else
using Avx512ShiftCount = int;
#endif
}  // namespace detail
TRIT_END_NAMESPACE

#define TRIT_TWO_BIT_YMM                                                                         \
  using Vec = __m256i;                                                                           \
  inline constexpr std::size_t kVecBytes = 32;                                                   \
  inline constexpr std::size_t kRowsPerVec = 8;                                                  \
  inline Vec zero() { return _mm256_setzero_si256(); }                                           \
  inline Vec load(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }   \
  /* Bytes shifted as 16-bit lanes: the bits that cross into a byte are masked off. */          \
  inline Vec codes(Vec w, int i) {                                                               \
    const Vec shifted = i == 0 ? w : _mm256_srli_epi16(w, 2 * i);                                \
    return _mm256_and_si256(shifted, _mm256_set1_epi8(3));                                       \
  }                                                                                              \
  inline std::int32_t reduce_add(Vec v) {                                                        \
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));        \
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));                                            \
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));                                            \
    return _mm_cvtsi128_si32(s);                                                                 \
  }                                                                                              \
  inline __m256i first_lanes(std::size_t count) {                                                \
    const int n = static_cast<int>(count < 8 ? count : 8);                                       \
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));  \
  }                                                                                              \
  /* code sums less the activation sum (wrapping), then the int32 out or detail::epilogue's */ \
  /* operations in its order, lane by lane; the asm keeps the product rounded (no FMA). */     \
  inline void store_vec(const detail::TwoBitProblem& p, std::size_t n, std::size_t m, std::size_t count, \
                        const std::uint32_t* sums, std::uint32_t act_sum) {                      \
    const __m256i lanes = first_lanes(count);                                                    \
    const __m256i acc = _mm256_sub_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sums)), \
                                         _mm256_set1_epi32(static_cast<int>(act_sum)));           \
    if (p.acc.data != nullptr) {                                                                 \
      if (count >= 8) return _mm256_storeu_si256(reinterpret_cast<__m256i*>(&p.acc(n, m)), acc); \
      return _mm256_maskstore_epi32(reinterpret_cast<int*>(&p.acc(n, m)), lanes, acc);           \
    }                                                                                            \
    const bool per_row = p.w.granularity() == ScaleGranularity::per_row;                         \
    __m256 y = _mm256_div_ps(_mm256_cvtepi32_ps(acc), _mm256_set1_ps(p.x.scales[n]));            \
    y = _mm256_mul_ps(y, per_row ? _mm256_maskload_ps(p.w.scales() + m, lanes)                   \
                                 : _mm256_set1_ps(p.w.scales()[0]));                             \
    __asm__("" : "+x"(y));                                                                       \
    if (p.bias != nullptr) y = _mm256_add_ps(y, _mm256_maskload_ps(p.bias + m, lanes));          \
    if (count >= 8) return _mm256_storeu_ps(&p.y(n, m), y);                                      \
    _mm256_maskstore_ps(&p.y(n, m), lanes, y);                                                   \
  }

#define TRIT_TWO_BIT_ZMM                                                                         \
  using Vec = __m512i;                                                                           \
  inline constexpr std::size_t kVecBytes = 64;                                                   \
  inline constexpr std::size_t kRowsPerVec = 16;                                                 \
  inline Vec zero() { return _mm512_setzero_si512(); }                                           \
  inline Vec load(const void* p) { return _mm512_loadu_si512(p); }                               \
  inline Vec codes(Vec w, int i) {                                                               \
    const Vec shifted = i == 0 ? w : _mm512_srli_epi16(w, static_cast<detail::Avx512ShiftCount>(2 * i));         \
    return _mm512_and_si512(shifted, _mm512_set1_epi8(3));                                       \
  }                                                                                              \
  inline std::int32_t reduce_add(Vec v) { return _mm512_reduce_add_epi32(v); }                   \
  inline __mmask16 first_lanes(std::size_t count) {                                              \
    return count >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << count) - 1); \
  }                                                                                              \
  inline void store_vec(const detail::TwoBitProblem& p, std::size_t n, std::size_t m, std::size_t count, \
                        const std::uint32_t* sums, std::uint32_t act_sum) {                      \
    const __mmask16 lanes = first_lanes(count);                                                  \
    const __m512i acc = _mm512_sub_epi32(_mm512_loadu_si512(sums), _mm512_set1_epi32(static_cast<int>(act_sum))); \
    if (p.acc.data != nullptr) return _mm512_mask_storeu_epi32(&p.acc(n, m), lanes, acc);        \
    const bool per_row = p.w.granularity() == ScaleGranularity::per_row;                         \
    __m512 y = _mm512_div_ps(_mm512_cvtepi32_ps(acc), _mm512_set1_ps(p.x.scales[n]));            \
    y = _mm512_mul_ps(y, per_row ? _mm512_maskz_loadu_ps(lanes, p.w.scales() + m)                \
                                 : _mm512_set1_ps(p.w.scales()[0]));                             \
    __asm__("" : "+v"(y));                                                                       \
    if (p.bias != nullptr) y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(lanes, p.bias + m));       \
    _mm512_mask_storeu_ps(&p.y(n, m), lanes, y);                                                 \
  }

// What every x86 path shares once Vec and store_vec exist.
#define TRIT_TWO_BIT_COMMON                                                                      \
  using Acc = Vec;                                                                               \
  inline Acc acc_zero() { return zero(); }                                                       \
  inline void prefetch(const void* p) { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0); } \
  inline void store_outputs(const detail::TwoBitProblem& p, std::size_t n, std::size_t m, std::size_t count, \
                            const std::uint32_t* sums, std::uint32_t act_sum) {                  \
    for (std::size_t r = 0; r < count; r += kRowsPerVec) {                                      \
      store_vec(p, n, m + r, std::min(kRowsPerVec, count - r), sums + r, act_sum);               \
    }                                                                                            \
  }

// Without VNNI: u8 codes x s8 activations -> int16 pairs (|pair| <= 2 * 2 * 128 = 512, no
// saturation). A partial takes 4 pairs per chunk of a group and 64 / kVecBytes chunks, so
// kVecBytes / 8 groups add 64 products of |.| <= 256 per int16 lane (<= 16384) before one
// vpmaddwd widens them.
// The empty asm pins each partial sum in a register in program order: without it GCC
// reassociates the adds into a tree of all the products of a group and spills them.
#define TRIT_TWO_BIT_MADDUBS(prefix, reg)                                                        \
  using Partial = Vec;                                                                           \
  inline constexpr std::size_t kFlushGroups = kVecBytes / 8;                                    \
  inline Partial partial_zero() { return zero(); }                                               \
  inline Partial partial_add(Partial part, Vec c, Vec a) {                                       \
    Partial sum = prefix##_add_epi16(part, prefix##_maddubs_epi16(c, a));                        \
    __asm__("" : reg(sum));                                                                      \
    return sum;                                                                                  \
  }                                                                                              \
  inline Vec flush(Vec acc, Partial part) {                                                      \
    return prefix##_add_epi32(acc, prefix##_madd_epi16(part, prefix##_set1_epi16(1)));           \
  }

// With VNNI the products go straight into (wrapping) int32 lanes: nothing to flush.
#define TRIT_TWO_BIT_VNNI(dpbusd, prefix)                                                        \
  using Partial = Vec;                                                                           \
  inline constexpr std::size_t kFlushGroups = 0;                                                 \
  inline Partial partial_zero() { return zero(); }                                               \
  inline Partial partial_add(Partial part, Vec c, Vec a) { return dpbusd(part, c, a); }          \
  inline Vec flush(Vec acc, Partial part) { return prefix##_add_epi32(acc, part); }

TRIT_TARGET_BEGIN("avx2,fma,bmi2")
TRIT_BEGIN_NAMESPACE
namespace avx2 {
namespace twobit {
TRIT_TWO_BIT_YMM
TRIT_TWO_BIT_COMMON
TRIT_TWO_BIT_MADDUBS(_mm256, "+x")
inline constexpr std::size_t kGemvRows = 4;
inline constexpr std::size_t kGemmRows = 2;
inline constexpr std::size_t kGemmTokens = 4;
#include "trit/kernels/two_bit_int8_body.inl"
inline constexpr detail::TwoBitInt8Kernels kKernels{Isa::avx2, gemv_rows, gemm_rows, scratch_bytes, scratch_bytes,
                                                    kGemvRows, 2, 0};
}  // namespace twobit
}  // namespace avx2
TRIT_END_NAMESPACE
TRIT_TARGET_END

TRIT_TARGET_BEGIN("avx2,fma,bmi2,avxvnni")
TRIT_BEGIN_NAMESPACE
namespace avxvnni {
namespace twobit {
TRIT_TWO_BIT_YMM
TRIT_TWO_BIT_COMMON
inline Vec dpbusd_vex(Vec acc, Vec c, Vec a) { return _mm256_dpbusd_avx_epi32(acc, c, a); }
TRIT_TWO_BIT_VNNI(dpbusd_vex, _mm256)
inline constexpr std::size_t kGemvRows = 4;
inline constexpr std::size_t kGemmRows = 2;
inline constexpr std::size_t kGemmTokens = 4;
#include "trit/kernels/two_bit_int8_body.inl"
inline constexpr detail::TwoBitInt8Kernels kKernels{Isa::avxvnni, gemv_rows, gemm_rows, scratch_bytes, scratch_bytes,
                                                    kGemvRows, 2, 0};
}  // namespace twobit
}  // namespace avxvnni
TRIT_END_NAMESPACE
TRIT_TARGET_END

TRIT_TARGET_BEGIN("avx2,fma,bmi2,avx512f,avx512bw,avx512vl,avx512dq")
TRIT_BEGIN_NAMESPACE
namespace avx512bw {
namespace twobit {
TRIT_TWO_BIT_ZMM
TRIT_TWO_BIT_COMMON
TRIT_TWO_BIT_MADDUBS(_mm512, "+v")
inline constexpr std::size_t kGemvRows = 4;
inline constexpr std::size_t kGemmRows = 2;
inline constexpr std::size_t kGemmTokens = 4;
#include "trit/kernels/two_bit_int8_body.inl"
inline constexpr detail::TwoBitInt8Kernels kKernels{Isa::avx512bw, gemv_rows, gemm_rows, scratch_bytes, scratch_bytes,
                                                    kGemvRows, 2, 0};
}  // namespace twobit
}  // namespace avx512bw
TRIT_END_NAMESPACE
TRIT_TARGET_END

TRIT_TARGET_BEGIN("avx2,fma,bmi2,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")
TRIT_BEGIN_NAMESPACE
namespace avx512vnni {
namespace twobit {
TRIT_TWO_BIT_ZMM
TRIT_TWO_BIT_COMMON
inline Vec dpbusd_evex(Vec acc, Vec c, Vec a) { return _mm512_dpbusd_epi32(acc, c, a); }
TRIT_TWO_BIT_VNNI(dpbusd_evex, _mm512)
inline constexpr std::size_t kGemvRows = 4;
inline constexpr std::size_t kGemmRows = 4;
inline constexpr std::size_t kGemmTokens = 4;
#include "trit/kernels/two_bit_int8_body.inl"
inline constexpr detail::TwoBitInt8Kernels kKernels{Isa::avx512vnni, gemv_rows, gemm_rows, scratch_bytes,
                                                    scratch_bytes, kGemvRows, 2, 0};
}  // namespace twobit
}  // namespace avx512vnni
TRIT_END_NAMESPACE
TRIT_TARGET_END

TRIT_BEGIN_NAMESPACE
namespace detail {
template <>
struct KernelsFor<TwoBitInt8Product, Isa::avx2> {
  static constexpr const TwoBitInt8Kernels* value = &avx2::twobit::kKernels;
};
template <>
struct KernelsFor<TwoBitInt8Product, Isa::avxvnni> {
  static constexpr const TwoBitInt8Kernels* value = &avxvnni::twobit::kKernels;
};
template <>
struct KernelsFor<TwoBitInt8Product, Isa::avx512bw> {
  static constexpr const TwoBitInt8Kernels* value = &avx512bw::twobit::kKernels;
};
template <>
struct KernelsFor<TwoBitInt8Product, Isa::avx512vnni> {
  static constexpr const TwoBitInt8Kernels* value = &avx512vnni::twobit::kKernels;
};
}  // namespace detail
TRIT_END_NAMESPACE

#undef TRIT_TWO_BIT_YMM
#undef TRIT_TWO_BIT_ZMM
#undef TRIT_TWO_BIT_COMMON
#undef TRIT_TWO_BIT_MADDUBS
#undef TRIT_TWO_BIT_VNNI

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif  // TRIT_HAS_X86_KERNELS
