// CUDA path, host side: everything that needs no GPU. The decoding helpers against
// docs/FORMAT.md, int4 packing, argument checks and launch shapes, the device types' errors
// without a device, and CPU replays of both kernels against trit::ref.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda_test_support.hpp"
#include "kernel_replay.hpp"
#include "trit/cuda/device_buffer.hpp"
#include "trit/cuda/device_layout.hpp"
#include "trit/cuda/device_matrix.hpp"
#include "trit/cuda/error.hpp"
#include "trit/cuda/int4.hpp"
#include "trit/cuda/views.hpp"
#include "trit/format/dense243.hpp"
#if defined(TRIT_ENABLE_INT4)
#include "trit/views/int4_activations.hpp"
#include "trit/quantize/int4_activations.hpp"
#endif

namespace {

using namespace trit_cuda_test;
namespace tc = trit::cuda;
namespace tcd = trit::cuda::detail;

int lane_value(std::uint32_t word, int lane) { return static_cast<std::int8_t>(word >> (8 * lane)); }

// ---- Word-level decoding ------------------------------------------------------------------------

TEST(CudaDecode, TritChainMatchesTheFormatForEveryByteInEveryLane) {
  std::mt19937 rng(7);
  for (int lane = 0; lane < 4; ++lane) {
    for (int byte = 0; byte < 256; ++byte) {
      std::uint32_t word = rng();
      word = (word & ~(0xFFu << (8 * lane))) | (static_cast<std::uint32_t>(byte) << (8 * lane));
      tcd::TritChain chain(word);
      for (int digit = 0; digit < 5; ++digit) {
        const std::uint32_t trits = chain.next_trits();
        for (int n = 0; n < 4; ++n) {
          const auto b = static_cast<std::uint8_t>(word >> (8 * n));
          ASSERT_EQ(lane_value(trits, n), trit::dense243::decode_trit(b, digit))
              << "byte " << int(b) << " digit " << digit << " lane " << n;
        }
      }
    }
  }
}

TEST(CudaDecode, DigitDecoderMatchesTheFormatForEveryByteInEveryLane) {
  std::mt19937 rng(8);
  for (int lane = 0; lane < 4; ++lane) {
    for (int byte = 0; byte < 256; ++byte) {
      std::uint32_t word = rng();
      word = (word & ~(0xFFu << (8 * lane))) | (static_cast<std::uint32_t>(byte) << (8 * lane));
      tcd::DigitDecoder decoder(word);
      for (int digit = 0; digit < 5; ++digit) {
        const std::uint32_t digits = decoder.next_digits();
        for (int n = 0; n < 4; ++n) {
          const auto b = static_cast<std::uint8_t>(word >> (8 * n));
          ASSERT_EQ(static_cast<int>((digits >> (8 * n)) & 0xFFu), trit::dense243::decode_trit(b, digit) + 1)
              << "byte " << int(b) << " digit " << digit << " lane " << n;
        }
      }
    }
  }
}

TEST(CudaDecode, DigitDecoderMatchesTheFormatForEveryWordOfTwoBytes) {
  // Every pair of neighbouring bytes, in both 16-bit lanes: a carry or borrow between lanes
  // would show here.
  for (int lo = 0; lo < 256; ++lo) {
    for (int hi = 0; hi < 256; ++hi) {
      const std::uint32_t word = static_cast<std::uint32_t>(lo) | (static_cast<std::uint32_t>(hi) << 8) |
                                 (static_cast<std::uint32_t>(hi) << 16) | (static_cast<std::uint32_t>(lo) << 24);
      tcd::DigitDecoder decoder(word);
      for (int digit = 0; digit < 5; ++digit) {
        const std::uint32_t digits = decoder.next_digits();
        const std::uint32_t expected =
            static_cast<std::uint32_t>(trit::dense243::decode_trit(static_cast<std::uint8_t>(lo), digit) + 1) *
                0x01000001u +
            static_cast<std::uint32_t>(trit::dense243::decode_trit(static_cast<std::uint8_t>(hi), digit) + 1) *
                0x00010100u;
        ASSERT_EQ(digits, expected) << lo << " " << hi << " digit " << digit;
      }
    }
  }
}

TEST(CudaDecode, Dot4UsReadsUnsignedBytesAgainstSignedBytes) {
  std::mt19937 rng(4);
  std::vector<std::uint32_t> words = {0u, 0x80808080u, 0x7F7F7F7Fu, 0xFFFFFFFFu, 0x02010002u};
  for (int i = 0; i < 200; ++i) words.push_back(rng());
  for (const std::uint32_t a : words) {
    for (const std::uint32_t b : words) {
      int expected = -9;
      for (int n = 0; n < 4; ++n) expected += static_cast<int>((a >> (8 * n)) & 0xFFu) * lane_value(b, n);
      ASSERT_EQ(tcd::dot4_us(a, b, -9), expected);
    }
  }
  // Partial sums may wrap; the host copy wraps as the device does.
  EXPECT_EQ(tcd::dot4_us(0xFFu, 0x7Fu, 2147483647), static_cast<int>(2147483647u + 255u * 127u));
  EXPECT_EQ(tcd::wrapping_sub(tcd::wrapping_add(2147483647, 100), 100), 2147483647);
}

TEST(CudaDecode, ByteTritMatchesTheFormat) {
  for (int byte = 0; byte < 256; ++byte) {
    for (int digit = 0; digit < 5; ++digit) {
      ASSERT_EQ(tcd::byte_trit(static_cast<std::uint32_t>(byte), digit),
                trit::dense243::decode_trit(static_cast<std::uint8_t>(byte), digit));
    }
  }
}

TEST(CudaDecode, Int4UnpackFollowsTheDocumentedNibbleOrder) {
  std::mt19937 rng(11);
  std::vector<std::uint32_t> words = {0u, 0xFFFFFFFFu, 0x88888888u, 0x77777777u, 0x01234567u, 0x89ABCDEFu};
  for (int i = 0; i < 1000; ++i) words.push_back(rng());
  for (const std::uint32_t word : words) {
    std::uint8_t bytes[4];
    for (int b = 0; b < 4; ++b) bytes[b] = static_cast<std::uint8_t>(word >> (8 * b));
    const tcd::Words8 unpacked = tcd::unpack_int4x8(word);
    for (int k = 0; k < 8; ++k) {
      ASSERT_EQ(lane_value(unpacked.w[k / 4], k % 4), tc::unpack_int4(bytes, static_cast<std::size_t>(k)))
          << std::hex << word << " value " << k;
    }
  }
}

TEST(CudaDecode, Dot4IsASignedByteDotProduct) {
  std::mt19937 rng(3);
  std::vector<std::uint32_t> words = {0u, 0x80808080u, 0x7F7F7F7Fu, 0xFFFFFFFFu, 0x01FF80u};
  for (int i = 0; i < 200; ++i) words.push_back(rng());
  for (const std::uint32_t a : words) {
    for (const std::uint32_t b : words) {
      int expected = 5;
      for (int n = 0; n < 4; ++n) expected += lane_value(a, n) * lane_value(b, n);
      ASSERT_EQ(tcd::dot4(a, b, 5), expected);
    }
  }
}

TEST(CudaDecode, BytePermPicksBytesOfBothWords) {
  EXPECT_EQ(tcd::byte_perm(0x33221100u, 0x77665544u, 0x7351u), 0x77335511u);
  EXPECT_EQ(tcd::byte_perm(0x33221100u, 0x77665544u, 0x6240u), 0x66224400u);
  EXPECT_EQ(tcd::byte_perm(0x33221100u, 0x77665544u, 0x3210u), 0x33221100u);
}

// ---- int4 packing -------------------------------------------------------------------------------

TEST(CudaInt4, PackingRoundTripsWithEvenAndOddWidths) {
  for (const std::size_t cols : {1u, 2u, 7u, 8u, 321u}) {
    const Problem p = make_problem(1, cols, 3, 17, trit::ScaleGranularity::per_tensor, true, 5);
    for (const std::size_t stride : {std::size_t{0}, tc::int4_row_bytes(cols) + 9}) {
      const tc::PackedInt4 packed = packed_int4(p, stride);
      ASSERT_EQ(packed.stride, stride == 0 ? tc::int4_row_bytes(cols) : stride);
      for (std::size_t n = 0; n < p.tokens; ++n) {
        for (std::size_t k = 0; k < cols; ++k) ASSERT_EQ(tc::unpack_int4(packed.row(n), k), p.x[n * p.x_stride + k]);
        if (cols % 2 == 1) {
          EXPECT_EQ(packed.row(n)[cols / 2] >> 4, 0) << "odd K leaves the last high nibble 0";
        }
      }
    }
  }
}

TEST(CudaInt4, LowNibbleHoldsTheEvenValue) {
  const std::int8_t values[] = {-8, 7, -1, 0, 3};
  const tc::PackedInt4 packed = tc::pack_int4(values, 1, 5, 5);
  ASSERT_EQ(packed.bytes.size(), 3u);
  EXPECT_EQ(packed.bytes[0], 0x78);
  EXPECT_EQ(packed.bytes[1], 0x0F);
  EXPECT_EQ(packed.bytes[2], 0x03);
}

#if defined(TRIT_ENABLE_INT4)
TEST(CudaInt4, LayoutIsTheCpuInt4Layout) {
  const Problem p = make_problem(1, 333, 4, 23, trit::ScaleGranularity::per_tensor, true);
  const tc::PackedInt4 packed = packed_int4(p);
  std::vector<std::uint8_t> cpu(tc::int4_row_bytes(p.cols));
  for (std::size_t n = 0; n < p.tokens; ++n) {
    trit::int4::pack_row(p.x.data() + n * p.x_stride, p.cols, cpu.data());
    ASSERT_EQ(std::vector<std::uint8_t>(packed.row(n), packed.row(n) + packed.stride), cpu) << "token " << n;
  }
}
#endif

TEST(CudaInt4, PackingRejectsOutOfRangeValuesAndShortStrides) {
  const std::int8_t values[] = {1, 8};
  EXPECT_THROW(tc::pack_int4(values, 1, 2, 2), std::invalid_argument);
  const std::int8_t fine[] = {1, 2, 3};
  EXPECT_THROW(tc::pack_int4(fine, 1, 3, 3, 1), std::invalid_argument);
  EXPECT_THROW(tc::pack_int4(fine, 1, 3, 2), std::invalid_argument);
}

// ---- Launch planning and argument checks --------------------------------------------------------

TEST(CudaLayout, DeviceRowsAreWholeGroups) {
  EXPECT_EQ(tc::device_row_stride(2560), 512u);
  EXPECT_EQ(tc::device_row_stride(6912), 1408u);  // 1383 Dense243 bytes: 21 groups and a tail
  EXPECT_EQ(tc::device_row_stride(3200), 640u);
  EXPECT_EQ(tc::device_row_stride(11008), 2240u);
  EXPECT_EQ(tc::device_row_stride(16384), 3328u);
  EXPECT_EQ(tc::device_row_stride(1), 64u);
  for (std::size_t cols = 1; cols < 2000; ++cols) {
    const std::size_t stride = tc::device_row_stride(cols);
    ASSERT_EQ(stride % 64, 0u);
    ASSERT_GE(stride, trit::dense243::row_layout(cols).bytes);
    ASSERT_LT(stride, trit::dense243::row_layout(cols).bytes + 64);
  }
}

TEST(CudaLayout, DeviceLayoutPutsTrit64iPlusJAtByteJDigitIOfEveryGroup) {
  for (const std::size_t cols : ragged_cols()) {
    const Problem p = make_problem(3, cols, 1, static_cast<std::uint32_t>(cols) + 5, trit::ScaleGranularity::per_row,
                                   false);
    std::vector<std::int8_t> trits(3 * cols);
    trit::unpack_trits(p.w, trit::matrix(trits.data(), 3, cols));
    const std::vector<std::uint8_t> bytes = tc::device_layout(p.w);
    const std::size_t stride = tc::device_row_stride(cols);
    ASSERT_EQ(bytes.size(), 3 * stride);
    for (std::size_t m = 0; m < 3; ++m) {
      for (std::size_t g = 0; g < tc::device_groups(cols); ++g) {
        for (std::size_t j = 0; j < 64; ++j) {
          const std::uint8_t b = bytes[m * stride + g * 64 + j];
          ASSERT_TRUE(trit::dense243::is_valid_byte(b));
          for (int i = 0; i < 5; ++i) {
            const std::size_t k = g * 320 + 64 * static_cast<std::size_t>(i) + j;
            const int expected = k < cols ? trits[m * cols + k] : 0;
            ASSERT_EQ(trit::dense243::decode_trit(b, i), expected) << p.name() << " row " << m << " k " << k;
          }
        }
      }
      // Full groups are the Dense243 bytes as they are.
      const std::size_t full = trit::dense243::row_layout(cols).full_groups * 64;
      ASSERT_EQ(std::memcmp(bytes.data() + m * stride, p.w.row(m), full), 0);
    }
    const trit::PackedMatrix back = tc::packed_from_device_layout(bytes.data(), 3, cols, p.w.granularity());
    for (std::size_t m = 0; m < 3; ++m) {
      ASSERT_EQ(std::memcmp(back.row(m), p.w.row(m), p.w.row_bytes()), 0) << p.name() << " row " << m;
    }
  }
}

TEST(CudaPlan, Dp4aTilesGrowWithTheTokenCount) {
  EXPECT_EQ(tcd::dp4a_tile(1).tokens, 1);
  EXPECT_EQ(tcd::dp4a_tile(1).rows, 2);
  EXPECT_EQ(tcd::dp4a_tile(2).tokens, 2);
  EXPECT_EQ(tcd::dp4a_tile(3).tokens, 4);
  EXPECT_EQ(tcd::dp4a_tile(4).rows, 2);
  EXPECT_EQ(tcd::dp4a_tile(5).tokens, 8);
  EXPECT_EQ(tcd::dp4a_tile(100).rows, 2);
  for (std::size_t n = 1; n < 40; ++n) {
    const tcd::Dp4aTile tile = tcd::dp4a_tile(n);
    ASSERT_LE(tile.tokens * tile.rows, tc::kWarpSize) << "one lane stores each result";
    ASSERT_GE(tile.rows, 2);
    ASSERT_LE(tile.rows, 4);
  }
}

TEST(CudaPlan, GridsCoverEveryRowAndToken) {
  // 6912 x 2560, one token: 3456 warps of 2 rows, 8 warps a block, 8 groups (one step): no split.
  const tcd::GemvPlan gemv = tcd::gemv_plan(6912, 2560, 1, 0, 132, "test");
  EXPECT_EQ(gemv.grid.blocks_x, 432u);
  EXPECT_EQ(gemv.grid.blocks_y, 1u);
  EXPECT_EQ(gemv.grid.blocks_z, 1u);
  EXPECT_EQ(gemv.grid.threads, 256u);
  EXPECT_EQ(gemv.slice.groups_per_split, 8u);
  EXPECT_EQ(gemv.slice.chunk_groups, 8u);
  EXPECT_EQ(gemv.shared_bytes, 2560u);
  // 2560 x 6912 (short M, long K): 160 blocks of 8 warps, 22 groups in 3 steps: split in 3.
  const tcd::GemvPlan down = tcd::gemv_plan(2560, 6912, 1, 0, 132, "test");
  EXPECT_EQ(down.grid.blocks_x, 160u);
  EXPECT_EQ(down.grid.blocks_z, 3u);
  EXPECT_EQ(down.slice.groups_per_split, 8u);
  EXPECT_EQ(tcd::gemv_plan(2560, 6912, 1, 1, 132, "test").grid.blocks_z, 1u) << "split_k = 1 turns it off";
  // 16384 x 16384: 52 groups, staged in chunks of 96 groups at most: one chunk.
  const tcd::GemvPlan big = tcd::gemv_plan(16384, 16384, 1, 0, 132, "test");
  EXPECT_EQ(big.grid.blocks_z, 1u);
  EXPECT_EQ(big.slice.chunk_groups, 52u);
  // Eight tokens: chunks of 8 groups (20 KiB of staged activations).
  const tcd::GemvPlan eight = tcd::gemv_plan(6913, 16384, 8, 1, 132, "test");
  EXPECT_EQ(eight.grid.blocks_x, 433u);  // 3457 warps of 2 rows
  EXPECT_EQ(eight.slice.chunk_groups, 8u);
  EXPECT_EQ(eight.shared_bytes, 8u * 8u * 320u);
  for (const std::size_t tokens : {1u, 2u, 3u, 8u}) {
    for (const std::size_t cols : {1u, 320u, 10000u, 100000u}) {
      const tcd::GemvPlan plan = tcd::gemv_plan(100, cols, tokens, 0, 132, "test");
      ASSERT_LE(plan.shared_bytes, tc::kGemvStageBudget);
      ASSERT_TRUE(plan.slice.chunk_groups % tc::kGemvStepGroups == 0 ||
                  plan.slice.chunk_groups == plan.slice.groups_per_split);
    }
  }
  const tcd::MmaPlan mma = tcd::mma_plan(6912, 2560, 128, 1, 132, "test");
  EXPECT_EQ(mma.grid.blocks_x, 108u);
  EXPECT_EQ(mma.grid.blocks_y, 2u);
  EXPECT_EQ(mma.grid.blocks_z, 1u);
  EXPECT_EQ(mma.grid.threads, static_cast<unsigned>(tc::kMmaThreads));
  // 216 blocks against 528 wanted (4 per SM): K split in 3 slices of 3, 3 and 2 groups.
  const tcd::MmaPlan mma_split = tcd::mma_plan(6912, 2560, 128, 0, 132, "test");
  EXPECT_EQ(mma_split.grid.blocks_z, 3u);
  EXPECT_EQ(mma_split.groups_per_split, 3u);
  // Token tiles past the grid's y limit are looped over inside the kernels.
  EXPECT_EQ(tcd::mma_plan(1, 64, std::size_t{1} << 30, 1, 132, "test").grid.blocks_y, 65535u);
  EXPECT_EQ(tcd::gemv_plan(1, 64, std::size_t{1} << 30, 1, 132, "test").grid.blocks_y, 65535u);
}

TEST(CudaPlan, SplitKNeverLeavesASliceEmpty) {
  for (std::size_t groups = 1; groups < 70; ++groups) {
    for (unsigned requested = 0; requested < 12; ++requested) {
      for (const std::size_t grain : {1u, 8u}) {
        const tcd::SplitK split = tcd::plan_split_k(groups, 10, 100, grain, requested);
        ASSERT_GE(split.splits, 1u);
        ASSERT_LT(static_cast<std::size_t>(split.splits - 1) * split.groups_per_split, groups);
        ASSERT_GE(static_cast<std::size_t>(split.splits) * split.groups_per_split, groups);
        if (requested > 0) {
          ASSERT_LE(split.splits, requested);
        }
      }
    }
  }
}

TEST(CudaPlan, AutomaticChoosesMmaFromTheThresholdWhenItRuns) {
  using tc::KernelChoice;
  EXPECT_EQ(tcd::resolve_kernel(KernelChoice::automatic, 1, true, "t"), KernelChoice::dp4a);
  EXPECT_EQ(tcd::resolve_kernel(KernelChoice::automatic, tc::kMmaMinTokens - 1, true, "t"), KernelChoice::dp4a);
  EXPECT_EQ(tcd::resolve_kernel(KernelChoice::automatic, tc::kMmaMinTokens, true, "t"), KernelChoice::mma);
  EXPECT_EQ(tcd::resolve_kernel(KernelChoice::automatic, 128, false, "t"), KernelChoice::dp4a);
  EXPECT_EQ(tcd::resolve_kernel(KernelChoice::dp4a, 128, true, "t"), KernelChoice::dp4a);
  EXPECT_EQ(tcd::resolve_kernel(KernelChoice::mma, 1, true, "t"), KernelChoice::mma);
  EXPECT_THROW(tcd::resolve_kernel(KernelChoice::mma, 128, false, "t"), trit::unsupported_isa_error);
  EXPECT_THROW(tcd::resolve_kernel(static_cast<KernelChoice>(9), 1, true, "t"), std::invalid_argument);
  EXPECT_FALSE(tcd::needs_mma_query(KernelChoice::automatic, 1));
  EXPECT_TRUE(tcd::needs_mma_query(KernelChoice::automatic, tc::kMmaMinTokens));
  EXPECT_TRUE(tcd::needs_mma_query(KernelChoice::mma, 1));
  EXPECT_FALSE(tcd::needs_mma_query(KernelChoice::dp4a, 1000));
  EXPECT_STREQ(tc::kernel_name(KernelChoice::mma), "mma");
}

// Fake device addresses: the checks must reject bad arguments without dereferencing anything.
template <class T>
T* fake_device_pointer(std::uintptr_t address) {
  return reinterpret_cast<T*>(address);
}

tc::DeviceMatrixView valid_weights() {
  return tc::DeviceMatrixView{fake_device_pointer<const std::uint8_t>(0x10000), fake_device_pointer<const float>(0x20000),
                              64, 1000, tc::device_row_stride(1000), trit::ScaleGranularity::per_row};
}

void expect_invalid(const std::function<void()>& call, const std::string& fragment) {
  try {
    call();
    ADD_FAILURE() << "no exception; expected one mentioning '" << fragment << "'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("trit::fn"), std::string::npos) << e.what();
  }
}

TEST(CudaPlan, WeightChecksNameTheDefect) {
  EXPECT_NO_THROW(tcd::check_weights(valid_weights(), "fn"));
  auto w = valid_weights();
  w.rows = 0;
  expect_invalid([&] { tcd::check_weights(w, "fn"); }, "w is empty");
  w = valid_weights();
  w.bytes = nullptr;
  expect_invalid([&] { tcd::check_weights(w, "fn"); }, "null bytes");
  w = valid_weights();
  w.row_stride = 208;  // the 200 Dense243 bytes fit, but not the 4 whole groups of a device row
  expect_invalid([&] { tcd::check_weights(w, "fn"); }, "smaller than the 256 bytes of a device row");
  w = valid_weights();
  w.row_stride = 264;
  expect_invalid([&] { tcd::check_weights(w, "fn"); }, "multiples of 16");
  w = valid_weights();
  w.bytes = fake_device_pointer<const std::uint8_t>(0x10008);
  expect_invalid([&] { tcd::check_weights(w, "fn"); }, "multiples of 16");
  w = valid_weights();
  w.cols = trit::kMaxCols + 1;
  w.row_stride = tc::device_row_stride(w.cols);
  expect_invalid([&] { tcd::check_weights(w, "fn"); }, "kMaxCols");
  w = valid_weights();
  w.granularity = static_cast<trit::ScaleGranularity>(5);
  expect_invalid([&] { tcd::check_weights(w, "fn"); }, "granularity");
}

TEST(CudaPlan, ActivationChecksResolveStridesAndTheFastPath) {
  tc::DeviceActivations x{fake_device_pointer<const std::int8_t>(0x30000), 4, 1000, 0,
                          fake_device_pointer<const float>(0x40000)};
  tcd::ActivationLayout layout = tcd::check_activations(x, 1000, "fn");
  EXPECT_EQ(layout.stride, 1000u);
  EXPECT_FALSE(layout.vector_loads) << "1000 is not a multiple of 16";
  x.stride = 1008;
  EXPECT_TRUE(tcd::check_activations(x, 1000, "fn").vector_loads);
  x.data = fake_device_pointer<const std::int8_t>(0x30004);
  EXPECT_FALSE(tcd::check_activations(x, 1000, "fn").vector_loads);
  // One token has no second row: only its start must be aligned, whatever the stride.
  x.data = fake_device_pointer<const std::int8_t>(0x30000);
  x.stride = 1001;
  x.tokens = 1;
  EXPECT_TRUE(tcd::check_activations(x, 1000, "fn").vector_loads);
  x.stride = 0;
  EXPECT_TRUE(tcd::check_activations(x, 1000, "fn").vector_loads) << "a 1000-byte token alone";
  x.data = fake_device_pointer<const std::int8_t>(0x30008);
  EXPECT_FALSE(tcd::check_activations(x, 1000, "fn").vector_loads);
  x.data = fake_device_pointer<const std::int8_t>(0x30004);
  x.tokens = 4;
  x.stride = 999;
  expect_invalid([&] { tcd::check_activations(x, 1000, "fn"); }, "x.stride 999");
  x.stride = 0;
  expect_invalid([&] { tcd::check_activations(x, 999, "fn"); }, "K = 999");
  x.tokens = 0;
  expect_invalid([&] { tcd::check_activations(x, 1000, "fn"); }, "no tokens");
  x.tokens = 1;
  x.scales = nullptr;
  expect_invalid([&] { tcd::check_activations(x, 1000, "fn"); }, "null data or scales");

  tc::DeviceInt4Activations packed{fake_device_pointer<const std::uint8_t>(0x30000), 2, 1001, 0,
                                   fake_device_pointer<const float>(0x40000)};
  layout = tcd::check_activations(packed, 1001, "fn");
  EXPECT_EQ(layout.stride, 501u);
  EXPECT_FALSE(layout.vector_loads);
  packed.stride = 512;
  EXPECT_TRUE(tcd::check_activations(packed, 1001, "fn").vector_loads);
  packed.tokens = 1;
  packed.stride = 0;
  EXPECT_TRUE(tcd::check_activations(packed, 1001, "fn").vector_loads) << "one packed token";
  packed.tokens = 2;
  packed.stride = 500;
  expect_invalid([&] { tcd::check_activations(packed, 1001, "fn"); }, "501 bytes of a token");
}

TEST(CudaPlan, OutputChecksResolveStrides) {
  float* y = fake_device_pointer<float>(0x50000);
  EXPECT_EQ(tcd::check_output(y, 0, 64, "y", "fn"), 64u);
  EXPECT_EQ(tcd::check_output(y, 80, 64, "y", "fn"), 80u);
  expect_invalid([&] { tcd::check_output(y, 63, 64, "y", "fn"); }, "y stride 63");
  expect_invalid([&] { tcd::check_output(static_cast<float*>(nullptr), 0, 64, "y", "fn"); }, "y is null");
  expect_invalid([&] { tcd::check_output(fake_device_pointer<float>(0x50002), 0, 64, "y", "fn"); }, "aligned");
  expect_invalid([&] { tcd::check_bias(fake_device_pointer<const float>(0x50001), "fn"); }, "bias");
}

TEST(CudaPlan, MmaStagesAreTwoOrThree) {
  tc::LaunchOptions options;
  EXPECT_NO_THROW(tcd::check_options(options, "fn"));
  options.mma_stages = 2;
  EXPECT_NO_THROW(tcd::check_options(options, "fn"));
  options.mma_stages = 3;
  EXPECT_NO_THROW(tcd::check_options(options, "fn"));
  for (const unsigned bad : {1u, 4u, 100u}) {
    options.mma_stages = bad;
    expect_invalid([&] { tcd::check_options(options, "fn"); }, "options.mma_stages is " + std::to_string(bad));
  }
  // Three stages fit three blocks an SM instead of four; automatic split-K aims for that.
  EXPECT_EQ(tcd::mma_plan(6912, 2560, 128, 0, 132, "test", 3).grid.blocks_z, 2u);
}

// ---- The device types without a device ----------------------------------------------------------

TEST(CudaDeviceTypes, DefaultDeviceMatrixIsEmpty) {
  const tc::DeviceMatrix empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.bytes(), nullptr);
  EXPECT_EQ(empty.bits_per_weight(), 0.0);
  const tc::DeviceMatrixView view = empty;
  EXPECT_EQ(view.rows, 0u);
  EXPECT_THROW(empty.download(), std::invalid_argument);
}

