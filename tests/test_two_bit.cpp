// The TwoBit layout: its bytes, lossless conversion with Dense243, the serialized form, the
// GGUF repacks, recommend_layout, and every path's TwoBit kernels against the scalar
// reference (exact int32, bit-identical floats) over ragged shapes, strides, threads, row
// ranges and extreme values. Paths this CPU lacks are skipped with the reason.
#include <gtest/gtest.h>

#include <trit/trit.hpp>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using trit::Isa;

std::vector<std::int8_t> random_trits(std::size_t count, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-1, 1);
  std::vector<std::int8_t> trits(count);
  for (auto& t : trits) t = static_cast<std::int8_t>(dist(rng));
  return trits;
}

// ---- The layout ---------------------------------------------------------------------------

TEST(TwoBitLayout, ByteJHoldsTritsJPlus64iInBitPairI) {
  // K = 300: one full group and a 44-trit tail group, padded with code 1.
  std::vector<std::int8_t> trits(300, 0);
  trits[0] = 1;     // byte 0, bits 0-1: code 2
  trits[64] = -1;   // byte 0, bits 2-3: code 0
  trits[129] = 1;   // byte 1, bits 4-5: code 2
  trits[255] = -1;  // byte 63, bits 6-7: code 0
  trits[256] = 1;   // byte 64 (tail group), bits 0-1: code 2
  trits[299] = -1;  // byte 64 + 43, bits 0-1: code 0
  const float scale = 1.0f;
  const trit::TwoBitMatrix w = trit::pack_trits_two_bit(trit::matrix<const std::int8_t>(trits.data(), 1, 300), &scale, 1);
  EXPECT_EQ(w.row_bytes(), 128u);
  EXPECT_EQ(w.row(0)[0], 0x52);   // codes 2, 0, 1, 1 -> 0b01'01'00'10
  EXPECT_EQ(w.row(0)[1], 0x65);   // codes 1, 1, 2, 1 -> 0b01'10'01'01
  EXPECT_EQ(w.row(0)[63], 0x15);  // codes 1, 1, 1, 0
  EXPECT_EQ(w.row(0)[64], 0x56);  // code 2 then padding code 1 in bit pairs 1..3
  EXPECT_EQ(w.row(0)[64 + 43], 0x54);
  EXPECT_EQ(w.row(0)[64 + 44], 0x55);  // pure padding
  EXPECT_EQ(w.row(0)[2], 0x55);
  for (std::size_t k = 0; k < 300; ++k) EXPECT_EQ(w.trit(0, k), trits[k]) << k;
}

TEST(TwoBitLayout, RowLayoutRoundsUpToWholeGroups) {
  EXPECT_EQ(trit::two_bit::row_layout(1).bytes, 64u);
  EXPECT_EQ(trit::two_bit::row_layout(256).bytes, 64u);
  EXPECT_EQ(trit::two_bit::row_layout(257).bytes, 128u);
  EXPECT_EQ(trit::two_bit::row_layout(2560).bytes, 640u);
  EXPECT_EQ(trit::two_bit::row_layout(6912).bytes, 1728u);
  EXPECT_EQ(trit::two_bit::row_layout(257).full_groups, 1u);
  EXPECT_EQ(trit::two_bit::row_layout(257).tail_trits, 1u);
}

TEST(TwoBitLayout, ConversionWithDense243IsLosslessOnManyShapes) {
  std::uint32_t seed = 1;
  for (std::size_t rows : {1u, 3u, 17u}) {
    for (std::size_t cols = 1; cols <= 2 * 320 + 9; cols += (cols < 70 ? 1 : 13)) {
      for (auto granularity : {trit::ScaleGranularity::per_tensor, trit::ScaleGranularity::per_row}) {
        const auto trits = random_trits(rows * cols, seed++);
        std::vector<float> scales(granularity == trit::ScaleGranularity::per_row ? rows : 1);
        for (std::size_t i = 0; i < scales.size(); ++i) scales[i] = 0.25f + static_cast<float>(i);
        const auto view = trit::matrix<const std::int8_t>(trits.data(), rows, cols);
        const trit::PackedMatrix dense = trit::pack_trits(view, scales.data(), scales.size(), granularity);
        const trit::TwoBitMatrix two = trit::to_two_bit(dense);
        const trit::TwoBitMatrix direct = trit::pack_trits_two_bit(view, scales.data(), scales.size(), granularity);
        ASSERT_EQ(0, std::memcmp(two.data(), direct.data(), two.weight_bytes())) << rows << "x" << cols;
        EXPECT_EQ(two.scales(), dense.scales());
        EXPECT_EQ(two.granularity(), granularity);
        trit::validate(two.view());
        const trit::PackedMatrix back = trit::to_dense243(two);
        ASSERT_EQ(back.weight_bytes(), dense.weight_bytes());
        ASSERT_EQ(0, std::memcmp(back.data(), dense.data(), dense.weight_bytes())) << rows << "x" << cols;
        EXPECT_EQ(back.scales(), dense.scales());
        std::vector<std::int8_t> unpacked(rows * cols);
        trit::unpack_trits(two.view(), trit::matrix(unpacked.data(), rows, cols));
        ASSERT_EQ(unpacked, trits);
      }
    }
  }
}

