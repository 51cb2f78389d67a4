// The scalar reference and the public entry points on the scalar path, against a naive product
// over the unpacked trits kept before packing: int32 exact, floats bit-identical to the
// semantics' epilogue, for ragged shapes and the BitNet b1.58 2B4T layer shapes.
#include <trit/views/activations.hpp>
#include <trit/quantize/activations.hpp>
#include <trit/paths/cpu_features.hpp>
#include <trit/driver/gemm.hpp>
#include <trit/paths/isa.hpp>
#include <trit/views/matrix_ref.hpp>
#include <trit/format/pack.hpp>
#include <trit/format/packed_matrix.hpp>
#include <trit/quantize/quantize.hpp>
#include <trit/reference/reference.hpp>

#include <gtest/gtest.h>

#include "test_support.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

using trit_test::throws_with;

using trit::ScaleGranularity;


std::uint32_t bits(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

// A ternary layer and a batch of int8 tokens, with the unpacked trits kept for the naive product.
struct Layer {
  std::size_t rows = 0, cols = 0, tokens = 0;
  std::vector<std::int8_t> trits;  // rows x cols, tight
  std::vector<float> w_scales;     // 1 (per tensor) or rows (per row)
  trit::PackedMatrix packed;
  std::size_t x_stride = 0;
  std::vector<std::int8_t> x;  // tokens x x_stride
  std::vector<float> x_scales;
  std::vector<float> bias;

  float w_scale(std::size_t m) const { return w_scales.size() == 1 ? w_scales[0] : w_scales[m]; }
  trit::ActivationsView activations() const {
    return trit::ActivationsView{x.data(), tokens, cols, x_stride, x_scales.data()};
  }
};

// x_pad > 0 gives the activations a row stride that is not a multiple of anything useful.
Layer make_layer(std::size_t rows, std::size_t cols, std::size_t tokens, std::mt19937& rng,
                 ScaleGranularity granularity = ScaleGranularity::per_tensor, std::size_t x_pad = 3) {
  Layer layer;
  layer.rows = rows;
  layer.cols = cols;
  layer.tokens = tokens;
  std::uniform_int_distribution<int> trit(-1, 1);
  std::uniform_int_distribution<int> int8(-128, 127);
  std::uniform_real_distribution<float> scale(0.01f, 4.0f);
  std::normal_distribution<float> bias(0.0f, 2.0f);
  layer.trits.resize(rows * cols);
  for (auto& t : layer.trits) t = static_cast<std::int8_t>(trit(rng));
  layer.w_scales.resize(granularity == ScaleGranularity::per_row ? rows : 1);
  for (float& s : layer.w_scales) s = scale(rng);
  layer.packed = trit::pack_trits(trit::matrix(layer.trits.data(), rows, cols), layer.w_scales.data(),
                                  layer.w_scales.size(), granularity);
  layer.x_stride = cols + x_pad;
  layer.x.assign(tokens * layer.x_stride, 99);  // stride gaps hold values that would change any sum
  for (std::size_t n = 0; n < tokens; ++n) {
    for (std::size_t k = 0; k < cols; ++k) layer.x[n * layer.x_stride + k] = static_cast<std::int8_t>(int8(rng));
  }
  layer.x_scales.resize(tokens);
  for (float& s : layer.x_scales) s = 127.0f / scale(rng);
  layer.bias.resize(rows);
  for (float& b : layer.bias) b = bias(rng);
  return layer;
}

// acc[n][m] = sum_k W[m][k] x[n][k], over the trits as they were before packing.
std::vector<std::int32_t> naive_acc(const Layer& layer) {
  std::vector<std::int32_t> acc(layer.tokens * layer.rows);
  for (std::size_t n = 0; n < layer.tokens; ++n) {
    const std::int8_t* x = &layer.x[n * layer.x_stride];
    for (std::size_t m = 0; m < layer.rows; ++m) {
      const std::int8_t* w = &layer.trits[m * layer.cols];
      std::int32_t sum = 0;
      for (std::size_t k = 0; k < layer.cols; ++k) sum += w[k] * x[k];
      acc[n * layer.rows + m] = sum;
    }
  }
  return acc;
}

// The semantics' epilogue. The volatile store rounds the product to float before the bias
// is added, so no fused multiply-add can sneak in.
std::vector<float> expected_y(const Layer& layer, const std::vector<std::int32_t>& acc, bool with_bias) {
  std::vector<float> y(acc.size());
  for (std::size_t n = 0; n < layer.tokens; ++n) {
    for (std::size_t m = 0; m < layer.rows; ++m) {
      volatile float product = (static_cast<float>(acc[n * layer.rows + m]) / layer.x_scales[n]) * layer.w_scale(m);
      y[n * layer.rows + m] = with_bias ? product + layer.bias[m] : static_cast<float>(product);
    }
  }
  return y;
}

// Compares a strided N x M result with a tight expectation; the stride gaps must still hold
// the sentinel.
template <class T>
::testing::AssertionResult same_output(const std::vector<T>& got, std::size_t stride, const std::vector<T>& expected,
                                       std::size_t tokens, std::size_t rows, T sentinel) {
  for (std::size_t n = 0; n < tokens; ++n) {
    for (std::size_t m = 0; m < stride; ++m) {
      const T value = got[n * stride + m];
      if (m >= rows) {
        if (std::memcmp(&value, &sentinel, sizeof(T)) != 0) {
          return ::testing::AssertionFailure() << "wrote into the stride gap at token " << n << ", column " << m;
        }
        continue;
      }
      const T want = expected[n * rows + m];
      if (std::memcmp(&value, &want, sizeof(T)) != 0) {
        return ::testing::AssertionFailure() << "token " << n << ", row " << m << ": got " << value << ", expected "
                                             << want;
      }
    }
  }
  return ::testing::AssertionSuccess();
}

constexpr std::int32_t kAccSentinel = std::numeric_limits<std::int32_t>::min() + 12345;
constexpr float kYSentinel = -7.75e33f;

// Runs both reference entry points over the whole layer and checks them.
void check_reference(const Layer& layer) {
  SCOPED_TRACE(::testing::Message() << layer.rows << "x" << layer.cols << ", " << layer.tokens << " tokens");
  const std::vector<std::int32_t> want_acc = naive_acc(layer);
  const std::size_t stride = layer.rows + 2;
  std::vector<std::int32_t> acc(layer.tokens * stride, kAccSentinel);
  trit::ref::gemm_int32_rows(layer.packed, layer.activations(), trit::matrix(acc.data(), layer.tokens, layer.rows, stride),
                             0, layer.rows);
  EXPECT_TRUE(same_output(acc, stride, want_acc, layer.tokens, layer.rows, kAccSentinel));

  for (bool with_bias : {false, true}) {
    std::vector<float> y(layer.tokens * stride, kYSentinel);
    trit::ref::gemm_rows(layer.packed, layer.activations(), trit::matrix(y.data(), layer.tokens, layer.rows, stride),
                         with_bias ? layer.bias.data() : nullptr, 0, layer.rows);
    EXPECT_TRUE(same_output(y, stride, expected_y(layer, want_acc, with_bias), layer.tokens, layer.rows, kYSentinel))
        << (with_bias ? "with bias" : "without bias");
  }
}

// ---- The reference against the naive product -------------------------------------------------

TEST(Reference, SmallKForManyM) {
  std::mt19937 rng(101);
  for (std::size_t cols = 1; cols <= 40; ++cols) {
    for (std::size_t rows : {1u, 2u, 3u, 5u, 8u, 16u, 17u, 31u, 37u}) {
      check_reference(make_layer(rows, cols, 1 + cols % 3, rng));
    }
  }
}

TEST(Reference, KAroundGroupBoundaries) {
  std::mt19937 rng(102);
  for (std::size_t cols : {319u, 320u, 321u, 324u, 325u, 639u, 640u, 641u, 961u}) {
    for (std::size_t rows : {1u, 4u, 7u, 16u, 37u}) {
      for (std::size_t tokens : {1u, 2u, 5u}) check_reference(make_layer(rows, cols, tokens, rng));
    }
  }
}

TEST(Reference, KNear6912) {
  std::mt19937 rng(103);
  for (std::size_t cols : {6911u, 6912u, 6913u, 6915u}) {
    for (std::size_t rows : {1u, 5u}) check_reference(make_layer(rows, cols, 2, rng));
  }
}

TEST(Reference, PerRowScales) {
  std::mt19937 rng(104);
  for (std::size_t cols : {1u, 17u, 333u, 700u}) {
    check_reference(make_layer(9, cols, 3, rng, ScaleGranularity::per_row));
  }
}

TEST(Reference, ActivationsWithAlignedStride) {
  std::mt19937 rng(105);
  for (std::size_t cols : {5u, 64u, 321u}) check_reference(make_layer(6, cols, 2, rng, ScaleGranularity::per_tensor, 0));
  // The owning container's 64-aligned, zero-padded rows.
  Layer layer = make_layer(6, 200, 3, rng);
  trit::QuantizedActivations q(3, 200, trit::ActivationScheme::int8_absmax);
  for (std::size_t n = 0; n < 3; ++n) {
    std::memcpy(q.row(n), &layer.x[n * layer.x_stride], 200);
    q.scale(n) = layer.x_scales[n];
  }
  std::vector<std::int32_t> acc(3 * 6);
  trit::ref::gemm_int32_rows(layer.packed, q, trit::matrix(acc.data(), 3, 6), 0, 6);
  EXPECT_EQ(acc, naive_acc(layer));
}

TEST(Reference, ExtremeAccumulators) {
  // |acc| reaches its bound 128 K: every weight +1 or -1 against -128 everywhere.
  for (std::size_t cols : {1u, 320u, 6912u}) {
    std::vector<std::int8_t> trits(2 * cols, 1);
    std::fill(trits.begin() + static_cast<std::ptrdiff_t>(cols), trits.end(), std::int8_t{-1});
    const float one = 1.0f;
    const trit::PackedMatrix packed = trit::pack_trits(trit::matrix(trits.data(), 2, cols), &one, 1);
    const std::vector<std::int8_t> x(cols, -128);
    const float x_scale = 1.0f;
    std::vector<std::int32_t> acc(2);
    trit::ref::gemm_int32_rows(packed, trit::ActivationsView{x.data(), 1, cols, cols, &x_scale},
                               trit::matrix(acc.data(), 1, 2), 0, 2);
    EXPECT_EQ(acc[0], -128 * static_cast<std::int32_t>(cols));
    EXPECT_EQ(acc[1], 128 * static_cast<std::int32_t>(cols));
  }
}

TEST(Reference, RowRangeTouchesOnlyItsRows) {
  std::mt19937 rng(106);
  const Layer layer = make_layer(11, 333, 2, rng);
  const std::vector<std::int32_t> want = naive_acc(layer);
  std::vector<std::int32_t> acc(2 * 11, kAccSentinel);
  trit::ref::gemm_int32_rows(layer.packed, layer.activations(), trit::matrix(acc.data(), 2, 11), 3, 8);
  std::vector<float> y(2 * 11, kYSentinel);
  trit::ref::gemm_rows(layer.packed, layer.activations(), trit::matrix(y.data(), 2, 11), layer.bias.data(), 3, 8);
  const std::vector<float> want_y = expected_y(layer, want, true);
  for (std::size_t n = 0; n < 2; ++n) {
    for (std::size_t m = 0; m < 11; ++m) {
      const bool inside = m >= 3 && m < 8;
      EXPECT_EQ(acc[n * 11 + m], inside ? want[n * 11 + m] : kAccSentinel) << n << ", " << m;
      EXPECT_EQ(bits(y[n * 11 + m]), bits(inside ? want_y[n * 11 + m] : kYSentinel)) << n << ", " << m;
    }
  }
}

TEST(Reference, QuantizedPipelineFromFloats) {
  // The whole path: float weights and activations through the quantizers, the trits and int8
  // values read back from the quantizers' own outputs before packing.
  std::mt19937 rng(107);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const std::size_t rows = 13, cols = 641, tokens = 3;
  std::vector<float> w(rows * cols), xf(tokens * cols);
  for (float& v : w) v = normal(rng) * 0.02f;
  for (float& v : xf) v = normal(rng);
  const trit::TernaryWeights tw = trit::quantize_weights_absmean(trit::matrix(w.data(), rows, cols), ScaleGranularity::per_row);
  const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix(xf.data(), tokens, cols));
  Layer layer;
  layer.rows = rows;
  layer.cols = cols;
  layer.tokens = tokens;
  layer.trits = tw.trits;
  layer.w_scales = tw.scales;
  layer.packed = trit::pack_trits(tw);
  layer.x_stride = q.stride();
  layer.x.assign(q.row(0), q.row(0) + tokens * q.stride());
  layer.x_scales = q.scales();
  layer.bias.assign(rows, 0.125f);
  check_reference(layer);
}