TEST(CudaDeviceTypes, UploadingAnEmptyMatrixIsAnArgumentError) {
  EXPECT_THROW(tc::DeviceMatrix{trit::PackedMatrix{}}, std::invalid_argument);
}

TEST(CudaDeviceTypes, WithoutADeviceUploadsThrowCudaError) {
  const tc::DeviceStatus status = tc::device_status();
  if (status.available()) GTEST_SKIP() << "a CUDA device is present; this checks the error without one";
  EXPECT_FALSE(status.reason().empty());
  EXPECT_NE(status.reason().find("no CUDA device"), std::string::npos);
  const Problem p = make_problem(3, 100, 1, 1, trit::ScaleGranularity::per_tensor, false);
  try {
    tc::DeviceMatrix uploaded(p.w);
    ADD_FAILURE() << "uploaded without a device";
  } catch (const tc::cuda_error& e) {
    EXPECT_NE(e.code(), cudaSuccess);
    EXPECT_NE(std::string(e.what()).find("trit::cuda::DeviceMatrix"), std::string::npos) << e.what();
  }
  EXPECT_THROW(tc::DeviceBuffer<float>(16), tc::cuda_error);
  EXPECT_NO_THROW(tc::DeviceBuffer<float>(0)) << "an empty buffer allocates nothing";
}

