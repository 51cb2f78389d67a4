// The BitNet 2B4T feed-forward block with BitNet a4.8's hybrid activations:
//
//   y = down(sub_norm(relu(gate(x))^2 * up(x)))
//   gate, up (6912 x 2560): int4 absmean inputs (s = sqrt(7) / mean|x|)
//   down (2560 x 6912):     top-K sparsified int8 inputs (the 50% largest |h| kept)
//
// next to the same block with BitNet b1.58's int8 absmax inputs everywhere, on random seeded
// weights. Prints each block's cosine similarity to the float block (on the original weights
// and on the ternary weights), memory and time per token and per batch. With TRIT_ENABLE_INT4 the gate and up layers run the int4 lookup-table
// kernels. Exits non-zero when a layer's output differs from the float computation on its
// dequantized weights and activations by a relative error of 1e-5 or more.
//
//   a48_hybrid [--quick] [--threads T]     --quick: fewer timing runs and a 16-token batch
#include <trit/bitlinear.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

namespace {

constexpr std::size_t kHidden = 2560;
constexpr std::size_t kIntermediate = 6912;
constexpr float kNormEps = 1e-5f;

std::vector<float> random_normal(std::size_t count, float sigma, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, sigma);
  std::vector<float> v(count);
  for (float& x : v) x = normal(rng);
  return v;
}

