// Every kernel path this CPU supports against the scalar reference: exact int32
// accumulators and bit-identical floats, over ragged and real shapes, strides, threads and
// extreme values. Paths the CPU lacks are skipped with the reason.
#include <gtest/gtest.h>

#include <trit/trit.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace {

using trit::Isa;

struct Problem {
  trit::PackedMatrix w;
  std::vector<std::int8_t> x_storage;  // tokens x stride, with an offset for misalignment
  trit::ActivationsView x;
  std::vector<float> scales;
  std::vector<float> bias;
};

enum class WeightFill { random, zeros, plus_ones, minus_ones };
enum class ActFill { random, all_min, all_max };

Problem make_problem(std::size_t rows, std::size_t cols, std::size_t tokens, std::uint32_t seed,
                     WeightFill wfill = WeightFill::random, ActFill afill = ActFill::random,
                     std::size_t x_offset = 0, std::size_t x_extra_stride = 0,
                     trit::ScaleGranularity granularity = trit::ScaleGranularity::per_row) {
  std::mt19937 rng(seed);
  std::vector<std::int8_t> trits(rows * cols);
  std::uniform_int_distribution<int> trit_dist(-1, 1);
  for (auto& t : trits) {
    switch (wfill) {
      case WeightFill::random: t = static_cast<std::int8_t>(trit_dist(rng)); break;
      case WeightFill::zeros: t = 0; break;
      case WeightFill::plus_ones: t = 1; break;
      case WeightFill::minus_ones: t = -1; break;
    }
  }
  std::uniform_real_distribution<float> scale_dist(0.01f, 2.0f);
  std::vector<float> w_scales(granularity == trit::ScaleGranularity::per_row ? rows : 1);
  for (auto& s : w_scales) s = scale_dist(rng);
  Problem p;
  p.w = trit::pack_trits(trit::matrix<const std::int8_t>(trits.data(), rows, cols), w_scales.data(), w_scales.size(),
                         granularity);
  const std::size_t stride = cols + x_extra_stride;
  p.x_storage.assign(x_offset + tokens * stride, 0);
  std::uniform_int_distribution<int> act_dist(-128, 127);
  for (std::size_t n = 0; n < tokens; ++n) {
    for (std::size_t k = 0; k < cols; ++k) {
      int v = act_dist(rng);
      if (afill == ActFill::all_min) v = -128;
      if (afill == ActFill::all_max) v = 127;
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

struct Reference {
  std::vector<std::int32_t> acc;
  std::vector<float> y;
};

Reference compute_reference(const Problem& p) {
  const std::size_t rows = p.w.rows(), tokens = p.x.tokens;
  Reference r{std::vector<std::int32_t>(tokens * rows), std::vector<float>(tokens * rows)};
  trit::ref::gemm_int32_rows(p.w, p.x, trit::matrix(r.acc.data(), tokens, rows), 0, rows);
  trit::ref::gemm_rows(p.w, p.x, trit::matrix(r.y.data(), tokens, rows), p.bias.data(), 0, rows);
  return r;
}

// The large model shapes are packed and run through the reference once per process, then
// shared by every path's test.
struct CachedCase {
  Problem problem;
  Reference reference;
};

const CachedCase& cached_case(std::size_t rows, std::size_t cols, std::size_t tokens, std::uint32_t seed) {
  static std::map<std::tuple<std::size_t, std::size_t, std::size_t, std::uint32_t>, std::unique_ptr<CachedCase>> cache;
  auto& slot = cache[{rows, cols, tokens, seed}];
  if (!slot) {
    slot = std::make_unique<CachedCase>();
    slot->problem = make_problem(rows, cols, tokens, seed);
    slot->reference = compute_reference(slot->problem);
  }
  return *slot;
}

class KernelPath : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!trit::isa_supported(GetParam())) {
      GTEST_SKIP() << trit::isa_name(GetParam()) << " skipped: " << trit::isa_unsupported_reason(GetParam());
    }
  }

  // Runs the path and the reference on the same problem; asserts exact equality of the
  // int32 accumulators and of the float outputs (compared as bits).
  void expect_matches_reference(const Problem& p, unsigned threads = 1, std::size_t y_extra_stride = 0,
                                const Reference* cached = nullptr) {
    const std::size_t rows = p.w.rows(), tokens = p.x.tokens, y_stride = rows + y_extra_stride;
    std::vector<std::int32_t> acc(tokens * y_stride, 0x5A5A5A5A);
    std::vector<float> y(tokens * y_stride, -7.0f);
    const trit::GemmOptions options{GetParam(), threads};
    trit::gemm_int32(p.w, p.x, trit::matrix(acc.data(), tokens, rows, y_stride), options);
    trit::gemm(p.w, p.x, trit::matrix(y.data(), tokens, rows, y_stride), p.bias.data(), options);
    const Reference computed = cached == nullptr ? compute_reference(p) : Reference{};
    const std::vector<std::int32_t>& acc_ref = cached == nullptr ? computed.acc : cached->acc;
    const std::vector<float>& y_ref = cached == nullptr ? computed.y : cached->y;
    for (std::size_t n = 0; n < tokens; ++n) {
      for (std::size_t m = 0; m < rows; ++m) {
        ASSERT_EQ(acc[n * y_stride + m], acc_ref[n * rows + m])
            << "acc at token " << n << " row " << m << " (" << rows << "x" << p.w.cols() << ", N=" << tokens << ")";
        ASSERT_EQ(std::memcmp(&y[n * y_stride + m], &y_ref[n * rows + m], sizeof(float)), 0)
            << "y at token " << n << " row " << m << ": " << y[n * y_stride + m] << " vs " << y_ref[n * rows + m];
      }
      for (std::size_t m = rows; m < y_stride; ++m) {
        ASSERT_EQ(acc[n * y_stride + m], 0x5A5A5A5A) << "wrote into the stride padding";
        ASSERT_EQ(y[n * y_stride + m], -7.0f) << "wrote into the stride padding";
      }
    }
  }
};

