// trit: BitLinear, a ternary linear layer with float inputs and outputs (BitNet b1.58 and
// BitNet a4.8). docs/LAYERS.md is the guide; this header is the reference.
//
//   BitLinear layer = BitLinear::from_float(trit::matrix<const float>(w, M, K));
//   layer.forward(trit::matrix<const float>(x, N, K), trit::matrix(y, N, M));
//
// forward quantizes each token (row of X) with the layer's activation scheme, runs the
// ternary product on the best kernel path, and writes
//
//   Y[n][m] = ((float)acc[n][m] / s[n]) * w_scale[m] + bias[m],
//   acc[n][m] = sum_k Wq[m][k] * q[n][k]   (exact int32)
//
// with q, s exactly as quantize_activations computes them (docs/SEMANTICS.md),
// so Y is bit-identical to trit::ref::gemm_rows on quantize_activations(X). The activation
// schemes:
//   int8_absmax   (default) BitNet b1.58: s = 127 / max|x|, q in [-128, 127]
//   int4_absmax   s = 7 / max|x|, q in [-8, 7]
//   int4_absmean  BitNet a4.8: s = sqrt(7) / mean|x|, q in [-8, 7]
//   int8_topk     BitNet a4.8: keep the ceil(ratio * K) largest |x|, then int8 absmax
// With TRIT_ENABLE_INT4 the int4 schemes run the int4 lookup-table kernels
// (trit/int4/gemm.hpp) on weights kept in their layout (LutWeights); without it they store
// the int4 values one per int8 and run the int8 kernels. Both give the same floats.
//
// forward is const and thread-safe: any number of threads may call it on one layer at once.
// Its scratch memory is per thread and kept between calls, so a thread allocates only when a
// call needs more scratch than any earlier call on that thread.
#pragma once

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "trit/views/activations.hpp"
#include "trit/detail/aligned_buffer.hpp"
#include "trit/error.hpp"
#include "trit/driver/gemm.hpp"
#include "trit/views/matrix_ref.hpp"
#include "trit/format/pack.hpp"
#include "trit/format/packed_matrix.hpp"
#include "trit/quantize/quantize.hpp"
#include "trit/format/serialize.hpp"
#include "trit/version.hpp"

#if defined(TRIT_ENABLE_INT4)
#include "trit/views/int4_activations.hpp"
#include "trit/driver/gemm_int4.hpp"
#include "trit/format/lut_weights.hpp"
#endif

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

// How a layer quantizes its input tokens.
struct ActivationConfig {
  ActivationScheme scheme = ActivationScheme::int8_absmax;
  double topk_ratio = 0.5;  // int8_topk only: the fraction of each token kept, in (0, 1]
};

namespace detail {

inline void check_activation_config(const ActivationConfig& config, const char* fn) {
  require(config.scheme == ActivationScheme::int8_absmax || config.scheme == ActivationScheme::int4_absmax ||
              config.scheme == ActivationScheme::int4_absmean || config.scheme == ActivationScheme::int8_topk,
          fn, "scheme is not an ActivationScheme value");
  require(config.topk_ratio > 0.0 && config.topk_ratio <= 1.0, fn, "topk_ratio ", config.topk_ratio,
          " is outside (0, 1]");
}

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

// Per-thread buffers of forward, grown on demand and kept.
struct LayerScratch {
  AlignedBuffer<std::int8_t> values;
  std::vector<float> scales;
  TopkScratch topk;
};

inline LayerScratch& layer_scratch() {
  thread_local LayerScratch scratch;
  return scratch;
}

// ---- Serialized form of a layer (docs/LAYERS.md) ---------------------------------------------
namespace layer_blob {
inline constexpr char kMagic[8] = {'T', 'R', 'I', 'T', 'B', 'L', 'I', 'N'};
inline constexpr std::uint32_t kVersion = 1;
inline constexpr std::size_t kHeaderBytes = 64;
}  // namespace layer_blob

}  // namespace detail