// ---- BitNet b1.58 2B4T layer shapes ----------------------------------------------------------

TEST(ReferenceBitNet2B4T, AttentionQAndO_2560x2560) {
  std::mt19937 rng(201);
  check_reference(make_layer(2560, 2560, 2, rng));
}

TEST(ReferenceBitNet2B4T, AttentionKV_640x2560) {
  std::mt19937 rng(202);
  check_reference(make_layer(640, 2560, 2, rng));
}

TEST(ReferenceBitNet2B4T, FfnGateUp_6912x2560) {
  std::mt19937 rng(203);
  check_reference(make_layer(6912, 2560, 1, rng));
}

TEST(ReferenceBitNet2B4T, FfnDown_2560x6912) {
  std::mt19937 rng(204);
  check_reference(make_layer(2560, 6912, 1, rng, ScaleGranularity::per_row));
}

// ---- Public entry points on the scalar path --------------------------------------------------

TEST(PublicGemmScalar, GemmAndGemmInt32MatchTheNaiveProduct) {
  std::mt19937 rng(301);
  const trit::GemmOptions scalar{trit::Isa::scalar};
  for (std::size_t cols : {1u, 7u, 320u, 333u, 6912u}) {
    for (std::size_t tokens : {1u, 2u, 5u}) {
      const Layer layer = make_layer(19, cols, tokens, rng, cols % 2 ? ScaleGranularity::per_row : ScaleGranularity::per_tensor);
      SCOPED_TRACE(::testing::Message() << "K = " << cols << ", " << tokens << " tokens");
      const std::vector<std::int32_t> want = naive_acc(layer);
      std::vector<std::int32_t> acc(tokens * 19, kAccSentinel);
      trit::gemm_int32(layer.packed, layer.activations(), trit::matrix(acc.data(), tokens, 19), scalar);
      EXPECT_EQ(acc, want);
      std::vector<float> y(tokens * 21, kYSentinel);
      trit::gemm(layer.packed, layer.activations(), trit::matrix(y.data(), tokens, 19, 21), layer.bias.data(), scalar);
      EXPECT_TRUE(same_output(y, 21, expected_y(layer, want, true), tokens, 19, kYSentinel));
      std::vector<float> y_plain(tokens * 19);
      trit::gemm(layer.packed, layer.activations(), trit::matrix(y_plain.data(), tokens, 19), nullptr, scalar);
      EXPECT_TRUE(same_output(y_plain, 19, expected_y(layer, want, false), tokens, 19, 0.0f));
    }
  }
}