// ---- The reference the device tests use for model shapes ----------------------------------------

TEST(CudaReference, UnpackedReferenceEqualsTheScalarReference) {
  for (const std::size_t cols : ragged_cols()) {
    const Problem p = make_problem(9, cols, 3, static_cast<std::uint32_t>(cols), trit::ScaleGranularity::per_row,
                                   false, 3);
    const std::vector<std::int32_t> acc = unpacked_reference_int32(p);
    ASSERT_EQ(first_difference(scalar_reference_int32(p), acc), -1) << p.name();
    ASSERT_EQ(first_difference(scalar_reference(p, true), epilogue_of(p, acc, true)), -1) << p.name();
  }
}

// ---- CPU replays of the kernels -----------------------------------------------------------------

enum class Replay { dp4a, mma };

struct alignas(16) Words16Storage {
  std::uint8_t bytes[16];
};

struct ReplayResult {
  std::vector<std::int32_t> acc;
  std::vector<float> y;
};

// Runs a replay on the problem as a device would see it: padded weight rows, int8 or packed
// int4 activations, token-major outputs with a stride wider than M.
template <template <bool> class Source>
ReplayResult run_replay_with(const Problem& p, Replay kernel, const std::uint8_t* x, std::size_t x_stride,
                             unsigned split_k) {
  const std::vector<std::uint8_t> bytes = tc::device_layout(p.w);
  const tcd::WeightArgs w =
      tcd::make_weight_args(bytes.data(), p.w.scales().data(), p.w.rows(), p.cols, tc::device_row_stride(p.cols),
                            p.w.granularity() == trit::ScaleGranularity::per_row);
  const std::size_t rows = p.w.rows();
  const std::size_t out_stride = rows + 3;
  std::vector<std::int32_t> acc(p.tokens * out_stride, 0x5A5A5A5A);
  std::vector<float> y(p.tokens * out_stride, -7.0f);
  const tcd::OutputArgs out{y.data(), out_stride, acc.data(), out_stride, p.bias.data(), p.x_scales.data()};
  // The source the launcher would pick; the mma kernel runs on aligned activations only.
  const bool aligned = tcd::vector_loads_apply(x, p.tokens, x_stride);
  if (aligned) {
    const AlignmentCheckedSource<Source<true>> source{{x, x_stride}};
    if (kernel == Replay::dp4a) {
      replay_dp4a(w, source, p.tokens, out, split_k);
    } else {
      replay_mma(w, source, p.tokens, out, split_k);
    }
  } else {
    EXPECT_EQ(kernel, Replay::dp4a) << "the mma kernel is never launched on unaligned activations";
    replay_dp4a(w, Source<false>{x, x_stride}, p.tokens, out, split_k);
  }
  ReplayResult result;
  for (std::size_t n = 0; n < p.tokens; ++n) {
    for (std::size_t m = 0; m < rows; ++m) {
      result.acc.push_back(acc[n * out_stride + m]);
      result.y.push_back(y[n * out_stride + m]);
    }
    for (std::size_t m = rows; m < out_stride; ++m) {
      EXPECT_EQ(acc[n * out_stride + m], 0x5A5A5A5A) << "wrote past row " << rows;
      EXPECT_EQ(y[n * out_stride + m], -7.0f) << "wrote past row " << rows;
    }
  }
  return result;
}

