// trit: the x86-64 kernel paths. Each path is the body in dense243_int8_body.inl compiled inside its own
// namespace and target region, so no symbol is shared between instruction sets:
//   avx2        256-bit, digits x activations through vpmaddubsw + vpmaddwd
//   avxvnni     256-bit, VEX vpdpbusd (AVX-VNNI, no AVX-512 needed)
//   avx512bw    512-bit, vpmaddubsw + vpmaddwd
//   avx512vnni  512-bit, EVEX vpdpbusd
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "trit/format/dense243.hpp"
#include "trit/detail/aligned_buffer.hpp"
#include "trit/paths/cpu_features.hpp"
#include "trit/detail/float_order.hpp"
#include "trit/kernels/path_kernels.hpp"
#include "trit/kernels/contract.hpp"
#include "trit/detail/target.hpp"
#include "trit/format/packed_matrix.hpp"

#if TRIT_HAS_X86_KERNELS
#include <immintrin.h>

// The transposes work on arrays of vectors; inlined, with their loops unrolled, the arrays
// stay in registers, while a call would pass them through memory.
#define TRIT_X86_ALWAYS_INLINE inline __attribute__((always_inline))

// GCC 12's AVX-512 headers initialise their "undefined" vectors from themselves, which
// -Wuninitialized reports at every inlined use; the values are never read.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// ---------------------------------------------------------------- 256-bit paths
#define TRIT_X86_YMM_PRIMITIVES                                                                  \
  using Vec = __m256i;                                                                           \
  inline constexpr std::size_t kVecBytes = 32;                                                   \
  inline Vec zero() { return _mm256_setzero_si256(); }                                           \
  inline Vec load(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }   \
  inline void store(void* p, Vec v) { _mm256_storeu_si256(static_cast<__m256i*>(p), v); }        \
  inline Vec xor80(Vec v) { return _mm256_xor_si256(v, _mm256_set1_epi8(-128)); }                \
  inline Vec triple(Vec v) { return _mm256_add_epi8(_mm256_add_epi8(v, v), v); }                 \
  /* In signed form s = x - 128: x >= 86 <=> s > -43 and x >= 171 <=> s > 42; compare */        \
  /* results are -1, so d = 0 - ge86 - ge171. */                                                 \
  inline Vec digits(Vec s) {                                                                     \
    const Vec ge86 = _mm256_cmpgt_epi8(s, _mm256_set1_epi8(-43));                                \
    const Vec ge171 = _mm256_cmpgt_epi8(s, _mm256_set1_epi8(42));                                \
    return _mm256_sub_epi8(_mm256_sub_epi8(_mm256_setzero_si256(), ge86), ge171);                \
  }                                                                                              \
  inline Vec broadcast4(const void* p) {                                                         \
    std::int32_t v;                                                                              \
    std::memcpy(&v, p, 4);                                                                       \
    return _mm256_set1_epi32(v);                                                                 \
  }                                                                                              \
  inline Vec add32(Vec a, Vec b) { return _mm256_add_epi32(a, b); }                              \
  inline Vec sub32(Vec a, Vec b) { return _mm256_sub_epi32(a, b); }                              \
  inline __m256i first_lanes(std::size_t count) {                                                \
    const int n = static_cast<int>(count < 8 ? count : 8);                                       \
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));  \
  }                                                                                              \
  /* The first count (<= 8) lanes of v to dst. */                                               \
  inline void store_int32(std::int32_t* dst, Vec v, std::size_t count) {                         \
    if (count >= 8) return store(dst, v);                                                        \
    _mm256_maskstore_epi32(reinterpret_cast<int*>(dst), first_lanes(count), v);                  \
  }                                                                                              \
  /* detail::epilogue on the first count (<= 8) lanes: the same IEEE operations in the same */  \
  /* order, so the floats are bit-identical; the asm keeps the product rounded (no FMA). */    \
  inline void store_epilogue(float* dst, Vec acc, float act_scale, const float* row_scales,     \
                             float tensor_scale, const float* bias, std::size_t count) {        \
    const __m256i lanes = first_lanes(count);                                                    \
    __m256 y = _mm256_div_ps(_mm256_cvtepi32_ps(acc), _mm256_set1_ps(act_scale));                \
    y = _mm256_mul_ps(y, row_scales != nullptr ? _mm256_maskload_ps(row_scales, lanes)           \
                                               : _mm256_set1_ps(tensor_scale));                  \
    __asm__("" : "+x"(y));                                                                       \
    if (bias != nullptr) y = _mm256_add_ps(y, _mm256_maskload_ps(bias, lanes));                  \
    if (count >= 8) return _mm256_storeu_ps(dst, y);                                             \
    _mm256_maskstore_ps(dst, lanes, y);                                                          \
  }                                                                                              \
  /* v[r] holds 8 dwords of row r; afterwards v[q] holds dword q of rows 0..7. */               \
  TRIT_X86_ALWAYS_INLINE void transpose_dwords(Vec* v) {                                         \
    Vec t[8], u[8];                                                                              \
    TRIT_UNROLL                                                                                  \
    for (int r = 0; r < 8; r += 2) {                                                             \
      t[r] = _mm256_unpacklo_epi32(v[r], v[r + 1]);                                              \
      t[r + 1] = _mm256_unpackhi_epi32(v[r], v[r + 1]);                                          \
    }                                                                                            \
    TRIT_UNROLL                                                                                  \
    for (int r = 0; r < 8; r += 4) {                                                             \
      u[r] = _mm256_unpacklo_epi64(t[r], t[r + 2]);                                              \
      u[r + 1] = _mm256_unpackhi_epi64(t[r], t[r + 2]);                                          \
      u[r + 2] = _mm256_unpacklo_epi64(t[r + 1], t[r + 3]);                                      \
      u[r + 3] = _mm256_unpackhi_epi64(t[r + 1], t[r + 3]);                                      \
    }                                                                                            \
    TRIT_UNROLL                                                                                  \
    for (int q = 0; q < 4; ++q) {                                                                \
      v[q] = _mm256_permute2x128_si256(u[q], u[q + 4], 0x20);                                    \
      v[q + 4] = _mm256_permute2x128_si256(u[q], u[q + 4], 0x31);                                \
    }                                                                                            \
  }                                                                                              \
  inline std::int32_t reduce_add(Vec v) {                                                        \
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));        \
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));                                            \
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));                                            \
    return _mm_cvtsi128_si32(s);                                                                 \
  }

