// Quickstart: float weights become a ternary layer (quantized, packed 5 weights per byte),
// which then runs on float tokens and is checked against the float computation.
#include <trit/layers/bitlinear.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

int main() {
  const std::size_t out = 256, in = 1000, tokens = 4;
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(out * in), x(tokens * in), y(tokens * out), y_check(tokens * out);
  for (float& v : w) v = 0.02f * normal(rng);
  for (float& v : x) v = normal(rng);

  // BitNet b1.58: absmean ternary weights, per-token int8 absmax activations.
  const trit::BitLinear layer = trit::BitLinear::from_float(trit::matrix<const float>(w.data(), out, in));
  layer.forward(trit::matrix<const float>(x.data(), tokens, in), trit::matrix(y.data(), tokens, out));

  // The same layer as a float computation on the dequantized weights and activations.
  trit::ref::bitlinear_forward(layer, trit::matrix<const float>(x.data(), tokens, in),
                               trit::matrix(y_check.data(), tokens, out));
  double err = 0.0, norm = 0.0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    err = std::max(err, std::fabs(static_cast<double>(y[i]) - y_check[i]));
    norm = std::max(norm, std::fabs(static_cast<double>(y_check[i])));
  }
  std::printf("%zux%zu layer in %zu bytes (fp32: %zu), kernel path %s, relative error %.2e\n", out, in,
              layer.memory_bytes(), out * in * sizeof(float), trit::isa_name(trit::best_isa()), err / norm);
  return err / norm < 1e-5 ? 0 : 1;
}