// A ternary linear layer: M outputs, K inputs, weights in Dense243 with one scale per tensor
// or per output row, an optional bias, and the activation scheme its inputs are quantized
// with. Copies are deep; moves are cheap. A default-constructed layer is empty.
class BitLinear {
 public:
  BitLinear() = default;

  // Takes packed weights as they are. bias is empty or holds M values.
  explicit BitLinear(PackedMatrix weights, std::vector<float> bias = {}, ActivationConfig activations = {})
      : rows_(weights.rows()), cols_(weights.cols()), bias_(std::move(bias)), config_(activations) {
    constexpr const char* fn = "BitLinear";
    detail::require(!weights.empty(), fn, "weights are empty");
    detail::check_activation_config(config_, fn);
    detail::require(bias_.empty() || bias_.size() == rows_, fn, "bias has ", bias_.size(), " values, expected 0 or ",
                    rows_);
    for (std::size_t m = 0; m < bias_.size(); ++m) {
      detail::require(std::isfinite(bias_[m]), fn, "bias[", m, "] = ", bias_[m], " is not finite");
    }
#if defined(TRIT_ENABLE_INT4)
    if (detail::is_int4_scheme(config_.scheme)) {
      lut_ = LutWeights(weights);
      return;
    }
#endif
    packed_ = std::move(weights);
  }

  // Quantizes float weights w (M x K) with BitNet's absmean, one scale per tensor (BitNet's
  // choice) or one per output row. bias is null or points to M floats.
  static BitLinear from_float(MatrixRef<const float> w, ScaleGranularity granularity = ScaleGranularity::per_tensor,
                              const float* bias = nullptr, ActivationConfig activations = {}) {
    return BitLinear(pack_weights(w, granularity), bias_vector(bias, w.rows), activations);
  }

  // Already-ternary int8 weights (-1, 0, +1, e.g. from a checkpoint) with their scales: 1 for
  // per_tensor, M for per_row. No re-quantization. bias is null or points to M floats.
  static BitLinear from_ternary(MatrixRef<const std::int8_t> trits, const float* scales, std::size_t scale_count,
                                ScaleGranularity granularity = ScaleGranularity::per_tensor,
                                const float* bias = nullptr, ActivationConfig activations = {}) {
    return BitLinear(pack_trits(trits, scales, scale_count, granularity), bias_vector(bias, trits.rows), activations);
  }

  bool empty() const { return rows_ == 0; }
  std::size_t out_features() const { return rows_; }  // M
  std::size_t in_features() const { return cols_; }   // K
  const ActivationConfig& activations() const { return config_; }
  ActivationScheme scheme() const { return config_.scheme; }
  bool has_bias() const { return !bias_.empty(); }
  const std::vector<float>& bias() const { return bias_; }

  // True when forward runs the int4 lookup-table kernels (an int4 scheme with
  // TRIT_ENABLE_INT4); false when it runs the int8 kernels.
  bool uses_int4_kernels() const {
#if defined(TRIT_ENABLE_INT4)
    return !lut_.empty();
#else
    return false;
#endif
  }

  ScaleGranularity granularity() const {
#if defined(TRIT_ENABLE_INT4)
    if (!lut_.empty()) return lut_.granularity();
#endif
    return packed_.granularity();
  }
  const std::vector<float>& weight_scales() const {
#if defined(TRIT_ENABLE_INT4)
    if (!lut_.empty()) return lut_.scales();
#endif
    return packed_.scales();
  }

  // The weights as a PackedMatrix: a copy (rebuilt from the int4 kernels' layout when
  // uses_int4_kernels()).
  PackedMatrix packed_weights() const {
#if defined(TRIT_ENABLE_INT4)
    if (!lut_.empty()) return lut_.to_packed();
#endif
    return packed_;
  }

  // Bytes the layer keeps: packed weights (with row padding), scales and bias.
  std::size_t memory_bytes() const {
    std::size_t weights = packed_.weight_bytes();
#if defined(TRIT_ENABLE_INT4)
    if (!lut_.empty()) weights = lut_.weight_bytes();
#endif
    return weights + weight_scales().size() * sizeof(float) + bias_.size() * sizeof(float);
  }