// Activation rows as a device buffer holds them: 16-byte aligned (cudaMalloc gives 256). The
// problem's padding decides whether strides are multiples of 16 (the fast path) or not; packed
// int4 rows follow the same choice.
ReplayResult run_replay(const Problem& p, Replay kernel, unsigned split_k) {
  const bool aligned_rows = p.x_stride % 16 == 0;
  if (p.int4) {
    const std::size_t row = tc::int4_row_bytes(p.cols);
    const tc::PackedInt4 packed = packed_int4(p, aligned_rows ? (row + 15) / 16 * 16 : row + 5);
    std::vector<Words16Storage> storage((packed.bytes.size() + 15) / 16);
    std::memcpy(storage.data(), packed.bytes.data(), packed.bytes.size());
    return run_replay_with<tcd::Int4Source>(p, kernel, reinterpret_cast<const std::uint8_t*>(storage.data()),
                                            packed.stride, split_k);
  }
  std::vector<Words16Storage> storage((p.x.size() + 15) / 16);
  std::memcpy(storage.data(), p.x.data(), p.x.size());
  return run_replay_with<tcd::Int8Source>(p, kernel, reinterpret_cast<const std::uint8_t*>(storage.data()),
                                          p.x_stride, split_k);
}


void expect_replay_matches_reference(const Problem& p, Replay kernel, unsigned split_k = 1) {
  const ReplayResult result = run_replay(p, kernel, split_k);
  const long acc_diff = first_difference(scalar_reference_int32(p), result.acc);
  ASSERT_EQ(acc_diff, -1) << p.name() << " split_k " << split_k << ": int32 differs at " << acc_diff;
  const long y_diff = first_difference(scalar_reference(p, true), result.y);
  ASSERT_EQ(y_diff, -1) << p.name() << " split_k " << split_k << ": float differs at " << y_diff;
}