TEST_P(KernelPath, EveryKUpToTwoGroupsPlusSeven) {
  for (std::size_t k = 1; k <= 2 * trit::dense243::kGroupTrits + 7; ++k) {
    expect_matches_reference(make_problem(5, k, 1, static_cast<std::uint32_t>(k)));
    expect_matches_reference(make_problem(3, k, 3, static_cast<std::uint32_t>(k + 1000)));
  }
}

TEST_P(KernelPath, KAroundMultiplesOfBlockSizes) {
  for (std::size_t block : {5, 16, 32, 64, 256, 320}) {
    for (std::size_t mult : {1, 2, 3, 7, 11}) {
      for (int delta : {-1, 0, 1}) {
        const std::size_t k = block * mult + static_cast<std::size_t>(delta);
        if (k == 0) continue;
        expect_matches_reference(make_problem(9, k, 2, static_cast<std::uint32_t>(k * 31 + block)));
      }
    }
  }
}

TEST_P(KernelPath, PartialRowAndTokenTiles) {
  for (std::size_t rows : {1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33, 47, 64, 65}) {
    for (std::size_t tokens : {1, 2, 4, 5, 6, 7, 11, 12, 13, 25}) {
      expect_matches_reference(make_problem(rows, 333, tokens, static_cast<std::uint32_t>(rows * 100 + tokens)));
    }
  }
}

TEST_P(KernelPath, UnalignedActivationsAndStrides) {
  for (std::size_t offset : {1, 3, 17}) {
    for (std::size_t extra : {1, 5, 64}) {
      expect_matches_reference(make_problem(19, 700, 1, 7, WeightFill::random, ActFill::random, offset, extra), 1, 3);
      expect_matches_reference(make_problem(37, 987, 9, 8, WeightFill::random, ActFill::random, offset, extra), 1, 5);
    }
  }
}

TEST_P(KernelPath, ThreadCountsGiveIdenticalResults) {
  for (unsigned threads : {1u, 2u, 3u, 4u}) {
    expect_matches_reference(make_problem(200, 1000, 1, 11), threads);
    expect_matches_reference(make_problem(131, 641, 14, 12), threads);
  }
}

