// trit: the per-token quantizers of BitLinear::forward, vectorized (SSE2 / NEON) and
// bit-identical to the scalar quantizers of quantize/quantize.hpp (which specify them).
#pragma once

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "trit/error.hpp"
#include "trit/quantize/quantize.hpp"
#include "trit/version.hpp"

// The vector quantizers use GNU inline asm (an empty statement that pins a rounded value).
#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#define TRIT_BITLINEAR_SSE2 1
#else
#define TRIT_BITLINEAR_SSE2 0
#endif
#if defined(__aarch64__) && defined(__ARM_NEON) && defined(__GNUC__)
#include <arm_neon.h>
#define TRIT_BITLINEAR_NEON 1
#else
#define TRIT_BITLINEAR_NEON 0
#endif

TRIT_BEGIN_NAMESPACE

namespace detail {

// ---- Token quantizers, bit-identical to quantize.hpp ---------------------------------------
// clamp(rne(v), lo, hi) == rne(clamp(v, lo, hi)) for integer bounds, and once |v| <= 128,
// adding and subtracting 1.5 * 2^23 rounds v to an integer in the current rounding mode,
// exactly as std::nearbyint does, in a form that vectorizes.
inline constexpr float kRoundingShift = 12582912.0f;  // 1.5 * 2^23

// max|x| over the row, and whether every value is finite (NaN fails the <= test).
inline float max_abs_checked(const float* x, std::size_t cols, bool& finite) {
  float amax = 0.0f;
  std::size_t k = 0;
  bool all_finite = true;
#if TRIT_BITLINEAR_SSE2
  const __m128 sign = _mm_set1_ps(-0.0f);
  const __m128 largest = _mm_set1_ps(FLT_MAX);
  __m128 vmax = _mm_setzero_ps();
  __m128 bad = _mm_setzero_ps();
  for (; k + 4 <= cols; k += 4) {
    const __m128 a = _mm_andnot_ps(sign, _mm_loadu_ps(x + k));
    vmax = _mm_max_ps(vmax, a);
    bad = _mm_or_ps(bad, _mm_cmpnle_ps(a, largest));
  }
  alignas(16) float lanes[4];
  _mm_store_ps(lanes, vmax);
  amax = std::max(std::max(lanes[0], lanes[1]), std::max(lanes[2], lanes[3]));
  all_finite = _mm_movemask_ps(bad) == 0;
#elif TRIT_BITLINEAR_NEON
  float32x4_t vmax = vdupq_n_f32(0.0f);
  uint32x4_t good = vdupq_n_u32(~0u);
  const float32x4_t largest = vdupq_n_f32(FLT_MAX);
  for (; k + 4 <= cols; k += 4) {
    const float32x4_t a = vabsq_f32(vld1q_f32(x + k));
    vmax = vmaxq_f32(vmax, a);
    good = vandq_u32(good, vcleq_f32(a, largest));
  }
  amax = vmaxvq_f32(vmax);
  all_finite = vminvq_u32(good) != 0;
#endif
  for (; k < cols; ++k) {
    const float a = std::fabs(x[k]);
    all_finite = all_finite && a <= FLT_MAX;
    amax = std::max(amax, a);
  }
  finite = all_finite;
  return amax;
}

// q[k] = clamp(rne(x[k] * s), lo, hi) for finite x.
inline void round_scale_clamp(const float* x, std::size_t cols, float s, float lo, float hi, std::int8_t* q) {
  std::size_t k = 0;
#if TRIT_BITLINEAR_SSE2
  const __m128 scale = _mm_set1_ps(s);
  const __m128 low = _mm_set1_ps(lo);
  const __m128 high = _mm_set1_ps(hi);
  const __m128 shift = _mm_set1_ps(kRoundingShift);
  for (; k + 16 <= cols; k += 16) {
    __m128i ints[4];
    for (int part = 0; part < 4; ++part) {
      const __m128 v = _mm_min_ps(_mm_max_ps(_mm_mul_ps(_mm_loadu_ps(x + k + 4 * part), scale), low), high);
      // The empty asm keeps the sum rounded to float before the subtraction.
      __m128 shifted = _mm_add_ps(v, shift);
      __asm__("" : "+x"(shifted));
      ints[part] = _mm_cvttps_epi32(_mm_sub_ps(shifted, shift));
    }
    const __m128i words = _mm_packs_epi32(ints[0], ints[1]);
    const __m128i words2 = _mm_packs_epi32(ints[2], ints[3]);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + k), _mm_packs_epi16(words, words2));
  }
#elif TRIT_BITLINEAR_NEON
  const float32x4_t scale = vdupq_n_f32(s);
  const float32x4_t low = vdupq_n_f32(lo);
  const float32x4_t high = vdupq_n_f32(hi);
  for (; k + 16 <= cols; k += 16) {
    int32x4_t ints[4];
    for (int part = 0; part < 4; ++part) {
      const float32x4_t v = vminq_f32(vmaxq_f32(vmulq_f32(vld1q_f32(x + k + 4 * part), scale), low), high);
      ints[part] = vcvtq_s32_f32(vrndiq_f32(v));  // rounds in the current mode, as nearbyint
    }
    const int16x8_t words = vcombine_s16(vqmovn_s32(ints[0]), vqmovn_s32(ints[1]));
    const int16x8_t words2 = vcombine_s16(vqmovn_s32(ints[2]), vqmovn_s32(ints[3]));
    vst1q_s8(q + k, vcombine_s8(vqmovn_s16(words), vqmovn_s16(words2)));
  }