TEST(CudaReplay, Dp4aKernelMatchesTheReferenceOnRaggedShapes) {
  std::uint32_t seed = 100;
  for (const std::size_t cols : ragged_cols()) {
    for (const std::size_t rows : {1u, 5u, 33u}) {
      for (const std::size_t tokens : {1u, 2u, 3u, 4u, 5u, 8u, 9u, 17u}) {
        for (const bool int4 : {false, true}) {
          ++seed;
          const auto granularity = (seed % 2 == 0) ? trit::ScaleGranularity::per_row : trit::ScaleGranularity::per_tensor;
          const std::size_t pad = seed % 3 != 0 ? aligning_pad(cols) : seed % 7;
          // split_k: off, automatic (132 SMs: these small shapes split as far as K allows), 3.
          const unsigned split = seed % 3 == 0 ? 1u : (seed % 3 == 1 ? 0u : 3u);
          expect_replay_matches_reference(make_problem(rows, cols, tokens, seed, granularity, int4, pad), Replay::dp4a,
                                          split);
        }
      }
    }
  }
}

TEST(CudaReplay, MmaKernelMatchesTheReferenceOnRaggedShapes) {
  std::uint32_t seed = 200;
  for (const std::size_t cols : ragged_cols()) {
    for (const std::size_t rows : {1u, 31u, 65u}) {
      for (const std::size_t tokens : {1u, 9u, 64u, 65u}) {
        ++seed;
        const bool int4 = seed % 3 == 0;
        const auto granularity = (seed % 2 == 0) ? trit::ScaleGranularity::per_row : trit::ScaleGranularity::per_tensor;
        const std::size_t pad = aligning_pad(cols) + 16 * (seed % 2);
        const unsigned split = seed % 4 == 0 ? 0u : (seed % 4 == 1 ? 2u : 1u);
        expect_replay_matches_reference(make_problem(rows, cols, tokens, seed, granularity, int4, pad), Replay::mma,
                                        split);
      }
    }
  }
}