// ---------------------------------------------------------------- 512-bit paths
#define TRIT_X86_ZMM_PRIMITIVES                                                                  \
  using Vec = __m512i;                                                                           \
  inline constexpr std::size_t kVecBytes = 64;                                                   \
  inline Vec zero() { return _mm512_setzero_si512(); }                                           \
  inline Vec load(const void* p) { return _mm512_loadu_si512(p); }                               \
  inline void store(void* p, Vec v) { _mm512_storeu_si512(p, v); }                               \
  inline Vec xor80(Vec v) { return _mm512_xor_si512(v, _mm512_set1_epi8(-128)); }                \
  inline Vec triple(Vec v) { return _mm512_add_epi8(_mm512_add_epi8(v, v), v); }                 \
  inline Vec digits(Vec s) {                                                                     \
    const __mmask64 ge86 = _mm512_cmpgt_epi8_mask(s, _mm512_set1_epi8(-43));                     \
    const __mmask64 ge171 = _mm512_cmpgt_epi8_mask(s, _mm512_set1_epi8(42));                     \
    const Vec one_or_zero = _mm512_maskz_mov_epi8(ge86, _mm512_set1_epi8(1));                    \
    return _mm512_mask_mov_epi8(one_or_zero, ge171, _mm512_set1_epi8(2));                        \
  }                                                                                              \
  inline Vec broadcast4(const void* p) {                                                         \
    std::int32_t v;                                                                              \
    std::memcpy(&v, p, 4);                                                                       \
    return _mm512_set1_epi32(v);                                                                 \
  }                                                                                              \
  inline Vec add32(Vec a, Vec b) { return _mm512_add_epi32(a, b); }                              \
  inline Vec sub32(Vec a, Vec b) { return _mm512_sub_epi32(a, b); }                              \
  inline __mmask16 first_lanes(std::size_t count) {                                              \
    return count >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << count) - 1); \
  }                                                                                              \
  /* The first count (<= 16) lanes of v to dst. */                                              \
  inline void store_int32(std::int32_t* dst, Vec v, std::size_t count) {                         \
    _mm512_mask_storeu_epi32(dst, first_lanes(count), v);                                       \
  }                                                                                              \
  /* detail::epilogue on the first count (<= 16) lanes: the same IEEE operations in the same */ \
  /* order, so the floats are bit-identical; the asm keeps the product rounded (no FMA). */    \
  inline void store_epilogue(float* dst, Vec acc, float act_scale, const float* row_scales,     \
                             float tensor_scale, const float* bias, std::size_t count) {        \
    const __mmask16 lanes = first_lanes(count);                                                  \
    __m512 y = _mm512_div_ps(_mm512_cvtepi32_ps(acc), _mm512_set1_ps(act_scale));                \
    y = _mm512_mul_ps(y, row_scales != nullptr ? _mm512_maskz_loadu_ps(lanes, row_scales)        \
                                               : _mm512_set1_ps(tensor_scale));                  \
    __asm__("" : "+v"(y));                                                                       \
    if (bias != nullptr) y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(lanes, bias));               \
    _mm512_mask_storeu_ps(dst, lanes, y);                                                        \
  }                                                                                              \
  /* v[r] holds 16 dwords of row r; afterwards v[q] holds dword q of rows 0..15. Within each */  \
  /* 128-bit lane, unpacks gather 4 rows' dword 4L + p into u[4g + p]; 128-bit shuffles then */ \
  /* collect lane L of u[p], u[4 + p], u[8 + p], u[12 + p] into v[4L + p]. */                  \
  TRIT_X86_ALWAYS_INLINE void transpose_dwords(Vec* v) {                                         \
    Vec t[16], u[16];                                                                            \
    TRIT_UNROLL                                                                                  \
    for (int r = 0; r < 16; r += 2) {                                                            \
      t[r] = _mm512_unpacklo_epi32(v[r], v[r + 1]);                                              \
      t[r + 1] = _mm512_unpackhi_epi32(v[r], v[r + 1]);                                          \
    }                                                                                            \
    TRIT_UNROLL                                                                                  \
    for (int r = 0; r < 16; r += 4) {                                                            \
      u[r] = _mm512_unpacklo_epi64(t[r], t[r + 2]);                                              \
      u[r + 1] = _mm512_unpackhi_epi64(t[r], t[r + 2]);                                          \
      u[r + 2] = _mm512_unpacklo_epi64(t[r + 1], t[r + 3]);                                      \
      u[r + 3] = _mm512_unpackhi_epi64(t[r + 1], t[r + 3]);                                      \
    }                                                                                            \
    TRIT_UNROLL                                                                                  \
    for (int p = 0; p < 4; ++p) {                                                                \
      const Vec even01 = _mm512_shuffle_i32x4(u[p], u[4 + p], 0x88);                             \
      const Vec odd01 = _mm512_shuffle_i32x4(u[p], u[4 + p], 0xDD);                              \
      const Vec even23 = _mm512_shuffle_i32x4(u[8 + p], u[12 + p], 0x88);                        \
      const Vec odd23 = _mm512_shuffle_i32x4(u[8 + p], u[12 + p], 0xDD);                         \
      v[p] = _mm512_shuffle_i32x4(even01, even23, 0x88);                                         \
      v[8 + p] = _mm512_shuffle_i32x4(even01, even23, 0xDD);                                     \
      v[4 + p] = _mm512_shuffle_i32x4(odd01, odd23, 0x88);                                       \
      v[12 + p] = _mm512_shuffle_i32x4(odd01, odd23, 0xDD);                                      \
    }                                                                                            \
  }                                                                                              \
  inline std::int32_t reduce_add(Vec v) {                                                        \
    const Vec folded = _mm512_add_epi32(v, _mm512_shuffle_i64x2(v, v, 0x4E));                    \
    const __m256i half = _mm512_castsi512_si256(folded);                                         \
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(half), _mm256_extracti128_si256(half, 1));  \
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));                                            \
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));                                            \
    return _mm_cvtsi128_si32(s);                                                                 \
  }