TEST(PublicGemmScalar, ResultsDoNotDependOnThreadCount) {
  std::mt19937 rng(302);
  const Layer layer = make_layer(37, 641, 3, rng);
  const std::vector<float> want = expected_y(layer, naive_acc(layer), true);
  for (unsigned threads : {1u, 2u, 3u, 8u, 64u, 0u}) {
    trit::GemmOptions options;
    options.isa = trit::Isa::scalar;
    options.threads = threads;
    std::vector<float> y(3 * 37);
    trit::gemm(layer.packed, layer.activations(), trit::matrix(y.data(), 3, 37), layer.bias.data(), options);
    EXPECT_TRUE(same_output(y, 37, want, 3, 37, 0.0f)) << threads << " threads";
    std::vector<std::int32_t> acc(3 * 37);
    trit::gemm_int32(layer.packed, layer.activations(), trit::matrix(acc.data(), 3, 37), options);
    EXPECT_EQ(acc, naive_acc(layer)) << threads << " threads";
  }
}

TEST(PublicGemmScalar, Gemv) {
  std::mt19937 rng(303);
  for (std::size_t cols : {1u, 321u, 2560u}) {
    const Layer layer = make_layer(23, cols, 1, rng, ScaleGranularity::per_row);
    const std::vector<std::int32_t> want = naive_acc(layer);
    std::vector<float> y(23, kYSentinel);
    trit::gemv(layer.packed, layer.x.data(), layer.x_scales[0], y.data(), layer.bias.data(), trit::GemmOptions{trit::Isa::scalar});
    EXPECT_TRUE(same_output(y, 23, expected_y(layer, want, true), 1, 23, kYSentinel)) << "K = " << cols;
    trit::gemv(layer.packed, layer.x.data(), layer.x_scales[0], y.data(), nullptr, trit::GemmOptions{trit::Isa::scalar});
    EXPECT_TRUE(same_output(y, 23, expected_y(layer, want, false), 1, 23, kYSentinel)) << "K = " << cols;
  }
}

