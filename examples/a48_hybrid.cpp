// The BitNet 2B4T feed-forward block with BitNet a4.8's hybrid activations:
//
//   y = down(sub_norm(relu(gate(x))^2 * up(x)))
//   gate, up (6912 x 2560): int4 absmean inputs (s = sqrt(7) / mean|x|)
//   down (2560 x 6912):     top-K sparsified int8 inputs (the 50% largest |h| kept)
//
// next to the same block with BitNet b1.58's int8 absmax inputs everywhere, on random seeded
// weights. Prints each block's cosine similarity to the float block (on the original weights
// and on the ternary weights), memory and time per token and per batch. The gate and up
// layers run the int4 lookup-table kernels (their SIMD versions when TRIT_ENABLE_INT4 is
// defined). Exits non-zero when a layer's output differs from the float computation on its
// dequantized weights and activations by a relative error of 1e-5 or more.
//
//   a48_hybrid [--quick] [--threads T]     --quick: fewer timing runs and a 16-token batch
#include <trit/layers/bitlinear.hpp>

#include "ffn_block.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

namespace {

using namespace ffn;

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

void ternary_block(const TernaryFfn& t, const std::vector<float>& sub_norm, const float* x, std::size_t tokens,
                   float* y, Activations& a, const trit::GemmOptions& options) {
  const auto in = trit::matrix<const float>(x, tokens, kHidden);
  t.gate.forward(in, trit::matrix(a.g.data(), tokens, kIntermediate), options);
  t.up.forward(in, trit::matrix(a.u.data(), tokens, kIntermediate), options);
  gate_and_norm(a.g.data(), a.u.data(), sub_norm, tokens, a.h.data());
  t.down.forward(trit::matrix<const float>(a.h.data(), tokens, kIntermediate), trit::matrix(y, tokens, kHidden),
                 options);
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