// Without VNNI: u8 digits x s8 activations -> int16 pairs (|pair| <= 2*2*128, no saturation),
// kept in int16 for one group (5 digits: |sum| <= 2560), then widened once per group.
#define TRIT_X86_MADDUBS_DOT(prefix)                                                             \
  using Partial = Vec;                                                                           \
  inline Partial partial_zero() { return zero(); }                                               \
  inline Partial partial_add(Partial part, Vec d, Vec a) {                                       \
    return prefix##_add_epi16(part, prefix##_maddubs_epi16(d, a));                               \
  }                                                                                              \
  inline Vec flush(Vec acc, Partial part) {                                                      \
    return prefix##_add_epi32(acc, prefix##_madd_epi16(part, prefix##_set1_epi16(1)));           \
  }                                                                                              \
  inline Vec dot32(Vec acc, Vec d, Vec a) {                                                      \
    return prefix##_add_epi32(acc, prefix##_madd_epi16(prefix##_maddubs_epi16(d, a), prefix##_set1_epi16(1))); \
  }                                                                                              \
  inline constexpr bool kGemvRawChain = false;                                                   \
  inline Vec digit_dot_from_chain(Vec p, Vec) { return p; }

#define TRIT_X86_VNNI_DOT(dpbusd, prefix)                                                        \
  using Partial = Vec;                                                                           \
  inline Partial partial_zero() { return zero(); }                                               \
  inline Partial partial_add(Partial part, Vec d, Vec a) { return dpbusd(part, d, a); }          \
  inline Vec flush(Vec acc, Partial part) { return add32(acc, part); }                           \
  inline Vec dot32(Vec acc, Vec d, Vec a) { return dpbusd(acc, d, a); }                         \
  inline constexpr bool kGemvRawChain = true;                                                    \
  inline Vec digit_dot_from_chain(Vec p, Vec q) {                                                \
    return prefix##_srai_epi32(prefix##_sub_epi32(prefix##_add_epi32(prefix##_add_epi32(p, p), p), q), 8); \
  }