TEST(TwoBitLayout, ValidationRefusesCode3AndNonZeroPadding) {
  trit::TwoBitMatrix w(2, 300, trit::ScaleGranularity::per_tensor);
  trit::validate(w.view());
  w.row(1)[5] = 0xC5;  // bit pair 3 = code 3
  EXPECT_THROW(trit::validate(w.view()), trit::format_error);
  w.row(1)[5] = 0x55;
  w.row(0)[64 + 50] = 0x56;  // trit 256 + 50 is padding (K = 300) and must be code 1
  EXPECT_THROW(trit::validate(w.view()), trit::format_error);
}

// ---- Serialized form ------------------------------------------------------------------------

TEST(TwoBitSerialize, RoundTripsAndDetectsDamage) {
  const auto trits = random_trits(5 * 333, 7);
  const std::vector<float> scales = {0.5f, 1.5f, 2.5f, 3.5f, 4.5f};
  const trit::TwoBitMatrix w = trit::pack_trits_two_bit(trit::matrix<const std::int8_t>(trits.data(), 5, 333),
                                                        scales.data(), 5, trit::ScaleGranularity::per_row);
  const std::vector<std::uint8_t> blob = trit::serialize(w.view());
  ASSERT_EQ(blob.size(), 128u + 5 * 128u);  // header + scales padded to 64, then 5 rows of 128
  EXPECT_EQ(0, std::memcmp(blob.data(), "TRIT2BIT", 8));
  const trit::TwoBitMatrix back = trit::deserialize_two_bit(blob);
  EXPECT_EQ(back.rows(), 5u);
  EXPECT_EQ(back.cols(), 333u);
  EXPECT_EQ(back.scales(), scales);
  EXPECT_EQ(0, std::memcmp(back.data(), w.data(), w.weight_bytes()));
  const trit::TwoBitMatrixView in_place = trit::view_two_bit_blob(blob.data(), blob.size());
  EXPECT_EQ(in_place.data(), blob.data() + 128);
  EXPECT_EQ(in_place.trit(4, 332), trits[4 * 333 + 332]);
  for (std::size_t at : {std::size_t{0}, std::size_t{20}, std::size_t{64}, std::size_t{200}, blob.size() - 1}) {
    std::vector<std::uint8_t> damaged = blob;
    damaged[at] ^= 0x04;
    EXPECT_THROW(trit::deserialize_two_bit(damaged), trit::format_error) << at;
  }
  std::vector<std::uint8_t> truncated(blob.begin(), blob.end() - 1);
  EXPECT_THROW(trit::deserialize_two_bit(truncated), trit::format_error);
  // A Dense243 blob is not a TwoBit blob.
  EXPECT_THROW(trit::deserialize_two_bit(trit::serialize(trit::to_dense243(w).view())), trit::format_error);
}

// ---- GGUF repacks ---------------------------------------------------------------------------

// Builds I2_S bytes from trits following checkpoints.md's description, independently of the
// repack: flat groups of 128, byte j holds j (bits 7:6), j+32, j+64, j+96 (bits 1:0).
std::vector<std::uint8_t> make_i2_s(const std::vector<std::int8_t>& trits, float scale) {
  std::vector<std::uint8_t> bytes(trits.size() / 4 + 32, 0);
  for (std::size_t flat = 0; flat < trits.size(); ++flat) {
    const std::size_t group = flat / 128, in_group = flat % 128;
    const int shift = 6 - 2 * static_cast<int>(in_group / 32);
    bytes[group * 32 + in_group % 32] |= static_cast<std::uint8_t>((trits[flat] + 1) << shift);
  }
  std::memcpy(bytes.data() + trits.size() / 4, &scale, 4);
  return bytes;
}

