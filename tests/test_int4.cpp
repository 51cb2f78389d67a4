// The int4 activation path: packed int4 activations, their quantizers, the LutWeights layout,
// the scalar reference, and every int4 kernel path this CPU supports against that reference
// (exact int32 sums and bit-identical floats) over ragged K, partial tiles, row ranges,
// threads and extreme values. Paths the CPU lacks are skipped with the reason (without
// TRIT_ENABLE_INT4 only the scalar int4 kernels are compiled).

#include <gtest/gtest.h>

#include <trit/trit.hpp>
#include <trit/driver/gemm_int4.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace {

using trit::Isa;

// ---- Packed int4 activations --------------------------------------------------------------

TEST(Int4Packing, NibbleOrderIsLowNibbleForEvenColumnsTwosComplement) {
  const std::int8_t values[5] = {-8, 7, -1, 0, 3};
  std::uint8_t packed[3] = {0xAA, 0xAA, 0xAA};
  trit::int4::pack_row(values, 5, packed);
  EXPECT_EQ(packed[0], 0x78);  // -8 -> 0x8 low, 7 -> 0x7 high
  EXPECT_EQ(packed[1], 0x0F);  // -1 -> 0xF low, 0 high
  EXPECT_EQ(packed[2], 0x03);  // 3 low, padding nibble 0
  for (std::size_t k = 0; k < 5; ++k) EXPECT_EQ(trit::int4::value_at(packed, k), values[k]) << k;
}

TEST(Int4Packing, EveryNibbleRoundTrips) {
  for (int v = -8; v <= 7; ++v) {
    EXPECT_EQ(trit::int4::from_nibble(trit::int4::to_nibble(v)), v);
  }
  EXPECT_EQ(trit::int4::to_nibble(-8), 0x8);
  EXPECT_EQ(trit::int4::to_nibble(-1), 0xF);
}

TEST(Int4Packing, PackUnpackRoundTripsOddAndEvenLengths) {
  std::mt19937 rng(1);
  std::uniform_int_distribution<int> dist(-8, 7);
  for (std::size_t cols : {1u, 2u, 3u, 63u, 64u, 65u, 128u, 129u, 1001u}) {
    std::vector<std::int8_t> values(cols), back(cols);
    for (auto& v : values) v = static_cast<std::int8_t>(dist(rng));
    std::vector<std::uint8_t> packed((cols + 1) / 2);
    trit::int4::pack_row(values.data(), cols, packed.data());
    trit::int4::unpack_row(packed.data(), cols, back.data());
    EXPECT_EQ(back, values) << "cols " << cols;
  }
}

TEST(Int4Packing, PackedRowsAreAlignedAndZeroPadded) {
  const trit::PackedInt4Activations x(3, 130, trit::ActivationScheme::int4_absmax);
  EXPECT_EQ(x.stride(), 128u);  // 65 bytes rounded up to 64-byte rows
  for (std::size_t n = 0; n < 3; ++n) {
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(x.row(n)) % 64, 0u);
    for (std::size_t b = 0; b < x.stride(); ++b) EXPECT_EQ(x.row(n)[b], 0);
  }
}

TEST(Int4Quantize, MatchesTheInt8StoredQuantizerExactly) {
  std::mt19937 rng(2);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  const std::size_t tokens = 4, cols = 333;
  std::vector<float> x(tokens * cols);
  for (auto& v : x) v = dist(rng);
  x[5] = 40.0f;  // an outlier, so absmean clamps at 7 and -8
  x[cols + 7] = -40.0f;
  for (auto scheme : {trit::ActivationScheme::int4_absmax, trit::ActivationScheme::int4_absmean}) {
    const auto view = trit::matrix<const float>(x.data(), tokens, cols);
    const trit::QuantizedActivations expected = trit::quantize_activations(view, scheme);
    const trit::PackedInt4Activations packed = trit::quantize_activations_int4(view, scheme);
    EXPECT_EQ(packed.scheme(), scheme);
    for (std::size_t n = 0; n < tokens; ++n) {
      EXPECT_EQ(packed.scale(n), expected.scale(n));
      for (std::size_t k = 0; k < cols; ++k) ASSERT_EQ(packed.value(n, k), expected.row(n)[k]) << n << "," << k;
    }
  }
}

