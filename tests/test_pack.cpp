// Packing and unpacking: round trips for every K from 1 to 700 and M from 1 to 37, bytes
// checked against an independent encoder written from docs/FORMAT.md, scales, strides,
// padding and the PackedMatrix container.
#include <trit/format/dense243.hpp>
#include <trit/views/matrix_ref.hpp>
#include <trit/format/pack.hpp>
#include <trit/format/packed_matrix.hpp>
#include <trit/quantize/quantize.hpp>

#include <gtest/gtest.h>

#include "test_support.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace {

using trit_test::throws_with;

using trit::ScaleGranularity;


// Dense243 bytes of one row, built the way FORMAT.md describes them and sharing no code with
// the library: groups of 320 trits, byte j digit i = trit j + g*i, padding 0,
// b = ceil(v * 256 / 243).
void format_row_bytes(const std::int8_t* trits, std::size_t cols, std::vector<std::uint8_t>& out) {
  out.clear();
  for (std::size_t start = 0; start < cols; start += 320) {
    const std::size_t n = cols - start < 320 ? cols - start : 320;
    const std::size_t g = (n + 4) / 5;
    for (std::size_t j = 0; j < g; ++j) {
      int v = 0;
      for (std::size_t i = 0; i < 5; ++i) {
        const std::size_t t = j + g * i;
        v = v * 3 + (t < n ? trits[start + t] + 1 : 1);
      }
      out.push_back(static_cast<std::uint8_t>((v * 256 + 242) / 243));
    }
  }
}

int chain_trit(std::uint8_t b, int digit) {
  unsigned x = b;
  for (int i = 0; i < digit; ++i) x = (3 * x) & 0xFF;
  return static_cast<int>((3 * x) >> 8) - 1;
}

std::vector<std::int8_t> random_trits(std::size_t count, std::mt19937& rng) {
  std::uniform_int_distribution<int> trit(-1, 1);
  std::vector<std::int8_t> out(count);
  for (auto& t : out) t = static_cast<std::int8_t>(trit(rng));
  return out;
}

bool is_aligned_64(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 64 == 0; }

// ---- Round trips -----------------------------------------------------------------------------

// Returns an empty string when the case passes, else what went wrong (keeps gtest's per-
// assertion cost out of a 25,900-case loop).
std::string check_round_trip(const std::int8_t* trits, std::size_t rows, std::size_t cols, float scale,
                             std::vector<std::uint8_t>& expected_row, std::vector<std::int8_t>& unpacked) {
  const trit::PackedMatrix packed = trit::pack_trits(trit::matrix(trits, rows, cols), &scale, 1);
  const std::size_t row_bytes = (cols + 4) / 5;
  if (packed.rows() != rows || packed.cols() != cols) return "wrong shape";
  if (packed.row_bytes() != row_bytes || packed.row_stride() != row_bytes) return "rows are not tight";
  if (!is_aligned_64(packed.data())) return "data is not 64-byte aligned";
  if (packed.scales().size() != 1 || packed.scale(rows - 1) != scale) return "wrong scale";
  for (std::size_t m = 0; m < rows; ++m) {
    format_row_bytes(trits + m * cols, cols, expected_row);
    if (std::memcmp(packed.row(m), expected_row.data(), row_bytes) != 0) {
      return "row " + std::to_string(m) + " bytes differ from FORMAT.md's encoding";
    }
  }
  const std::uint8_t* slack = packed.data() + rows * row_bytes;
  for (std::size_t j = 0; j < trit::dense243::kTailSlackBytes; ++j) {
    if (slack[j] != 0) return "tail slack byte " + std::to_string(j) + " is not zero";
  }
  unpacked.assign(rows * cols, 9);
  trit::unpack_trits(packed, trit::matrix(unpacked.data(), rows, cols));
  if (std::memcmp(unpacked.data(), trits, rows * cols) != 0) return "unpack_trits does not give the trits back";
  return {};
}