TEST_P(KernelPath, ExtremeActivationsAndConstantWeights) {
  for (WeightFill wfill : {WeightFill::random, WeightFill::zeros, WeightFill::plus_ones, WeightFill::minus_ones}) {
    for (ActFill afill : {ActFill::random, ActFill::all_min, ActFill::all_max}) {
      for (std::size_t tokens : {1, 13}) {
        expect_matches_reference(make_problem(33, 6912, tokens, 5, wfill, afill));
      }
    }
  }
}

TEST_P(KernelPath, PerTensorScale) {
  expect_matches_reference(make_problem(17, 2560, 1, 21, WeightFill::random, ActFill::random, 0, 0,
                                        trit::ScaleGranularity::per_tensor));
  expect_matches_reference(make_problem(17, 2560, 5, 22, WeightFill::random, ActFill::random, 0, 0,
                                        trit::ScaleGranularity::per_tensor));
}

// The descriptor says where each path's GEMV widens its partial sums (every 128 groups,
// K = 40,960, on the raw-chain VNNI paths; every group elsewhere): K below, at and above one
// and two flush intervals, with the largest sums the format allows, on the GEMV and on the
// GEMM side of the crossover.
TEST_P(KernelPath, KAroundTheGemvFlushInterval) {
  const trit::detail::Dense243Int8Kernels& kernels =
      trit::detail::select_kernels<trit::detail::Dense243Int8Product>(GetParam());
  const std::size_t flush = kernels.gemv_flush_trits;
  if (flush == 0) GTEST_SKIP() << trit::isa_name(GetParam()) << " never flushes its GEMV sums";
  const std::size_t gemm_tokens = std::max<std::size_t>(kernels.min_gemm_tokens, 2);
  for (std::size_t mult : {1, 2}) {
    for (std::size_t k : {flush * mult - 1, flush * mult, flush * mult + 1, flush * mult + 321}) {
      const auto seed = static_cast<std::uint32_t>(k);
      expect_matches_reference(make_problem(9, k, 1, seed));
      expect_matches_reference(make_problem(9, k, gemm_tokens, seed + 1));
      expect_matches_reference(make_problem(3, k, 1, seed + 2, WeightFill::plus_ones, ActFill::all_max));
      expect_matches_reference(make_problem(3, k, 1, seed + 3, WeightFill::minus_ones, ActFill::all_min));
    }
  }
}

// Row ranges for callers with their own threads: ranges that start and end anywhere (not on
// a row tile) write exactly their rows, and together equal the whole product.
TEST_P(KernelPath, RowRangesStartingAndEndingUnaligned) {
  for (std::size_t tokens : {1, 7}) {
    const Problem p = make_problem(101, 777, tokens, 41 + static_cast<std::uint32_t>(tokens));
    const Reference r = compute_reference(p);
    std::vector<float> y(tokens * 101, -7.0f);
    std::vector<std::int32_t> acc(tokens * 101, 0x5A5A5A5A);
    const std::size_t cuts[] = {0, 3, 17, 18, 50, 99, 101};
    for (std::size_t c = 0; c + 1 < sizeof(cuts) / sizeof(cuts[0]); ++c) {
      trit::gemm_rows(p.w, p.x, trit::matrix(y.data(), tokens, 101), p.bias.data(), cuts[c], cuts[c + 1], GetParam());
      trit::gemm_int32_rows(p.w, p.x, trit::matrix(acc.data(), tokens, 101), cuts[c], cuts[c + 1], GetParam());
      for (std::size_t n = 0; n < tokens; ++n) {
        for (std::size_t m = 0; m < 101; ++m) {
          if (m < cuts[c + 1]) {
            ASSERT_EQ(acc[n * 101 + m], r.acc[n * 101 + m]) << "row " << m;
            ASSERT_EQ(std::memcmp(&y[n * 101 + m], &r.y[n * 101 + m], sizeof(float)), 0) << "row " << m;
          } else {
            ASSERT_EQ(acc[n * 101 + m], 0x5A5A5A5A) << "range [" << cuts[c] << ", " << cuts[c + 1] << ") wrote row " << m;
            ASSERT_EQ(y[n * 101 + m], -7.0f) << "range [" << cuts[c] << ", " << cuts[c + 1] << ") wrote row " << m;
          }
        }
      }
    }
  }
}