TEST(CudaReplay, Dp4aKernelStagesLongRowsInChunksAndSplitsK) {
  // K = 40000 is 125 groups: one token stages 96 groups, then 29; eight tokens stage 8 at a
  // time. Split in 2 and 7 slices too; the 7-slice split puts chunk ends mid-step.
  std::uint32_t seed = 300;
  for (const std::size_t tokens : {1u, 3u, 8u}) {
    for (const unsigned split : {1u, 2u, 7u}) {
      ++seed;
      const std::size_t pad = seed % 2 == 0 ? aligning_pad(40000) : 5;
      expect_replay_matches_reference(make_problem(9, 40000, tokens, seed, trit::ScaleGranularity::per_row,
                                                   seed % 3 == 0, pad),
                                      Replay::dp4a, split);
    }
  }
}

TEST(CudaReplay, OneUnalignedStrideTokenTakesTheVectorPath) {
  // One token of K = 1000 (not a multiple of 16): the row's start is aligned, so the vector
  // loads apply; the AlignmentCheckedSource would flag any misaligned one.
  const Problem p = make_problem(33, 1000, 1, 41, trit::ScaleGranularity::per_tensor, false);
  ASSERT_NE(p.x_stride % 16, 0u);
  expect_replay_matches_reference(p, Replay::dp4a);
  expect_replay_matches_reference(p, Replay::mma);
}

