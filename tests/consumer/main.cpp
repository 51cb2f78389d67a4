// A consumer's program: packs a small layer and runs it through the dispatched GEMV.
#include <trit/trit.hpp>

#include <cstdio>
#include <vector>

int main() {
  const std::size_t rows = 7, cols = 333;
  std::vector<float> w(rows * cols), x(cols);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(static_cast<int>(i % 11) - 5);
  for (std::size_t k = 0; k < cols; ++k) x[k] = static_cast<float>(static_cast<int>(k % 7) - 3);
  const trit::PackedMatrix packed = trit::pack_weights(trit::matrix<const float>(w.data(), rows, cols));
  const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix<const float>(x.data(), 1, cols));
  std::vector<float> y(rows), y_ref(rows);
  trit::gemm(packed, q, trit::matrix(y.data(), 1, rows));
  trit::ref::gemm_rows(packed, q, trit::matrix(y_ref.data(), 1, rows), nullptr, 0, rows);
  for (std::size_t m = 0; m < rows; ++m) {
    if (y[m] != y_ref[m]) {
      std::printf("mismatch at row %zu\n", m);
      return 1;
    }
  }
  std::printf("consumer ok: path %s\n", trit::isa_name(trit::best_isa()));
  return 0;
}