TEST(Int4Quantize, HandComputedTokens) {
  const float x[4] = {-100.0f, 100.0f, 0.0f, 1.0f};
  const trit::PackedInt4Activations q =
      trit::quantize_activations_int4(trit::matrix<const float>(x, 1, 4), trit::ActivationScheme::int4_absmean);
  // mean|x| = 50.25, s = sqrt(7) / 50.25: +-100 * s = +-5.265 -> +-5, 1 * s -> 0.
  EXPECT_EQ(q.value(0, 0), -5);
  EXPECT_EQ(q.value(0, 1), 5);
  const trit::PackedInt4Activations q2 =
      trit::quantize_activations_int4(trit::matrix<const float>(x, 1, 4), trit::ActivationScheme::int4_absmax);
  EXPECT_EQ(q2.value(0, 0), -7);
  EXPECT_EQ(q2.value(0, 1), 7);
  EXPECT_EQ(q2.value(0, 3), 0);
}

TEST(Int4Quantize, RejectsInt8SchemesAndBadInput) {
  const float x[2] = {1.0f, 2.0f};
  const auto view = trit::matrix<const float>(x, 1, 2);
  EXPECT_THROW(trit::quantize_activations_int4(view, trit::ActivationScheme::int8_absmax), std::invalid_argument);
  EXPECT_THROW(trit::quantize_activations_int4(view, trit::ActivationScheme::int8_topk), std::invalid_argument);
  const float bad[2] = {1.0f, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_THROW(trit::quantize_activations_int4(trit::matrix<const float>(bad, 1, 2)), std::invalid_argument);
}

TEST(Int4Quantize, PackInt4RejectsValuesOutsideTheRange) {
  const float x[3] = {1.0f, -2.0f, 3.0f};
  const trit::QuantizedActivations q8 = trit::quantize_activations(trit::matrix<const float>(x, 1, 3));
  EXPECT_THROW(trit::pack_int4(q8), std::invalid_argument);  // an int8 scheme
  EXPECT_THROW(trit::pack_int4(q8.view(), trit::ActivationScheme::int4_absmax), std::invalid_argument);  // 127
  const trit::QuantizedActivations q4 =
      trit::quantize_activations(trit::matrix<const float>(x, 1, 3), trit::ActivationScheme::int4_absmax);
  const trit::PackedInt4Activations packed = trit::pack_int4(q4);
  EXPECT_EQ(packed.value(0, 0), 2);  // 1 * 7/3 = 2.33
  EXPECT_EQ(packed.value(0, 1), -5);  // -4.67
  EXPECT_EQ(packed.value(0, 2), 7);
  EXPECT_EQ(packed.scale(0), q4.scale(0));
}

// ---- LutWeights ------------------------------------------------------------------------------

TEST(LutWeights, CodesFoldNegationIntoTheTopBit) {
  EXPECT_EQ(trit::lut::code_from_byte(trit::dense243::kZeroByte), trit::lut::kZeroCode);
  EXPECT_EQ(trit::lut::code_from_byte(0), 0);  // five -1 trits: v = 0
  EXPECT_EQ(trit::lut::code_from_byte(255), 0x80);  // five +1 trits: v = 242 = negated 0
  for (int v = 0; v < 243; ++v) {
    const std::uint8_t b = trit::dense243::byte_from_value(v);
    const std::uint8_t code = trit::lut::code_from_byte(b);
    EXPECT_LE(code & 0x7F, 121);
    EXPECT_EQ(trit::lut::byte_from_code(code), b);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(trit::lut::code_trit(code, i), trit::dense243::decode_trit(b, i));
  }
}

TEST(LutWeights, ColumnOfMapsEveryTritOfRaggedRowsOnce) {
  for (std::size_t cols : {1u, 4u, 5u, 6u, 319u, 320u, 321u, 641u, 6912u}) {
    const trit::dense243::RowLayout layout = trit::dense243::row_layout(cols);
    std::vector<int> seen(cols, 0);
    for (std::size_t p = 0; p < layout.bytes; ++p) {
      for (int i = 0; i < 5; ++i) {
        const std::size_t k = trit::lut::column_of(layout, p, i);
        if (k == trit::lut::kPadding) continue;
        ASSERT_LT(k, cols);
        const trit::dense243::TritPosition at = trit::dense243::locate(layout, k);
        EXPECT_EQ(at.byte, p);
        EXPECT_EQ(at.digit, i);
        ++seen[k];
      }
    }
    for (std::size_t k = 0; k < cols; ++k) EXPECT_EQ(seen[k], 1) << "cols " << cols << " k " << k;
  }
}

TEST(LutWeights, RoundTripsToThePackedMatrixWithPaddingRowsOfZeros) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> trit_dist(-1, 1);
  for (auto [rows, cols] : {std::pair<std::size_t, std::size_t>{1, 1}, {63, 321}, {64, 320}, {65, 7}, {130, 1000}}) {
    std::vector<std::int8_t> trits(rows * cols);
    for (auto& t : trits) t = static_cast<std::int8_t>(trit_dist(rng));
    std::vector<float> scales(rows);
    for (std::size_t m = 0; m < rows; ++m) scales[m] = 0.25f + static_cast<float>(m);
    const trit::PackedMatrix packed = trit::pack_trits(trit::matrix<const std::int8_t>(trits.data(), rows, cols),
                                                       scales.data(), rows, trit::ScaleGranularity::per_row);
    const trit::LutWeights lut(packed);
    EXPECT_EQ(lut.tiles(), (rows + 63) / 64);
    EXPECT_EQ(lut.positions(), packed.row_bytes());
    EXPECT_EQ(lut.weight_bytes(), lut.tiles() * 64 * packed.row_bytes());
    for (std::size_t m = lut.rows(); m < lut.tiles() * 64; ++m) {
      for (std::size_t p = 0; p < lut.positions(); ++p) EXPECT_EQ(lut.code(m, p), trit::lut::kZeroCode);
    }
    const trit::PackedMatrix back = lut.to_packed();
    ASSERT_EQ(back.rows(), rows);
    ASSERT_EQ(back.cols(), cols);
    EXPECT_EQ(back.scales(), packed.scales());
    EXPECT_EQ(std::memcmp(back.data(), packed.data(), packed.weight_bytes()), 0);
  }
}

