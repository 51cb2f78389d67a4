// A user's program built with the user's strictest flags (-Wall -Wextra -Wpedantic -Wconversion
// -Wsign-conversion -Wshadow -Werror, trit on -I, not -isystem): it touches the whole public
// API, so every header and every kernel a product instantiates is compiled under those flags.
// Run by ctest (tests/CMakeLists.txt, consumer.strict_flags.*) with gcc and clang, C++17 and C++20,
// with and without TRIT_ENABLE_INT4.
#include <trit/trit.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  if (!ok) {
    std::printf("FAILED: %s\n", what);
    ++failures;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : ".";
  const std::size_t rows = 70, cols = 333, tokens = 3;
  std::vector<float> w(rows * cols), x(tokens * cols), bias(rows);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(static_cast<int>(i % 11) - 5);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(static_cast<int>(i % 7) - 3) * 0.25f;
  for (std::size_t m = 0; m < rows; ++m) bias[m] = static_cast<float>(m) * 0.125f;

  // Features and paths.
  const trit::CpuFeatures& features = trit::cpu_features();
  std::printf("avx2=%d neon=%d best=%s\n", features.avx2 ? 1 : 0, features.neon ? 1 : 0,
              trit::isa_name(trit::best_isa()));
  check(trit::parse_isa("scalar") == trit::Isa::scalar, "parse_isa");
  std::size_t supported = 0;
  for (trit::Isa isa : trit::kAllIsas) supported += trit::isa_supported(isa) ? 1u : 0u;
  check(supported >= 1, "kAllIsas has a supported path");

  // Packing and activations.
  const trit::PackedMatrix packed = trit::pack_weights(trit::matrix<const float>(w.data(), rows, cols));
  std::vector<std::int8_t> trits(rows * cols);
  trit::unpack_trits(packed, trit::matrix(trits.data(), rows, cols));
  const float scale = packed.scales()[0];
  const trit::PackedMatrix repacked =
      trit::pack_trits(trit::matrix<const std::int8_t>(trits.data(), rows, cols), &scale, 1);
  check(trit::serialize(repacked) == trit::serialize(packed), "pack_trits round trip");
  const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix<const float>(x.data(), tokens, cols));

  // Products on every supported path against the reference.
  std::vector<float> y(tokens * rows), y_ref(tokens * rows);
  trit::ref::gemm_rows(packed, q, trit::matrix(y_ref.data(), tokens, rows), bias.data(), 0, rows);
  for (trit::Isa isa : trit::kAllIsas) {
    if (!trit::isa_supported(isa)) continue;
    trit::GemmOptions options;
    options.isa = isa;
    trit::gemm(packed, q, trit::matrix(y.data(), tokens, rows), bias.data(), options);
    check(y == y_ref, "gemm matches the reference");
    std::vector<float> rows_y(tokens * rows);
    trit::gemm_rows(packed, q, trit::matrix(rows_y.data(), tokens, rows), bias.data(), 0, rows / 2, isa);
    trit::gemm_rows(packed, q, trit::matrix(rows_y.data(), tokens, rows), bias.data(), rows / 2, rows, isa);
    check(rows_y == y_ref, "gemm_rows matches the reference");
  }
  std::vector<std::int32_t> acc(tokens * rows);
  trit::gemm_int32(packed, q, trit::matrix(acc.data(), tokens, rows));
  std::vector<float> y1(rows);
  trit::gemv(packed, q.row(0), q.scale(0), y1.data(), bias.data());
  for (std::size_t m = 0; m < rows; ++m) check(y1[m] == y_ref[m], "gemv matches the reference");

  // int4: LutWeights x PackedInt4Activations.
  const trit::LutWeights lut(packed);
  const trit::PackedInt4Activations x4 =
      trit::quantize_activations_int4(trit::matrix<const float>(x.data(), tokens, cols));
  std::vector<float> y4(tokens * rows), y4_ref(tokens * rows);
  trit::ref::gemm_int4_rows(packed, x4, trit::matrix(y4_ref.data(), tokens, rows), bias.data(), 0, rows);
  for (trit::Isa isa : trit::kAllIsas) {
    if (!trit::isa_supported(isa)) continue;
    trit::GemmOptions options;
    options.isa = isa;
    trit::gemm_int4(lut, x4, trit::matrix(y4.data(), tokens, rows), bias.data(), options);
    check(y4 == y4_ref, "gemm_int4 matches the reference");
  }

  // Serialization and files.
  const std::vector<std::uint8_t> blob = trit::serialize(packed);
  const trit::PackedMatrix back = trit::deserialize(blob);
  check(trit::serialize(back) == blob, "deserialize round trip");
  const std::string matrix_path = dir + "/strict_flags_matrix.trit";
  trit::save(packed, matrix_path);
  check(trit::serialize(trit::load(matrix_path)) == blob, "save/load round trip");
  const trit::MappedMatrix mapped = trit::map_file(matrix_path);
  check(trit::serialize(mapped.view) == blob, "map_file");

  // A layer: forward, save, load.
  for (trit::ActivationScheme scheme : {trit::ActivationScheme::int8_absmax, trit::ActivationScheme::int4_absmean}) {
    trit::ActivationConfig config;
    config.scheme = scheme;
    const trit::BitLinear layer = trit::BitLinear::from_float(trit::matrix<const float>(w.data(), rows, cols),
                                                              trit::ScaleGranularity::per_tensor, bias.data(), config);
    const std::vector<float> out = layer.forward(x);
    const std::string layer_path = dir + "/strict_flags_layer.trit";
    layer.save(layer_path);
    const trit::BitLinear loaded = trit::BitLinear::load(layer_path);
    check(loaded.forward(x) == out, "BitLinear save/load/forward");
  }

  if (failures != 0) return 1;
  std::printf("strict flags ok\n");
  return 0;
}