TEST(PublicGemmScalar, RowRanges) {
  std::mt19937 rng(304);
  const Layer layer = make_layer(29, 700, 2, rng);
  const std::vector<std::int32_t> want = naive_acc(layer);
  const std::vector<float> want_y = expected_y(layer, want, true);
  std::vector<std::int32_t> acc(2 * 29, kAccSentinel);
  std::vector<float> y(2 * 29, kYSentinel);
  // Disjoint ranges that together cover every row, including an empty one.
  const std::size_t cuts[] = {0, 1, 1, 10, 28, 29};
  for (std::size_t i = 0; i + 1 < sizeof cuts / sizeof cuts[0]; ++i) {
    trit::gemm_int32_rows(layer.packed, layer.activations(), trit::matrix(acc.data(), 2, 29), cuts[i], cuts[i + 1],
                          trit::Isa::scalar);
    trit::gemm_rows(layer.packed, layer.activations(), trit::matrix(y.data(), 2, 29), layer.bias.data(), cuts[i],
                    cuts[i + 1], trit::Isa::scalar);
  }
  EXPECT_EQ(acc, want);
  EXPECT_TRUE(same_output(y, 29, want_y, 2, 29, kYSentinel));

  std::vector<std::int32_t> partial(2 * 29, kAccSentinel);
  trit::gemm_int32_rows(layer.packed, layer.activations(), trit::matrix(partial.data(), 2, 29), 5, 9, trit::Isa::scalar);
  for (std::size_t i = 0; i < partial.size(); ++i) {
    const std::size_t m = i % 29;
    EXPECT_EQ(partial[i], m >= 5 && m < 9 ? want[i] : kAccSentinel) << "index " << i;
  }
}