TEST(PackRoundTrip, EveryKUpTo700ByEveryMUpTo37) {
  std::mt19937 rng(20240501);
  // One random pool; each case reads a window at a random offset, so cases stay independent
  // enough without paying for fresh random numbers 170 million times.
  const std::vector<std::int8_t> pool = random_trits((1u << 16) + 37 * 700, rng);
  std::uniform_int_distribution<std::size_t> offset(0, 1u << 16);
  std::vector<std::uint8_t> expected_row;
  std::vector<std::int8_t> unpacked;
  int failures = 0;
  for (std::size_t cols = 1; cols <= 700; ++cols) {
    for (std::size_t rows = 1; rows <= 37; ++rows) {
      const std::string error =
          check_round_trip(pool.data() + offset(rng), rows, cols, 0.25f, expected_row, unpacked);
      if (!error.empty()) {
        ADD_FAILURE() << "M = " << rows << ", K = " << cols << ": " << error;
        if (++failures == 10) return;
      }
    }
  }
}

TEST(PackRoundTrip, AllOnesAllMinusOnesAndAllZeros) {
  for (std::size_t cols : {1u, 5u, 319u, 320u, 321u, 6912u}) {
    for (int value : {-1, 0, 1}) {
      const std::vector<std::int8_t> trits(3 * cols, static_cast<std::int8_t>(value));
      const float scale = 1.0f;
      const trit::PackedMatrix packed = trit::pack_trits(trit::matrix(trits.data(), 3, cols), &scale, 1);
      std::vector<std::int8_t> back(trits.size(), 7);
      trit::unpack_trits(packed, trit::matrix(back.data(), 3, cols));
      EXPECT_EQ(back, trits) << "K = " << cols << ", value " << value;
      if (cols % 5 == 0) {
        const std::uint8_t full = value == -1 ? 0 : value == 0 ? 128 : 255;
        for (std::size_t j = 0; j < packed.row_bytes(); ++j) ASSERT_EQ(packed.row(2)[j], full) << "K = " << cols;
      }
    }
  }
}

TEST(PackRoundTrip, KnownBytesForSevenPlusOnes) {
  // K = 7: one tail group of g = 2 bytes; byte 0 holds trits 0,2,4,6 and one padding zero,
  // byte 1 holds trits 1,3,5 and two padding zeros.
  const std::vector<std::int8_t> trits(7, 1);
  const float scale = 2.0f;
  const trit::PackedMatrix packed = trit::pack_trits(trit::matrix(trits.data(), 1, 7), &scale, 1);
  ASSERT_EQ(packed.row_bytes(), 2u);
  EXPECT_EQ(packed.row(0)[0], 254);  // digits 2,2,2,2,1: v = 241
  EXPECT_EQ(packed.row(0)[1], 251);  // digits 2,2,2,1,1: v = 238
}

TEST(PackRoundTrip, TritAccessorMatchesInput) {
  std::mt19937 rng(7);
  const std::size_t rows = 5, cols = 661;
  const std::vector<std::int8_t> trits = random_trits(rows * cols, rng);
  const float scale = 1.0f;
  const trit::PackedMatrix packed = trit::pack_trits(trit::matrix(trits.data(), rows, cols), &scale, 1);
  for (std::size_t m = 0; m < rows; ++m) {
    for (std::size_t k = 0; k < cols; ++k) ASSERT_EQ(packed.trit(m, k), trits[m * cols + k]) << m << ", " << k;
  }
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { (void)packed.trit(rows, 0); }, "(5, 0) is outside a 5x661"));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { (void)packed.trit(0, cols); }, "(0, 661) is outside"));
}

// ---- Padding ---------------------------------------------------------------------------------

TEST(PackPadding, PaddingTritsAreZeroForEveryTail) {
  // All -1 trits make every real digit 0, so any non-zero padding digit would show up as a
  // digit that decodes to something other than -1 outside the row's K trits.
  for (std::size_t cols = 1; cols <= 700; ++cols) {
    const std::vector<std::int8_t> trits(cols, -1);
    const float scale = 1.0f;
    const trit::PackedMatrix packed = trit::pack_trits(trit::matrix(trits.data(), 1, cols), &scale, 1);
    const std::size_t tail_start = cols / 320 * 64;
    const std::size_t g = packed.row_bytes() - tail_start;
    const std::size_t tail_trits = cols % 320;
    int padding = 0;
    for (std::size_t j = 0; j < g; ++j) {
      for (int i = 0; i < 5; ++i) {
        const int t = chain_trit(packed.row(0)[tail_start + j], i);
        if (j + g * static_cast<std::size_t>(i) < tail_trits) {
          ASSERT_EQ(t, -1) << "K = " << cols << ", tail byte " << j << ", digit " << i;
        } else {
          ASSERT_EQ(t, 0) << "padding trit at K = " << cols << ", tail byte " << j << ", digit " << i;
          ++padding;
        }
      }
    }
    EXPECT_EQ(padding, static_cast<int>(5 * g - tail_trits)) << "K = " << cols;
    EXPECT_NO_THROW(trit::validate(packed)) << "K = " << cols;
  }
}