// ---- The scalar reference ----------------------------------------------------------------

TEST(Int4Reference, AgreesWithTheInt8ReferenceOnTheSameValues) {
  std::mt19937 rng(4);
  std::uniform_int_distribution<int> trit_dist(-1, 1), act_dist(-8, 7);
  const std::size_t rows = 9, cols = 700, tokens = 3;
  std::vector<std::int8_t> trits(rows * cols), values(tokens * cols);
  for (auto& t : trits) t = static_cast<std::int8_t>(trit_dist(rng));
  for (auto& v : values) v = static_cast<std::int8_t>(act_dist(rng));
  const float w_scale = 0.75f;
  const trit::PackedMatrix w = trit::pack_trits(trit::matrix<const std::int8_t>(trits.data(), rows, cols), &w_scale, 1);
  std::vector<float> scales = {1.5f, 3.0f, 0.125f};
  const trit::ActivationsView x8{values.data(), tokens, cols, cols, scales.data()};
  const trit::PackedInt4Activations x4 = trit::pack_int4(x8, trit::ActivationScheme::int4_absmax);
  std::vector<std::int32_t> acc8(tokens * rows), acc4(tokens * rows);
  trit::ref::gemm_int32_rows(w, x8, trit::matrix(acc8.data(), tokens, rows), 0, rows);
  trit::ref::gemm_int4_int32_rows(w, x4, trit::matrix(acc4.data(), tokens, rows), 0, rows);
  EXPECT_EQ(acc4, acc8);
  std::vector<float> y8(tokens * rows), y4(tokens * rows);
  trit::ref::gemm_rows(w, x8, trit::matrix(y8.data(), tokens, rows), nullptr, 0, rows);
  trit::ref::gemm_int4_rows(w, x4, trit::matrix(y4.data(), tokens, rows), nullptr, 0, rows);
  EXPECT_EQ(y4, y8);
}