  // The quantized activations forward computes for x (N x K), for inspection or for driving
  // trit::gemm_rows from one's own threads. int4 values are stored one per int8.
  QuantizedActivations quantize(MatrixRef<const float> x) const {
    constexpr const char* fn = "BitLinear::quantize";
    check_input(x, fn);
    QuantizedActivations q(x.rows, x.cols, config_.scheme);
    detail::TopkScratch topk;
    for (std::size_t n = 0; n < x.rows; ++n) {
      q.scale(n) = detail::quantize_token(config_, x.row(n), x.cols, q.row(n), topk, n, fn);
    }
    return q;
  }

  // Y (N x M) = layer(X (N x K)), N >= 0, both with any row stride. options.isa picks a
  // kernel path (Isa::automatic: the best; with an int4 scheme and TRIT_ENABLE_INT4, the int4
  // path that serves it); options.threads splits the M outputs (results do not depend on it).
  // Throws std::invalid_argument for wrong shapes, null data or a non-finite input, and
  // unsupported_isa_error for a path this CPU lacks.
  void forward(MatrixRef<const float> x, MatrixRef<float> y, const GemmOptions& options = {}) const {
    constexpr const char* fn = "BitLinear::forward";
    check_input(x, fn);
    detail::check_shape(y, x.rows, rows_, fn, "y");
    if (x.rows == 0) return;

    detail::LayerScratch& scratch = detail::layer_scratch();
    const std::size_t stride = (cols_ + QuantizedActivations::kRowAlignment - 1) / QuantizedActivations::kRowAlignment *
                               QuantizedActivations::kRowAlignment;
    if (scratch.values.size() < x.rows * stride) scratch.values = detail::AlignedBuffer<std::int8_t>(x.rows * stride);
    scratch.scales.resize(x.rows);
    for (std::size_t n = 0; n < x.rows; ++n) {
      std::int8_t* q = scratch.values.data() + n * stride;
      scratch.scales[n] = detail::quantize_token(config_, x.row(n), cols_, q, scratch.topk, n, fn);
      // Kernels may read whole vectors up to the stride; earlier calls may have left bytes there.
      std::memset(q + cols_, 0, stride - cols_);
    }
    const float* bias = bias_.empty() ? nullptr : bias_.data();
#if defined(TRIT_ENABLE_INT4)
    if (!lut_.empty()) {
      detail::Int4Output out;
      out.y = y;
      out.bias = bias;
      detail::run_int4_parallel(lut_, x.rows, detail::Int8StoredValues{scratch.values.data(), stride},
                                scratch.scales.data(), out, detail::select_int4_kernels(options.isa), options.threads);
      return;
    }
#endif
    const ActivationsView q{scratch.values.data(), x.rows, cols_, stride, scratch.scales.data()};
    gemm(packed_, q, y, bias, options);
  }

  // The same on tightly packed vectors: x holds N * K floats; returns N * M floats.
  std::vector<float> forward(const std::vector<float>& x, const GemmOptions& options = {}) const {
    detail::require(!empty(), "BitLinear::forward", "the layer is empty");
    detail::require(x.size() % cols_ == 0, "BitLinear::forward", "x has ", x.size(),
                    " values, not a multiple of K = ", cols_);
    const std::size_t tokens = x.size() / cols_;
    std::vector<float> y(tokens * rows_);
    forward(matrix(x.data(), tokens, cols_), matrix(y.data(), tokens, rows_), options);
    return y;
  }

