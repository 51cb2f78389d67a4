// The quantizers against docs/SEMANTICS.md: hand-made cases with exact answers, then random
// data against expectations computed here in double precision, rounded to float at exactly
// the steps the semantics name.
#include <trit/views/activations.hpp>
#include <trit/quantize/activations.hpp>
#include <trit/views/matrix_ref.hpp>
#include <trit/format/packed_matrix.hpp>
#include <trit/quantize/quantize.hpp>

#include <gtest/gtest.h>

#include "test_support.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace {

using trit_test::throws_with;

using trit::ActivationScheme;
using trit::ScaleGranularity;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();


// ---- Independent expectations ----------------------------------------------------------------
// Every float operation of the semantics is evaluated here in double and rounded to float
// once. For +, -, *, / and sqrt of floats this is exactly the float operation (double has
// more than 2 * 24 + 2 bits), so the expectations are bit-exact without reusing any float
// code path of the library.

float to_float(double v) { return static_cast<float>(v); }

// rne, written out: a fraction of exactly one half goes to the even neighbour.
double round_half_even(double v) {
  const double below = std::floor(v);
  const double fraction = v - below;  // exact for any float v
  if (fraction > 0.5) return below + 1.0;
  if (fraction < 0.5) return below;
  return std::fmod(below, 2.0) == 0.0 ? below : below + 1.0;
}

// clamp(rne(x * s), lo, hi), with x * s rounded to float first as the semantics compute it.
int quantize_value(float x, float s, int lo, int hi) {
  const double product = to_float(static_cast<double>(x) * static_cast<double>(s));
  const double r = round_half_even(product);
  return static_cast<int>(std::min(std::max(r, static_cast<double>(lo)), static_cast<double>(hi)));
}

struct ExpectedWeights {
  std::vector<float> scales;
  std::vector<int> trits;
};

ExpectedWeights expected_absmean_weights(const std::vector<float>& w, std::size_t rows, std::size_t cols,
                                         ScaleGranularity granularity) {
  ExpectedWeights out;
  const auto scale_of = [&](std::size_t first_row, std::size_t row_count) {
    double sum = 0.0;
    for (std::size_t i = first_row * cols; i < (first_row + row_count) * cols; ++i) sum += std::fabs(static_cast<double>(w[i]));
    const float mean = to_float(sum / static_cast<double>(row_count * cols));
    return mean > 1e-5f ? mean : 1e-5f;
  };
  if (granularity == ScaleGranularity::per_tensor) {
    out.scales.push_back(scale_of(0, rows));
  } else {
    for (std::size_t m = 0; m < rows; ++m) out.scales.push_back(scale_of(m, 1));
  }
  for (std::size_t m = 0; m < rows; ++m) {
    const float scale = out.scales[granularity == ScaleGranularity::per_row ? m : 0];
    const float inv = to_float(1.0 / static_cast<double>(scale));
    for (std::size_t k = 0; k < cols; ++k) out.trits.push_back(quantize_value(w[m * cols + k], inv, -1, 1));
  }
  return out;
}

struct ExpectedToken {
  float scale = 0.0f;
  std::vector<int> q;
};

ExpectedToken expected_token(const float* x, std::size_t cols, ActivationScheme scheme, double ratio) {
  ExpectedToken out;
  double amax = 0.0;
  double sum = 0.0;
  for (std::size_t k = 0; k < cols; ++k) {
    amax = std::max(amax, std::fabs(static_cast<double>(x[k])));
    sum += std::fabs(static_cast<double>(x[k]));
  }
  const double floor_scale = static_cast<double>(1e-5f);
  int lo = -128, hi = 127;
  switch (scheme) {
    case ActivationScheme::int8_absmax:
    case ActivationScheme::int8_topk: out.scale = to_float(127.0 / std::max(amax, floor_scale)); break;
    case ActivationScheme::int4_absmax:
      out.scale = to_float(7.0 / std::max(amax, floor_scale));
      lo = -8;
      hi = 7;
      break;
    case ActivationScheme::int4_absmean: {
      const double beta = std::max(static_cast<double>(to_float(sum / static_cast<double>(cols))), floor_scale);
      out.scale = to_float(static_cast<double>(to_float(std::sqrt(7.0))) / beta);
      lo = -8;
      hi = 7;
      break;
    }
  }
  std::vector<bool> kept(cols, true);
  if (scheme == ActivationScheme::int8_topk) {
    const auto keep = static_cast<std::size_t>(std::ceil(ratio * static_cast<double>(cols)));
    std::vector<std::size_t> order(cols);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return std::fabs(x[a]) > std::fabs(x[b]); });
    std::fill(kept.begin(), kept.end(), false);
    for (std::size_t i = 0; i < keep; ++i) kept[order[i]] = true;
  }
  for (std::size_t k = 0; k < cols; ++k) out.q.push_back(kept[k] ? quantize_value(x[k], out.scale, lo, hi) : 0);
  return out;
}

