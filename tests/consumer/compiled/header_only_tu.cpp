// The header-only half of the compiled consumer: the same call, instantiated here.
#include <trit/trit.hpp>

#include <vector>

std::vector<float> header_only_gemm(const trit::PackedMatrix& w, const trit::QuantizedActivations& x) {
  std::vector<float> y(x.tokens() * w.rows());
  trit::gemm(w, x, trit::matrix(y.data(), x.tokens(), w.rows()));
  return y;
}
