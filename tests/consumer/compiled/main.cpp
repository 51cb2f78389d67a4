// A consumer of trit::trit_compiled: includes only trit/api.hpp (no kernels), links the
// compiled library, and checks every product against the scalar reference. It also calls a
// second translation unit built header-only (header_only_tu.cpp, trit/trit.hpp), so the two
// modes meet in one program.
#include <trit/api.hpp>

#include <cstdint>
#include <cstdio>
#include <vector>

std::vector<float> header_only_gemm(const trit::PackedMatrix& w, const trit::QuantizedActivations& x);

int main() {
  const std::size_t rows = 70, cols = 333, tokens = 5;
  std::vector<float> w(rows * cols), x(tokens * cols), bias(rows);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(static_cast<int>(i % 11) - 5);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(static_cast<int>(i % 7) - 3) * 0.25f;
  for (std::size_t m = 0; m < rows; ++m) bias[m] = static_cast<float>(m) * 0.125f;
  int failures = 0;
  const auto check = [&](bool ok, const char* what) {
    if (!ok) {
      std::printf("FAILED: %s\n", what);
      ++failures;
    }
  };

  const trit::PackedMatrix packed = trit::pack_weights(trit::matrix<const float>(w.data(), rows, cols));
  const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix<const float>(x.data(), tokens, cols));
  std::vector<float> y(tokens * rows), y_ref(tokens * rows);
  trit::ref::gemm_rows(packed, q, trit::matrix(y_ref.data(), tokens, rows), bias.data(), 0, rows);
  int paths = 0;
  for (trit::Isa isa : trit::kAllIsas) {
    if (!trit::isa_supported(isa)) continue;
    ++paths;
    trit::GemmOptions options;
    options.isa = isa;
    options.threads = 2;
    trit::gemm(packed, q, trit::matrix(y.data(), tokens, rows), bias.data(), options);
    check(y == y_ref, "gemm");
    std::vector<float> ranged(tokens * rows);
    trit::gemm_rows(packed, q, trit::matrix(ranged.data(), tokens, rows), bias.data(), 0, 17, isa);
    trit::gemm_rows(packed, q, trit::matrix(ranged.data(), tokens, rows), bias.data(), 17, rows, isa);
    check(ranged == y_ref, "gemm_rows");
  }
  // TwoBit weights take the same entry points, instantiated in trit_compiled too.
  const trit::TwoBitMatrix two_bit = trit::to_two_bit(packed);
  for (trit::Isa isa : trit::kAllIsas) {
    if (!trit::isa_supported(isa)) continue;
    trit::GemmOptions options;
    options.isa = isa;
    options.threads = 2;
    trit::gemm(two_bit, q, trit::matrix(y.data(), tokens, rows), bias.data(), options);
    check(y == y_ref, "TwoBit gemm");
    std::vector<float> ranged(tokens * rows);
    trit::gemm_rows(two_bit, q, trit::matrix(ranged.data(), tokens, rows), bias.data(), 0, 17, isa);
    trit::gemm_rows(two_bit, q, trit::matrix(ranged.data(), tokens, rows), bias.data(), 17, rows, isa);
    check(ranged == y_ref, "TwoBit gemm_rows");
  }
  std::vector<float> y1(rows);
  trit::gemv(packed, q.row(0), q.scale(0), y1.data(), bias.data());
  check(std::vector<float>(y_ref.begin(), y_ref.begin() + static_cast<std::ptrdiff_t>(rows)) == y1, "gemv");
  std::vector<float> plain(tokens * rows);
  trit::gemm(packed, q, trit::matrix(plain.data(), tokens, rows));
  check(header_only_gemm(packed, q) == plain, "header-only and compiled agree");

  const trit::LutWeights lut(packed);
  const trit::PackedInt4Activations x4 = trit::quantize_activations_int4(trit::matrix<const float>(x.data(), tokens, cols));
  std::vector<float> y4(tokens * rows), y4_ref(tokens * rows);
  trit::ref::gemm_int4_rows(packed, x4, trit::matrix(y4_ref.data(), tokens, rows), bias.data(), 0, rows);
  trit::gemm_int4(lut, x4, trit::matrix(y4.data(), tokens, rows), bias.data());
  check(y4 == y4_ref, "gemm_int4");

  trit::ActivationConfig config;
  config.scheme = trit::ActivationScheme::int4_absmean;
  const trit::BitLinear layer = trit::BitLinear::from_float(trit::matrix<const float>(w.data(), rows, cols),
                                                            trit::ScaleGranularity::per_tensor, bias.data(), config);
  check(layer.forward(x) == y4_ref, "BitLinear int4 forward");

  if (failures != 0) return 1;
  std::printf("compiled consumer ok: %d paths, best %s\n", paths, trit::isa_name(trit::best_isa()));
  return 0;
}