TEST(TwoBitGguf, RepacksI2S) {
  for (std::size_t cols : {128u, 384u, 2560u, 96u, 160u}) {  // 96, 160: groups straddle rows
    const std::size_t rows = 8;
    const auto trits = random_trits(rows * cols, static_cast<std::uint32_t>(cols));
    const auto bytes = make_i2_s(trits, 0.0123f);
    const trit::TwoBitMatrix w = trit::repack_i2_s(bytes.data(), bytes.size(), rows, cols);
    EXPECT_EQ(w.granularity(), trit::ScaleGranularity::per_tensor);
    EXPECT_EQ(w.scale(0), 0.0123f);
    std::vector<std::int8_t> out(rows * cols);
    trit::unpack_trits(w.view(), trit::matrix(out.data(), rows, cols));
    EXPECT_EQ(out, trits) << cols;
  }
  std::vector<std::uint8_t> bad = make_i2_s(std::vector<std::int8_t>(128, 0), 1.0f);
  bad[3] = 0xC0;
  EXPECT_THROW(trit::repack_i2_s(bad.data(), bad.size(), 1, 128), trit::format_error);
  EXPECT_THROW(trit::repack_i2_s(bad.data(), 10, 1, 128), trit::format_error);
}

// TQ2_0 blocks from trits: qs byte 32c + j holds weight 128c + j + 32n in bits 2n; d = fp16.
std::vector<std::uint8_t> make_tq2_0(const std::vector<std::int8_t>& trits, std::size_t rows, std::size_t cols,
                                     const std::vector<std::uint16_t>& row_d) {
  std::vector<std::uint8_t> bytes(rows * cols / 256 * 66, 0);
  for (std::size_t m = 0; m < rows; ++m) {
    for (std::size_t k = 0; k < cols; ++k) {
      std::uint8_t* block = bytes.data() + (m * cols / 256 + k / 256) * 66;
      const std::size_t in = k % 256, c = in / 128, n = (in % 128) / 32, j = in % 32;
      block[32 * c + j] |= static_cast<std::uint8_t>((trits[m * cols + k] + 1) << (2 * n));
      block[64] = static_cast<std::uint8_t>(row_d[m] & 0xFF);
      block[65] = static_cast<std::uint8_t>(row_d[m] >> 8);
    }
  }
  return bytes;
}

TEST(TwoBitGguf, RepacksTq2_0) {
  const std::size_t rows = 4, cols = 768;
  const auto trits = random_trits(rows * cols, 99);
  // fp16 0x3C00 = 1.0, 0x3800 = 0.5, 0x2A51 = 0.049346923828125.
  auto bytes = make_tq2_0(trits, rows, cols, {0x2A51, 0x2A51, 0x2A51, 0x2A51});
  trit::TwoBitMatrix w = trit::repack_tq2_0(bytes.data(), bytes.size(), rows, cols);
  EXPECT_EQ(w.granularity(), trit::ScaleGranularity::per_tensor);
  EXPECT_EQ(w.scale(0), 0.049346923828125f);
  std::vector<std::int8_t> out(rows * cols);
  trit::unpack_trits(w.view(), trit::matrix(out.data(), rows, cols));
  EXPECT_EQ(out, trits);
  bytes = make_tq2_0(trits, rows, cols, {0x3C00, 0x3800, 0x3C00, 0x3800});
  w = trit::repack_tq2_0(bytes.data(), bytes.size(), rows, cols);
  EXPECT_EQ(w.granularity(), trit::ScaleGranularity::per_row);
  EXPECT_EQ(w.scale(0), 1.0f);
  EXPECT_EQ(w.scale(1), 0.5f);
  std::vector<std::uint8_t> bad = bytes;
  bad[66 * 5 + 40] |= 0x30;  // row 1, block 2: code 3
  EXPECT_THROW(trit::repack_tq2_0(bad.data(), bad.size(), rows, cols), trit::format_error);
  bytes[66 + 64] = 0x00;  // row 0, block 1 gets another scale
  bytes[66 + 65] = 0x38;
  EXPECT_THROW(trit::repack_tq2_0(bytes.data(), bytes.size(), rows, cols), trit::format_error);
  EXPECT_EQ(trit::detail::half_to_float(0x0001), 5.9604644775390625e-8f);  // smallest subnormal
  EXPECT_EQ(trit::detail::half_to_float(0x7BFF), 65504.0f);
}

// ---- recommend_layout -------------------------------------------------------------------------