  // ---- Serialized form (docs/LAYERS.md) ------------------------------------------------------
  // A 64-byte header, the bias (float32), then the weights in their own serialized form
  // (docs/FORMAT.md, section 5).
  std::vector<std::uint8_t> serialize() const {
    detail::require(!empty(), "BitLinear::serialize", "the layer is empty");
    const std::vector<std::uint8_t> weights = trit::serialize(packed_weights());
    std::vector<std::uint8_t> payload;
    payload.reserve(bias_.size() * 4 + weights.size());
    for (float b : bias_) detail::put_le(payload, detail::float_bits(b), 4);
    payload.insert(payload.end(), weights.begin(), weights.end());

    std::uint64_t ratio_bits;
    std::memcpy(&ratio_bits, &config_.topk_ratio, sizeof ratio_bits);
    std::vector<std::uint8_t> blob(detail::layer_blob::kMagic, detail::layer_blob::kMagic + 8);
    detail::put_le(blob, detail::layer_blob::kVersion, 4);
    detail::put_le(blob, static_cast<std::uint32_t>(config_.scheme), 4);
    detail::put_le(blob, ratio_bits, 8);
    detail::put_le(blob, bias_.size(), 8);
    detail::put_le(blob, weights.size(), 8);
    detail::put_le(blob, detail::fnv1a64(payload.data(), payload.size()), 8);
    detail::put_le(blob, detail::layer_blob::kHeaderBytes, 4);
    blob.resize(detail::layer_blob::kHeaderBytes, 0);
    blob.insert(blob.end(), payload.begin(), payload.end());
    return blob;
  }

  // Rebuilds a layer from untrusted bytes. Throws format_error for a wrong magic or version,
  // an unknown scheme, a top-K ratio outside (0, 1], a bias count that is neither 0 nor M, a
  // non-finite bias, sizes that disagree with the blob, a checksum mismatch, or weights that
  // trit::deserialize rejects.
  static BitLinear deserialize(const std::uint8_t* blob, std::size_t size) {
    constexpr const char* fn = "BitLinear::deserialize";
    if (blob == nullptr && size != 0) detail::throw_invalid_argument(fn, "blob is null");
    if (size < detail::layer_blob::kHeaderBytes) {
      detail::throw_format_error(fn, "blob of ", size, " bytes is shorter than the 64-byte header");
    }
    if (std::memcmp(blob, detail::layer_blob::kMagic, 8) != 0) detail::throw_format_error(fn, "bad magic: not a layer blob");
    const std::uint64_t version = detail::get_le(blob + 8, 4);
    if (version != detail::layer_blob::kVersion) detail::throw_format_error(fn, "unsupported layer version ", version);
    const std::uint64_t scheme = detail::get_le(blob + 12, 4);
    if (scheme > static_cast<std::uint32_t>(ActivationScheme::int8_topk)) {
      detail::throw_format_error(fn, "unknown activation scheme ", scheme);
    }
    const std::uint64_t ratio_bits = detail::get_le(blob + 16, 8);
    double ratio;
    std::memcpy(&ratio, &ratio_bits, sizeof ratio);
    if (!(ratio > 0.0 && ratio <= 1.0)) detail::throw_format_error(fn, "top-K ratio ", ratio, " is outside (0, 1]");
    const std::uint64_t bias_count = detail::get_le(blob + 24, 8);
    const std::uint64_t weight_bytes = detail::get_le(blob + 32, 8);
    const std::uint64_t checksum = detail::get_le(blob + 40, 8);
    const std::uint64_t header_bytes = detail::get_le(blob + 48, 4);
    if (header_bytes != detail::layer_blob::kHeaderBytes) {
      detail::throw_format_error(fn, "header size ", header_bytes, " != 64");
    }
    for (std::size_t i = 52; i < detail::layer_blob::kHeaderBytes; ++i) {
      if (blob[i] != 0) detail::throw_format_error(fn, "reserved header byte ", i, " is not 0");
    }
    const std::uint64_t available = size - detail::layer_blob::kHeaderBytes;
    if (bias_count > available / 4 || weight_bytes != available - bias_count * 4) {
      detail::throw_format_error(fn, "blob holds ", available, " payload bytes, the header says ", bias_count,
                                 " bias values and ", weight_bytes, " weight bytes");
    }
    const std::uint8_t* payload = blob + detail::layer_blob::kHeaderBytes;
    if (detail::fnv1a64(payload, available) != checksum) detail::throw_format_error(fn, "checksum mismatch");

    std::vector<float> bias(bias_count);
    for (std::size_t m = 0; m < bias_count; ++m) {
      bias[m] = detail::bits_float(static_cast<std::uint32_t>(detail::get_le(payload + 4 * m, 4)));
      if (!std::isfinite(bias[m])) detail::throw_format_error(fn, "bias[", m, "] = ", bias[m], " is not finite");
    }
    PackedMatrix weights = trit::deserialize(payload + 4 * bias_count, weight_bytes);
    if (bias_count != 0 && bias_count != weights.rows()) {
      detail::throw_format_error(fn, "bias has ", bias_count, " values for ", weights.rows(), " outputs");
    }
    ActivationConfig config;
    config.scheme = static_cast<ActivationScheme>(scheme);
    config.topk_ratio = ratio;
    return BitLinear(std::move(weights), std::move(bias), config);
  }