TRIT_TARGET_BEGIN("avx2,fma,bmi2")
TRIT_BEGIN_NAMESPACE
namespace avx2 {
TRIT_X86_YMM_PRIMITIVES
TRIT_X86_MADDUBS_DOT(_mm256)
inline constexpr std::size_t kGemmTokens = 4;
inline constexpr std::size_t kGemvRowsPerBlock = 4;
inline constexpr std::size_t kMinGemmTokens = 3;  // measured crossover on 6912x2560
#include "trit/kernels/x86/dense243_int8_body.inl"
inline constexpr detail::Dense243Int8Kernels kKernels{
    Isa::avx2, gemv_rows, gemm_rows, gemv_scratch_bytes, gemm_scratch_bytes, kPanelRows, kMinGemmTokens,
    0, kGemvRawChain ? kRawChainFlushGroups * dense243::kGroupTrits : dense243::kGroupTrits};
}  // namespace avx2
TRIT_END_NAMESPACE
TRIT_TARGET_END

TRIT_TARGET_BEGIN("avx2,fma,bmi2,avxvnni")
TRIT_BEGIN_NAMESPACE
namespace avxvnni {
TRIT_X86_YMM_PRIMITIVES
inline Vec dpbusd_vex(Vec acc, Vec d, Vec a) { return _mm256_dpbusd_avx_epi32(acc, d, a); }
TRIT_X86_VNNI_DOT(dpbusd_vex, _mm256)
inline constexpr std::size_t kGemmTokens = 6;
inline constexpr std::size_t kGemvRowsPerBlock = 4;
inline constexpr std::size_t kMinGemmTokens = 3;  // measured crossover on 6912x2560
#include "trit/kernels/x86/dense243_int8_body.inl"
inline constexpr detail::Dense243Int8Kernels kKernels{
    Isa::avxvnni, gemv_rows, gemm_rows, gemv_scratch_bytes, gemm_scratch_bytes, kPanelRows, kMinGemmTokens,
    0, kGemvRawChain ? kRawChainFlushGroups * dense243::kGroupTrits : dense243::kGroupTrits};
}  // namespace avxvnni
TRIT_END_NAMESPACE
TRIT_TARGET_END