TEST(TwoBitChoice, RecommendLayoutFollowsTheCacheRule) {
  const trit::CacheSizes caches{512u << 10, 16u << 20};  // budget: threads * 512 KiB + 16 MiB
  // 2560 x 2560: 1.6 MiB of TwoBit -> fits.
  EXPECT_EQ(trit::recommend_layout(2560, 2560, 1, caches), trit::WeightLayout::two_bit);
  // 13824 x 2560: 8.4 MiB -> fits (measured 1.9x faster than Dense243 on a 16 MiB L3).
  EXPECT_EQ(trit::recommend_layout(13824, 2560, 1, caches), trit::WeightLayout::two_bit);
  // 32000 x 2560: 19.5 MiB -> streams.
  EXPECT_EQ(trit::recommend_layout(32000, 2560, 2, caches), trit::WeightLayout::dense243);
  // At the budget: 1 thread, 16.5 MiB = 17301504 B = rows * 640 B -> 27033.6 rows.
  EXPECT_EQ(trit::recommend_layout(27033, 2560, 1, caches), trit::WeightLayout::two_bit);
  EXPECT_EQ(trit::recommend_layout(27034, 2560, 1, caches), trit::WeightLayout::dense243);
  EXPECT_EQ(trit::recommend_layout(27034, 2560, 2, caches), trit::WeightLayout::two_bit);
  // Unknown caches: 512 KiB + 8 MiB.
  EXPECT_EQ(trit::recommend_layout(13926, 2560, 1, trit::CacheSizes{}), trit::WeightLayout::two_bit);
  EXPECT_EQ(trit::recommend_layout(13927, 2560, 1, trit::CacheSizes{}), trit::WeightLayout::dense243);
}

// ---- Kernels against the reference --------------------------------------------------------

struct Problem {
  trit::TwoBitMatrix w;
  std::vector<std::int8_t> x_storage;
  trit::ActivationsView x;
  std::vector<float> scales;
  std::vector<float> bias;
};

enum class Fill { random, minus_ones, plus_ones, zeros };
enum class Acts { random, all_min, all_max };

Problem make_problem(std::size_t rows, std::size_t cols, std::size_t tokens, std::uint32_t seed,
                     Fill fill = Fill::random, Acts acts = Acts::random, std::size_t x_offset = 0,
                     std::size_t x_extra_stride = 0, trit::ScaleGranularity granularity = trit::ScaleGranularity::per_row) {
  std::mt19937 rng(seed);
  std::vector<std::int8_t> trits = random_trits(rows * cols, seed + 1000);
  for (auto& t : trits) {
    if (fill == Fill::minus_ones) t = -1;
    if (fill == Fill::plus_ones) t = 1;
    if (fill == Fill::zeros) t = 0;
  }
  std::uniform_real_distribution<float> scale_dist(0.01f, 2.0f);
  std::vector<float> w_scales(granularity == trit::ScaleGranularity::per_row ? rows : 1);
  for (auto& s : w_scales) s = scale_dist(rng);
  Problem p;
  p.w = trit::pack_trits_two_bit(trit::matrix<const std::int8_t>(trits.data(), rows, cols), w_scales.data(),
                                 w_scales.size(), granularity);
  const std::size_t stride = cols + x_extra_stride;
  p.x_storage.assign(x_offset + tokens * stride, 0);
  std::uniform_int_distribution<int> act_dist(-128, 127);
  for (std::size_t n = 0; n < tokens; ++n) {
    for (std::size_t k = 0; k < cols; ++k) {
      int v = act_dist(rng);
      if (acts == Acts::all_min) v = -128;
      if (acts == Acts::all_max) v = 127;
      p.x_storage[x_offset + n * stride + k] = static_cast<std::int8_t>(v);
    }
  }
  p.scales.resize(tokens);
  for (auto& s : p.scales) s = scale_dist(rng) * 50.0f;
  p.bias.resize(rows);
  for (auto& b : p.bias) b = scale_dist(rng) - 1.0f;
  p.x = trit::ActivationsView{p.x_storage.data() + x_offset, tokens, cols, stride, p.scales.data()};
  return p;
}

