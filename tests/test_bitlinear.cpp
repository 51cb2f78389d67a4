// BitLinear: construction from float and from checkpoint (ternary) weights, forward for every
// activation scheme against the reference path (bit-identical floats) and against the float
// computation on dequantized values (relative error < 1e-5), strides, any N, threads,
// concurrent callers, the fast token quantizers, and the serialized form.
#include <gtest/gtest.h>

#include <chrono>

#include <trit/trit.hpp>
#include <trit/layers/bitlinear.hpp>

#include "test_support.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using trit::ActivationScheme;
using trit::BitLinear;

constexpr ActivationScheme kSchemes[] = {ActivationScheme::int8_absmax, ActivationScheme::int4_absmax,
                                         ActivationScheme::int4_absmean, ActivationScheme::int8_topk};

std::vector<float> random_floats(std::size_t count, std::uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(count);
  for (auto& x : v) x = dist(rng);
  return v;
}

trit::ActivationConfig config_of(ActivationScheme scheme, double ratio = 0.5) {
  trit::ActivationConfig c;
  c.scheme = scheme;
  c.topk_ratio = ratio;
  return c;
}

// The reference path: reference quantizer, scalar reference product, reference epilogue.
std::vector<float> reference_forward(const BitLinear& layer, const std::vector<float>& x, std::size_t tokens) {
  const std::size_t rows = layer.out_features(), cols = layer.in_features();
  const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix<const float>(x.data(), tokens, cols),
                                                                  layer.scheme(), layer.activations().topk_ratio);
  std::vector<float> y(tokens * rows);
  trit::ref::gemm_rows(layer.packed_weights(), q, trit::matrix(y.data(), tokens, rows),
                       layer.has_bias() ? layer.bias().data() : nullptr, 0, rows);
  return y;
}

// Largest |a - b| over a token, relative to the token's largest |b|.
double max_relative_error(const std::vector<float>& a, const std::vector<float>& b, std::size_t tokens,
                          std::size_t rows) {
  double worst = 0.0;
  for (std::size_t n = 0; n < tokens; ++n) {
    double err = 0.0, norm = 0.0;
    for (std::size_t m = 0; m < rows; ++m) {
      err = std::max(err, std::fabs(static_cast<double>(a[n * rows + m]) - b[n * rows + m]));
      norm = std::max(norm, std::fabs(static_cast<double>(b[n * rows + m])));
    }
    worst = std::max(worst, norm > 0.0 ? err / norm : err);
  }
  return worst;
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

// ---- The token quantizers forward uses -------------------------------------------------------

class LayerQuantizer : public ::testing::TestWithParam<ActivationScheme> {};

TEST_P(LayerQuantizer, MatchesQuantizeActivationsExactly) {
  for (std::size_t cols : {1u, 3u, 15u, 16u, 17u, 100u, 2563u}) {
    const std::vector<float> w = random_floats(4 * cols, 1);
    const BitLinear layer = BitLinear::from_float(trit::matrix<const float>(w.data(), 4, cols),
                                                  trit::ScaleGranularity::per_tensor, nullptr, config_of(GetParam()));
    std::vector<float> x = random_floats(5 * cols, static_cast<std::uint32_t>(cols), 3.0f);
    for (std::size_t k = 0; k < cols; ++k) x[k] = 0.0f;  // an all-zero token: the 1e-5 floor
    if (cols >= 16) {
      // Exact ties after scaling (amax 127 makes s = 1 for int8): rne sends them to even.
      float* tie = x.data() + cols;
      for (std::size_t k = 0; k < cols; ++k) tie[k] = 0.0f;
      tie[0] = 127.0f;
      tie[1] = 2.5f;
      tie[2] = -2.5f;
      tie[3] = 3.5f;
      tie[4] = -0.5f;
      tie[5] = 126.5f;
      float* wide = x.data() + 2 * cols;
      wide[0] = 1e30f;
      wide[1] = -1e-30f;
      wide[2] = 1e-42f;  // a denormal
      wide[3] = -3e38f;
      // Few distinct magnitudes: top-K's boundary falls inside a run of equal |x|.
      float* runs = x.data() + 3 * cols;
      for (std::size_t k = 0; k < cols; ++k) runs[k] = static_cast<float>(static_cast<int>(k * 7 % 5) - 2);
    }
    const auto view = trit::matrix<const float>(x.data(), 5, cols);
    const trit::QuantizedActivations expected = trit::quantize_activations(view, GetParam(), 0.5);
    const trit::QuantizedActivations got = layer.quantize(view);
    for (std::size_t n = 0; n < 5; ++n) {
      ASSERT_EQ(got.scale(n), expected.scale(n)) << "cols " << cols << " token " << n;
      for (std::size_t k = 0; k < cols; ++k) {
        ASSERT_EQ(got.row(n)[k], expected.row(n)[k]) << "cols " << cols << " token " << n << " k " << k;
      }
    }
  }
}

TEST_P(LayerQuantizer, RejectsNonFiniteInputNamingThePlace) {
  const std::vector<float> w = random_floats(2 * 40, 2);
  const BitLinear layer = BitLinear::from_float(trit::matrix<const float>(w.data(), 2, 40),
                                                trit::ScaleGranularity::per_tensor, nullptr, config_of(GetParam()));
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
    std::vector<float> x = random_floats(3 * 40, 3);
    x[40 + 37] = bad;
    std::vector<float> y(3 * 2);
    try {
      layer.forward(trit::matrix<const float>(x.data(), 3, 40), trit::matrix(y.data(), 3, 2));
      FAIL() << "no exception for " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("row 1, column 37"), std::string::npos) << e.what();
    }
  }
}