TEST(Int4Reference, HandComputedProduct) {
  const std::int8_t trits[2 * 3] = {1, -1, 0, -1, -1, 1};
  const float w_scale = 2.0f;
  const trit::PackedMatrix w = trit::pack_trits(trit::matrix<const std::int8_t>(trits, 2, 3), &w_scale, 1);
  const std::int8_t values[3] = {-8, 7, 5};
  const float scale = 4.0f;
  const trit::PackedInt4Activations x =
      trit::pack_int4(trit::ActivationsView{values, 1, 3, 3, &scale}, trit::ActivationScheme::int4_absmax);
  std::int32_t acc[2];
  trit::ref::gemm_int4_int32_rows(w, x, trit::matrix(acc, 1, 2), 0, 2);
  EXPECT_EQ(acc[0], -15);  // -8 - 7
  EXPECT_EQ(acc[1], 6);    // 8 - 7 + 5
  float y[2];
  const float bias[2] = {0.5f, -1.0f};
  trit::ref::gemm_int4_rows(w, x, trit::matrix(y, 1, 2), bias, 0, 2);
  EXPECT_EQ(y[0], -15.0f / 4.0f * 2.0f + 0.5f);
  EXPECT_EQ(y[1], 6.0f / 4.0f * 2.0f - 1.0f);
}

// ---- Every int4 kernel path against the reference ----------------------------------------------

enum class WeightFill { random, plus_ones, minus_ones, zeros };
enum class ActFill { random, all_min, all_max };

struct Problem {
  trit::PackedMatrix packed;
  trit::LutWeights lut;
  trit::PackedInt4Activations x;
  std::vector<float> bias;
};

Problem make_problem(std::size_t rows, std::size_t cols, std::size_t tokens, std::uint32_t seed,
                     WeightFill wfill = WeightFill::random, ActFill afill = ActFill::random,
                     trit::ScaleGranularity granularity = trit::ScaleGranularity::per_row) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> trit_dist(-1, 1), act_dist(-8, 7);
  std::uniform_real_distribution<float> scale_dist(0.01f, 2.0f);
  std::vector<std::int8_t> trits(rows * cols);
  for (auto& t : trits) {
    switch (wfill) {
      case WeightFill::random: t = static_cast<std::int8_t>(trit_dist(rng)); break;
      case WeightFill::plus_ones: t = 1; break;
      case WeightFill::minus_ones: t = -1; break;
      case WeightFill::zeros: t = 0; break;
    }
  }
  std::vector<float> w_scales(granularity == trit::ScaleGranularity::per_row ? rows : 1);
  for (auto& s : w_scales) s = scale_dist(rng);
  std::vector<std::int8_t> values(tokens * cols);
  for (auto& v : values) {
    v = static_cast<std::int8_t>(afill == ActFill::all_min ? -8 : afill == ActFill::all_max ? 7 : act_dist(rng));
  }
  std::vector<float> scales(tokens);
  for (auto& s : scales) s = scale_dist(rng) * 5.0f;
  Problem p;
  p.packed = trit::pack_trits(trit::matrix<const std::int8_t>(trits.data(), rows, cols), w_scales.data(),
                              w_scales.size(), granularity);
  p.lut = trit::LutWeights(p.packed);
  p.x = trit::pack_int4(trit::ActivationsView{values.data(), tokens, cols, cols, scales.data()},
                        trit::ActivationScheme::int4_absmax);
  p.bias.resize(rows);
  for (auto& b : p.bias) b = scale_dist(rng) - 1.0f;
  return p;
}

struct Expected {
  std::vector<std::int32_t> acc;
  std::vector<float> y;
};

Expected reference(const Problem& p, bool with_bias = true) {
  const std::size_t rows = p.packed.rows(), tokens = p.x.tokens();
  Expected e{std::vector<std::int32_t>(tokens * rows), std::vector<float>(tokens * rows)};
  trit::ref::gemm_int4_int32_rows(p.packed, p.x, trit::matrix(e.acc.data(), tokens, rows), 0, rows);
  trit::ref::gemm_int4_rows(p.packed, p.x, trit::matrix(e.y.data(), tokens, rows), with_bias ? p.bias.data() : nullptr,
                            0, rows);
  return e;
}