TRIT_TARGET_BEGIN("avx2,fma,bmi2,avx512f,avx512bw,avx512vl,avx512dq")
TRIT_BEGIN_NAMESPACE
namespace avx512bw {
TRIT_X86_ZMM_PRIMITIVES
TRIT_X86_MADDUBS_DOT(_mm512)
inline constexpr std::size_t kGemmTokens = 8;
inline constexpr std::size_t kGemvRowsPerBlock = 4;
inline constexpr std::size_t kMinGemmTokens = 3;  // measured crossover on 6912x2560
#include "trit/kernels/x86/dense243_int8_body.inl"
inline constexpr detail::Dense243Int8Kernels kKernels{
    Isa::avx512bw, gemv_rows, gemm_rows, gemv_scratch_bytes, gemm_scratch_bytes, kPanelRows, kMinGemmTokens,
    0, kGemvRawChain ? kRawChainFlushGroups * dense243::kGroupTrits : dense243::kGroupTrits};
}  // namespace avx512bw
TRIT_END_NAMESPACE
TRIT_TARGET_END

TRIT_TARGET_BEGIN("avx2,fma,bmi2,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")
TRIT_BEGIN_NAMESPACE
namespace avx512vnni {
TRIT_X86_ZMM_PRIMITIVES
inline Vec dpbusd_evex(Vec acc, Vec d, Vec a) { return _mm512_dpbusd_epi32(acc, d, a); }
TRIT_X86_VNNI_DOT(dpbusd_evex, _mm512)
inline constexpr std::size_t kGemmTokens = 12;
inline constexpr std::size_t kGemvRowsPerBlock = 8;
inline constexpr std::size_t kMinGemmTokens = 4;  // measured crossover on 6912x2560
#include "trit/kernels/x86/dense243_int8_body.inl"
inline constexpr detail::Dense243Int8Kernels kKernels{
    Isa::avx512vnni, gemv_rows, gemm_rows, gemv_scratch_bytes, gemm_scratch_bytes, kPanelRows, kMinGemmTokens,
    0, kGemvRawChain ? kRawChainFlushGroups * dense243::kGroupTrits : dense243::kGroupTrits};
}  // namespace avx512vnni
TRIT_END_NAMESPACE
TRIT_TARGET_END

TRIT_BEGIN_NAMESPACE
namespace detail {
template <>
struct KernelsFor<Dense243Int8Product, Isa::avx2> {
  static constexpr const Dense243Int8Kernels* value = &avx2::kKernels;
};
template <>
struct KernelsFor<Dense243Int8Product, Isa::avxvnni> {
  static constexpr const Dense243Int8Kernels* value = &avxvnni::kKernels;
};
template <>
struct KernelsFor<Dense243Int8Product, Isa::avx512bw> {
  static constexpr const Dense243Int8Kernels* value = &avx512bw::kKernels;
};
template <>
struct KernelsFor<Dense243Int8Product, Isa::avx512vnni> {
  static constexpr const Dense243Int8Kernels* value = &avx512vnni::kKernels;
};
}  // namespace detail
TRIT_END_NAMESPACE

#undef TRIT_X86_YMM_PRIMITIVES
#undef TRIT_X86_ZMM_PRIMITIVES
#undef TRIT_X86_MADDUBS_DOT
#undef TRIT_X86_VNNI_DOT
#undef TRIT_X86_ALWAYS_INLINE

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif  // TRIT_HAS_X86_KERNELS