// ---- Argument checks -------------------------------------------------------------------------

TEST(PublicGemmErrors, ShapeMismatches) {
  std::mt19937 rng(401);
  const Layer layer = make_layer(5, 10, 2, rng);
  const trit::GemmOptions scalar{trit::Isa::scalar};
  std::vector<float> y(64);
  std::vector<std::int32_t> acc(64);
  const trit::ActivationsView x = layer.activations();
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::gemm(layer.packed, x, trit::matrix(y.data(), 5, 2), nullptr, scalar); },
      "trit::gemm: y: expected a 2x5 matrix, got 5x2"));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::gemm(layer.packed, x, trit::matrix(y.data(), 2, 4), nullptr, scalar); }, "expected a 2x5 matrix, got 2x4"));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::gemm_int32(layer.packed, x, trit::matrix(acc.data(), 3, 5), scalar); },
      "trit::gemm_int32: acc: expected a 2x5 matrix, got 3x5"));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::gemm(layer.packed, x, trit::MatrixRef<float>{y.data(), 2, 5, 4}, nullptr, scalar); },
      "y: stride 4 is smaller than cols 5"));

  trit::ActivationsView wrong_cols = x;
  wrong_cols.cols = 9;
  wrong_cols.stride = 13;
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::gemm(layer.packed, wrong_cols, trit::matrix(y.data(), 2, 5), nullptr, scalar); },
      "x has 9 columns but the weights have K = 10"));
  trit::ActivationsView no_tokens = x;
  no_tokens.tokens = 0;
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::gemm_int32(layer.packed, no_tokens, trit::matrix(acc.data(), 0, 5), scalar); }, "x has no tokens"));
  trit::ActivationsView short_stride = x;
  short_stride.stride = 9;
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::gemm(layer.packed, short_stride, trit::matrix(y.data(), 2, 5), nullptr, scalar); },
      "x.stride 9 is smaller than x.cols 10"));

  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::gemm(trit::PackedMatrix{}, x, trit::matrix(y.data(), 2, 5), nullptr, scalar); }, "trit::gemm: w is empty"));
}