std::vector<int> row_values(const trit::QuantizedActivations& q, std::size_t n) {
  return std::vector<int>(q.row(n), q.row(n) + q.cols());
}

std::vector<int> widen(const std::vector<std::int8_t>& v) { return std::vector<int>(v.begin(), v.end()); }

trit::QuantizedActivations quantize_one(const std::vector<float>& x, ActivationScheme scheme, double ratio = 0.5) {
  return trit::quantize_activations(trit::matrix(x.data(), 1, x.size()), scheme, ratio);
}

// ---- Weights: hand-made ----------------------------------------------------------------------

TEST(QuantizeWeights, HalfwayValuesRoundToZero) {
  // mean|W| = 8 / 8 = 1, so W * inv is W itself: 0.5 -> 0, 1.5 -> 2 clamped to 1, 0.75 -> 1.
  const std::vector<float> w = {0.5f, -0.5f, 1.5f, -1.5f, 0.25f, 0.75f, 1.0f, -2.0f};
  const trit::TernaryWeights q = trit::quantize_weights_absmean(trit::matrix(w.data(), 1, 8));
  EXPECT_EQ(q.scales, std::vector<float>{1.0f});
  EXPECT_EQ(widen(q.trits), (std::vector<int>{0, 0, 1, -1, 0, 1, 1, -1}));
}

TEST(QuantizeWeights, OneUlpEitherSideOfHalf) {
  const float above = 0.5f + std::ldexp(1.0f, -24);
  const float below = 0.5f - std::ldexp(1.0f, -25);
  ASSERT_EQ(above, std::nextafter(0.5f, 1.0f));
  ASSERT_EQ(below, std::nextafter(0.5f, 0.0f));
  // The sum is 4 + 2^-25, so the mean 1 + 2^-27 rounds to 1.0f and inv is exactly 1.
  const std::vector<float> w = {above, below, 1.5f, 1.5f};
  const trit::TernaryWeights q = trit::quantize_weights_absmean(trit::matrix(w.data(), 1, 4));
  EXPECT_EQ(q.scales, std::vector<float>{1.0f});
  EXPECT_EQ(widen(q.trits), (std::vector<int>{1, 0, 1, 1}));
}

TEST(QuantizeWeights, AllZeroTensorClampsScale) {
  const std::vector<float> w(2 * 5, 0.0f);
  const trit::TernaryWeights q = trit::quantize_weights_absmean(trit::matrix(w.data(), 2, 5));
  EXPECT_EQ(q.scales, std::vector<float>{1e-5f});
  EXPECT_EQ(widen(q.trits), std::vector<int>(10, 0));
}

TEST(QuantizeWeights, AllZeroRowClampsOnlyItsOwnScale) {
  const std::vector<float> w = {0.0f, -0.0f, 0.0f, 1.0f, -1.0f, 3.0f};
  const trit::TernaryWeights q = trit::quantize_weights_absmean(trit::matrix(w.data(), 2, 3), ScaleGranularity::per_row);
  EXPECT_EQ(q.granularity, ScaleGranularity::per_row);
  ASSERT_EQ(q.scales.size(), 2u);
  EXPECT_EQ(q.scales[0], 1e-5f);
  EXPECT_EQ(q.scales[1], static_cast<float>(5.0 / 3.0));
  // inv = 1 / 1.6666666f = 0.6f: 1 -> 0.6 -> 1, 3 -> 1.8 -> 2 -> 1.
  EXPECT_EQ(widen(q.trits), (std::vector<int>{0, 0, 0, 1, -1, 1}));
}