std::string SchemeName(const ::testing::TestParamInfo<ActivationScheme>& info) {
  return trit::scheme_name(info.param);
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, LayerQuantizer, ::testing::ValuesIn(kSchemes), SchemeName);

// ---- forward ------------------------------------------------------------------------------

class BitLinearForward : public ::testing::TestWithParam<ActivationScheme> {};

TEST_P(BitLinearForward, EqualsTheReferencePathBitForBit) {
  for (auto granularity : {trit::ScaleGranularity::per_tensor, trit::ScaleGranularity::per_row}) {
    for (bool with_bias : {false, true}) {
      for (auto [rows, cols, tokens] : {std::tuple<std::size_t, std::size_t, std::size_t>{1, 1, 1}, {7, 333, 3},
                                        {65, 640, 2}, {130, 1001, 5}, {64, 6912, 1}}) {
        const std::vector<float> w = random_floats(rows * cols, static_cast<std::uint32_t>(rows + cols));
        const std::vector<float> bias = random_floats(rows, 9);
        const BitLinear layer = BitLinear::from_float(trit::matrix<const float>(w.data(), rows, cols), granularity,
                                                      with_bias ? bias.data() : nullptr, config_of(GetParam()));
        const std::vector<float> x = random_floats(tokens * cols, static_cast<std::uint32_t>(tokens), 2.0f);
        std::vector<float> y(tokens * rows);
        layer.forward(trit::matrix<const float>(x.data(), tokens, cols), trit::matrix(y.data(), tokens, rows));
        ASSERT_EQ(y, reference_forward(layer, x, tokens)) << rows << "x" << cols << " N " << tokens;
      }
    }
  }
}

TEST_P(BitLinearForward, AgreesWithTheDequantizedFloatComputation) {
  const std::size_t rows = 300, cols = 2560, tokens = 4;
  const std::vector<float> w = random_floats(rows * cols, 5, 0.02f);
  const std::vector<float> bias = random_floats(rows, 6, 0.1f);
  const BitLinear layer = BitLinear::from_float(trit::matrix<const float>(w.data(), rows, cols),
                                                trit::ScaleGranularity::per_row, bias.data(), config_of(GetParam()));
  const std::vector<float> x = random_floats(tokens * cols, 7);
  const auto xv = trit::matrix<const float>(x.data(), tokens, cols);
  std::vector<float> y(tokens * rows), y_dequantized(tokens * rows), y_float(tokens * rows);
  layer.forward(xv, trit::matrix(y.data(), tokens, rows));
  trit::ref::bitlinear_forward(layer, xv, trit::matrix(y_dequantized.data(), tokens, rows));
  const double rel = max_relative_error(y, y_dequantized, tokens, rows);
  EXPECT_LT(rel, 1e-5);

  // The unquantized float layer, for the printed accuracy report.
  for (std::size_t n = 0; n < tokens; ++n) {
    for (std::size_t m = 0; m < rows; ++m) {
      double sum = bias[m];
      for (std::size_t k = 0; k < cols; ++k) sum += static_cast<double>(w[m * cols + k]) * x[n * cols + k];
      y_float[n * rows + m] = static_cast<float>(sum);
    }
  }
  const double cosine = cosine_similarity(y, y_float);
  std::cout << "[ accuracy ] " << trit::scheme_name(GetParam()) << ": relative error vs dequantized float "
            << rel << ", cosine similarity vs float layer " << cosine << "\n";
  RecordProperty("cosine_vs_float", std::to_string(cosine));
  RecordProperty("relative_error_vs_dequantized", std::to_string(rel));
}

TEST_P(BitLinearForward, StridedInputAndOutputLeaveTheGapsAlone) {
  const std::size_t rows = 70, cols = 401, tokens = 3, x_stride = 420, y_stride = 75;
  const std::vector<float> w = random_floats(rows * cols, 11);
  const BitLinear layer = BitLinear::from_float(trit::matrix<const float>(w.data(), rows, cols),
                                                trit::ScaleGranularity::per_tensor, nullptr, config_of(GetParam()));
  std::vector<float> x_tight = random_floats(tokens * cols, 12);
  std::vector<float> x(tokens * x_stride, std::numeric_limits<float>::quiet_NaN());  // gaps must not be read
  for (std::size_t n = 0; n < tokens; ++n) std::copy_n(x_tight.data() + n * cols, cols, x.data() + n * x_stride);
  std::vector<float> y(tokens * y_stride, 42.0f);
  layer.forward(trit::matrix<const float>(x.data(), tokens, cols, x_stride), trit::matrix(y.data(), tokens, rows, y_stride));
  const std::vector<float> expected = reference_forward(layer, x_tight, tokens);
  for (std::size_t n = 0; n < tokens; ++n) {
    for (std::size_t m = 0; m < y_stride; ++m) {
      ASSERT_EQ(y[n * y_stride + m], m < rows ? expected[n * rows + m] : 42.0f) << n << "," << m;
    }
  }
}