class TwoBitPath : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!trit::has_own_kernels(trit::kProductTwoBitInt8, GetParam())) {
      GTEST_SKIP() << trit::isa_name(GetParam())
                   << " skipped: " << trit::own_kernels_missing_reason(trit::kProductTwoBitInt8, GetParam());
    }
  }

  void expect_matches_reference(const Problem& p, unsigned threads = 1, std::size_t y_extra_stride = 0) {
    const std::size_t rows = p.w.rows(), tokens = p.x.tokens, y_stride = rows + y_extra_stride;
    std::vector<std::int32_t> ref_acc(tokens * rows), acc(tokens * y_stride, 0x5A5A5A5A);
    std::vector<float> ref_y(tokens * rows), y(tokens * y_stride, -7.0f);
    trit::ref::gemm_int32_rows(p.w.view(), p.x, trit::matrix(ref_acc.data(), tokens, rows), 0, rows);
    trit::ref::gemm_rows(p.w.view(), p.x, trit::matrix(ref_y.data(), tokens, rows), p.bias.data(), 0, rows);
    const trit::GemmOptions options{GetParam(), threads};
    trit::gemm_int32(p.w, p.x, trit::matrix(acc.data(), tokens, rows, y_stride), options);
    trit::gemm(p.w, p.x, trit::matrix(y.data(), tokens, rows, y_stride), p.bias.data(), options);
    for (std::size_t n = 0; n < tokens; ++n) {
      for (std::size_t m = 0; m < rows; ++m) {
        ASSERT_EQ(acc[n * y_stride + m], ref_acc[n * rows + m])
            << trit::isa_name(GetParam()) << " " << rows << "x" << p.w.cols() << " n=" << n << " m=" << m;
        std::uint32_t a, b;
        std::memcpy(&a, &y[n * y_stride + m], 4);
        std::memcpy(&b, &ref_y[n * rows + m], 4);
        ASSERT_EQ(a, b) << trit::isa_name(GetParam()) << " " << rows << "x" << p.w.cols() << " n=" << n << " m=" << m;
      }
      for (std::size_t m = rows; m < y_stride; ++m) {
        ASSERT_EQ(acc[n * y_stride + m], 0x5A5A5A5A) << "wrote past the row";
        ASSERT_EQ(y[n * y_stride + m], -7.0f) << "wrote past the row";
      }
    }
  }
};

TEST_P(TwoBitPath, EveryKUpToTwoGroupsPlusSeven) {
  for (std::size_t cols = 1; cols <= 2 * 256 + 7; ++cols) {
    expect_matches_reference(make_problem(5, cols, 1, static_cast<std::uint32_t>(cols)));
    expect_matches_reference(make_problem(9, cols, 3, static_cast<std::uint32_t>(cols) + 7));
    if (HasFatalFailure()) return;
  }
}