TEST(CudaReplay, BoundedChunksStageOnlyValuesInsideK) {
  for (const std::size_t cols : {1u, 15u, 16u, 17u, 31u, 33u, 320u, 333u}) {
    const Problem p = make_problem(1, cols, 2, 9, trit::ScaleGranularity::per_tensor, true, 40);
    const tcd::Int8Source<false> int8{reinterpret_cast<const std::uint8_t*>(p.x.data()), p.x_stride};
    const tc::PackedInt4 packed = packed_int4(p, 208);
    const tcd::Int4Source<false> int4{packed.bytes.data(), packed.stride};
    for (std::size_t n = 0; n < 2; ++n) {
      for (std::size_t k = 0; k < cols + 32; k += 16) {
        const tcd::Words16 values = tcd::load16_bounded(int8, n, k, cols);
        const tcd::Words16 raw = int8.raw16_bounded(n, k, cols);
        for (int b = 0; b < 16; ++b) {
          const int expected = k + b < cols ? p.x[n * p.x_stride + k + b] : 0;
          ASSERT_EQ(lane_value(values.w[b / 4], b % 4), expected) << cols << " " << k + b;
          ASSERT_EQ(lane_value(raw.w[b / 4], b % 4), expected) << cols << " " << k + b;
          ASSERT_EQ(lane_value(tcd::load16_bounded(int4, n, k, cols).w[b / 4], b % 4), expected);
        }
        if (k % 32 != 0) continue;
        // 16 packed bytes, 32 values: what the mma kernel stores instead of a 16-byte copy.
        const tcd::Words16 packed_raw = int4.raw16_bounded(n, k, cols);
        const tcd::Words16 halves[2] = {
            tcd::unpack_int4x16(tcd::Words8{{packed_raw.w[0], packed_raw.w[1]}}),
            tcd::unpack_int4x16(tcd::Words8{{packed_raw.w[2], packed_raw.w[3]}})};
        for (int v = 0; v < 32; ++v) {
          const int expected = k + v < cols ? p.x[n * p.x_stride + k + v] : 0;
          ASSERT_EQ(lane_value(halves[v / 16].w[(v % 16) / 4], v % 4), expected) << cols << " " << k + v;
        }
      }
    }
  }
}

TEST(CudaReplay, BothKernelsHandleExtremeValues) {
  // All -128 activations against rows of all -1, all 0 and all +1: the largest sums a tile meets.
  for (const Replay kernel : {Replay::dp4a, Replay::mma}) {
    Problem p = make_problem(66, 1283, 10, 5, trit::ScaleGranularity::per_tensor, false, aligning_pad(1283));
    std::vector<std::int8_t> trits(p.w.rows() * p.cols);
    for (std::size_t m = 0; m < p.w.rows(); ++m) {
      for (std::size_t k = 0; k < p.cols; ++k) trits[m * p.cols + k] = static_cast<std::int8_t>(m % 3) - 1;
    }
    const float scale = 0.5f;
    p.w = trit::pack_trits(trit::matrix(trits.data(), p.w.rows(), p.cols), &scale, 1);
    for (auto& v : p.x) v = -128;
    expect_replay_matches_reference(p, kernel);
  }
}

}  // namespace