TEST(QuantizeWeights, OneHugeOutlierZeroesTheRest) {
  const std::vector<float> w = {1e6f, 0.1f, -0.2f, 0.3f, -1000.0f, 2.0f};
  const trit::TernaryWeights q = trit::quantize_weights_absmean(trit::matrix(w.data(), 1, 6));
  const double sum = 1e6 + double{0.1f} + double{0.2f} + double{0.3f} + 1000.0 + 2.0;
  ASSERT_EQ(q.scales.size(), 1u);
  EXPECT_EQ(q.scales[0], static_cast<float>(sum / 6.0));
  // inv ~ 6e-6: the outlier gives 6 (clamped to 1), -1000 gives -0.006 (0).
  EXPECT_EQ(widen(q.trits), (std::vector<int>{1, 0, 0, 0, 0, 0}));
}

TEST(QuantizeWeights, DenormalsQuantizeToZeroWithTheFloorScale) {
  const float tiny = std::numeric_limits<float>::denorm_min();
  const std::vector<float> w = {1e-40f, -1e-39f, tiny, 0.0f, -tiny, 1e-38f};
  ASSERT_EQ(std::fpclassify(w[0]), FP_SUBNORMAL);
  for (ScaleGranularity g : {ScaleGranularity::per_tensor, ScaleGranularity::per_row}) {
    const trit::TernaryWeights q = trit::quantize_weights_absmean(trit::matrix(w.data(), 2, 3), g);
    for (float s : q.scales) EXPECT_EQ(s, 1e-5f);
    EXPECT_EQ(widen(q.trits), std::vector<int>(6, 0));
  }
}

TEST(QuantizeWeights, MeanIsSummedInDouble) {
  // In float, 2^24 + 1 == 2^24, so a float sum would stay 2^24 (mean 2097152); the double sum
  // is 2^24 + 7 and its mean 2097152.875 rounds to 2097153.0f.
  const std::vector<float> w = {16777216.0f, 1, 1, 1, 1, 1, 1, 1};
  const trit::TernaryWeights q = trit::quantize_weights_absmean(trit::matrix(w.data(), 1, 8));
  EXPECT_EQ(q.scales, std::vector<float>{2097153.0f});
  EXPECT_EQ(widen(q.trits), (std::vector<int>{1, 0, 0, 0, 0, 0, 0, 0}));
  const trit::TernaryWeights per_row = trit::quantize_weights_absmean(trit::matrix(w.data(), 1, 8), ScaleGranularity::per_row);
  EXPECT_EQ(per_row.scales, std::vector<float>{2097153.0f});
}

TEST(QuantizeWeights, ResultShapeAndView) {
  const std::vector<float> w = {1, -1, 0, 2, -2, 0};
  const trit::TernaryWeights q = trit::quantize_weights_absmean(trit::matrix(w.data(), 3, 2));
  EXPECT_EQ(q.rows, 3u);
  EXPECT_EQ(q.cols, 2u);
  EXPECT_EQ(q.granularity, ScaleGranularity::per_tensor);
  const trit::MatrixRef<const std::int8_t> view = q.view();
  EXPECT_EQ(view.data, q.trits.data());
  EXPECT_EQ(view.rows, 3u);
  EXPECT_EQ(view.cols, 2u);
  EXPECT_EQ(view.stride, 2u);
}

TEST(QuantizeWeights, RejectsNonFiniteValuesNamingTheArgument) {
  for (float bad : {kNaN, kInf, -kInf}) {
    std::vector<float> w(3 * 4, 0.5f);
    w[1 * 4 + 2] = bad;
    EXPECT_TRUE(throws_with<std::invalid_argument>([&] { trit::quantize_weights_absmean(trit::matrix(w.data(), 3, 4)); },
                                                   "trit::quantize_weights_absmean: w has a non-finite value"));
    EXPECT_TRUE(throws_with<std::invalid_argument>(
        [&] { trit::quantize_weights_absmean(trit::matrix(w.data(), 3, 4), ScaleGranularity::per_row); },
        "at row 1, column 2"));
  }
}