class Int4KernelPath : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!trit::has_own_kernels(trit::kProductLutInt4, GetParam())) {
      GTEST_SKIP() << trit::isa_name(GetParam()) << ": " << trit::own_kernels_missing_reason(trit::kProductLutInt4, GetParam());
    }
  }

  trit::GemmOptions options(unsigned threads = 1) const {
    trit::GemmOptions o;
    o.isa = GetParam();
    o.threads = threads;
    return o;
  }

  void expect_matches(const Problem& p, const std::string& what, unsigned threads = 1) const {
    const Expected e = reference(p);
    const std::size_t rows = p.packed.rows(), tokens = p.x.tokens();
    std::vector<std::int32_t> acc(tokens * rows, 0x5A5A5A5A);
    trit::gemm_int4_int32(p.lut, p.x, trit::matrix(acc.data(), tokens, rows), options(threads));
    EXPECT_EQ(acc, e.acc) << what;
    std::vector<float> y(tokens * rows, -1.0f);
    trit::gemm_int4(p.lut, p.x, trit::matrix(y.data(), tokens, rows), p.bias.data(), options(threads));
    EXPECT_EQ(y, e.y) << what;
  }
};

TEST_P(Int4KernelPath, EveryKFromOneToTwoGroupsAndAHalf) {
  for (std::size_t cols = 1; cols <= 800; cols += (cols < 40 ? 1 : 13)) {
    expect_matches(make_problem(70, cols, 2, static_cast<std::uint32_t>(cols)), "K " + std::to_string(cols));
  }
}

TEST_P(Int4KernelPath, KAroundGroupMultiplesAndFlushBoundaries) {
  // 768 positions (3840 trits) is where the int16 partial sums widen to int32.
  for (std::size_t cols : {319u, 320u, 321u, 639u, 640u, 641u, 959u, 960u, 961u, 3199u, 3840u, 3841u, 3845u, 3846u}) {
    expect_matches(make_problem(65, cols, 1, static_cast<std::uint32_t>(cols) + 7), "K " + std::to_string(cols));
  }
}

TEST_P(Int4KernelPath, PartialTilesOfRows) {
  for (std::size_t rows : {1u, 2u, 63u, 64u, 65u, 127u, 128u, 129u, 191u, 255u, 256u, 257u, 320u, 449u}) {
    expect_matches(make_problem(rows, 333, 3, static_cast<std::uint32_t>(rows)), "M " + std::to_string(rows));
  }
}

TEST_P(Int4KernelPath, ManyTokens) {
  for (std::size_t tokens : {1u, 2u, 5u, 17u}) {
    expect_matches(make_problem(130, 450, tokens, static_cast<std::uint32_t>(tokens) + 100),
                   "N " + std::to_string(tokens));
  }
}

TEST_P(Int4KernelPath, ExtremeValuesAtTheLargestSums) {
  // All-equal signs make every lookup +-40 and every sum +-8K or +-7K: the widest int8
  // partials, the most int16 flushes and the largest int32 results.
  const std::size_t cols = 6912;
  for (WeightFill wfill : {WeightFill::plus_ones, WeightFill::minus_ones, WeightFill::zeros}) {
    for (ActFill afill : {ActFill::all_min, ActFill::all_max}) {
      const Problem p = make_problem(129, cols, 2, 5, wfill, afill);
      const Expected e = reference(p);
      const int act = afill == ActFill::all_min ? -8 : 7;
      const int weight = wfill == WeightFill::plus_ones ? 1 : wfill == WeightFill::minus_ones ? -1 : 0;
      EXPECT_EQ(e.acc[0], weight * act * static_cast<int>(cols));
      expect_matches(p, "extremes");
    }
  }
}

TEST_P(Int4KernelPath, RealShapes) {
  expect_matches(make_problem(640, 2560, 1, 11), "640x2560");
  expect_matches(make_problem(2560, 6912, 1, 12), "2560x6912");
  expect_matches(make_problem(96, 3200, 2, 13), "96x3200");
}

TEST_P(Int4KernelPath, PerTensorScaleAndNoBias) {
  const Problem p = make_problem(100, 500, 2, 21, WeightFill::random, ActFill::random,
                                 trit::ScaleGranularity::per_tensor);
  const Expected e = reference(p, false);
  std::vector<float> y(2 * 100);
  trit::gemm_int4(p.lut, p.x, trit::matrix(y.data(), 2, 100), nullptr, options());
  EXPECT_EQ(y, e.y);
}