TEST(PublicGemmErrors, NullPointersAndBadScales) {
  std::mt19937 rng(402);
  const Layer layer = make_layer(5, 10, 2, rng);
  const trit::GemmOptions scalar{trit::Isa::scalar};
  std::vector<float> y(10);
  std::vector<std::int32_t> acc(10);
  trit::ActivationsView null_data = layer.activations();
  null_data.data = nullptr;
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::gemm(layer.packed, null_data, trit::matrix(y.data(), 2, 5), nullptr, scalar); },
      "x has null data or scales"));
  trit::ActivationsView null_scales = layer.activations();
  null_scales.scales = nullptr;
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::gemm_int32(layer.packed, null_scales, trit::matrix(acc.data(), 2, 5), scalar); },
      "x has null data or scales"));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::gemm(layer.packed, layer.activations(), trit::matrix<float>(nullptr, 2, 5), nullptr, scalar); },
      "y: null data for a 2x5 matrix"));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::gemm_int32(layer.packed, layer.activations(), trit::matrix<std::int32_t>(nullptr, 2, 5), scalar); },
      "acc: null data"));

  for (float bad : {0.0f, -1.0f, std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    std::vector<float> scales = layer.x_scales;
    scales[1] = bad;
    trit::ActivationsView x = layer.activations();
    x.scales = scales.data();
    EXPECT_TRUE(throws_with<std::invalid_argument>(
        [&] { trit::gemm(layer.packed, x, trit::matrix(y.data(), 2, 5), nullptr, scalar); }, "x.scales[1] ="))
        << "scale " << bad;
  }

  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::gemv(layer.packed, layer.x.data(), 1.0f, nullptr, nullptr, scalar); }, "trit::gemv: y is null"));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::gemv(layer.packed, nullptr, 1.0f, y.data(), nullptr, scalar); }, "x has null data or scales"));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::gemv(layer.packed, layer.x.data(), 0.0f, y.data(), nullptr, scalar); }, "x.scales[0] = 0"));
}