TEST(QuantizeWeights, RejectsEmptyAndMalformedViews) {
  const std::vector<float> w(10, 1.0f);
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::quantize_weights_absmean(trit::matrix<const float>(nullptr, 0, 0)); }, "w is empty (0x0)"));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::quantize_weights_absmean(trit::matrix(w.data(), 0, 5)); }, "w is empty (0x5)"));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::quantize_weights_absmean(trit::matrix(w.data(), 2, 0)); }, "w is empty (2x0)"));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::quantize_weights_absmean(trit::MatrixRef<const float>{w.data(), 2, 5, 3}); },
      "w: stride 3 is smaller than cols 5"));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::quantize_weights_absmean(trit::matrix<const float>(nullptr, 2, 5)); }, "w: null data for a 2x5"));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::quantize_weights_absmean(trit::matrix(w.data(), 2, 5), static_cast<ScaleGranularity>(3)); },
      "granularity"));
}

// ---- Weights: random against the independent computation -------------------------------------

TEST(QuantizeWeights, RandomMatchesIndependentComputation) {
  std::mt19937 rng(1234);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::cauchy_distribution<float> heavy(0.0f, 0.01f);
  const std::size_t shapes[][2] = {{1, 1}, {1, 2}, {3, 7}, {16, 320}, {37, 641}, {5, 2560}, {2, 6912}};
  for (const auto& shape : shapes) {
    const std::size_t rows = shape[0], cols = shape[1];
    for (int dist = 0; dist < 3; ++dist) {
      std::vector<float> w(rows * cols);
      for (float& x : w) x = dist == 0 ? normal(rng) : dist == 1 ? uniform(rng) : heavy(rng);
      for (ScaleGranularity g : {ScaleGranularity::per_tensor, ScaleGranularity::per_row}) {
        const trit::TernaryWeights q = trit::quantize_weights_absmean(trit::matrix(w.data(), rows, cols), g);
        const ExpectedWeights e = expected_absmean_weights(w, rows, cols, g);
        ASSERT_EQ(q.scales, e.scales) << rows << "x" << cols << " dist " << dist;
        ASSERT_EQ(widen(q.trits), e.trits) << rows << "x" << cols << " dist " << dist;
        // Cross-check in exact arithmetic: an unclamped trit is within one half of W / scale.
        for (std::size_t i = 0; i < w.size(); ++i) {
          const double ideal = static_cast<double>(w[i]) / static_cast<double>(q.scales[g == ScaleGranularity::per_row ? i / cols : 0]);
          if (std::fabs(ideal) < 1.0) {
            ASSERT_LE(std::fabs(ideal - q.trits[i]), 0.5 + 1e-6) << "index " << i;
          }
        }
      }
    }
  }
}

// ---- Activations: int8 absmax ----------------------------------------------------------------

TEST(QuantizeActivationsInt8, TiesGoToEven) {
  // amax = 127, so s = 1 and x * s is x: halves are exact ties.
  const std::vector<float> x = {127.0f, 1.5f, 2.5f, -1.5f, -2.5f, 0.5f, -0.5f, 3.5f, -3.5f, 126.5f, -127.0f};
  const trit::QuantizedActivations q = quantize_one(x, ActivationScheme::int8_absmax);
  EXPECT_EQ(q.scale(0), 1.0f);
  EXPECT_EQ(row_values(q, 0), (std::vector<int>{127, 2, 2, -2, -2, 0, 0, 4, -4, 126, -127}));
}

TEST(QuantizeActivationsInt8, NonUnitScale) {
  // s = 127 / 4 = 31.75: 2 -> 63.5 (tie, to 64), 1 -> 31.75 -> 32, 1/16 -> 1.984375 -> 2.
  const std::vector<float> x = {-4.0f, 2.0f, 1.0f, 0.0625f, -0.0f};
  const trit::QuantizedActivations q = quantize_one(x, ActivationScheme::int8_absmax);
  EXPECT_EQ(q.scale(0), 31.75f);
  EXPECT_EQ(row_values(q, 0), (std::vector<int>{-127, 64, 32, 2, 0}));
}

TEST(QuantizeActivationsInt8, AllZeroTokenUsesTheFloorScale) {
  const std::vector<float> x = {0.0f, -0.0f, 0.0f, 0.0f, 3.0f, 0.0f};
  const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix(x.data(), 2, 3));
  EXPECT_EQ(q.scale(0), 127.0f / 1e-5f);
  EXPECT_EQ(row_values(q, 0), (std::vector<int>{0, 0, 0}));
  EXPECT_EQ(q.scale(1), 127.0f / 3.0f);
  EXPECT_EQ(row_values(q, 1), (std::vector<int>{0, 127, 0}));
}