TEST_P(Int4KernelPath, ResultsDoNotDependOnThreads) {
  const Problem p = make_problem(700, 999, 3, 31);
  for (unsigned threads : {1u, 2u, 3u, 0u}) expect_matches(p, "threads " + std::to_string(threads), threads);
}

TEST_P(Int4KernelPath, RowRangesWriteOnlyTheirRows) {
  const Problem p = make_problem(300, 777, 2, 41);
  const Expected e = reference(p);
  const std::size_t rows = 300, tokens = 2;
  for (auto [m0, m1] : {std::pair<std::size_t, std::size_t>{0, 300}, {0, 64}, {64, 128}, {5, 6}, {63, 65}, {100, 299},
                        {299, 300}, {17, 17}}) {
    std::vector<float> y(tokens * rows, -7.0f);
    trit::gemm_int4_rows(p.lut, p.x, trit::matrix(y.data(), tokens, rows), p.bias.data(), m0, m1, GetParam());
    std::vector<std::int32_t> acc(tokens * rows, -7);
    trit::gemm_int4_int32_rows(p.lut, p.x, trit::matrix(acc.data(), tokens, rows), m0, m1, GetParam());
    for (std::size_t n = 0; n < tokens; ++n) {
      for (std::size_t m = 0; m < rows; ++m) {
        const bool inside = m >= m0 && m < m1;
        ASSERT_EQ(y[n * rows + m], inside ? e.y[n * rows + m] : -7.0f) << m0 << ".." << m1 << " m " << m;
        ASSERT_EQ(acc[n * rows + m], inside ? e.acc[n * rows + m] : -7) << m0 << ".." << m1 << " m " << m;
      }
    }
  }
}

TEST_P(Int4KernelPath, OutputStridesAndTightInputViews) {
  const Problem p = make_problem(77, 301, 3, 51);
  const Expected e = reference(p);
  const std::size_t rows = 77, tokens = 3, y_stride = 90;
  std::vector<float> y(tokens * y_stride, 9.0f);
  // A caller's view with tight rows ((301 + 1) / 2 bytes each) instead of the padded ones.
  std::vector<std::uint8_t> tight(tokens * 151);
  for (std::size_t n = 0; n < tokens; ++n) std::memcpy(tight.data() + n * 151, p.x.row(n), 151);
  const trit::Int4ActivationsView view{tight.data(), tokens, 301, 151, p.x.scales().data()};
  trit::gemm_int4(p.lut, view, trit::matrix(y.data(), tokens, rows, y_stride), p.bias.data(), options());
  for (std::size_t n = 0; n < tokens; ++n) {
    for (std::size_t m = 0; m < y_stride; ++m) {
      ASSERT_EQ(y[n * y_stride + m], m < rows ? e.y[n * rows + m] : 9.0f) << n << "," << m;
    }
  }
}

TEST_P(Int4KernelPath, GemvMatchesGemmOnOneToken) {
  const Problem p = make_problem(200, 2560, 1, 61);
  const Expected e = reference(p);
  std::vector<float> y(200);
  trit::gemv_int4(p.lut, p.x.row(0), p.x.scale(0), y.data(), p.bias.data(), options());
  EXPECT_EQ(y, e.y);
}

