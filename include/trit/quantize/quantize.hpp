// trit: the quantizers, with exactly the semantics of docs/SEMANTICS.md (BitNet b1.58 and
// BitNet a4.8). `rne` below is std::nearbyint in the default rounding mode.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "trit/error.hpp"
#include "trit/views/matrix_ref.hpp"
#include "trit/views/scale_granularity.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

inline constexpr float kMinQuantScale = 1e-5f;

namespace detail {

inline void check_finite(const float* x, std::size_t n, const char* function, const char* name,
                         std::size_t row) {
  for (std::size_t k = 0; k < n; ++k) {
    require(std::isfinite(x[k]), function, name, " has a non-finite value (", x[k], ") at row ",
            row, ", column ", k);
  }
}

inline void check_finite(MatrixRef<const float> x, const char* function, const char* name) {
  for (std::size_t r = 0; r < x.rows; ++r) check_finite(x.row(r), x.cols, function, name, r);
}

inline double sum_abs(const float* x, std::size_t n) {
  double sum = 0.0;
  for (std::size_t k = 0; k < n; ++k) sum += std::fabs(static_cast<double>(x[k]));
  return sum;
}

inline float max_abs(const float* x, std::size_t n) {
  float amax = 0.0f;
  for (std::size_t k = 0; k < n; ++k) amax = std::max(amax, std::fabs(x[k]));
  return amax;
}

// clamp(rne(v * scale), lo, hi)
inline std::int8_t round_clamp(float v, float scale, int lo, int hi) {
  const float r = std::nearbyint(v * scale);
  return static_cast<std::int8_t>(std::min(std::max(r, static_cast<float>(lo)), static_cast<float>(hi)));
}

inline float absmean_weight_scale(double sum_abs, std::size_t count) {
  const float mean_abs = static_cast<float>(sum_abs / static_cast<double>(count));
  return std::max(mean_abs, kMinQuantScale);
}

inline void ternarize_row(const float* w, std::size_t cols, float w_scale, std::int8_t* out) {
  const float inv = 1.0f / w_scale;
  for (std::size_t k = 0; k < cols; ++k) out[k] = round_clamp(w[k], inv, -1, 1);
}

}  // namespace detail

// ---- Weights ---------------------------------------------------------------------------------

// Ternary weights before packing: rows x cols trits in {-1, 0, +1}, row-major and tight, with
// 1 (per_tensor) or rows (per_row) scales.
struct TernaryWeights {
  std::size_t rows = 0;
  std::size_t cols = 0;
  ScaleGranularity granularity = ScaleGranularity::per_tensor;
  std::vector<std::int8_t> trits;
  std::vector<float> scales;

  MatrixRef<const std::int8_t> view() const { return matrix(trits.data(), rows, cols); }
};

// BitNet b1.58 absmean: w_scale = max(mean|W|, 1e-5) (mean summed in double, rounded to
// float), Wq = clamp(rne(W * (1 / w_scale)), -1, 1). Per tensor, or per output row.
inline TernaryWeights quantize_weights_absmean(MatrixRef<const float> w,
                                               ScaleGranularity granularity = ScaleGranularity::per_tensor) {
  constexpr const char* fn = "quantize_weights_absmean";
  detail::check_view(w, fn, "w");
  detail::require(!w.empty(), fn, "w is empty (", w.rows, "x", w.cols, ")");
  detail::require(granularity == ScaleGranularity::per_tensor || granularity == ScaleGranularity::per_row,
                  fn, "granularity is not a ScaleGranularity value");
  detail::check_finite(w, fn, "w");

  TernaryWeights out;
  out.rows = w.rows;
  out.cols = w.cols;
  out.granularity = granularity;
  out.trits.resize(w.rows * w.cols);
  if (granularity == ScaleGranularity::per_tensor) {
    double sum = 0.0;
    for (std::size_t m = 0; m < w.rows; ++m) sum += detail::sum_abs(w.row(m), w.cols);
    out.scales.push_back(detail::absmean_weight_scale(sum, w.rows * w.cols));
  } else {
    for (std::size_t m = 0; m < w.rows; ++m) {
      out.scales.push_back(detail::absmean_weight_scale(detail::sum_abs(w.row(m), w.cols), w.cols));
    }
  }
  for (std::size_t m = 0; m < w.rows; ++m) {
    const float s = out.scales[granularity == ScaleGranularity::per_row ? m : 0];
    detail::ternarize_row(w.row(m), w.cols, s, out.trits.data() + m * w.cols);
  }
  return out;
}

