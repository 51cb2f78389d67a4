// CUDA path, host side: everything that needs no GPU. The decoding helpers against
// docs/FORMAT.md, int4 packing, argument checks and launch shapes, the device types' errors
// without a device, and CPU replays of both kernels against trit::ref.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda_test_support.hpp"
#include "kernel_replay.hpp"
#include "trit/cuda/device_buffer.hpp"
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

TEST(CudaPlan, DeviceRowsArePaddedTo16Bytes) {
  EXPECT_EQ(tc::device_row_stride(2560), 512u);
  EXPECT_EQ(tc::device_row_stride(6912), 1392u);  // 1383 bytes
  EXPECT_EQ(tc::device_row_stride(3200), 640u);
  EXPECT_EQ(tc::device_row_stride(11008), 2208u);  // 2202 bytes
  EXPECT_EQ(tc::device_row_stride(1), 16u);
  for (std::size_t cols = 1; cols < 2000; ++cols) {
    const std::size_t stride = tc::device_row_stride(cols);
    ASSERT_EQ(stride % 16, 0u);
    ASSERT_GE(stride, trit::dense243::row_layout(cols).bytes);
    ASSERT_LT(stride, trit::dense243::row_layout(cols).bytes + 16);
  }
}

TEST(CudaPlan, Dp4aTilesGrowWithTheTokenCount) {
  EXPECT_EQ(tcd::dp4a_tile(1).tokens, 1);
  EXPECT_EQ(tcd::dp4a_tile(2).tokens, 2);
  EXPECT_EQ(tcd::dp4a_tile(3).tokens, 4);
  EXPECT_EQ(tcd::dp4a_tile(4).rows, 2);
  EXPECT_EQ(tcd::dp4a_tile(5).tokens, 8);
  EXPECT_EQ(tcd::dp4a_tile(100).rows, 4);
  for (std::size_t n = 1; n < 40; ++n) {
    const tcd::Dp4aTile tile = tcd::dp4a_tile(n);
    ASSERT_LE(tile.tokens * tile.rows, tc::kWarpSize) << "one lane stores each result";
  }
}

TEST(CudaPlan, GridsCoverEveryRowAndToken) {
  const tcd::LaunchGrid gemv = tcd::dp4a_grid(6912, 1, tcd::dp4a_tile(1), "test");
  EXPECT_EQ(gemv.blocks_x, 6912u / tc::kGemvWarpsPerBlock);
  EXPECT_EQ(gemv.blocks_y, 1u);
  EXPECT_EQ(gemv.threads, 128u);
  const tcd::LaunchGrid eight = tcd::dp4a_grid(6913, 8, tcd::dp4a_tile(8), "test");
  EXPECT_EQ(eight.blocks_x, 433u);  // 1729 warps of 4 rows, 4 warps a block
  EXPECT_EQ(eight.blocks_y, 1u);
  const tcd::LaunchGrid mma = tcd::mma_grid(6912, 128, "test");
  EXPECT_EQ(mma.blocks_x, 108u);
  EXPECT_EQ(mma.blocks_y, 2u);
  EXPECT_EQ(mma.threads, static_cast<unsigned>(tc::kMmaThreads));
  // Token tiles past the grid's y limit are looped over inside the kernels.
  EXPECT_EQ(tcd::mma_grid(1, std::size_t{1} << 30, "test").blocks_y, 65535u);
  EXPECT_EQ(tcd::dp4a_grid(1, std::size_t{1} << 30, tcd::dp4a_tile(9), "test").blocks_y, 65535u);
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
  w.row_stride = 192;
  expect_invalid([&] { tcd::check_weights(w, "fn"); }, "smaller than the 200 bytes");
  w = valid_weights();
  w.row_stride = 200;
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
ReplayResult run_replay_with(const Problem& p, Replay kernel, const std::uint8_t* x, std::size_t x_stride) {
  const std::vector<std::uint8_t> bytes = device_layout(p.w);
  const tcd::WeightArgs w =
      tcd::make_weight_args(bytes.data(), p.w.scales().data(), p.w.rows(), p.cols, tc::device_row_stride(p.cols),
                            p.w.granularity() == trit::ScaleGranularity::per_row);
  const std::size_t rows = p.w.rows();
  const std::size_t out_stride = rows + 3;
  std::vector<std::int32_t> acc(p.tokens * out_stride, 0x5A5A5A5A);
  std::vector<float> y(p.tokens * out_stride, -7.0f);
  const tcd::OutputArgs out{y.data(), out_stride, acc.data(), out_stride, p.bias.data(), p.x_scales.data()};
  // The source the launcher would pick; the mma kernel runs on aligned activations only.
  const bool aligned = reinterpret_cast<std::uintptr_t>(x) % 16 == 0 && x_stride % 16 == 0;
  if (aligned) {
    const AlignmentCheckedSource<Source<true>> source{{x, x_stride}};
    if (kernel == Replay::dp4a) {
      replay_dp4a(w, source, p.tokens, out);
    } else {
      replay_mma(w, source, p.tokens, out);
    }
  } else {
    EXPECT_EQ(kernel, Replay::dp4a) << "the mma kernel is never launched on unaligned activations";
    replay_dp4a(w, Source<false>{x, x_stride}, p.tokens, out);
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
ReplayResult run_replay(const Problem& p, Replay kernel) {
  const bool aligned_rows = p.x_stride % 16 == 0;
  if (p.int4) {
    const std::size_t row = tc::int4_row_bytes(p.cols);
    const tc::PackedInt4 packed = packed_int4(p, aligned_rows ? (row + 15) / 16 * 16 : row + 5);
    std::vector<Words16Storage> storage((packed.bytes.size() + 15) / 16);
    std::memcpy(storage.data(), packed.bytes.data(), packed.bytes.size());
    return run_replay_with<tcd::Int4Source>(p, kernel, reinterpret_cast<const std::uint8_t*>(storage.data()),
                                            packed.stride);
  }
  std::vector<Words16Storage> storage((p.x.size() + 15) / 16);
  std::memcpy(storage.data(), p.x.data(), p.x.size());
  return run_replay_with<tcd::Int8Source>(p, kernel, reinterpret_cast<const std::uint8_t*>(storage.data()),
                                          p.x_stride);
}

// Padding that makes a row of `cols` int8 values a multiple of 16 bytes.
std::size_t aligning_pad(std::size_t cols) { return (16 - cols % 16) % 16; }

void expect_replay_matches_reference(const Problem& p, Replay kernel) {
  const ReplayResult result = run_replay(p, kernel);
  const long acc_diff = first_difference(scalar_reference_int32(p), result.acc);
  ASSERT_EQ(acc_diff, -1) << p.name() << ": int32 differs at " << acc_diff;
  const long y_diff = first_difference(scalar_reference(p, true), result.y);
  ASSERT_EQ(y_diff, -1) << p.name() << ": float differs at " << y_diff;
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
          expect_replay_matches_reference(make_problem(rows, cols, tokens, seed, granularity, int4, pad), Replay::dp4a);
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
        expect_replay_matches_reference(make_problem(rows, cols, tokens, seed, granularity, int4, pad), Replay::mma);
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