TEST(QuantizeActivationsInt8, OneHugeOutlier) {
  const std::vector<float> x = {1.0f, -1.0f, 1e30f, 1e25f, -3e29f};
  const trit::QuantizedActivations q = quantize_one(x, ActivationScheme::int8_absmax);
  EXPECT_EQ(q.scale(0), 127.0f / 1e30f);
  // -3e29 * s = -38.1 -> -38; 1e25 * s = 0.00127 -> 0.
  EXPECT_EQ(row_values(q, 0), (std::vector<int>{0, 0, 127, 0, -38}));
}

TEST(QuantizeActivationsInt8, Denormals) {
  const float tiny = std::numeric_limits<float>::denorm_min();
  const std::vector<float> all_denormal = {1e-40f, -3e-39f, tiny, -tiny};
  const trit::QuantizedActivations q = quantize_one(all_denormal, ActivationScheme::int8_absmax);
  EXPECT_EQ(q.scale(0), 127.0f / 1e-5f);
  EXPECT_EQ(row_values(q, 0), (std::vector<int>{0, 0, 0, 0}));

  const std::vector<float> mixed = {1e-40f, 1.0f, -tiny};
  const trit::QuantizedActivations m = quantize_one(mixed, ActivationScheme::int8_absmax);
  EXPECT_EQ(m.scale(0), 127.0f);
  EXPECT_EQ(row_values(m, 0), (std::vector<int>{0, 127, 0}));
}

TEST(QuantizeActivationsInt8, StorageIsPaddedWithZeros) {
  std::vector<float> x(3 * 100);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(static_cast<int>(i % 13) - 6);
  const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix(x.data(), 3, 100));
  EXPECT_EQ(q.tokens(), 3u);
  EXPECT_EQ(q.cols(), 100u);
  EXPECT_EQ(q.stride(), 128u);
  EXPECT_EQ(q.scheme(), ActivationScheme::int8_absmax);
  for (std::size_t n = 0; n < 3; ++n) {
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(q.row(n)) % 64, 0u);
    for (std::size_t k = 100; k < 128; ++k) ASSERT_EQ(q.row(n)[k], 0) << "token " << n << " column " << k;
  }
  const trit::ActivationsView view = q;
  EXPECT_EQ(view.data, q.row(0));
  EXPECT_EQ(view.tokens, 3u);
  EXPECT_EQ(view.cols, 100u);
  EXPECT_EQ(view.stride, 128u);
  EXPECT_EQ(view.scales, q.scales().data());
  EXPECT_EQ(view.row(2), q.row(2));
}

TEST(QuantizeActivationsInt8, StridedInputReadsOnlyTheView) {
  const std::size_t tokens = 3, cols = 5, stride = 8;
  std::vector<float> x(tokens * stride, kNaN);
  for (std::size_t n = 0; n < tokens; ++n) {
    for (std::size_t k = 0; k < cols; ++k) x[n * stride + k] = static_cast<float>(k) - static_cast<float>(n);
  }
  const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix(x.data(), tokens, cols, stride));
  // Token 1 is {-1, 0, 1, 2, 3}: s = 127 / 3, 1 -> 42.33 -> 42, 2 -> 84.67 -> 85.
  EXPECT_EQ(q.scale(1), 127.0f / 3.0f);
  EXPECT_EQ(row_values(q, 1), (std::vector<int>{-42, 0, 42, 85, 127}));
}

// ---- Activations: int4 -----------------------------------------------------------------------

TEST(QuantizeActivationsInt4, AbsmaxTiesAndRange) {
  const std::vector<float> x = {7.0f, 3.5f, -7.0f, 0.5f, 1.5f, -0.5f, 2.5f, -6.5f};
  const trit::QuantizedActivations q = quantize_one(x, ActivationScheme::int4_absmax);
  EXPECT_EQ(q.scheme(), ActivationScheme::int4_absmax);
  EXPECT_EQ(q.scale(0), 1.0f);
  EXPECT_EQ(row_values(q, 0), (std::vector<int>{7, 4, -7, 0, 2, 0, 2, -6}));

  const std::vector<float> halved = {-14.0f, 1.0f, 3.0f, -5.0f};
  const trit::QuantizedActivations h = quantize_one(halved, ActivationScheme::int4_absmax);
  EXPECT_EQ(h.scale(0), 0.5f);
  EXPECT_EQ(row_values(h, 0), (std::vector<int>{-7, 0, 2, -2}));
}