TEST(PackPadding, ValidatorRejectsANonZeroPaddingTrit) {
  // K = 13: one tail group of 3 bytes; positions 13 and 14 (byte 1 and byte 2, digit 4) are padding.
  const std::vector<std::int8_t> trits(13, 0);
  const float scale = 1.0f;
  trit::PackedMatrix packed = trit::pack_trits(trit::matrix(trits.data(), 1, 13), &scale, 1);
  ASSERT_NO_THROW(trit::validate(packed));
  packed.row(0)[2] = trit::dense243::encode(0, 0, 0, 0, 1);
  EXPECT_TRUE(throws_with<trit::format_error>([&] { trit::validate(packed); }, "row 0 byte 2 has a non-zero padding trit"));
  packed.row(0)[2] = trit::dense243::encode(0, 0, 0, 0, 0);
  packed.row(0)[0] = trit::dense243::encode(1, -1, 1, -1, 0);  // real trits 0, 3, 6, 9, 12
  EXPECT_NO_THROW(trit::validate(packed));
}

// ---- Argument checks -------------------------------------------------------------------------

TEST(PackTrits, RejectsValuesOtherThanMinusOneZeroOne) {
  for (int bad : {2, -2, 3, 127, -128}) {
    std::vector<std::int8_t> trits(4 * 23, 0);
    trits[3 * 23 + 17] = static_cast<std::int8_t>(bad);
    const float scale = 1.0f;
    EXPECT_TRUE(throws_with<std::invalid_argument>(
        [&] { trit::pack_trits(trit::matrix(trits.data(), 4, 23), &scale, 1); },
        "trit::pack_trits: trits(3, 17) = " + std::to_string(bad) + " is not -1, 0 or +1"));
  }
}

TEST(PackTrits, RejectsBadScalesAndShapes) {
  const std::vector<std::int8_t> trits(3 * 10, 1);
  const auto view = trit::matrix(trits.data(), 3, 10);
  const float one = 1.0f;
  const float three[3] = {1.0f, 2.0f, 3.0f};
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { trit::pack_trits(view, three, 3); }, "expected 1 scales, got 3"));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { trit::pack_trits(view, &one, 1, ScaleGranularity::per_row); },
                                                 "expected 3 scales, got 1"));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { trit::pack_trits(view, nullptr, 1); }, "scales is null"));
  for (float bad : {0.0f, -1.0f, -0.0f, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
    EXPECT_TRUE(throws_with<std::invalid_argument>([&] { trit::pack_trits(view, &bad, 1); }, "scales[0] ="))
        << "scale " << bad;
  }
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::pack_trits(trit::matrix<const std::int8_t>(nullptr, 0, 0), &one, 1); }, "trits is empty"));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::pack_trits(trit::MatrixRef<const std::int8_t>{trits.data(), 3, 10, 9}, &one, 1); },
      "stride 9 is smaller than cols 10"));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { trit::pack_trits(trit::matrix<const std::int8_t>(nullptr, 3, 10), &one, 1); }, "null data"));
}

TEST(PackTrits, UnpackAndDequantizeRejectWrongShapes) {
  const std::vector<std::int8_t> trits(3 * 10, 1);
  const float one = 1.0f;
  const trit::PackedMatrix packed = trit::pack_trits(trit::matrix(trits.data(), 3, 10), &one, 1);
  std::vector<std::int8_t> out8(40);
  std::vector<float> outf(40);
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { trit::unpack_trits(packed, trit::matrix(out8.data(), 4, 10)); },
                                                 "expected a 3x10 matrix, got 4x10"));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { trit::unpack_trits(packed, trit::matrix(out8.data(), 3, 9)); },
                                                 "expected a 3x10 matrix, got 3x9"));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { trit::dequantize(packed, trit::matrix(outf.data(), 10, 3)); },
                                                 "trit::dequantize: out: expected a 3x10 matrix"));
}