TEST_P(BitLinearForward, AnyNumberOfTokensButNone) {
  const std::size_t rows = 66, cols = 321;
  const std::vector<float> w = random_floats(rows * cols, 13);
  const BitLinear layer = BitLinear::from_float(trit::matrix<const float>(w.data(), rows, cols),
                                                trit::ScaleGranularity::per_tensor, nullptr, config_of(GetParam()));
  // No tokens is an error, as it is for trit::gemm (it used to return without a word).
  EXPECT_TRUE(trit_test::throws_with<std::invalid_argument>(
      [&] { layer.forward(trit::matrix<const float>(nullptr, 0, cols), trit::matrix<float>(nullptr, 0, rows)); },
      "x has no tokens"));
  EXPECT_TRUE(trit_test::throws_with<std::invalid_argument>([&] { layer.forward(std::vector<float>{}); },
                                                            "x has no tokens"));
  for (std::size_t tokens : {1u, 2u, 17u, 64u, 129u}) {
    const std::vector<float> x = random_floats(tokens * cols, static_cast<std::uint32_t>(tokens));
    EXPECT_EQ(layer.forward(x), reference_forward(layer, x, tokens)) << "N " << tokens;
  }
}

TEST_P(BitLinearForward, ResultsDoNotDependOnThreadsOrPath) {
  const std::size_t rows = 513, cols = 700, tokens = 3;
  const std::vector<float> w = random_floats(rows * cols, 14);
  const BitLinear layer = BitLinear::from_float(trit::matrix<const float>(w.data(), rows, cols),
                                                trit::ScaleGranularity::per_row, nullptr, config_of(GetParam()));
  const std::vector<float> x = random_floats(tokens * cols, 15);
  const std::vector<float> expected = reference_forward(layer, x, tokens);
  for (unsigned threads : {1u, 2u, 3u, 0u}) {
    trit::GemmOptions o;
    o.threads = threads;
    EXPECT_EQ(layer.forward(x, o), expected) << "threads " << threads;
  }
  for (trit::Isa isa : trit::kAllIsas) {
    trit::GemmOptions o;
    o.isa = isa;
    if (trit::isa_supported(isa)) {
      EXPECT_EQ(layer.forward(x, o), expected) << trit::isa_name(isa);
    } else {
      EXPECT_THROW(layer.forward(x, o), trit::unsupported_isa_error) << trit::isa_name(isa);
    }
  }
}