// ---- Activations -----------------------------------------------------------------------------

enum class ActivationScheme : std::uint32_t {
  int8_absmax = 0,   // BitNet b1.58: s = 127 / max|x|, q in [-128, 127]
  int4_absmax = 1,   // s = 7 / max|x|, q in [-8, 7]
  int4_absmean = 2,  // BitNet a4.8: s = sqrt(7) / mean|x|, q in [-8, 7]
  int8_topk = 3,     // BitNet a4.8: keep the ceil(ratio*K) largest |x|, then int8 absmax
};

inline const char* scheme_name(ActivationScheme scheme) {
  switch (scheme) {
    case ActivationScheme::int8_absmax: return "int8_absmax";
    case ActivationScheme::int4_absmax: return "int4_absmax";
    case ActivationScheme::int4_absmean: return "int4_absmean";
    case ActivationScheme::int8_topk: return "int8_topk";
  }
  return "unknown";
}

// One token, x[0..K) -> q[0..K); returns the scale s (dequantized x = q / s).
// x must be finite (checked by the public matrix-level entry points, not here).
inline float quantize_token_int8_absmax(const float* x, std::size_t cols, std::int8_t* q) {
  const float amax = std::max(detail::max_abs(x, cols), kMinQuantScale);
  const float s = 127.0f / amax;
  for (std::size_t k = 0; k < cols; ++k) q[k] = detail::round_clamp(x[k], s, -128, 127);
  return s;
}

inline float quantize_token_int4_absmax(const float* x, std::size_t cols, std::int8_t* q) {
  const float amax = std::max(detail::max_abs(x, cols), kMinQuantScale);
  const float s = 7.0f / amax;
  for (std::size_t k = 0; k < cols; ++k) q[k] = detail::round_clamp(x[k], s, -8, 7);
  return s;
}

inline float quantize_token_int4_absmean(const float* x, std::size_t cols, std::int8_t* q) {
  const float beta =
      std::max(static_cast<float>(detail::sum_abs(x, cols) / static_cast<double>(cols)), kMinQuantScale);
  const float s = std::sqrt(7.0f) / beta;
  for (std::size_t k = 0; k < cols; ++k) q[k] = detail::round_clamp(x[k], s, -8, 7);
  return s;
}

// Number of entries top-K keeps: ceil(ratio * K), at least 1.
inline std::size_t topk_count(std::size_t cols, double ratio) {
  const auto kept = static_cast<std::size_t>(std::ceil(ratio * static_cast<double>(cols)));
  return std::min(std::max<std::size_t>(kept, 1), cols);
}

// Keeps the topk_count(K, ratio) entries of largest |x| (ties: lower index first), zeroes
// the rest, then quantizes with the int8 absmax rule. `order` is scratch, resized as needed.
inline float quantize_token_int8_topk(const float* x, std::size_t cols, double ratio, std::int8_t* q,
                                      std::vector<std::uint32_t>& order) {
  const std::size_t kept = topk_count(cols, ratio);
  order.resize(cols);
  std::iota(order.begin(), order.end(), 0u);
  const auto larger = [x](std::uint32_t a, std::uint32_t b) {
    const float fa = std::fabs(x[a]);
    const float fb = std::fabs(x[b]);
    return fa > fb || (fa == fb && a < b);
  };
  std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(kept - 1), order.end(), larger);
  // The kept set contains the largest |x|, so its absmax is the whole token's.
  const float s = 127.0f / std::max(detail::max_abs(x, cols), kMinQuantScale);
  std::fill(q, q + cols, std::int8_t{0});
  for (std::size_t i = 0; i < kept; ++i) q[order[i]] = detail::round_clamp(x[order[i]], s, -128, 127);
  return s;
}

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

}  // namespace detail

TRIT_END_NAMESPACE
