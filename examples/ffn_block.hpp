// Shared by the bitnet_ffn and a48_hybrid examples: the BitNet b1.58 2B4T feed-forward block
// in float (the baseline), buffers, accuracy measures and timing.
#pragma once

#include <trit/layers/bitlinear.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

namespace ffn {

constexpr std::size_t kHidden = 2560;
constexpr std::size_t kIntermediate = 6912;
constexpr float kNormEps = 1e-5f;

inline std::vector<float> random_normal(std::size_t count, float sigma, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, sigma);
  std::vector<float> v(count);
  for (float& x : v) x = normal(rng);
  return v;
}

struct FloatFfn {
  std::vector<float> gate, up, down;  // [out x in], row-major
  std::vector<float> sub_norm;        // kIntermediate RMSNorm weights
};

// h = sub_norm(relu(g)^2 * u) for each token: the FFN's gating and its RMSNorm.
inline void gate_and_norm(const float* g, const float* u, const std::vector<float>& norm_weight, std::size_t tokens,
                   float* h) {
  for (std::size_t n = 0; n < tokens; ++n) {
    float* row = h + n * kIntermediate;
    double square_sum = 0.0;
    for (std::size_t i = 0; i < kIntermediate; ++i) {
      const float relu = std::max(g[n * kIntermediate + i], 0.0f);
      row[i] = relu * relu * u[n * kIntermediate + i];
      square_sum += static_cast<double>(row[i]) * row[i];
    }
    const float inv_rms = 1.0f / std::sqrt(static_cast<float>(square_sum / kIntermediate) + kNormEps);
    for (std::size_t i = 0; i < kIntermediate; ++i) row[i] = row[i] * inv_rms * norm_weight[i];
  }
}

inline void float_linear(const std::vector<float>& w, std::size_t out, std::size_t in, const float* x, std::size_t tokens,
                  float* y) {
  for (std::size_t n = 0; n < tokens; ++n) {
    for (std::size_t m = 0; m < out; ++m) {
      const float* wm = w.data() + m * in;
      double sum = 0.0;
      for (std::size_t k = 0; k < in; ++k) sum += static_cast<double>(wm[k]) * x[n * in + k];
      y[n * out + m] = static_cast<float>(sum);
    }
  }
}

inline void float_block(const FloatFfn& f, const float* x, std::size_t tokens, float* y) {
  std::vector<float> g(tokens * kIntermediate), u(tokens * kIntermediate), h(tokens * kIntermediate);
  float_linear(f.gate, kIntermediate, kHidden, x, tokens, g.data());
  float_linear(f.up, kIntermediate, kHidden, x, tokens, u.data());
  gate_and_norm(g.data(), u.data(), f.sub_norm, tokens, h.data());
  float_linear(f.down, kHidden, kIntermediate, h.data(), tokens, y);
}

// Buffers of one ternary block call, kept so that timed calls do not allocate.
struct Activations {
  std::vector<float> g, u, h;
  explicit Activations(std::size_t tokens)
      : g(tokens * kIntermediate), u(tokens * kIntermediate), h(tokens * kIntermediate) {}
};

inline std::vector<float> dequantized_weights(const trit::BitLinear& layer) {
  std::vector<float> w(layer.out_features() * layer.in_features());
  trit::dequantize(layer.packed_weights(), trit::matrix(w.data(), layer.out_features(), layer.in_features()));
  return w;
}

inline double cosine_similarity(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0.0, na = 0.0, nb = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  return dot / std::sqrt(na * nb);
}

// Largest |y - y_dequantized| of a token relative to the token's largest |y_dequantized|,
// where y_dequantized is the layer as a float computation on dequantized values.
inline double relative_error_vs_dequantized(const trit::BitLinear& layer, const float* x, std::size_t tokens) {
  const std::size_t out = layer.out_features(), in = layer.in_features();
  std::vector<float> y(tokens * out), y_dequantized(tokens * out);
  layer.forward(trit::matrix<const float>(x, tokens, in), trit::matrix(y.data(), tokens, out));
  trit::ref::bitlinear_forward(layer, trit::matrix<const float>(x, tokens, in),
                               trit::matrix(y_dequantized.data(), tokens, out));
  double worst = 0.0;
  for (std::size_t n = 0; n < tokens; ++n) {
    double err = 0.0, norm = 0.0;
    for (std::size_t m = 0; m < out; ++m) {
      err = std::max(err, std::fabs(static_cast<double>(y[n * out + m]) - y_dequantized[n * out + m]));
      norm = std::max(norm, std::fabs(static_cast<double>(y_dequantized[n * out + m])));
    }
    worst = std::max(worst, err / norm);
  }
  return worst;
}

template <class F>
inline double median_ms(int runs, F&& f) {
  std::vector<double> times;
  for (int r = 0; r < runs; ++r) {
    const auto start = std::chrono::steady_clock::now();
    f();
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace ffn