// Products on a view of a slice of rows (tensor parallelism over outputs) equal the same
// rows of the whole product.
TEST_P(KernelPath, RowSliceViewsEqualTheirRowsOfTheWhole) {
  const Problem p = make_problem(70, 650, 3, 77);
  const Reference r = compute_reference(p);
  const trit::PackedMatrixView whole = p.w;
  for (std::size_t m0 : {0, 13, 64}) {
    const std::size_t m1 = std::min<std::size_t>(m0 + 37, 70);
    const trit::PackedMatrixView part = whole.slice_rows(m0, m1);
    std::vector<std::int32_t> acc(3 * (m1 - m0));
    trit::gemm_int32(part, p.x, trit::matrix(acc.data(), 3, m1 - m0), {GetParam(), 2});
    for (std::size_t n = 0; n < 3; ++n) {
      for (std::size_t m = m0; m < m1; ++m) ASSERT_EQ(acc[n * (m1 - m0) + m - m0], r.acc[n * 70 + m]) << m;
    }
  }
}

// Column slices on group boundaries (tensor parallelism over K): the int32 sums of the parts
// add up to the whole product's, exactly; a cut inside a group is refused.
TEST_P(KernelPath, ColumnSliceViewsAddUpToTheWhole) {
  const std::size_t cols = 3 * trit::dense243::kGroupTrits + 77;
  const Problem p = make_problem(45, cols, 5, 91);
  const Reference r = compute_reference(p);
  const trit::PackedMatrixView whole = p.w;
  const std::size_t cuts[] = {0, trit::dense243::kGroupTrits, 3 * trit::dense243::kGroupTrits, cols};
  std::vector<std::int32_t> sum(5 * 45, 0), part(5 * 45);
  for (std::size_t c = 0; c + 1 < 4; ++c) {
    const trit::PackedMatrixView slice = whole.slice_cols(cuts[c], cuts[c + 1]);
    ASSERT_EQ(slice.cols(), cuts[c + 1] - cuts[c]);
    const trit::ActivationsView x{p.x.data + cuts[c], p.x.tokens, slice.cols(), p.x.stride, p.x.scales};
    trit::gemm_int32(slice, x, trit::matrix(part.data(), 5, 45), {GetParam(), 2});
    for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += part[i];
  }
  EXPECT_EQ(sum, r.acc);
  EXPECT_THROW(whole.slice_cols(1, 320), std::invalid_argument);
  EXPECT_THROW(whole.slice_cols(0, 321), std::invalid_argument);
  EXPECT_THROW(whole.slice_cols(320, 320), std::invalid_argument);
}

using Shape = std::tuple<std::size_t, std::size_t>;

TEST_P(KernelPath, BitNetAndLlamaShapes) {
  const Shape shapes[] = {{2560, 2560}, {640, 2560}, {6912, 2560}, {2560, 6912},
                          {4096, 4096}, {11008, 4096}, {4096, 11008}};
  std::uint32_t seed = 100;
  for (const Shape& shape : shapes) {
    for (std::size_t tokens : {1, 3}) {
      const CachedCase& c = cached_case(std::get<0>(shape), std::get<1>(shape), tokens, ++seed);
      expect_matches_reference(c.problem, 2, 0, &c.reference);
    }
  }
}

TEST_P(KernelPath, QuantizedActivationsFromFloats) {
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> w(48 * 1500), x(7 * 1500);
  for (auto& v : w) v = dist(rng);
  for (auto& v : x) v = dist(rng);
  const trit::PackedMatrix packed = trit::pack_weights(trit::matrix<const float>(w.data(), 48, 1500));
  const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix<const float>(x.data(), 7, 1500));
  Problem p;
  p.w = packed;
  p.x = q.view();
  p.bias.assign(48, 0.25f);
  expect_matches_reference(p);
}

std::string path_name(const ::testing::TestParamInfo<Isa>& info) {
  std::string name = trit::isa_name(info.param);
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(AllPaths, KernelPath, ::testing::ValuesIn(trit::kAllIsas), path_name);

}  // namespace
