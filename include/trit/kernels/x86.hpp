// trit: the x86-64 kernel paths. Each path is the body in x86_body.inl compiled inside its own
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

#include "trit/dense243.hpp"
#include "trit/detail/aligned_buffer.hpp"
#include "trit/detail/cpu_features.hpp"
#include "trit/detail/float_order.hpp"
#include "trit/detail/gemm_problem.hpp"
#include "trit/detail/target.hpp"
#include "trit/packed_matrix.hpp"

#if TRIT_HAS_X86_KERNELS
#include <immintrin.h>

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
#include "trit/kernels/x86_body.inl"
inline constexpr detail::KernelSet kKernels{Isa::avx2, gemv_rows, gemm_rows, kPanelRows};
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
#include "trit/kernels/x86_body.inl"
inline constexpr detail::KernelSet kKernels{Isa::avxvnni, gemv_rows, gemm_rows, kPanelRows};
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
#include "trit/kernels/x86_body.inl"
inline constexpr detail::KernelSet kKernels{Isa::avx512bw, gemv_rows, gemm_rows, kPanelRows};
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
#include "trit/kernels/x86_body.inl"
inline constexpr detail::KernelSet kKernels{Isa::avx512vnni, gemv_rows, gemm_rows, kPanelRows};
}  // namespace avx512vnni
TRIT_END_NAMESPACE
TRIT_TARGET_END

#undef TRIT_X86_YMM_PRIMITIVES
#undef TRIT_X86_ZMM_PRIMITIVES
#undef TRIT_X86_MADDUBS_DOT
#undef TRIT_X86_VNNI_DOT

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif  // TRIT_HAS_X86_KERNELS