TEST(QuantizeActivationsInt4, AbsmaxZeroTokenUsesTheFloorScale) {
  const std::vector<float> x(9, 0.0f);
  const trit::QuantizedActivations q = quantize_one(x, ActivationScheme::int4_absmax);
  EXPECT_EQ(q.scale(0), 7.0f / 1e-5f);
  EXPECT_EQ(row_values(q, 0), std::vector<int>(9, 0));
}

TEST(QuantizeActivationsInt4, AbsmeanUnitMean) {
  const std::vector<float> x = {1.0f, -1.0f, 1.0f, -1.0f};
  const trit::QuantizedActivations q = quantize_one(x, ActivationScheme::int4_absmean);
  EXPECT_EQ(q.scheme(), ActivationScheme::int4_absmean);
  EXPECT_EQ(q.scale(0), std::sqrt(7.0f));
  EXPECT_EQ(row_values(q, 0), (std::vector<int>{3, -3, 3, -3}));
}

TEST(QuantizeActivationsInt4, AbsmeanClampsAsymmetrically) {
  // beta = 20 / 20 = 1: +-10 * 2.6458 = +-26.46, clamped to 7 and to -8.
  std::vector<float> x(20, 0.0f);
  x[0] = 10.0f;
  x[1] = -10.0f;
  const trit::QuantizedActivations q = quantize_one(x, ActivationScheme::int4_absmean);
  EXPECT_EQ(q.scale(0), std::sqrt(7.0f));
  std::vector<int> expected(20, 0);
  expected[0] = 7;
  expected[1] = -8;
  EXPECT_EQ(row_values(q, 0), expected);
}