std::string PathName(const ::testing::TestParamInfo<Isa>& info) {
  std::string name = trit::isa_name(info.param);
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(AllPaths, Int4KernelPath, ::testing::ValuesIn(trit::paths_with_product(trit::kProductLutInt4)), PathName);

// ---- Dispatch and argument checks --------------------------------------------------------------

// The fallback chains of the table: a path without int4 kernels of its own is served by the
// first path down its chain that has them and runs here.
TEST(Int4Dispatch, PathsWithoutInt4KernelsFallBackAlongTheirChain) {
  EXPECT_EQ(trit::find_path(Isa::avxvnni)->fallback, Isa::avx2);
  EXPECT_EQ(trit::find_path(Isa::avx512vnni)->fallback, Isa::avx512bw);
  EXPECT_EQ(trit::find_path(Isa::neon_dotprod)->fallback, Isa::neon);
  EXPECT_EQ(trit::gemm_int4_path(Isa::scalar), Isa::scalar);
  for (Isa isa : trit::kAllIsas) {
    if (!trit::isa_supported(isa)) continue;
    Isa expected = isa;
    while (!trit::has_own_kernels(trit::kProductLutInt4, expected)) expected = trit::find_path(expected)->fallback;
    EXPECT_EQ(trit::gemm_int4_path(isa), expected) << trit::isa_name(isa);
  }
}

TEST(Int4Dispatch, AutomaticPicksASupportedPath) {
  EXPECT_TRUE(trit::has_own_kernels(trit::kProductLutInt4, trit::gemm_int4_path()));
  EXPECT_TRUE(trit::has_own_kernels(trit::kProductLutInt4, Isa::scalar));
  EXPECT_EQ(trit::detail::select_kernels<trit::detail::LutInt4Product>(Isa::automatic).isa, trit::gemm_int4_path());
}

TEST(Int4Dispatch, UnsupportedPathsThrowInsteadOfCrashing) {
  const Problem p = make_problem(10, 20, 1, 71);
  std::vector<float> y(10);
  for (Isa isa : trit::kAllIsas) {
    trit::GemmOptions o;
    o.isa = isa;
    if (trit::isa_supported(isa)) {
      EXPECT_NO_THROW(trit::gemm_int4(p.lut, p.x, trit::matrix(y.data(), 1, 10), nullptr, o)) << trit::isa_name(isa);
    } else {
      EXPECT_THROW(trit::gemm_int4(p.lut, p.x, trit::matrix(y.data(), 1, 10), nullptr, o), trit::unsupported_isa_error)
          << trit::isa_name(isa);
      EXPECT_FALSE(trit::isa_unsupported_reason(isa).empty());
    }
  }
}

TEST(Int4Dispatch, ArgumentsAreChecked) {
  const Problem p = make_problem(10, 20, 2, 81);
  std::vector<float> y(2 * 10);
  // pack_int4 used to copy a NaN or negative scale through unchecked; every product then
  // rejected it, far from where it came in.
  const std::int8_t values[3] = {1, -2, 3};
  for (float bad : {std::nanf(""), -1.0f, 0.0f, std::numeric_limits<float>::infinity()}) {
    EXPECT_THROW(trit::pack_int4(trit::ActivationsView{values, 1, 3, 3, &bad}, trit::ActivationScheme::int4_absmax),
                 std::invalid_argument)
        << bad;
  }
  // A NaN bias is refused by the plain products as BitLinear refuses it.
  std::vector<float> nan_bias(10, 0.0f);
  nan_bias[4] = std::nanf("");
  EXPECT_THROW(trit::gemm_int4(p.lut, p.x, trit::matrix(y.data(), 2, 10), nan_bias.data()), std::invalid_argument);
  EXPECT_THROW(trit::gemm_int4(p.lut, p.x, trit::matrix(y.data(), 2, 9)), std::invalid_argument);
  EXPECT_THROW(trit::gemm_int4(trit::LutWeights{}, p.x, trit::matrix(y.data(), 2, 10)), std::invalid_argument);
  const trit::PackedInt4Activations wrong_k(2, 21, trit::ActivationScheme::int4_absmax);
  EXPECT_THROW(trit::gemm_int4(p.lut, wrong_k, trit::matrix(y.data(), 2, 10)), std::invalid_argument);
  EXPECT_THROW(trit::gemm_int4_rows(p.lut, p.x, trit::matrix(y.data(), 2, 10), nullptr, 5, 11), std::invalid_argument);
  EXPECT_THROW(trit::gemm_int4_rows(p.lut, p.x, trit::matrix(y.data(), 2, 10), nullptr, 6, 5), std::invalid_argument);
  EXPECT_THROW(trit::gemv_int4(p.lut, p.x.row(0), 1.0f, nullptr), std::invalid_argument);
  EXPECT_THROW(trit::gemv_int4(p.lut, p.x.row(0), 0.0f, y.data()), std::invalid_argument);
}

}  // namespace