// h = sub_norm(relu(g)^2 * u) for each token.
void gate_and_norm(const float* g, const float* u, const std::vector<float>& norm_weight, std::size_t tokens,
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

struct FloatFfn {
  std::vector<float> gate, up, down, sub_norm;
};

void float_linear(const std::vector<float>& w, std::size_t out, std::size_t in, const float* x, std::size_t tokens,
                  float* y) {
  for (std::size_t n = 0; n < tokens; ++n) {
    for (std::size_t m = 0; m < out; ++m) {
      double sum = 0.0;
      for (std::size_t k = 0; k < in; ++k) sum += static_cast<double>(w[m * in + k]) * x[n * in + k];
      y[n * out + m] = static_cast<float>(sum);
    }
  }
}

void float_block(const FloatFfn& f, const float* x, std::size_t tokens, float* y) {
  std::vector<float> g(tokens * kIntermediate), u(tokens * kIntermediate), h(tokens * kIntermediate);
  float_linear(f.gate, kIntermediate, kHidden, x, tokens, g.data());
  float_linear(f.up, kIntermediate, kHidden, x, tokens, u.data());
  gate_and_norm(g.data(), u.data(), f.sub_norm, tokens, h.data());
  float_linear(f.down, kHidden, kIntermediate, h.data(), tokens, y);
}

// A ternary block whose layers quantize their inputs as configured.
struct TernaryFfn {
  trit::BitLinear gate, up, down;

  TernaryFfn(const FloatFfn& f, trit::ActivationConfig gate_up_inputs, trit::ActivationConfig down_inputs)
      : gate(trit::BitLinear::from_float(trit::matrix<const float>(f.gate.data(), kIntermediate, kHidden),
                                         trit::ScaleGranularity::per_tensor, nullptr, gate_up_inputs)),
        up(trit::BitLinear::from_float(trit::matrix<const float>(f.up.data(), kIntermediate, kHidden),
                                       trit::ScaleGranularity::per_tensor, nullptr, gate_up_inputs)),
        down(trit::BitLinear::from_float(trit::matrix<const float>(f.down.data(), kHidden, kIntermediate),
                                         trit::ScaleGranularity::per_tensor, nullptr, down_inputs)) {}

  std::size_t memory_bytes() const { return gate.memory_bytes() + up.memory_bytes() + down.memory_bytes(); }
};

struct Activations {
  std::vector<float> g, u, h;
  explicit Activations(std::size_t tokens)
      : g(tokens * kIntermediate), u(tokens * kIntermediate), h(tokens * kIntermediate) {}
};

void ternary_block(const TernaryFfn& t, const std::vector<float>& sub_norm, const float* x, std::size_t tokens,
                   float* y, Activations& a, const trit::GemmOptions& options) {
  const auto in = trit::matrix<const float>(x, tokens, kHidden);
  t.gate.forward(in, trit::matrix(a.g.data(), tokens, kIntermediate), options);
  t.up.forward(in, trit::matrix(a.u.data(), tokens, kIntermediate), options);
  gate_and_norm(a.g.data(), a.u.data(), sub_norm, tokens, a.h.data());
  t.down.forward(trit::matrix<const float>(a.h.data(), tokens, kIntermediate), trit::matrix(y, tokens, kHidden),
                 options);
}

std::vector<float> dequantized_weights(const trit::BitLinear& layer) {
  std::vector<float> w(layer.out_features() * layer.in_features());
  trit::dequantize(layer.packed_weights(), trit::matrix(w.data(), layer.out_features(), layer.in_features()));
  return w;
}

double cosine_similarity(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0.0, na = 0.0, nb = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  return dot / std::sqrt(na * nb);
}

// Largest |y - y_dequantized| of a token relative to the token's largest |y_dequantized|.
double relative_error_vs_dequantized(const trit::BitLinear& layer, const float* x, std::size_t tokens) {
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
double median_ms(int runs, F&& f) {
  std::vector<double> times;
  for (int r = 0; r < runs; ++r) {
    const auto start = std::chrono::steady_clock::now();
    f();
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  unsigned threads = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      threads = static_cast<unsigned>(std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--quick] [--threads T]\n", argv[0]);
      return 2;
    }
  }
  const std::size_t check_tokens = quick ? 2 : 8;
  const std::size_t batch = quick ? 16 : 128;
  const int runs = quick ? 3 : 21;

  std::mt19937 rng(2024);
  FloatFfn f;
  f.gate = random_normal(kIntermediate * kHidden, 0.02f, rng);
  f.up = random_normal(kIntermediate * kHidden, 0.02f, rng);
  f.down = random_normal(kHidden * kIntermediate, 0.02f, rng);
  f.sub_norm = random_normal(kIntermediate, 0.1f, rng);
  for (float& w : f.sub_norm) w += 1.0f;

  trit::ActivationConfig int8_absmax;  // BitNet b1.58 everywhere
  trit::ActivationConfig int4_absmean;
  int4_absmean.scheme = trit::ActivationScheme::int4_absmean;
  trit::ActivationConfig int8_topk;
  int8_topk.scheme = trit::ActivationScheme::int8_topk;
  int8_topk.topk_ratio = 0.5;
  const TernaryFfn b158(f, int8_absmax, int8_absmax);
  const TernaryFfn a48(f, int4_absmean, int8_topk);

  const std::vector<float> x = random_normal(batch * kHidden, 1.0f, rng);
  std::vector<float> y_float(check_tokens * kHidden), y_b158(check_tokens * kHidden), y_a48(check_tokens * kHidden);
  Activations a(batch);
  float_block(f, x.data(), check_tokens, y_float.data());
  ternary_block(b158, f.sub_norm, x.data(), check_tokens, y_b158.data(), a, trit::GemmOptions{});
  ternary_block(a48, f.sub_norm, x.data(), check_tokens, y_a48.data(), a, trit::GemmOptions{});
  // The float block on the ternary weights (dequantized), as a BitNet checkpoint computes it
  // in float: against it only the activation schemes differ.
  std::vector<float> y_ternary_float(check_tokens * kHidden);
  {
    const FloatFfn dequantized{dequantized_weights(a48.gate), dequantized_weights(a48.up),
                               dequantized_weights(a48.down), f.sub_norm};
    float_block(dequantized, x.data(), check_tokens, y_ternary_float.data());
  }
  const double err_gate = relative_error_vs_dequantized(a48.gate, x.data(), check_tokens);
  const double err_up = relative_error_vs_dequantized(a48.up, x.data(), check_tokens);
  const double err_down = relative_error_vs_dequantized(a48.down, a.h.data(), check_tokens);
  const double worst = std::max(err_gate, std::max(err_up, err_down));

  std::printf("BitNet 2B4T FFN block, a4.8 hybrid: int4 absmean into gate/up (%s kernels), top-50%% int8 into down\n",
              a48.gate.uses_int4_kernels() ? "int4 lookup-table" : "int8");
  std::printf("  cosine similarity to the float block: a4.8 %.5f, b1.58 %.5f (%zu tokens)\n",
              cosine_similarity(y_a48, y_float), cosine_similarity(y_b158, y_float), check_tokens);
  std::printf("  the same on the ternary weights:      a4.8 %.5f, b1.58 %.5f\n",
              cosine_similarity(y_a48, y_ternary_float), cosine_similarity(y_b158, y_ternary_float));
  std::printf("  cosine similarity a4.8 vs b1.58:      %.5f\n", cosine_similarity(y_a48, y_b158));
  std::printf("  relative error vs dequantized float:  gate %.2e, up %.2e, down %.2e\n", err_gate, err_up, err_down);
  const std::size_t weights = 3 * kIntermediate * kHidden;
  std::printf("  memory: %.2f MB ternary vs %.2f MB fp16\n", a48.memory_bytes() / 1e6, weights * 2 / 1e6);

  trit::GemmOptions options;
  options.threads = threads;
  std::vector<float> y_batch(batch * kHidden);
  for (const TernaryFfn* block : {&a48, &b158}) {
    ternary_block(*block, f.sub_norm, x.data(), batch, y_batch.data(), a, options);  // warm-up
    const double per_token =
        median_ms(runs, [&] { ternary_block(*block, f.sub_norm, x.data(), 1, y_batch.data(), a, options); });
    const double per_batch = median_ms(
        std::max(1, runs / 4), [&] { ternary_block(*block, f.sub_norm, x.data(), batch, y_batch.data(), a, options); });
    std::printf("  time %s (%u thread%s): %.3f ms per token, %.2f ms per %zu-token batch\n",
                block == &a48 ? "a4.8 " : "b1.58", threads, threads == 1 ? "" : "s", per_token, per_batch, batch);
  }

  if (!(worst < 1e-5)) {
    std::printf("FAILED: a layer differs from its dequantized float computation by %.2e\n", worst);
    return 1;
  }
  std::printf("accuracy check passed\n");
  return 0;
}