TEST(QuantizeActivationsInt4, AbsmeanSumsInDoubleThenRoundsToFloat) {
  // As for the weights: a float sum would give beta = 2097152, the double sum 2097153.
  const std::vector<float> x = {16777216.0f, 1, 1, 1, 1, 1, 1, 1};
  const trit::QuantizedActivations q = quantize_one(x, ActivationScheme::int4_absmean);
  EXPECT_EQ(q.scale(0), std::sqrt(7.0f) / 2097153.0f);
  EXPECT_NE(q.scale(0), std::sqrt(7.0f) / 2097152.0f);
  EXPECT_EQ(row_values(q, 0), (std::vector<int>{7, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(QuantizeActivationsInt4, AbsmeanZeroAndDenormalTokens) {
  const std::vector<float> x = {0.0f, 1e-40f, -1e-39f, 0.0f};
  const trit::QuantizedActivations q = quantize_one(x, ActivationScheme::int4_absmean);
  EXPECT_EQ(q.scale(0), std::sqrt(7.0f) / 1e-5f);
  EXPECT_EQ(row_values(q, 0), (std::vector<int>{0, 0, 0, 0}));
}

// ---- Activations: top-K ----------------------------------------------------------------------

TEST(QuantizeActivationsTopK, KeepsLargestWithLowerIndexWinningTies) {
  // |x| ranks: 3 (index 1), 3 (index 2), 2 (index 5), 2 (index 7), 1 (3), 1 (4), 0.5, 0.25.
  const std::vector<float> x = {0.5f, -3.0f, 3.0f, 1.0f, -1.0f, 2.0f, 0.25f, -2.0f};
  const float s = 127.0f / 3.0f;
  struct Case {
    double ratio;
    std::vector<int> expected;
  };
  // 2 -> 84.67 -> 85, 1 -> 42.33 -> 42, 0.5 -> 21.17 -> 21, 0.25 -> 10.58 -> 11.
  const Case cases[] = {
      {1e-9, {0, -127, 0, 0, 0, 0, 0, 0}},         // ceil -> 1: the first of the two 3s
      {0.25, {0, -127, 127, 0, 0, 0, 0, 0}},       // 2
      {0.3, {0, -127, 127, 0, 0, 85, 0, 0}},       // ceil(2.4) = 3: index 5 beats index 7
      {0.375, {0, -127, 127, 0, 0, 85, 0, 0}},     // 3
      {0.5, {0, -127, 127, 0, 0, 85, 0, -85}},     // 4
      {0.625, {0, -127, 127, 42, 0, 85, 0, -85}},  // 5: index 3 beats index 4
      {1.0, {21, -127, 127, 42, -42, 85, 11, -85}},
  };
  for (const Case& c : cases) {
    const trit::QuantizedActivations q = quantize_one(x, ActivationScheme::int8_topk, c.ratio);
    EXPECT_EQ(q.scheme(), ActivationScheme::int8_topk);
    EXPECT_EQ(q.scale(0), s) << "ratio " << c.ratio;
    EXPECT_EQ(row_values(q, 0), c.expected) << "ratio " << c.ratio;
  }
}

TEST(QuantizeActivationsTopK, AllEqualMagnitudesKeepTheFirstK) {
  const std::vector<float> x = {-1.0f, 1.0f, 1.0f, -1.0f, 1.0f, -1.0f, 1.0f};
  const trit::QuantizedActivations q = quantize_one(x, ActivationScheme::int8_topk, 0.5);  // ceil(3.5) = 4
  EXPECT_EQ(row_values(q, 0), (std::vector<int>{-127, 127, 127, -127, 0, 0, 0}));
}

TEST(QuantizeActivationsTopK, RatioOneEqualsAbsmax) {
  std::mt19937 rng(77);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(4 * 333);
  for (float& v : x) v = normal(rng);
  const auto view = trit::matrix(x.data(), 4, 333);
  const trit::QuantizedActivations all = trit::quantize_activations(view, ActivationScheme::int8_topk, 1.0);
  const trit::QuantizedActivations absmax = trit::quantize_activations(view, ActivationScheme::int8_absmax);
  for (std::size_t n = 0; n < 4; ++n) {
    EXPECT_EQ(all.scale(n), absmax.scale(n));
    EXPECT_EQ(row_values(all, n), row_values(absmax, n));
  }
}

TEST(QuantizeActivationsTopK, KeptCount) {
  EXPECT_EQ(trit::topk_count(10, 0.5), 5u);
  EXPECT_EQ(trit::topk_count(7, 0.5), 4u);
  EXPECT_EQ(trit::topk_count(3, 0.34), 2u);
  EXPECT_EQ(trit::topk_count(1, 0.01), 1u);
  EXPECT_EQ(trit::topk_count(100, 1.0), 100u);
  EXPECT_EQ(trit::topk_count(2560, 0.5), 1280u);
  EXPECT_EQ(trit::topk_count(6912, 0.55), 3802u);  // 3801.6 rounds up
}

TEST(QuantizeActivationsTopK, RejectsRatioOutsideUnitInterval) {
  const std::vector<float> x = {1.0f, 2.0f};
  for (double bad : {0.0, -0.5, 1.0000001, 2.0, std::numeric_limits<double>::quiet_NaN()}) {
    EXPECT_TRUE(throws_with<std::invalid_argument>([&] { quantize_one(x, ActivationScheme::int8_topk, bad); },
                                                   "trit::quantize_activations: topk_ratio"))
        << "ratio " << bad;
  }
}

// ---- Activations: argument checks ------------------------------------------------------------

TEST(QuantizeActivations, RejectsNonFiniteValuesNamingTheArgument) {
  for (ActivationScheme scheme : {ActivationScheme::int8_absmax, ActivationScheme::int4_absmax,
                                  ActivationScheme::int4_absmean, ActivationScheme::int8_topk}) {
    for (float bad : {kNaN, kInf, -kInf}) {
      std::vector<float> x(2 * 6, 1.0f);
      x[1 * 6 + 4] = bad;
      EXPECT_TRUE(throws_with<std::invalid_argument>(
          [&] { trit::quantize_activations(trit::matrix(x.data(), 2, 6), scheme); },
          "trit::quantize_activations: x has a non-finite value"))
          << trit::scheme_name(scheme);
      EXPECT_TRUE(throws_with<std::invalid_argument>(
          [&] { trit::quantize_activations(trit::matrix(x.data(), 2, 6), scheme); }, "at row 1, column 4"));
    }
  }
}

TEST(QuantizeActivations, RejectsEmptyAndMalformedViews) {
  const std::vector<float> x(12, 1.0f);
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::quantize_activations(trit::matrix<const float>(nullptr, 0, 0)); }, "x is empty (0x0)"));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::quantize_activations(trit::matrix(x.data(), 3, 0)); }, "x is empty (3x0)"));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::quantize_activations(trit::MatrixRef<const float>{x.data(), 2, 6, 5}); },
      "x: stride 5 is smaller than cols 6"));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::quantize_activations(trit::matrix<const float>(nullptr, 2, 6)); }, "x: null data for a 2x6"));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::quantize_activations(trit::matrix(x.data(), 2, 6), static_cast<ActivationScheme>(9)); },
      "scheme is not an ActivationScheme value"));
}