// ---- Scales ----------------------------------------------------------------------------------

TEST(PackScales, PerTensorScaleAppliesToEveryRow) {
  const std::vector<std::int8_t> trits = {1, 0, -1, 1, 1, -1};
  const float scale = 0.375f;
  const trit::PackedMatrix packed = trit::pack_trits(trit::matrix(trits.data(), 3, 2), &scale, 1);
  EXPECT_EQ(packed.granularity(), ScaleGranularity::per_tensor);
  ASSERT_EQ(packed.scales().size(), 1u);
  EXPECT_EQ(packed.scales()[0], 0.375f);
  for (std::size_t m = 0; m < 3; ++m) EXPECT_EQ(packed.scale(m), 0.375f);
}

TEST(PackScales, PerRowScalesAreKeptInOrder) {
  const std::vector<std::int8_t> trits = {1, 0, -1, 1, 1, -1};
  const float scales[3] = {0.5f, 3.0f, 1e-5f};
  const trit::PackedMatrix packed =
      trit::pack_trits(trit::matrix(trits.data(), 3, 2), scales, 3, ScaleGranularity::per_row);
  EXPECT_EQ(packed.granularity(), ScaleGranularity::per_row);
  ASSERT_EQ(packed.scales().size(), 3u);
  for (std::size_t m = 0; m < 3; ++m) {
    EXPECT_EQ(packed.scales()[m], scales[m]);
    EXPECT_EQ(packed.scale(m), scales[m]);
  }
}

TEST(PackScales, SetScalesReplacesAndValidates) {
  trit::PackedMatrix packed(2, 8, ScaleGranularity::per_row);
  EXPECT_EQ(packed.scales(), (std::vector<float>{1.0f, 1.0f}));
  const float scales[2] = {0.125f, 8.0f};
  packed.set_scales(scales, 2);
  EXPECT_EQ(packed.scale(0), 0.125f);
  EXPECT_EQ(packed.scale(1), 8.0f);
  const float bad[2] = {0.125f, -8.0f};
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { packed.set_scales(bad, 2); }, "scales[1] = -8"));
  EXPECT_EQ(packed.scale(1), 8.0f) << "a rejected set_scales must leave the scales alone";
}

TEST(PackScales, PackTritsFromTernaryWeightsKeepsGranularity) {
  trit::TernaryWeights weights;
  weights.rows = 2;
  weights.cols = 3;
  weights.granularity = ScaleGranularity::per_row;
  weights.trits = {1, -1, 0, 0, 0, 1};
  weights.scales = {0.5f, 0.25f};
  const trit::PackedMatrix packed = trit::pack_trits(weights);
  EXPECT_EQ(packed.granularity(), ScaleGranularity::per_row);
  EXPECT_EQ(packed.scale(0), 0.5f);
  EXPECT_EQ(packed.scale(1), 0.25f);
  std::vector<std::int8_t> back(6);
  trit::unpack_trits(packed, trit::matrix(back.data(), 2, 3));
  EXPECT_EQ(back, weights.trits);
}

TEST(PackScales, TernaryWeightsWithTooFewTritsAreRejected) {
  // The struct's fields are public, so its trits and its shape can disagree; packing must
  // not read past the vector.
  trit::TernaryWeights weights;
  weights.rows = 3;
  weights.cols = 40;
  weights.trits.assign(3 * 40 - 1, 1);
  weights.scales = {1.0f};
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { trit::pack_trits(weights); },
                                                 "weights.trits holds 119 values, not 3x40"));
  weights.trits.assign(3 * 40 + 1, 1);
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { trit::pack_trits(weights); },
                                                 "weights.trits holds 121 values, not 3x40"));
}

TEST(PackScales, ExtremeFiniteScalesAreAccepted) {
  const std::vector<std::int8_t> trits = {1, -1};
  for (float s : {std::numeric_limits<float>::max(), std::numeric_limits<float>::denorm_min(), 1e-5f}) {
    const trit::PackedMatrix packed = trit::pack_trits(trit::matrix(trits.data(), 1, 2), &s, 1);
    EXPECT_EQ(packed.scale(0), s);
  }
}

// ---- pack_weights ----------------------------------------------------------------------------

