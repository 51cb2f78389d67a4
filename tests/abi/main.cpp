// Links the two copies of layer_tu.cpp (with and without TRIT_ENABLE_INT4) into one program
// and passes layers between them. Before the int4 types were built always, BitLinear had a
// different size in each copy and this corrupted memory (ASan: stack-buffer-overflow).
#include <trit/trit.hpp>

#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

std::size_t bitlinear_size_with_int4();
std::size_t bitlinear_size_without_int4();
trit::BitLinear make_layer_with_int4(const std::vector<float>&, std::size_t, std::size_t, trit::ActivationScheme);
trit::BitLinear make_layer_without_int4(const std::vector<float>&, std::size_t, std::size_t, trit::ActivationScheme);
std::vector<float> forward_with_int4(const trit::BitLinear&, const std::vector<float>&);
std::vector<float> forward_without_int4(const trit::BitLinear&, const std::vector<float>&);

int main() {
  int failures = 0;
  const auto check = [&](bool ok, const char* what, int scheme) {
    if (!ok) {
      std::printf("FAILED: %s (scheme %d)\n", what, scheme);
      ++failures;
    }
  };
  check(bitlinear_size_with_int4() == bitlinear_size_without_int4(), "sizeof(BitLinear) agrees", -1);
  const std::size_t rows = 130, cols = 777, tokens = 5;
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> w(rows * cols), x(tokens * cols);
  for (float& v : w) v = dist(rng);
  for (float& v : x) v = dist(rng);
  for (trit::ActivationScheme scheme : {trit::ActivationScheme::int8_absmax, trit::ActivationScheme::int4_absmax,
                                        trit::ActivationScheme::int4_absmean, trit::ActivationScheme::int8_topk}) {
    const int id = static_cast<int>(scheme);
    const trit::BitLinear a = make_layer_with_int4(w, rows, cols, scheme);
    const trit::BitLinear b = make_layer_without_int4(w, rows, cols, scheme);
    check(a.bias().size() == rows && b.bias().size() == rows, "bias survives the crossing", id);
    const std::vector<float> aa = forward_with_int4(a, x), ab = forward_without_int4(a, x);
    const std::vector<float> ba = forward_with_int4(b, x), bb = forward_without_int4(b, x);
    const bool same = aa.size() == rows * tokens && ab == aa && ba == aa && bb == aa;
    check(same, "every pairing gives the same floats", id);
    if (same) {
      std::vector<float> expected(rows * tokens);
      const trit::QuantizedActivations q = a.quantize(trit::matrix(x.data(), tokens, cols));
      trit::ref::gemm_rows(a.packed_weights(), q.view(), trit::matrix(expected.data(), tokens, rows), a.bias().data(),
                           0, rows);
      check(std::memcmp(expected.data(), aa.data(), expected.size() * sizeof(float)) == 0,
            "and they equal the reference", id);
    }
  }
  std::printf("%s\n", failures == 0 ? "mixed configurations ok" : "mixed configurations FAILED");
  return failures == 0 ? 0 : 1;
}