#endif
  for (; k < cols; ++k) {
    const float v = std::min(std::max(x[k] * s, lo), hi);
    q[k] = static_cast<std::int8_t>(std::nearbyint(v));
  }
}

// Scratch of the top-K selection.
struct TopkScratch {
  std::vector<std::uint32_t> magnitudes;
  std::vector<std::uint32_t> candidates;
  std::vector<std::uint32_t> histogram;
};

// Top-K as quantize_token_int8_topk chooses it (the topk_count(K, ratio) largest |x|, ties at
// the boundary to the lower index), without sorting: the bits of a non-negative float order
// like its value, so a histogram of their top 12 bits finds the bucket holding the boundary
// magnitude, and a selection among that bucket's few members finds the magnitude itself.
// x must be finite.
inline float quantize_token_topk(const float* x, std::size_t cols, double ratio, float amax, std::int8_t* q,
                                 TopkScratch& scratch) {
  constexpr int kShift = 19;  // 31 magnitude bits -> 4096 buckets
  const std::size_t kept = topk_count(cols, ratio);
  const float s = 127.0f / std::max(amax, kMinQuantScale);
  round_scale_clamp(x, cols, s, -128.0f, 127.0f, q);
  if (kept == cols) return s;

  std::vector<std::uint32_t>& magnitude = scratch.magnitudes;
  magnitude.resize(cols);
  scratch.histogram.assign(std::size_t{1} << (31 - kShift), 0);
  for (std::size_t k = 0; k < cols; ++k) {
    std::uint32_t bits;
    std::memcpy(&bits, x + k, sizeof bits);
    magnitude[k] = bits & 0x7FFFFFFFu;
    ++scratch.histogram[magnitude[k] >> kShift];
  }
  std::size_t above = 0;  // members of buckets above the boundary bucket
  std::size_t bucket = scratch.histogram.size() - 1;
  while (above + scratch.histogram[bucket] < kept) above += scratch.histogram[bucket--];
  scratch.candidates.clear();
  for (std::size_t k = 0; k < cols; ++k) {
    if ((magnitude[k] >> kShift) == bucket) scratch.candidates.push_back(magnitude[k]);
  }
  const std::size_t rank = kept - above;  // the boundary is the rank-th largest of the bucket
  std::nth_element(scratch.candidates.begin(), scratch.candidates.begin() + static_cast<std::ptrdiff_t>(rank - 1),
                   scratch.candidates.end(), [](std::uint32_t a, std::uint32_t b) { return a > b; });
  const std::uint32_t boundary = scratch.candidates[rank - 1];
  std::size_t greater = above;
  for (std::uint32_t c : scratch.candidates) greater += c > boundary;
  // Half the entries go either way at random, so the first pass must not branch on them;
  // entries equal to the boundary are rare, and the second pass drops the surplus ones.
  for (std::size_t k = 0; k < cols; ++k) {
    q[k] = static_cast<std::int8_t>(q[k] & -static_cast<int>(magnitude[k] >= boundary));
  }
  std::size_t equal_left = kept - greater;  // boundary magnitudes kept, lowest indices first
  for (std::size_t k = 0; k < cols; ++k) {
    if (magnitude[k] != boundary) continue;
    if (equal_left > 0) {
      --equal_left;
    } else {
      q[k] = 0;
    }
  }
  return s;
}

// One token with a scheme into q; returns the scale. Throws for a non-finite value.
inline float quantize_token(const ActivationConfig& config, const float* x, std::size_t cols, std::int8_t* q,
                            TopkScratch& topk, std::size_t token, const char* fn) {
  bool finite = true;
  const float amax = max_abs_checked(x, cols, finite);
  if (!finite) check_finite(x, cols, fn, "x", token);
  switch (config.scheme) {
    case ActivationScheme::int8_absmax: {
      const float s = 127.0f / std::max(amax, kMinQuantScale);
      round_scale_clamp(x, cols, s, -128.0f, 127.0f, q);
      return s;
    }
    case ActivationScheme::int4_absmax: {
      const float s = 7.0f / std::max(amax, kMinQuantScale);
      round_scale_clamp(x, cols, s, -8.0f, 7.0f, q);
      return s;
    }
    case ActivationScheme::int4_absmean: {
      const float beta = std::max(static_cast<float>(sum_abs(x, cols) / static_cast<double>(cols)), kMinQuantScale);
      const float s = std::sqrt(7.0f) / beta;
      round_scale_clamp(x, cols, s, -8.0f, 7.0f, q);
      return s;
    }
    case ActivationScheme::int8_topk: return quantize_token_topk(x, cols, config.topk_ratio, amax, q, topk);
  }
  throw_invalid_argument(fn, "scheme is not an ActivationScheme value");
}

}  // namespace detail
TRIT_END_NAMESPACE

#undef TRIT_BITLINEAR_SSE2
#undef TRIT_BITLINEAR_NEON