TEST(PackWeights, QuantizesWithAbsmeanThenPacks) {
  // mean|W| rounds to 1.5f, so inv = 0.6666667f: 0.75 * inv rounds to 0.5f (a tie, so 0),
  // 0.76 -> 1, -0.74 -> 0, 1.4 -> 1, -3 -> -1, 2.6 -> 2 clamped to 1.
  const std::vector<float> w = {0.75f, -0.75f, 0.76f, -0.74f, 1.4f, -3.0f, 2.0f, 2.6f};
  const std::vector<std::int8_t> expected = {0, 0, 1, 0, 1, -1, 1, 1};
  const trit::PackedMatrix packed = trit::pack_weights(trit::matrix(w.data(), 2, 4));
  ASSERT_EQ(packed.scales().size(), 1u);
  EXPECT_EQ(packed.scale(0), 1.5f);
  std::vector<std::int8_t> back(8);
  trit::unpack_trits(packed, trit::matrix(back.data(), 2, 4));
  EXPECT_EQ(back, expected);
}

TEST(PackWeights, PerRowUsesEachRowsMean) {
  // Row 0: mean 1 (inv 1); row 1: mean 0.25 (inv 4).
  const std::vector<float> w = {0.5f, 1.5f, -1.0f, -1.0f, 0.125f, -0.126f, 0.25f, -0.499f};
  const std::vector<std::int8_t> expected = {0, 1, -1, -1, 0, -1, 1, -1};
  const trit::PackedMatrix packed = trit::pack_weights(trit::matrix(w.data(), 2, 4), ScaleGranularity::per_row);
  ASSERT_EQ(packed.scales().size(), 2u);
  EXPECT_EQ(packed.scale(0), 1.0f);
  // Row 1's mean is 0.2500000037 in double, which rounds to 0.25f.
  EXPECT_EQ(packed.scale(1), 0.25f);
  std::vector<std::int8_t> back(8);
  trit::unpack_trits(packed, trit::matrix(back.data(), 2, 4));
  EXPECT_EQ(back, expected);
}

TEST(PackWeights, SameAsQuantizeThenPackTrits) {
  std::mt19937 rng(99);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  for (std::size_t cols : {1u, 77u, 320u, 641u}) {
    for (ScaleGranularity g : {ScaleGranularity::per_tensor, ScaleGranularity::per_row}) {
      std::vector<float> w(6 * cols);
      for (float& x : w) x = normal(rng);
      const auto view = trit::matrix<const float>(w.data(), 6, cols);
      const trit::PackedMatrix direct = trit::pack_weights(view, g);
      const trit::PackedMatrix two_step = trit::pack_trits(trit::quantize_weights_absmean(view, g));
      ASSERT_EQ(direct.weight_bytes(), two_step.weight_bytes());
      EXPECT_EQ(std::memcmp(direct.data(), two_step.data(), direct.weight_bytes()), 0) << "K = " << cols;
      EXPECT_EQ(direct.scales(), two_step.scales()) << "K = " << cols;
      EXPECT_EQ(direct.granularity(), g);
    }
  }
}

// ---- dequantize ------------------------------------------------------------------------------

TEST(Dequantize, GivesTritTimesScale) {
  std::mt19937 rng(5);
  const std::size_t rows = 4, cols = 333, stride = 340;
  const std::vector<std::int8_t> trits = random_trits(rows * cols, rng);
  const float scales[4] = {0.1f, 0.2f, 3.0f, 1e-5f};
  for (ScaleGranularity g : {ScaleGranularity::per_tensor, ScaleGranularity::per_row}) {
    const trit::PackedMatrix packed =
        trit::pack_trits(trit::matrix(trits.data(), rows, cols), scales, g == ScaleGranularity::per_row ? 4 : 1, g);
    const float sentinel = -12345.0f;
    std::vector<float> out(rows * stride, sentinel);
    trit::dequantize(packed, trit::matrix(out.data(), rows, cols, stride));
    for (std::size_t m = 0; m < rows; ++m) {
      const float s = g == ScaleGranularity::per_row ? scales[m] : scales[0];
      for (std::size_t k = 0; k < cols; ++k) {
        const int t = trits[m * cols + k];
        const float expected = t == 1 ? s : t == -1 ? -s : 0.0f;
        ASSERT_EQ(out[m * stride + k], expected) << m << ", " << k;
      }
      for (std::size_t k = cols; k < stride; ++k) ASSERT_EQ(out[m * stride + k], sentinel) << "wrote past a row";
    }
  }
}

