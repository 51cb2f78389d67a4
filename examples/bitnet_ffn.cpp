// A BitNet b1.58 2B4T feed-forward block on ternary layers:
//
//   y = down(sub_norm(relu(gate(x))^2 * up(x)))      gate, up: 6912 x 2560, down: 2560 x 6912
//
// with random seeded weights. Prints the block's agreement with the same block in float
// (cosine similarity; against the float block on the original weights and on the ternary
// weights), its memory against fp16, and its time per token and per 128-token batch. Exits non-zero when a layer's output differs from the float computation on its
// dequantized weights and activations by a relative error of 1e-5 or more.
//
//   bitnet_ffn [--quick] [--threads T]     --quick: fewer timing runs and a 16-token batch
#include <trit/layers/bitlinear.hpp>

#include "ffn_block.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace ffn;

struct TernaryFfn {
  trit::BitLinear gate, up, down;
  const std::vector<float>* sub_norm;
};

void ternary_block(const TernaryFfn& f, const float* x, std::size_t tokens, float* y, Activations& a,
                   const trit::GemmOptions& options) {
  const auto in = trit::matrix<const float>(x, tokens, kHidden);
  f.gate.forward(in, trit::matrix(a.g.data(), tokens, kIntermediate), options);
  f.up.forward(in, trit::matrix(a.u.data(), tokens, kIntermediate), options);
  gate_and_norm(a.g.data(), a.u.data(), *f.sub_norm, tokens, a.h.data());
  f.down.forward(trit::matrix<const float>(a.h.data(), tokens, kIntermediate), trit::matrix(y, tokens, kHidden),
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

  // Weights with the spread of a trained model's (std 0.02); RMSNorm weights near 1.
  std::mt19937 rng(2024);
  FloatFfn f;
  f.gate = random_normal(kIntermediate * kHidden, 0.02f, rng);
  f.up = random_normal(kIntermediate * kHidden, 0.02f, rng);
  f.down = random_normal(kHidden * kIntermediate, 0.02f, rng);
  f.sub_norm = random_normal(kIntermediate, 0.1f, rng);
  for (float& w : f.sub_norm) w += 1.0f;

  TernaryFfn t{trit::BitLinear::from_float(trit::matrix<const float>(f.gate.data(), kIntermediate, kHidden)),
               trit::BitLinear::from_float(trit::matrix<const float>(f.up.data(), kIntermediate, kHidden)),
               trit::BitLinear::from_float(trit::matrix<const float>(f.down.data(), kHidden, kIntermediate)),
               &f.sub_norm};

  // ---- Accuracy ----
  const std::vector<float> x = random_normal(batch * kHidden, 1.0f, rng);
  std::vector<float> y(check_tokens * kHidden), y_float(check_tokens * kHidden), y_ternary_float(check_tokens * kHidden);
  Activations a(batch);
  ternary_block(t, x.data(), check_tokens, y.data(), a, trit::GemmOptions{});
  float_block(f, x.data(), check_tokens, y_float.data());
  // The float block on the ternary weights (dequantized): what a BitNet checkpoint computes
  // in float, whose weights are ternary by training. Against it, only activation
  // quantization differs; against the block above, the ternarization of weights that were
  // never trained for it differs too.
  FloatFfn dequantized{dequantized_weights(t.gate), dequantized_weights(t.up), dequantized_weights(t.down),
                       f.sub_norm};
  float_block(dequantized, x.data(), check_tokens, y_ternary_float.data());
  dequantized = FloatFfn{};
  const double cosine = cosine_similarity(y, y_float);
  const double cosine_ternary = cosine_similarity(y, y_ternary_float);
  const double err_gate = relative_error_vs_dequantized(t.gate, x.data(), check_tokens);
  const double err_up = relative_error_vs_dequantized(t.up, x.data(), check_tokens);
  const double err_down = relative_error_vs_dequantized(t.down, a.h.data(), check_tokens);
  const double worst = std::max(err_gate, std::max(err_up, err_down));
  std::printf("BitNet b1.58 2B4T FFN block: gate/up %zux%zu, down %zux%zu, int8 absmax activations\n", kIntermediate,
              kHidden, kHidden, kIntermediate);
  std::printf("  cosine similarity to the float block:                 %.5f (%zu tokens)\n", cosine, check_tokens);
  std::printf("  cosine similarity to the float block, ternary weights: %.5f\n", cosine_ternary);
  std::printf("  relative error vs dequantized float computation:     gate %.2e, up %.2e, down %.2e\n", err_gate,
              err_up, err_down);

  // ---- Memory ----
  const std::size_t weights = 3 * kIntermediate * kHidden;
  const std::size_t ternary_bytes = t.gate.memory_bytes() + t.up.memory_bytes() + t.down.memory_bytes();
  std::printf("  memory: %.2f MB ternary vs %.2f MB fp16 (%.2fx smaller, %.3f bits per weight)\n", ternary_bytes / 1e6,
              weights * 2 / 1e6, weights * 2.0 / ternary_bytes, 8.0 * ternary_bytes / weights);

  // ---- Time ----
  trit::GemmOptions options;
  options.threads = threads;
  std::vector<float> y_batch(batch * kHidden);
  ternary_block(t, x.data(), batch, y_batch.data(), a, options);  // warm-up
  const double per_token = median_ms(runs, [&] { ternary_block(t, x.data(), 1, y_batch.data(), a, options); });
  const double per_batch =
      median_ms(std::max(1, runs / 4), [&] { ternary_block(t, x.data(), batch, y_batch.data(), a, options); });
  std::printf("  time (%s, %u thread%s): %.3f ms per token, %.2f ms per %zu-token batch (%.3f ms per token)\n",
              trit::isa_name(trit::best_isa()), threads, threads == 1 ? "" : "s", per_token, per_batch, batch,
              per_batch / static_cast<double>(batch));

  if (!(worst < 1e-5)) {
    std::printf("FAILED: a layer differs from its dequantized float computation by %.2e\n", worst);
    return 1;
  }
  std::printf("accuracy check passed\n");
  return 0;
}