TEST(QuantizeActivations, SchemeNames) {
  EXPECT_STREQ(trit::scheme_name(ActivationScheme::int8_absmax), "int8_absmax");
  EXPECT_STREQ(trit::scheme_name(ActivationScheme::int4_absmax), "int4_absmax");
  EXPECT_STREQ(trit::scheme_name(ActivationScheme::int4_absmean), "int4_absmean");
  EXPECT_STREQ(trit::scheme_name(ActivationScheme::int8_topk), "int8_topk");
}

// ---- Activations: random against the independent computation ---------------------------------

// Values on a coarse grid make exact ties (in |x| for top-K, and at halves when s is a
// power of two) common rather than rare.
std::vector<float> random_activations(std::size_t count, int kind, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::cauchy_distribution<float> heavy(0.0f, 1.0f);
  std::uniform_int_distribution<int> grid(-254, 254);
  std::uniform_real_distribution<float> small(-1e-3f, 1e-3f);
  std::vector<float> x(count);
  for (float& v : x) {
    switch (kind) {
      case 0: v = normal(rng); break;
      case 1: v = heavy(rng); break;
      case 2: v = static_cast<float>(grid(rng)) * 0.5f; break;
      default: v = small(rng); break;
    }
  }
  // Grid tokens get |x| = 127 somewhere, so s = 1 and every half-integer is a tie.
  if (kind == 2) x[count / 2] = 127.0f;
  return x;
}

TEST(QuantizeActivations, RandomMatchesIndependentComputation) {
  std::mt19937 rng(4321);
  const std::size_t shapes[][2] = {{1, 1}, {1, 2}, {2, 7}, {5, 64}, {3, 320}, {4, 641}, {1, 2560}, {2, 6912}};
  const ActivationScheme schemes[] = {ActivationScheme::int8_absmax, ActivationScheme::int4_absmax,
                                      ActivationScheme::int4_absmean, ActivationScheme::int8_topk};
  for (const auto& shape : shapes) {
    const std::size_t tokens = shape[0], cols = shape[1];
    for (int kind = 0; kind < 4; ++kind) {
      const std::vector<float> x = random_activations(tokens * cols, kind, rng);
      for (ActivationScheme scheme : schemes) {
        for (double ratio : {0.5, 0.1, 0.333, 1.0}) {
          if (scheme != ActivationScheme::int8_topk && ratio != 0.5) continue;
          const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix(x.data(), tokens, cols), scheme, ratio);
          const bool int4 = scheme == ActivationScheme::int4_absmax || scheme == ActivationScheme::int4_absmean;
          for (std::size_t n = 0; n < tokens; ++n) {
            const ExpectedToken e = expected_token(&x[n * cols], cols, scheme, ratio);
            ASSERT_EQ(q.scale(n), e.scale) << trit::scheme_name(scheme) << " " << tokens << "x" << cols << " kind " << kind
                                           << " token " << n;
            ASSERT_EQ(row_values(q, n), e.q) << trit::scheme_name(scheme) << " " << tokens << "x" << cols << " kind "
                                             << kind << " ratio " << ratio << " token " << n;
            // Cross-check in exact arithmetic: a value not at a clamp bound (and not dropped by
            // top-K) is within one half, plus float rounding, of x * s.
            for (std::size_t k = 0; k < cols; ++k) {
              const int v = q.row(n)[k];
              const double ideal = static_cast<double>(x[n * cols + k]) * static_cast<double>(q.scale(n));
              const bool at_bound = int4 ? (v == 7 || v == -8) : (v == 127 || v == -128);
              if (at_bound || (scheme == ActivationScheme::int8_topk && v == 0)) continue;
              ASSERT_LE(std::fabs(ideal - v), 0.5 + 1e-6 * std::fabs(ideal) + 1e-30) << "column " << k;
            }
          }
        }
      }
    }
  }
}

}  // namespace