// ---- Strides ---------------------------------------------------------------------------------

TEST(PackStrides, PackTritsReadsOnlyTheViewThroughItsStride) {
  std::mt19937 rng(11);
  const std::size_t rows = 5, cols = 321, stride = 330;
  const std::vector<std::int8_t> tight = random_trits(rows * cols, rng);
  // The gaps hold a value pack_trits would reject, so reading one would throw.
  std::vector<std::int8_t> strided(rows * stride, 5);
  for (std::size_t m = 0; m < rows; ++m) std::memcpy(&strided[m * stride], &tight[m * cols], cols);
  const float scale = 1.0f;
  const trit::PackedMatrix a = trit::pack_trits(trit::matrix(tight.data(), rows, cols), &scale, 1);
  const trit::PackedMatrix b = trit::pack_trits(trit::matrix(strided.data(), rows, cols, stride), &scale, 1);
  ASSERT_EQ(a.weight_bytes(), b.weight_bytes());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.weight_bytes()), 0);

  std::vector<std::int8_t> out(rows * stride, 9);
  trit::unpack_trits(b, trit::matrix(out.data(), rows, cols, stride));
  for (std::size_t m = 0; m < rows; ++m) {
    EXPECT_EQ(std::memcmp(&out[m * stride], &tight[m * cols], cols), 0) << "row " << m;
    for (std::size_t k = cols; k < stride; ++k) ASSERT_EQ(out[m * stride + k], 9) << "wrote into the stride gap";
  }
}

TEST(PackStrides, PackWeightsReadsOnlyTheViewThroughItsStride) {
  std::mt19937 rng(12);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const std::size_t rows = 3, cols = 100, stride = 103;
  std::vector<float> tight(rows * cols);
  for (float& x : tight) x = normal(rng);
  // NaNs in the gaps: reading one would throw, or would change the absmean scale.
  std::vector<float> strided(rows * stride, std::numeric_limits<float>::quiet_NaN());
  for (std::size_t m = 0; m < rows; ++m) std::memcpy(&strided[m * stride], &tight[m * cols], cols * sizeof(float));
  for (ScaleGranularity g : {ScaleGranularity::per_tensor, ScaleGranularity::per_row}) {
    const trit::PackedMatrix a = trit::pack_weights(trit::matrix(tight.data(), rows, cols), g);
    const trit::PackedMatrix b = trit::pack_weights(trit::matrix(strided.data(), rows, cols, stride), g);
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.weight_bytes()), 0);
    EXPECT_EQ(a.scales(), b.scales());
  }
}

// ---- PackedMatrix ----------------------------------------------------------------------------

TEST(PackedMatrixContainer, DefaultIsEmpty) {
  const trit::PackedMatrix empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.rows(), 0u);
  EXPECT_EQ(empty.cols(), 0u);
  EXPECT_EQ(empty.weight_bytes(), 0u);
  EXPECT_EQ(empty.bits_per_weight(), 0.0);
}

TEST(PackedMatrixContainer, NewMatrixHoldsZeroTritsAndUnitScales) {
  const trit::PackedMatrix packed(3, 13, ScaleGranularity::per_row);
  EXPECT_FALSE(packed.empty());
  EXPECT_EQ(packed.scales(), (std::vector<float>{1.0f, 1.0f, 1.0f}));
  for (std::size_t m = 0; m < 3; ++m) {
    for (std::size_t k = 0; k < 13; ++k) EXPECT_EQ(packed.trit(m, k), 0);
  }
  EXPECT_NO_THROW(trit::validate(packed));
}