  static BitLinear deserialize(const std::vector<std::uint8_t>& blob) { return deserialize(blob.data(), blob.size()); }

  void save(const std::string& path) const {
    const std::vector<std::uint8_t> blob = serialize();
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(blob.data()), static_cast<std::streamsize>(blob.size()));
    if (!out) throw std::runtime_error("trit::BitLinear::save: cannot write " + path);
  }

  static BitLinear load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("trit::BitLinear::load: cannot open " + path);
    const std::vector<std::uint8_t> blob((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return deserialize(blob);
  }

 private:
  static std::vector<float> bias_vector(const float* bias, std::size_t rows) {
    return bias == nullptr ? std::vector<float>{} : std::vector<float>(bias, bias + rows);
  }

  void check_input(MatrixRef<const float> x, const char* fn) const {
    detail::require(!empty(), fn, "the layer is empty");
    detail::check_view(x, fn, "x");
    detail::require(x.cols == cols_, fn, "x has ", x.cols, " columns but the layer has K = ", cols_, " inputs");
  }

  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  PackedMatrix packed_;
#if defined(TRIT_ENABLE_INT4)
  LutWeights lut_;
#endif
  std::vector<float> bias_;
  ActivationConfig config_;
};

namespace ref {

// The layer as a float computation on dequantized values: y[n][m] = sum_k (Wq[m][k] *
// w_scale[m]) * (q[n][k] / s[n]) + bias[m], summed in double, with q and s from the
// reference quantizers (quantize_activations). Agrees with BitLinear::forward to within
// float rounding; the tests and examples check a relative error below 1e-5.
inline void bitlinear_forward(const BitLinear& layer, MatrixRef<const float> x, MatrixRef<float> y) {
  constexpr const char* fn = "ref::bitlinear_forward";
  detail::require(!layer.empty(), fn, "the layer is empty");
  detail::check_shape(x, x.rows, layer.in_features(), fn, "x");
  detail::check_shape(y, x.rows, layer.out_features(), fn, "y");
  if (x.rows == 0) return;
  const PackedMatrix w = layer.packed_weights();
  std::vector<float> dequantized(w.rows() * w.cols());
  dequantize(w, matrix(dequantized.data(), w.rows(), w.cols()));
  const QuantizedActivations q = quantize_activations(x, layer.scheme(), layer.activations().topk_ratio);
  std::vector<double> xq(x.cols);
  for (std::size_t n = 0; n < x.rows; ++n) {
    for (std::size_t k = 0; k < x.cols; ++k) xq[k] = static_cast<double>(q.row(n)[k]) / static_cast<double>(q.scale(n));
    for (std::size_t m = 0; m < w.rows(); ++m) {
      const float* wm = dequantized.data() + m * w.cols();
      double sum = 0.0;
      for (std::size_t k = 0; k < x.cols; ++k) sum += static_cast<double>(wm[k]) * xq[k];
      if (layer.has_bias()) sum += static_cast<double>(layer.bias()[m]);
      y(n, m) = static_cast<float>(sum);
    }
  }
}

}  // namespace ref

TRIT_END_NAMESPACE

#undef TRIT_BITLINEAR_SSE2
#undef TRIT_BITLINEAR_NEON