TEST_P(BitLinearForward, ConcurrentCallersOnOneLayerGetTheirOwnResults) {
  const std::size_t rows = 200, cols = 999;
  const std::vector<float> w = random_floats(rows * cols, 16);
  const BitLinear layer = BitLinear::from_float(trit::matrix<const float>(w.data(), rows, cols),
                                                trit::ScaleGranularity::per_tensor, nullptr, config_of(GetParam()));
  constexpr int kCallers = 4;
  std::vector<std::vector<float>> inputs, expected;
  for (int c = 0; c < kCallers; ++c) {
    // Different token counts and K-sized inputs make the callers' scratch differ in size.
    const std::size_t tokens = 1 + 2 * static_cast<std::size_t>(c);
    inputs.push_back(random_floats(tokens * cols, 100 + static_cast<std::uint32_t>(c)));
    expected.push_back(reference_forward(layer, inputs.back(), tokens));
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&, c] {
      for (int repeat = 0; repeat < 20; ++repeat) {
        if (layer.forward(inputs[c]) != expected[c]) ++mismatches;
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// The TwoBit layout gives the same floats as Dense243 (and as the reference) for every scheme:
// the int8 schemes run the TwoBit kernels, the int4 schemes LutWeights in either layout.
// Every way to get a TwoBit layer is checked: from_float, from_ternary, owned and borrowed
// TwoBitMatrix, with_layout; on every path this CPU runs and on 1, 2 and all threads.
TEST_P(BitLinearForward, TwoBitLayoutIsBitIdenticalToDense243) {
  const trit::ActivationConfig config = config_of(GetParam());
  const bool int8 = !trit::detail::is_int4_scheme(GetParam());
  for (auto granularity : {trit::ScaleGranularity::per_tensor, trit::ScaleGranularity::per_row}) {
    for (auto [rows, cols, tokens] : {std::tuple<std::size_t, std::size_t, std::size_t>{1, 1, 1}, {7, 255, 3},
                                      {65, 257, 2}, {130, 1001, 5}, {33, 2560, 9}}) {
      const std::vector<float> w = random_floats(rows * cols, static_cast<std::uint32_t>(rows * 7 + cols));
      const std::vector<float> bias = random_floats(rows, 31);
      const auto wv = trit::matrix<const float>(w.data(), rows, cols);
      const BitLinear dense = BitLinear::from_float(wv, granularity, bias.data(), config);
      const BitLinear two = BitLinear::from_float(wv, granularity, bias.data(), config, trit::WeightLayout::two_bit);
      ASSERT_EQ(dense.layout(), trit::WeightLayout::dense243);
      ASSERT_EQ(two.layout(), trit::WeightLayout::two_bit);
      EXPECT_EQ(two.uses_int4_kernels(), !int8);
      EXPECT_EQ(two.two_bit_weights().empty(), !int8);  // an int4 layer keeps LutWeights only
      EXPECT_TRUE(two.weights().empty());
      EXPECT_EQ(two.granularity(), granularity);
      EXPECT_EQ(two.weight_scales(), dense.weight_scales());
      const trit::PackedMatrix packed = dense.packed_weights();
      std::vector<std::int8_t> trits(rows * cols), two_trits(rows * cols);
      trit::unpack_trits(packed, trit::matrix(trits.data(), rows, cols));
      trit::unpack_trits(two.packed_weights(), trit::matrix(two_trits.data(), rows, cols));
      EXPECT_EQ(two_trits, trits);

      const trit::TwoBitMatrix two_bit = trit::to_two_bit(packed);
      const std::vector<float> bias_copy(bias);
      const BitLinear variants[] = {
          two,
          BitLinear::from_ternary(trit::matrix<const std::int8_t>(trits.data(), rows, cols), packed.scales().data(),
                                  packed.scales().size(), granularity, bias.data(), config, trit::WeightLayout::two_bit),
          BitLinear(trit::to_two_bit(packed), bias_copy, config),
          BitLinear(two_bit.view(), bias_copy, config),
          dense.with_layout(trit::WeightLayout::two_bit),
          two.with_layout(trit::WeightLayout::dense243),
      };
      EXPECT_TRUE(variants[3].borrows_weights());
      EXPECT_EQ(variants[4].layout(), trit::WeightLayout::two_bit);
      EXPECT_EQ(variants[5].layout(), trit::WeightLayout::dense243);
      const std::vector<float> x = random_floats(tokens * cols, static_cast<std::uint32_t>(tokens + cols), 2.0f);
      const std::vector<float> expected = reference_forward(dense, x, tokens);
      ASSERT_EQ(dense.forward(x), expected);
      for (const BitLinear& layer : variants) {
        for (trit::Isa isa : trit::kAllIsas) {
          if (!trit::isa_supported(isa)) continue;
          for (unsigned threads : {1u, 2u, 0u}) {
            trit::GemmOptions o;
            o.isa = isa;
            o.threads = threads;
            ASSERT_EQ(layer.forward(x, o), expected)
                << rows << "x" << cols << " N " << tokens << " " << trit::isa_name(isa) << " threads " << threads
                << " layout " << trit::layout_name(layer.layout());
          }
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, BitLinearForward, ::testing::ValuesIn(kSchemes), SchemeName);

// ---- Construction ----------------------------------------------------------------------------

TEST(BitLinearConstruction, CheckpointTritsWithPerRowScalesAreUsedAsTheyAre) {
  const std::size_t rows = 3, cols = 4;
  const std::int8_t trits[rows * cols] = {1, 0, -1, 1, 0, 0, 0, -1, -1, -1, 1, 0};
  const float scales[rows] = {0.5f, 2.0f, 0.25f};
  const float bias[rows] = {1.0f, -1.0f, 0.0f};
  const BitLinear layer = BitLinear::from_ternary(trit::matrix<const std::int8_t>(trits, rows, cols), scales, rows,
                                                  trit::ScaleGranularity::per_row, bias);
  EXPECT_EQ(layer.out_features(), rows);
  EXPECT_EQ(layer.in_features(), cols);
  EXPECT_EQ(layer.granularity(), trit::ScaleGranularity::per_row);
  EXPECT_EQ(layer.weight_scales(), std::vector<float>(scales, scales + rows));
  const trit::PackedMatrix w = layer.packed_weights();
  for (std::size_t m = 0; m < rows; ++m) {
    for (std::size_t k = 0; k < cols; ++k) EXPECT_EQ(w.trit(m, k), trits[m * cols + k]);
  }
  // x = {127, 0, -127, 63.5}: s = 1, q = {127, 0, -127, 64} (63.5 rounds to even).
  const std::vector<float> x = {127.0f, 0.0f, -127.0f, 63.5f};
  const std::vector<float> y = layer.forward(x);
  ASSERT_EQ(y.size(), rows);
  EXPECT_EQ(y[0], (127.0f + 127.0f + 64.0f) * 0.5f + 1.0f);
  EXPECT_EQ(y[1], -64.0f * 2.0f - 1.0f);
  EXPECT_EQ(y[2], (-127.0f - 127.0f) * 0.25f);
}

TEST(BitLinearConstruction, FromFloatUsesAbsmeanPerTensorByDefault) {
  const std::size_t rows = 5, cols = 50;
  const std::vector<float> w = random_floats(rows * cols, 17);
  const BitLinear layer = BitLinear::from_float(trit::matrix<const float>(w.data(), rows, cols));
  const trit::TernaryWeights expected = trit::quantize_weights_absmean(trit::matrix<const float>(w.data(), rows, cols));
  EXPECT_EQ(layer.scheme(), ActivationScheme::int8_absmax);
  EXPECT_EQ(layer.granularity(), trit::ScaleGranularity::per_tensor);
  EXPECT_EQ(layer.weight_scales(), expected.scales);
  const trit::PackedMatrix packed = layer.packed_weights();
  for (std::size_t m = 0; m < rows; ++m) {
    for (std::size_t k = 0; k < cols; ++k) EXPECT_EQ(packed.trit(m, k), expected.trits[m * cols + k]);
  }
  EXPECT_FALSE(layer.has_bias());
}

// An int4 scheme keeps its weights in the int4 layout whatever TRIT_ENABLE_INT4 says (the
// macro only decides whether the SIMD int4 kernels are compiled), so the answer does not
// depend on the build.
TEST(BitLinearConstruction, Int4SchemesAlwaysUseTheInt4Kernels) {
  const std::vector<float> w = random_floats(10 * 30, 18);
  for (ActivationScheme scheme : kSchemes) {
    const BitLinear layer = BitLinear::from_float(trit::matrix<const float>(w.data(), 10, 30),
                                                  trit::ScaleGranularity::per_tensor, nullptr, config_of(scheme));
    const bool int4 = scheme == ActivationScheme::int4_absmax || scheme == ActivationScheme::int4_absmean;
    EXPECT_EQ(layer.uses_int4_kernels(), int4) << trit::scheme_name(scheme);
  }
}

TEST(BitLinearConstruction, MemoryIsPackedWeightsScalesAndBias) {
  const std::size_t rows = 64, cols = 2560;
  const std::vector<float> w = random_floats(rows * cols, 19);
  const std::vector<float> bias(rows, 0.5f);
  for (ActivationScheme scheme : kSchemes) {
    const BitLinear layer = BitLinear::from_float(trit::matrix<const float>(w.data(), rows, cols),
                                                  trit::ScaleGranularity::per_row, bias.data(), config_of(scheme));
    // 2560 trits are 512 bytes a row; 64 rows fill one tile of the int4 layout exactly.
    EXPECT_EQ(layer.memory_bytes(), rows * 512 + rows * 4 + rows * 4) << trit::scheme_name(scheme);
  }
}

TEST(BitLinearConstruction, InvalidArgumentsThrow) {
  const std::vector<float> w = random_floats(4 * 8, 20);
  const auto wv = trit::matrix<const float>(w.data(), 4, 8);
  EXPECT_THROW(BitLinear::from_float(trit::matrix<const float>(nullptr, 0, 8)), std::invalid_argument);
  EXPECT_THROW(BitLinear(trit::pack_weights(wv), std::vector<float>(3, 0.0f)), std::invalid_argument);
  EXPECT_THROW(BitLinear(trit::pack_weights(wv), {1, 2, std::numeric_limits<float>::infinity(), 4}),
               std::invalid_argument);
  EXPECT_THROW(BitLinear::from_float(wv, trit::ScaleGranularity::per_tensor, nullptr,
                                     config_of(ActivationScheme::int8_topk, 0.0)),
               std::invalid_argument);
  EXPECT_THROW(BitLinear::from_float(wv, trit::ScaleGranularity::per_tensor, nullptr,
                                     config_of(ActivationScheme::int8_topk, 1.5)),
               std::invalid_argument);
  const std::int8_t not_ternary[2] = {2, 0};
  const float scale = 1.0f;
  EXPECT_THROW(BitLinear::from_ternary(trit::matrix<const std::int8_t>(not_ternary, 1, 2), &scale, 1),
               std::invalid_argument);

  const BitLinear layer = BitLinear::from_float(wv);
  std::vector<float> y(2 * 4);
  const std::vector<float> x(2 * 9, 1.0f);
  EXPECT_THROW(layer.forward(trit::matrix<const float>(x.data(), 2, 9), trit::matrix(y.data(), 2, 4)),
               std::invalid_argument);
  EXPECT_THROW(layer.forward(trit::matrix<const float>(x.data(), 2, 8), trit::matrix(y.data(), 2, 3)),
               std::invalid_argument);
  EXPECT_THROW(layer.forward(std::vector<float>(7, 1.0f)), std::invalid_argument);
  EXPECT_THROW(BitLinear{}.forward(x), std::invalid_argument);
}

TEST(BitLinearTopK, KeepsCeilRatioTimesKValuesPerToken) {
  const std::size_t cols = 101;
  const std::vector<float> w = random_floats(3 * cols, 21);
  for (double ratio : {0.25, 0.5, 1.0}) {
    const BitLinear layer = BitLinear::from_float(trit::matrix<const float>(w.data(), 3, cols),
                                                  trit::ScaleGranularity::per_tensor, nullptr,
                                                  config_of(ActivationScheme::int8_topk, ratio));
    std::vector<float> x(cols);
    for (std::size_t k = 0; k < cols; ++k) x[k] = 1.0f + static_cast<float>(k);  // distinct, all non-zero
    const trit::QuantizedActivations q = layer.quantize(trit::matrix<const float>(x.data(), 1, cols));
    std::size_t non_zero = 0;
    for (std::size_t k = 0; k < cols; ++k) non_zero += q.row(0)[k] != 0;
    EXPECT_EQ(non_zero, static_cast<std::size_t>(std::ceil(ratio * cols))) << ratio;
    EXPECT_EQ(q.row(0)[cols - 1], 127);
  }
}

TEST(BitLinearTopK, MatchesTheReferenceSelectionForEveryRatioAndTies) {
  std::mt19937 rng(26);
  std::uniform_int_distribution<int> small(-3, 3);
  for (std::size_t cols : {1u, 2u, 7u, 100u, 6912u}) {
    for (double ratio : {0.01, 0.1, 0.3, 0.5, 0.77, 0.9, 1.0}) {
      const std::vector<float> w = random_floats(2 * cols, 27);
      const BitLinear layer = BitLinear::from_float(trit::matrix<const float>(w.data(), 2, cols),
                                                    trit::ScaleGranularity::per_tensor, nullptr,
                                                    config_of(ActivationScheme::int8_topk, ratio));
      std::vector<float> x = random_floats(3 * cols, static_cast<std::uint32_t>(cols));
      for (std::size_t k = 0; k < cols; ++k) x[cols + k] = static_cast<float>(small(rng));  // many ties
      for (std::size_t k = 0; k < cols; ++k) x[2 * cols + k] = k % 3 == 0 ? 1e-40f : -1e-40f;  // denormal ties
      const auto view = trit::matrix<const float>(x.data(), 3, cols);
      const trit::QuantizedActivations expected = trit::quantize_activations(view, ActivationScheme::int8_topk, ratio);
      const trit::QuantizedActivations got = layer.quantize(view);
      for (std::size_t n = 0; n < 3; ++n) {
        ASSERT_EQ(got.scale(n), expected.scale(n));
        for (std::size_t k = 0; k < cols; ++k) {
          ASSERT_EQ(got.row(n)[k], expected.row(n)[k]) << "cols " << cols << " ratio " << ratio << " n " << n << " k " << k;
        }
      }
    }
  }
}

// ---- Serialized form -----------------------------------------------------------------------

BitLinear make_layer(ActivationScheme scheme, bool with_bias, double ratio = 0.5) {
  const std::size_t rows = 33, cols = 650;
  const std::vector<float> w = random_floats(rows * cols, 22);
  const std::vector<float> bias = random_floats(rows, 23);
  return BitLinear::from_float(trit::matrix<const float>(w.data(), rows, cols), trit::ScaleGranularity::per_row,
                               with_bias ? bias.data() : nullptr, config_of(scheme, ratio));
}

TEST(BitLinearSerialize, RoundTripsEverySchemeBitForBit) {
  const std::vector<float> x = random_floats(3 * 650, 24);
  for (ActivationScheme scheme : kSchemes) {
    for (bool with_bias : {false, true}) {
      const BitLinear layer = make_layer(scheme, with_bias, 0.375);
      const std::vector<std::uint8_t> blob = layer.serialize();
      // The 132 bytes of bias are padded to 192 so the weight blob starts 64-byte aligned.
      EXPECT_EQ(blob.size(), 64 + (with_bias ? 192 : 0) + trit::serialize(layer.packed_weights()).size());
      const BitLinear back = BitLinear::deserialize(blob);
      EXPECT_EQ(back.scheme(), scheme);
      EXPECT_EQ(back.activations().topk_ratio, 0.375);
      EXPECT_EQ(back.bias(), layer.bias());
      EXPECT_EQ(back.weight_scales(), layer.weight_scales());
      EXPECT_EQ(back.uses_int4_kernels(), layer.uses_int4_kernels());
      EXPECT_EQ(back.forward(x), layer.forward(x)) << trit::scheme_name(scheme);
      EXPECT_EQ(back.serialize(), blob);
    }
  }
}

TEST(BitLinearSerialize, SavesAndLoadsFiles) {
  const BitLinear layer = make_layer(ActivationScheme::int4_absmean, true);
  // Unique per process: ctest and the qemu runs start several test processes at once.
  const std::string path = ::testing::TempDir() + "trit_bitlinear_test_" +
                           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + ".tritl";
  layer.save(path);
  const BitLinear back = BitLinear::load(path);
  std::remove(path.c_str());
  const std::vector<float> x = random_floats(2 * 650, 25);
  EXPECT_EQ(back.forward(x), layer.forward(x));
  EXPECT_THROW(BitLinear::load(path), std::runtime_error);
}

// Layer blob version 2 (docs/LAYERS.md): magic 0..7, version 8, scheme 12, top-K ratio 16,
// bias count 24, weight blob bytes 32, header size 40, reserved 44..55, whole-blob checksum
// 56; bias at 64, zero padding to a 64-byte boundary, then the matrix blob.
TEST(BitLinearSerialize, DamagedBlobsAreRejected) {
  const std::vector<std::uint8_t> good = make_layer(ActivationScheme::int8_topk, true).serialize();
  ASSERT_EQ(good.size(), 64 + 192 + trit::serialize(make_layer(ActivationScheme::int8_topk, true).packed_weights()).size());
  // Each damage is resealed (the checksum brought up to date) unless the checksum is what is
  // under test, so the named check is the one that fires.
  const auto expect_format_error = [](std::vector<std::uint8_t> blob, const char* what, const std::string& fragment,
                                      bool seal = true) {
    if (seal && blob.size() >= 64) trit_test::reseal(blob);
    EXPECT_THROW(BitLinear::deserialize(blob), trit::format_error) << what;
    EXPECT_TRUE(trit_test::throws_with<trit::format_error>([&] { BitLinear::deserialize(blob); }, fragment)) << what;
  };
  auto blob = good;
  blob[0] = 'X';
  expect_format_error(blob, "magic", "bad magic: not a layer blob");
  blob = good;
  blob[8] = 4;
  expect_format_error(blob, "version", "unsupported layer blob version 4");
  blob = good;
  blob[12] = 4;
  expect_format_error(blob, "scheme", "unknown activation scheme 4");
  blob = good;
  for (int i = 16; i < 24; ++i) blob[i] = 0;  // ratio 0.0
  expect_format_error(blob, "ratio", "top-K ratio 0 is outside (0, 1]");
  {
    // 32 bias values for 33 outputs, with the sizes kept consistent: the first 32 values,
    // padded to byte 192, then the same weight blob.
    blob.assign(good.begin(), good.begin() + 64 + 32 * 4);
    blob[24] = 32;
    blob.resize(192, 0);
    blob.insert(blob.end(), good.begin() + 256, good.end());
    expect_format_error(blob, "bias count", "bias has 32 values for 33 outputs");
  }
  blob = good;
  blob[50] = 1;
  expect_format_error(blob, "reserved byte", "reserved header byte 50 is not 0");
  blob = good;
  blob[48] = 1;
  expect_format_error(blob, "reserved byte", "reserved header byte 48 is not 0");
  blob = good;
  blob[44] = 2;
  expect_format_error(blob, "layout", "unknown weight layout 2");
  blob = good;
  blob[44] = 1;  // says TwoBit, holds a Dense243 blob
  expect_format_error(blob, "layout vs weights", "bad magic: not a trit TwoBit matrix blob");
  blob = good;
  blob[64 + 5] ^= 0x01;
  expect_format_error(blob, "checksum", "checksum mismatch", false);
  blob = good;
  blob[20] ^= 0x01;  // a header byte: version 1 did not check these, version 2 does
  expect_format_error(blob, "header checksum", "checksum mismatch", false);
  blob = good;
  blob[64 + 33 * 4] = 1;  // the bias's alignment padding
  expect_format_error(blob, "padding", "alignment padding byte 196 is not 0");
  blob = good;
  blob.pop_back();
  expect_format_error(blob, "truncated", "the header says 33 bias values and");
  blob = good;
  blob.push_back(0);
  expect_format_error(blob, "trailing byte", "the header says 33 bias values and");
  expect_format_error(std::vector<std::uint8_t>(good.begin(), good.begin() + 40), "short header",
                      "shorter than the 64-byte header");
  EXPECT_NO_THROW(BitLinear::deserialize(good));
}

// A layer blob as version 1 wrote it (checksum at 40 over the payload only, header size at 48,
// reserved 52..63, the bias directly followed by the matrix blob) still loads. Built by hand
// from the layer's parts, with a version-1 matrix blob inside.
TEST(BitLinearSerialize, HandBuiltVersion1LayerBlobStillLoads) {
  const BitLinear layer = make_layer(ActivationScheme::int8_absmax, true);
  const trit::PackedMatrix w = layer.packed_weights();
  ASSERT_EQ(w.granularity(), trit::ScaleGranularity::per_row);
  const auto put = [](std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  };
  std::vector<std::uint8_t> matrix = {'T', 'R', 'I', 'T', 'D', '2', '4', '3'};
  put(matrix, 1, 4);                                   // version 1
  put(matrix, 1, 4);                                   // layout
  put(matrix, w.rows(), 8);
  put(matrix, w.cols(), 8);
  put(matrix, w.row_stride(), 8);
  put(matrix, 1, 4);                                   // per row
  put(matrix, 64, 4);
  put(matrix, 4 * w.rows() + w.weight_bytes(), 8);     // payload size
  put(matrix, 0, 8);                                   // checksum, sealed below
  for (float s : w.scales()) {
    std::uint32_t bits;
    std::memcpy(&bits, &s, 4);
    put(matrix, bits, 4);
  }
  matrix.insert(matrix.end(), w.data(), w.data() + w.weight_bytes());
  trit_test::reseal(matrix);

  std::vector<std::uint8_t> blob = {'T', 'R', 'I', 'T', 'B', 'L', 'I', 'N'};
  put(blob, 1, 4);                                                            // version 1
  put(blob, static_cast<std::uint32_t>(ActivationScheme::int8_absmax), 4);    // scheme
  double ratio = layer.activations().topk_ratio;
  std::uint64_t ratio_bits;
  std::memcpy(&ratio_bits, &ratio, 8);
  put(blob, ratio_bits, 8);
  put(blob, 33, 8);                 // bias count
  put(blob, matrix.size(), 8);      // weight blob bytes
  put(blob, 0, 8);                  // checksum at 40, sealed below
  put(blob, 64, 4);                 // header size at 48
  blob.resize(64, 0);               // reserved 52..63
  for (float b : layer.bias()) {
    std::uint32_t bits;
    std::memcpy(&bits, &b, 4);
    put(blob, bits, 4);
  }
  blob.insert(blob.end(), matrix.begin(), matrix.end());
  trit_test::reseal(blob);

  const BitLinear back = BitLinear::deserialize(blob);
  EXPECT_EQ(back.scheme(), ActivationScheme::int8_absmax);
  EXPECT_EQ(back.bias(), layer.bias());
  EXPECT_EQ(back.weight_scales(), layer.weight_scales());
  const std::vector<float> x = random_floats(2 * 650, 28);
  EXPECT_EQ(back.forward(x), layer.forward(x));
  // Saved again, it is version 3.
  EXPECT_EQ(back.serialize(), layer.serialize());
  // The v1 checksum guards its payload.
  blob[64] ^= 1;
  EXPECT_TRUE(trit_test::throws_with<trit::format_error>([&] { BitLinear::deserialize(blob); }, "checksum mismatch"));
}

// Version 3 stores the layout at byte 44 (0 Dense243, 1 TwoBit) and the weights blob in it;
// deserialize restores the layout, and the bytes round-trip.
TEST(BitLinearSerialize, TwoBitLayersKeepTheirLayout) {
  const std::vector<float> x = random_floats(3 * 650, 41);
  for (ActivationScheme scheme : kSchemes) {
    for (bool with_bias : {false, true}) {
      const BitLinear dense = make_layer(scheme, with_bias, 0.375);
      const BitLinear layer = dense.with_layout(trit::WeightLayout::two_bit);
      const std::vector<std::uint8_t> blob = layer.serialize();
      EXPECT_EQ(blob[8], 3);
      EXPECT_EQ(blob[44], 1);
      EXPECT_EQ(dense.serialize()[44], 0);
      EXPECT_EQ(blob.size(), 64 + (with_bias ? 192 : 0) + trit::serialize(trit::to_two_bit(dense.packed_weights())).size());
      EXPECT_EQ(std::string(blob.begin() + 64 + (with_bias ? 192 : 0), blob.begin() + 72 + (with_bias ? 192 : 0)),
                "TRIT2BIT");
      const BitLinear back = BitLinear::deserialize(blob);
      EXPECT_EQ(back.layout(), trit::WeightLayout::two_bit) << trit::scheme_name(scheme);
      EXPECT_EQ(back.scheme(), scheme);
      EXPECT_EQ(back.bias(), layer.bias());
      EXPECT_EQ(back.weight_scales(), layer.weight_scales());
      EXPECT_EQ(back.uses_int4_kernels(), layer.uses_int4_kernels());
      EXPECT_EQ(back.forward(x), dense.forward(x)) << trit::scheme_name(scheme);
      EXPECT_EQ(back.serialize(), blob);
      // A borrowed TwoBit view serializes the same bytes.
      const trit::TwoBitMatrix w = trit::to_two_bit(dense.packed_weights());
      EXPECT_EQ(BitLinear(w.view(), layer.bias(), layer.activations()).serialize(), blob);
    }
  }
  // Damage inside the TwoBit weights blob is caught by its own checks: a code 3, resealed.
  const std::vector<std::uint8_t> good =
      make_layer(ActivationScheme::int8_absmax, false).with_layout(trit::WeightLayout::two_bit).serialize();
  std::vector<std::uint8_t> inner(good.begin() + 64, good.end());
  inner.back() = 0xFF;
  // The TwoBit blob (version 1) sums the whole blob into bytes 56..63, as Dense243's version 2.
  const std::uint64_t sum = trit_test::whole_blob_checksum(inner);
  for (int i = 0; i < 8; ++i) inner[56 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(sum >> (8 * i));
  std::vector<std::uint8_t> blob(good.begin(), good.begin() + 64);
  blob.insert(blob.end(), inner.begin(), inner.end());
  trit_test::reseal(blob);
  EXPECT_TRUE(trit_test::throws_with<trit::format_error>([&] { BitLinear::deserialize(blob); }, "invalid code 3"));
}

// A version-2 layer blob (no layout field: Dense243) still loads, as Dense243.
TEST(BitLinearSerialize, Version2LayerBlobStillLoadsAsDense243) {
  const BitLinear layer = make_layer(ActivationScheme::int8_topk, true);
  std::vector<std::uint8_t> blob = layer.serialize();
  ASSERT_EQ(blob[44], 0);
  blob[8] = 2;
  trit_test::reseal(blob);
  const BitLinear back = BitLinear::deserialize(blob);
  EXPECT_EQ(back.layout(), trit::WeightLayout::dense243);
  const std::vector<float> x = random_floats(2 * 650, 42);
  EXPECT_EQ(back.forward(x), layer.forward(x));
  EXPECT_EQ(back.serialize(), layer.serialize());
  // In version 2, byte 44 is reserved.
  blob[44] = 1;
  trit_test::reseal(blob);
  EXPECT_TRUE(trit_test::throws_with<trit::format_error>([&] { BitLinear::deserialize(blob); },
                                                         "reserved header byte 44 is not 0"));
}

}  // namespace