TEST(PackedMatrixContainer, CustomRowStrideLeavesZeroGaps) {
  std::mt19937 rng(3);
  const std::size_t rows = 4, cols = 333, stride = 96;
  const std::vector<std::int8_t> trits = random_trits(rows * cols, rng);
  const float scale = 0.5f;
  const trit::PackedMatrix tight = trit::pack_trits(trit::matrix(trits.data(), rows, cols), &scale, 1);

  trit::PackedMatrix wide(rows, cols, ScaleGranularity::per_tensor, stride);
  ASSERT_EQ(wide.row_bytes(), 67u);
  ASSERT_EQ(wide.row_stride(), stride);
  EXPECT_EQ(wide.weight_bytes(), rows * stride);
  EXPECT_TRUE(is_aligned_64(wide.data()));
  for (std::size_t m = 0; m < rows; ++m) {
    EXPECT_EQ(wide.row(m), wide.data() + m * stride);
    for (std::size_t j = wide.row_bytes(); j < stride; ++j) ASSERT_EQ(wide.row(m)[j], 0) << "row " << m;
    std::memcpy(wide.row(m), tight.row(m), tight.row_bytes());
  }
  for (std::size_t j = 0; j < trit::dense243::kTailSlackBytes; ++j) ASSERT_EQ(wide.data()[rows * stride + j], 0);
  wide.set_scales(&scale, 1);
  EXPECT_NO_THROW(trit::validate(wide));

  std::vector<std::int8_t> back(rows * cols);
  trit::unpack_trits(wide, trit::matrix(back.data(), rows, cols));
  EXPECT_EQ(back, trits);
  EXPECT_EQ(wide.bits_per_weight(), 8.0 * (rows * stride) / (rows * cols));

  wide.row(2)[80] = 1;
  EXPECT_TRUE(throws_with<trit::format_error>([&] { trit::validate(wide); }, "row 2 has a non-zero byte 80 in its stride padding"));
}

TEST(PackedMatrixContainer, RejectsBadConstruction) {
  EXPECT_TRUE(throws_with<std::invalid_argument>([] { trit::PackedMatrix(0, 5, ScaleGranularity::per_tensor); },
                                                 "rows and cols must be positive, got 0x5"));
  EXPECT_TRUE(throws_with<std::invalid_argument>([] { trit::PackedMatrix(5, 0, ScaleGranularity::per_tensor); },
                                                 "rows and cols must be positive, got 5x0"));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [] { trit::PackedMatrix(1, trit::kMaxCols + 1, ScaleGranularity::per_tensor); }, "exceeds kMaxCols"));
  EXPECT_TRUE(throws_with<std::invalid_argument>([] { trit::PackedMatrix(2, 333, ScaleGranularity::per_tensor, 66); },
                                                 "row_stride 66 is smaller than the 67 bytes of a row"));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [] { trit::PackedMatrix(2, 3, static_cast<ScaleGranularity>(2)); }, "granularity"));
  EXPECT_EQ(trit::kMaxCols, (std::size_t{1} << 24) - 1);
}

TEST(PackedMatrixContainer, CopiesAreDeep) {
  const std::vector<std::int8_t> trits(2 * 9, 1);
  const float scale = 1.0f;
  trit::PackedMatrix original = trit::pack_trits(trit::matrix(trits.data(), 2, 9), &scale, 1);
  const trit::PackedMatrix copy = original;
  original.row(1)[0] = trit::dense243::kZeroByte;
  EXPECT_EQ(copy.trit(1, 0), 1);
  EXPECT_EQ(original.trit(1, 0), 0);
  EXPECT_NE(copy.data(), original.data());
  const trit::PackedMatrix moved = std::move(original);
  EXPECT_EQ(moved.trit(1, 0), 0);
  EXPECT_EQ(moved.trit(1, 1), 1);
}

TEST(PackedMatrixContainer, BitsPerWeight) {
  for (std::size_t cols : {320u, 640u, 2560u, 3200u, 6400u}) {
    for (std::size_t rows : {1u, 3u, 64u}) {
      const trit::PackedMatrix packed(rows, cols, ScaleGranularity::per_tensor);
      EXPECT_EQ(packed.bits_per_weight(), 1.6) << rows << "x" << cols;
    }
  }
  EXPECT_EQ(trit::PackedMatrix(2, 6912, ScaleGranularity::per_tensor).bits_per_weight(), 8.0 * 1383 / 6912);
  EXPECT_EQ(trit::PackedMatrix(2, 11008, ScaleGranularity::per_tensor).bits_per_weight(), 8.0 * 2202 / 11008);
  EXPECT_EQ(trit::PackedMatrix(1, 1, ScaleGranularity::per_tensor).bits_per_weight(), 8.0);
  EXPECT_EQ(trit::PackedMatrix(1, 5, ScaleGranularity::per_tensor).bits_per_weight(), 1.6);
}

}  // namespace
