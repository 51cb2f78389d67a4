// One translation unit of the mixed-configuration test, compiled twice: once with
// TRIT_ENABLE_INT4 and once without (TRIT_ABI_SUFFIX names the copy). The macro may only
// decide which int4 kernels are compiled, never the layout of a public type, so layers made
// in one copy must work in the other.
#include <trit/trit.hpp>

#include <cstddef>
#include <vector>

#define TRIT_ABI_CONCAT2(a, b) a##b
#define TRIT_ABI_CONCAT(a, b) TRIT_ABI_CONCAT2(a, b)
#define TRIT_ABI_NAME(name) TRIT_ABI_CONCAT(name, TRIT_ABI_SUFFIX)

std::size_t TRIT_ABI_NAME(bitlinear_size_)() { return sizeof(trit::BitLinear); }

trit::BitLinear TRIT_ABI_NAME(make_layer_)(const std::vector<float>& w, std::size_t rows, std::size_t cols,
                                          trit::ActivationScheme scheme) {
  std::vector<float> bias(rows);
  for (std::size_t m = 0; m < rows; ++m) bias[m] = 0.125f * static_cast<float>(m % 7) - 0.25f;
  trit::ActivationConfig config;
  config.scheme = scheme;
  return trit::BitLinear::from_float(trit::matrix(w.data(), rows, cols), trit::ScaleGranularity::per_row,
                                     bias.data(), config);
}

std::vector<float> TRIT_ABI_NAME(forward_)(const trit::BitLinear& layer, const std::vector<float>& x) {
  trit::GemmOptions options;
  options.threads = 2;
  return layer.forward(x, options);
}