TEST(PublicGemmErrors, RowRangeOutsideTheMatrix) {
  std::mt19937 rng(403);
  const Layer layer = make_layer(5, 10, 1, rng);
  std::vector<float> y(5);
  std::vector<std::int32_t> acc(5);
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::gemm_rows(layer.packed, layer.activations(), trit::matrix(y.data(), 1, 5), nullptr, 3, 2, trit::Isa::scalar); },
      "trit::gemm_rows: row range [3, 2) is not inside [0, 5)"));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::gemm_int32_rows(layer.packed, layer.activations(), trit::matrix(acc.data(), 1, 5), 0, 6, trit::Isa::scalar); },
      "trit::gemm_int32_rows: row range [0, 6) is not inside [0, 5)"));
}

// ---- Kernel paths this CPU cannot run --------------------------------------------------------

TEST(PublicGemmIsa, ForcingAnUnsupportedPathThrows) {
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
  const trit::Isa foreign[] = {trit::Isa::neon, trit::Isa::neon_dotprod};
#elif defined(__aarch64__)
  const trit::Isa foreign[] = {trit::Isa::avx2, trit::Isa::avx512vnni};
#else
  const trit::Isa foreign[] = {trit::Isa::avx2, trit::Isa::neon};
#endif
  std::mt19937 rng(501);
  const Layer layer = make_layer(4, 20, 2, rng);
  std::vector<float> y(8);
  std::vector<std::int32_t> acc(8);
  for (trit::Isa isa : foreign) {
    EXPECT_FALSE(trit::isa_supported(isa)) << trit::isa_name(isa);
    const std::string name = std::string("kernel path '") + trit::isa_name(isa) + "' is not supported here";
    EXPECT_TRUE(throws_with<trit::unsupported_isa_error>(
        [&] { trit::gemm(layer.packed, layer.activations(), trit::matrix(y.data(), 2, 4), nullptr, trit::GemmOptions{isa}); },
        name));
    EXPECT_TRUE(throws_with<trit::unsupported_isa_error>(
        [&] { trit::gemm_int32(layer.packed, layer.activations(), trit::matrix(acc.data(), 2, 4), trit::GemmOptions{isa}); },
        name));
    EXPECT_TRUE(throws_with<trit::unsupported_isa_error>(
        [&] { trit::gemv(layer.packed, layer.x.data(), 1.0f, y.data(), nullptr, trit::GemmOptions{isa}); }, name));
    EXPECT_TRUE(throws_with<trit::unsupported_isa_error>(
        [&] { trit::gemm_rows(layer.packed, layer.activations(), trit::matrix(y.data(), 2, 4), nullptr, 0, 4, isa); }, name));
  }
}

TEST(PublicGemmIsa, EveryPathIsEitherSupportedOrRefused) {
  std::mt19937 rng(502);
  const Layer layer = make_layer(4, 20, 1, rng);
  std::vector<std::int32_t> acc(4);
  EXPECT_TRUE(trit::isa_supported(trit::Isa::scalar));
  for (trit::Isa isa : trit::kAllIsas) {
    if (trit::isa_supported(isa)) continue;
    EXPECT_THROW(trit::gemm_int32(layer.packed, layer.activations(), trit::matrix(acc.data(), 1, 4), trit::GemmOptions{isa}),
                 trit::unsupported_isa_error)
        << trit::isa_name(isa);
  }
}

TEST(PublicGemmIsa, NamesRoundTrip) {
  for (trit::Isa isa : trit::kAllIsas) EXPECT_EQ(trit::parse_isa(trit::isa_name(isa)), isa);
  EXPECT_EQ(trit::parse_isa("auto"), trit::Isa::automatic);
  EXPECT_TRUE(throws_with<std::invalid_argument>([] { trit::parse_isa("sse9"); }, "unknown kernel path 'sse9'"));
}

}  // namespace