TEST_P(TwoBitPath, KAroundMultiplesOf32And64And256) {
  for (std::size_t base : {32u, 64u, 96u, 128u, 192u, 256u, 512u, 768u, 1024u, 2048u, 2560u}) {
    for (std::size_t cols : {base - 1, base, base + 1}) {
      for (std::size_t tokens : {1u, 2u, 4u, 5u, 9u}) {
        expect_matches_reference(make_problem(11, cols, tokens, static_cast<std::uint32_t>(cols * 31 + tokens)));
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST_P(TwoBitPath, PartialRowAndTokenTilesAndStrides) {
  std::uint32_t seed = 5;
  for (std::size_t rows : {1u, 2u, 3u, 4u, 5u, 7u, 8u, 9u, 15u, 16u, 17u, 33u}) {
    for (std::size_t tokens : {1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u, 13u, 32u}) {
      expect_matches_reference(make_problem(rows, 300, tokens, seed++, Fill::random, Acts::random, 1, 3), 1, 5);
      if (HasFatalFailure()) return;
    }
  }
}

TEST_P(TwoBitPath, UnalignedActivationsAndPerTensorScales) {
  for (std::size_t offset : {1u, 3u, 31u, 33u}) {
    for (std::size_t extra : {0u, 1u, 17u}) {
      expect_matches_reference(make_problem(21, 777, 6, static_cast<std::uint32_t>(offset * 100 + extra), Fill::random,
                                            Acts::random, offset, extra, trit::ScaleGranularity::per_tensor));
      if (HasFatalFailure()) return;
    }
  }
}

TEST_P(TwoBitPath, ThreadsOneToFour) {
  for (unsigned threads = 1; threads <= 4; ++threads) {
    for (std::size_t tokens : {1u, 8u}) {
      expect_matches_reference(make_problem(203, 1000, tokens, threads * 13 + static_cast<std::uint32_t>(tokens)),
                               threads);
      if (HasFatalFailure()) return;
    }
  }
}

TEST_P(TwoBitPath, ExtremeValues) {
  // K = 2^16 + 5: |sum c * x| reaches 2 * 128 * K, the int16 partials flush, int32 wraps back.
  for (Fill fill : {Fill::minus_ones, Fill::plus_ones, Fill::zeros}) {
    for (Acts acts : {Acts::all_min, Acts::all_max}) {
      for (std::size_t tokens : {1u, 4u}) {
        expect_matches_reference(make_problem(6, 65536 + 5, tokens, 3, fill, acts));
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST_P(TwoBitPath, RealShapes) {
  expect_matches_reference(make_problem(640, 2560, 1, 11), 2);
  expect_matches_reference(make_problem(96, 6912, 8, 12), 2);
  expect_matches_reference(make_problem(300, 2560, 32, 13), 1);
}

TEST_P(TwoBitPath, RowRangesMatchTheWholeProduct) {
  const Problem p = make_problem(37, 520, 5, 21);
  std::vector<std::int32_t> whole(5 * 37), parts(5 * 37, 0x11111111);
  std::vector<float> y_whole(5 * 37), y_parts(5 * 37, 3.0f);
  trit::gemm_int32(p.w, p.x, trit::matrix(whole.data(), 5, 37), trit::GemmOptions{GetParam(), 1});
  trit::gemm(p.w, p.x, trit::matrix(y_whole.data(), 5, 37), p.bias.data(), trit::GemmOptions{GetParam(), 1});
  const std::size_t cuts[] = {0, 1, 4, 5, 13, 30, 37};
  for (std::size_t i = 0; i + 1 < sizeof(cuts) / sizeof(cuts[0]); ++i) {
    trit::gemm_int32_rows(p.w, p.x, trit::matrix(parts.data(), 5, 37), cuts[i], cuts[i + 1], GetParam());
    trit::gemm_rows(p.w, p.x, trit::matrix(y_parts.data(), 5, 37), p.bias.data(), cuts[i], cuts[i + 1], GetParam());
  }
  EXPECT_EQ(parts, whole);
  EXPECT_EQ(0, std::memcmp(y_parts.data(), y_whole.data(), y_whole.size() * 4));
  // A slice of rows is a view of its own.
  std::vector<std::int32_t> slice(5 * 20);
  trit::gemm_int32(p.w.view().slice_rows(10, 30), p.x, trit::matrix(slice.data(), 5, 20), trit::GemmOptions{GetParam(), 1});
  for (std::size_t n = 0; n < 5; ++n) {
    for (std::size_t m = 0; m < 20; ++m) EXPECT_EQ(slice[n * 20 + m], whole[n * 37 + 10 + m]);
  }
}

TEST_P(TwoBitPath, GemvMatchesTheDense243Product) {
  // Same trits in both layouts: the products agree exactly (int32 and float bits).
  const Problem p = make_problem(129, 1111, 1, 77);
  const trit::PackedMatrix dense = trit::to_dense243(p.w);
  std::vector<float> y2(129), y3(129);
  trit::gemv(p.w, p.x.data, p.scales[0], y2.data(), p.bias.data(), trit::GemmOptions{GetParam(), 1});
  trit::gemv(dense, p.x.data, p.scales[0], y3.data(), p.bias.data(), trit::GemmOptions{Isa::scalar, 1});
  EXPECT_EQ(0, std::memcmp(y2.data(), y3.data(), y2.size() * 4));
}

std::string PathName(const ::testing::TestParamInfo<Isa>& info) {
  std::string name = trit::isa_name(info.param);
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(AllPaths, TwoBitPath, ::testing::ValuesIn(trit::paths_with_product(trit::kProductTwoBitInt8)),
                         PathName);

TEST(TwoBitPathTable, EveryRowClaimingTwoBitHasItsKernels) {
  for (const trit::KernelPath& path : trit::kKernelPaths) {
    const bool claimed = (path.products & trit::kProductTwoBitInt8) != 0;
    const auto* kernels = trit::detail::own_kernels<trit::detail::TwoBitInt8Product>(path.isa);
    EXPECT_EQ(kernels != nullptr, claimed && trit::detail::arch_compiled(path.arch)) << path.name;
    if (kernels != nullptr) {
      EXPECT_EQ(kernels->isa, path.isa) << path.name;
    }
  }
  EXPECT_TRUE(trit::has_own_kernels(trit::kProductTwoBitInt8, trit::two_bit_path()));
}

}  // namespace
