// CUDA path, on the device: every kernel against the CPU scalar reference, exactly (int32)
// and bit for bit (floats), on ragged shapes and on the BitNet b1.58 2B4T and LLaMA-7B
// shapes. Tests that need a GPU skip with the reason when there is none; the argument checks
// of the entry points run everywhere, since they throw before touching the device.
// First, so that gemm.cuh is seen to compile on its own.
#include "trit/cuda/gemm.cuh"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <utility>
#include <string>
#include <vector>

#include "cuda_test_support.hpp"

namespace {

using namespace trit_cuda_test;
namespace tc = trit::cuda;

#define TRIT_REQUIRE_DEVICE()                                     \
  do {                                                            \
    const tc::DeviceStatus status = tc::device_status();          \
    if (!status.available()) GTEST_SKIP() << status.reason();     \
  } while (false)

// ---- Argument checks (no device needed) ---------------------------------------------------------

template <class T>
T* fake_device_pointer(std::uintptr_t address) {
  return reinterpret_cast<T*>(address);
}

tc::DeviceMatrixView fake_weights(std::size_t rows, std::size_t cols) {
  return tc::DeviceMatrixView{fake_device_pointer<const std::uint8_t>(0x10000), fake_device_pointer<const float>(0x20000),
                              rows, cols, tc::device_row_stride(cols), trit::ScaleGranularity::per_tensor};
}

tc::DeviceActivations fake_activations(std::size_t tokens, std::size_t cols, std::uintptr_t address = 0x30000) {
  return tc::DeviceActivations{fake_device_pointer<const std::int8_t>(address), tokens, cols, 0,
                               fake_device_pointer<const float>(0x40000)};
}

template <class Call>
void expect_argument_error(Call call, const std::string& fragment) {
  try {
    call();
    ADD_FAILURE() << "no exception; expected one mentioning '" << fragment << "'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(CudaEntryPoints, RejectBadArgumentsBeforeTouchingTheDevice) {
  float* y = fake_device_pointer<float>(0x50000);
  std::int32_t* acc = fake_device_pointer<std::int32_t>(0x60000);
  const auto w = fake_weights(64, 1000);
  expect_argument_error([&] { tc::gemm(tc::DeviceMatrix{}, fake_activations(1, 1000), y, 0, nullptr, nullptr); },
                        "trit::cuda::gemm: w is empty");
  expect_argument_error([&] { tc::gemm(w, fake_activations(1, 999), y, 0, nullptr, nullptr); }, "K = 1000");
  expect_argument_error([&] { tc::gemm(w, fake_activations(0, 1000), y, 0, nullptr, nullptr); }, "no tokens");
  expect_argument_error([&] { tc::gemm(w, fake_activations(2, 1000), nullptr, 0, nullptr, nullptr); }, "y is null");
  expect_argument_error([&] { tc::gemm(w, fake_activations(2, 1000), y, 10, nullptr, nullptr); }, "y stride 10");
  expect_argument_error([&] { tc::gemm_int32(w, fake_activations(2, 1000), nullptr, 0, nullptr); },
                        "trit::cuda::gemm_int32: acc is null");
  expect_argument_error(
      [&] { tc::gemm(w, fake_activations(2, 1000), y, 0, fake_device_pointer<const float>(0x70002), nullptr); },
      "bias");
  auto unaligned = w;
  unaligned.row_stride += 8;
  expect_argument_error([&] { tc::gemm(unaligned, fake_activations(2, 1000), y, 0, nullptr, nullptr); },
                        "multiples of 16");
  // The mma kernel copies 16 bytes at a time; an unaligned x cannot take it.
  tc::LaunchOptions mma;
  mma.kernel = tc::KernelChoice::mma;
  expect_argument_error([&] { tc::gemm(w, fake_activations(32, 1000, 0x30004), y, 0, nullptr, nullptr, mma); },
                        "aligned to 16 bytes");
  const tc::DeviceInt4Activations packed{fake_device_pointer<const std::uint8_t>(0x30000), 2, 1000, 499,
                                         fake_device_pointer<const float>(0x40000)};
  expect_argument_error([&] { tc::gemm_int32(w, packed, acc, 0, nullptr); }, "500 bytes of a token");
  expect_argument_error([&] { tc::gemv(w, nullptr, fake_device_pointer<const float>(0x40000), y, nullptr, nullptr); },
                        "trit::cuda::gemv: x has null data");
  expect_argument_error(
      [&] { tc::gemv_int4(w, fake_device_pointer<const std::uint8_t>(0x30000), nullptr, y, nullptr, nullptr); },
      "trit::cuda::gemv_int4: x has null data or scales");
}

TEST(CudaEntryPoints, WithoutADeviceALaunchThrowsCudaError) {
  if (tc::device_status().available()) GTEST_SKIP() << "a CUDA device is present; this checks the error without one";
  float* y = fake_device_pointer<float>(0x50000);
  // Valid arguments: the first CUDA call (the launch, or the mma capability query) fails.
  EXPECT_THROW(tc::gemm(fake_weights(64, 1000), fake_activations(1, 1000), y, 0, nullptr, nullptr), tc::cuda_error);
  EXPECT_THROW(tc::gemm(fake_weights(64, 1024), fake_activations(64, 1024), y, 0, nullptr, nullptr), tc::cuda_error);
}

// ---- On the device ------------------------------------------------------------------------------

// Outputs start as sentinels, never zeros: an element a kernel fails to write then cannot
// pass where the reference happens to be 0. The float one is a NaN with a payload no
// arithmetic produces; both are compared bit for bit, so a NaN still compares.
constexpr std::uint32_t kFloatSentinelBits = 0x7FC0DEADu;
constexpr std::int32_t kIntSentinel = 0x5A5A5A5A;

float float_sentinel() {
  float f;
  std::memcpy(&f, &kFloatSentinelBits, sizeof f);
  return f;
}

// A problem uploaded to the device, with room for both kinds of output, each token's row
// out_pad elements wider than M (padding that must stay as it was).
struct DeviceProblem {
  explicit DeviceProblem(const Problem& p, std::size_t int4_stride = 0, std::size_t out_pad = 0)
      : w(p.w), x(p.x.size() + 64), scales(p.x_scales), bias(p.bias), out_stride(p.w.rows() + out_pad) {
    x.upload(reinterpret_cast<const std::uint8_t*>(p.x.data()), p.x.size());
    if (p.int4) {
      packed = packed_int4(p, int4_stride);
      x_int4 = tc::DeviceBuffer<std::uint8_t>(packed.bytes);
    }
    y = tc::DeviceBuffer<float>(std::vector<float>(p.tokens * out_stride, float_sentinel()));
    acc = tc::DeviceBuffer<std::int32_t>(std::vector<std::int32_t>(p.tokens * out_stride, kIntSentinel));
  }

  tc::DeviceActivations int8_view(const Problem& p) const {
    return tc::DeviceActivations{reinterpret_cast<const std::int8_t*>(x.data()), p.tokens, p.cols, p.x_stride,
                                 scales.data()};
  }
  tc::DeviceInt4Activations int4_view(const Problem& p) const {
    return tc::DeviceInt4Activations{x_int4.data(), p.tokens, p.cols, packed.stride, scales.data()};
  }

  tc::DeviceMatrix w;
  tc::DeviceBuffer<std::uint8_t> x;
  tc::DeviceBuffer<float> scales;
  tc::DeviceBuffer<float> bias;
  tc::PackedInt4 packed;
  tc::DeviceBuffer<std::uint8_t> x_int4;
  std::size_t out_stride;
  tc::DeviceBuffer<float> y;
  tc::DeviceBuffer<std::int32_t> acc;
};

// The first rows elements of each token's row; fails the test if any padding element after
// them is not the sentinel any more.
template <class T>
std::vector<T> strip(const std::vector<T>& padded, std::size_t tokens, std::size_t rows, std::size_t stride,
                     T sentinel) {
  std::vector<T> out;
  for (std::size_t n = 0; n < tokens; ++n) {
    out.insert(out.end(), padded.begin() + n * stride, padded.begin() + n * stride + rows);
    for (std::size_t m = rows; m < stride; ++m) {
      if (std::memcmp(&padded[n * stride + m], &sentinel, sizeof(T)) != 0) {
        ADD_FAILURE() << "padding element " << m << " of token " << n << " was written";
        return out;
      }
    }
  }
  return out;
}

struct DeviceResult {
  std::vector<std::int32_t> acc;
  std::vector<float> y;
};

DeviceResult download_results(const Problem& p, const DeviceProblem& d, cudaStream_t stream) {
  tc::detail::check_cuda(cudaStreamSynchronize(stream), "test", "cudaStreamSynchronize");
  return DeviceResult{strip(d.acc.download(), p.tokens, p.w.rows(), d.out_stride, kIntSentinel),
                      strip(d.y.download(), p.tokens, p.w.rows(), d.out_stride, float_sentinel())};
}

void enqueue_both(const Problem& p, DeviceProblem& d, const tc::LaunchOptions& options, bool with_bias,
                  cudaStream_t stream) {
  const float* bias = with_bias ? d.bias.data() : nullptr;
  if (p.int4) {
    tc::gemm(d.w, d.int4_view(p), d.y.data(), d.out_stride, bias, stream, options);
    tc::gemm_int32(d.w, d.int4_view(p), d.acc.data(), d.out_stride, stream, options);
  } else {
    tc::gemm(d.w, d.int8_view(p), d.y.data(), d.out_stride, bias, stream, options);
    tc::gemm_int32(d.w, d.int8_view(p), d.acc.data(), d.out_stride, stream, options);
  }
}

DeviceResult run_on_device(const Problem& p, tc::KernelChoice kernel, bool with_bias, cudaStream_t stream,
                           std::size_t int4_stride = 0, std::size_t out_pad = 0, unsigned split_k = 0,
                           unsigned mma_stages = 0) {
  DeviceProblem d(p, int4_stride, out_pad);
  tc::LaunchOptions options;
  options.kernel = kernel;
  options.split_k = split_k;
  options.mma_stages = mma_stages;
  enqueue_both(p, d, options, with_bias, stream);
  return download_results(p, d, stream);
}

void expect_matches(const Problem& p, const DeviceResult& got, const std::vector<std::int32_t>& acc, bool with_bias,
                    const char* kernel) {
  const long acc_diff = first_difference(acc, got.acc);
  ASSERT_EQ(acc_diff, -1) << p.name() << " " << kernel << ": int32 differs at " << acc_diff << " ("
                          << (acc_diff >= 0 ? acc[acc_diff] : 0) << " vs " << (acc_diff >= 0 ? got.acc[acc_diff] : 0)
                          << ")";
  const long y_diff = first_difference(epilogue_of(p, acc, with_bias), got.y);
  ASSERT_EQ(y_diff, -1) << p.name() << " " << kernel << ": float differs at " << y_diff;
}

// A stream that does not synchronize with the legacy default stream.
struct NonBlockingStream {
  NonBlockingStream() {
    tc::detail::check_cuda(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "test", "cudaStreamCreate");
  }
  ~NonBlockingStream() { cudaStreamDestroy(stream); }
  NonBlockingStream(const NonBlockingStream&) = delete;
  NonBlockingStream& operator=(const NonBlockingStream&) = delete;
  cudaStream_t stream = nullptr;
};

TEST(CudaDevice, UploadRoundTripsBytesAndScales) {
  TRIT_REQUIRE_DEVICE();
  for (const std::size_t cols : {1u, 321u, 6912u}) {
    const Problem p = make_problem(17, cols, 1, 3, trit::ScaleGranularity::per_row, false);
    tc::DeviceMatrix w(p.w);
    EXPECT_EQ(w.row_stride() % 64, 0u);
    EXPECT_EQ(w.weight_bytes(), 17 * tc::device_row_stride(cols));
    EXPECT_EQ(w.download_device_bytes(), tc::device_layout(p.w));
    const tc::DeviceMatrix moved(std::move(w));
    EXPECT_TRUE(w.empty());
    const trit::PackedMatrix back = moved.download();
    ASSERT_EQ(back.scales(), p.w.scales());
    for (std::size_t m = 0; m < 17; ++m) {
      ASSERT_EQ(std::memcmp(back.row(m), p.w.row(m), p.w.row_bytes()), 0) << "row " << m;
    }
  }
}

TEST(CudaDevice, BothKernelsMatchTheReferenceOnRaggedShapes) {
  TRIT_REQUIRE_DEVICE();
  const NonBlockingStream owned;
  const cudaStream_t stream = owned.stream;
  std::uint32_t seed = 1000;
  // TRIT_CUDA_QUICK (set by scripts/gpu-check.sh under compute-sanitizer) keeps a subset.
  const bool quick = std::getenv("TRIT_CUDA_QUICK") != nullptr;
  const std::vector<std::size_t> all_cols = ragged_cols();
  const std::vector<std::size_t> cols_list = quick ? std::vector<std::size_t>{1, 65, 320, 641, 1283} : all_cols;
  const std::vector<std::size_t> rows_list = quick ? std::vector<std::size_t>{7, 65} : std::vector<std::size_t>{1, 7, 33, 65, 130};
  const std::vector<std::size_t> token_list =
      quick ? std::vector<std::size_t>{1, 3, 9, 65}
            : std::vector<std::size_t>{1, 2, 3, 4, 5, 8, 9, 16, 17, 64, 65, 130};
  for (const std::size_t cols : cols_list) {
    for (const std::size_t rows : rows_list) {
      for (const std::size_t tokens : token_list) {
        for (const bool int4 : {false, true}) {
          ++seed;
          const auto granularity = seed % 2 == 0 ? trit::ScaleGranularity::per_row : trit::ScaleGranularity::per_tensor;
          // Padding of 0 keeps x tight (aligned only when K is a multiple of 16); 16 - K % 16
          // makes it 16-byte aligned, so both the fast and the generic loads run.
          const std::size_t pad = seed % 3 == 0 ? 0 : (16 - cols % 16) % 16;
          const Problem p = make_problem(rows, cols, tokens, seed, granularity, int4, pad);
          const std::size_t int4_stride = seed % 3 == 0 ? 0 : (tc::int4_row_bytes(cols) + 15) / 16 * 16;
          const std::vector<std::int32_t> acc = scalar_reference_int32(p);
          const bool aligned = int4 ? int4_stride % 16 == 0 && int4_stride != 0 : p.x_stride % 16 == 0;
          const bool aligned_here = aligned || tokens == 1;  // one token needs only an aligned start
          // split_k: automatic, off, or 3 slices (as far as K allows).
          const unsigned split = seed % 3 == 0 ? 0u : (seed % 3 == 1 ? 1u : 3u);
          for (const tc::KernelChoice kernel : {tc::KernelChoice::dp4a, tc::KernelChoice::mma}) {
            if (kernel == tc::KernelChoice::mma && !aligned_here) continue;
            // mma_stages: the default (2) or 3, alternating with the seed.
            const unsigned stages = seed % 5 < 2 ? 3u : 0u;
            expect_matches(p, run_on_device(p, kernel, seed % 4 != 0, stream, int4_stride, seed % 2, split, stages),
                           acc, seed % 4 != 0, tc::kernel_name(kernel));
          }
        }
      }
    }
  }
}

struct ModelShape {
  const char* name;
  std::size_t rows;
  std::size_t cols;
};

// BitNet b1.58 2B4T per layer (q/o, k/v, gate/up, down), then LLaMA-7B.
const ModelShape kModelShapes[] = {
    {"bitnet q,o", 2560, 2560},   {"bitnet k,v", 640, 2560},    {"bitnet gate,up", 6912, 2560},
    {"bitnet down", 2560, 6912},  {"llama q,k,v,o", 4096, 4096}, {"llama gate,up", 11008, 4096},
    {"llama down", 4096, 11008},
};

TEST(CudaDevice, ModelShapesMatchTheReference) {
  TRIT_REQUIRE_DEVICE();
  std::uint32_t seed = 5000;
  for (const ModelShape& shape : kModelShapes) {
    for (const std::size_t tokens : {1u, 8u, 128u}) {
      ++seed;
      const Problem p = make_problem(shape.rows, shape.cols, tokens, seed, trit::ScaleGranularity::per_tensor, false);
      const std::vector<std::int32_t> acc = unpacked_reference_int32(p);
      for (const tc::KernelChoice kernel : {tc::KernelChoice::automatic, tc::KernelChoice::dp4a, tc::KernelChoice::mma}) {
        SCOPED_TRACE(shape.name);
        expect_matches(p, run_on_device(p, kernel, true, nullptr), acc, true, tc::kernel_name(kernel));
      }
      if (tokens == 128) {
        SCOPED_TRACE(std::string(shape.name) + ", three mma stages");
        expect_matches(p, run_on_device(p, tc::KernelChoice::mma, true, nullptr, 0, 0, 0, 3), acc, true, "mma");
      }
    }
  }
}

TEST(CudaDevice, Int4ModelShapesMatchTheReference) {
  TRIT_REQUIRE_DEVICE();
  for (const ModelShape& shape : {kModelShapes[2], kModelShapes[3]}) {
    for (const std::size_t tokens : {1u, 8u, 128u}) {
      const Problem p = make_problem(shape.rows, shape.cols, tokens, 77, trit::ScaleGranularity::per_row, true);
      const std::vector<std::int32_t> acc = unpacked_reference_int32(p);
      SCOPED_TRACE(shape.name);
      expect_matches(p, run_on_device(p, tc::KernelChoice::automatic, true, nullptr), acc, true, "auto");
    }
  }
}

TEST(CudaDevice, GemvEntryPointsMatchTheReference) {
  TRIT_REQUIRE_DEVICE();
  for (const bool int4 : {false, true}) {
    const Problem p = make_problem(2560, 6912, 1, 9, trit::ScaleGranularity::per_tensor, int4);
    DeviceProblem d(p);
    if (int4) {
      tc::gemv_int4(d.w, d.x_int4.data(), d.scales.data(), d.y.data(), d.bias.data(), nullptr);
    } else {
      tc::gemv(d.w, reinterpret_cast<const std::int8_t*>(d.x.data()), d.scales.data(), d.y.data(), d.bias.data(),
               nullptr);
    }
    // Downloads wait for their own copy only, not for the legacy stream's kernels.
    tc::detail::check_cuda(cudaDeviceSynchronize(), "test", "cudaDeviceSynchronize");
    const std::vector<float> expected = epilogue_of(p, unpacked_reference_int32(p), true);
    EXPECT_EQ(first_difference(expected, d.y.download()), -1) << (int4 ? "int4" : "int8");
  }
}

}  // namespace

namespace {

// Every upload, then the launches, on one non-blocking stream with no synchronization in
// between: the uploads must be complete when they return (they were on the legacy stream,
// which a non-blocking stream does not wait for).
TEST(CudaDevice, NonBlockingStreamsSeeCompleteUploads) {
  TRIT_REQUIRE_DEVICE();
  const NonBlockingStream owned;
  for (const std::size_t tokens : {1u, 8u, 64u}) {
    for (const tc::KernelChoice kernel : {tc::KernelChoice::dp4a, tc::KernelChoice::mma}) {
      for (int round = 0; round < 3; ++round) {
        const Problem p = make_problem(1000 + 24 * round, 6912, tokens, 90 + round, trit::ScaleGranularity::per_row,
                                       false, aligning_pad(6912));
        expect_matches(p, run_on_device(p, kernel, true, owned.stream, 0, 3), unpacked_reference_int32(p), true,
                       tc::kernel_name(kernel));
      }
    }
  }
}

// A graph captured from the entry points (split-K included: memsets and the epilogue
// kernel) replays to the same results, twice, with the outputs reset in between.
TEST(CudaDevice, EntryPointsCaptureIntoACudaGraph) {
  TRIT_REQUIRE_DEVICE();
  const NonBlockingStream owned;
  for (const std::size_t tokens : {1u, 3u, 100u}) {
    for (const unsigned split : {1u, 3u}) {
      for (const tc::KernelChoice kernel : {tc::KernelChoice::dp4a, tc::KernelChoice::mma}) {
        const Problem p = make_problem(300, 2000, tokens, 7 + split, trit::ScaleGranularity::per_tensor, false,
                                       aligning_pad(2000));
        DeviceProblem d(p, 0, 2);
        tc::LaunchOptions options;
        options.kernel = kernel;
        options.split_k = split;
        options.mma_stages = split == 3 ? 3 : 0;
        cudaGraph_t graph = nullptr;
        tc::detail::check_cuda(cudaStreamBeginCapture(owned.stream, cudaStreamCaptureModeThreadLocal), "test",
                               "cudaStreamBeginCapture");
        enqueue_both(p, d, options, true, owned.stream);
        tc::detail::check_cuda(cudaStreamEndCapture(owned.stream, &graph), "test", "cudaStreamEndCapture");
        cudaGraphExec_t exec = nullptr;
        tc::detail::check_cuda(cudaGraphInstantiate(&exec, graph, 0), "test", "cudaGraphInstantiate");
        const std::vector<std::int32_t> acc = unpacked_reference_int32(p);
        for (int replay = 0; replay < 2; ++replay) {
          d.y.upload(std::vector<float>(d.y.size(), float_sentinel()).data(), d.y.size());
          d.acc.upload(std::vector<std::int32_t>(d.acc.size(), kIntSentinel).data(), d.acc.size());
          tc::detail::check_cuda(cudaGraphLaunch(exec, owned.stream), "test", "cudaGraphLaunch");
          SCOPED_TRACE("graph replay " + std::to_string(replay) + " split_k " + std::to_string(split));
          expect_matches(p, download_results(p, d, owned.stream), acc, true, tc::kernel_name(kernel));
        }
        cudaGraphExecDestroy(exec);
        cudaGraphDestroy(graph);
      }
    }
  }
}

// More token tiles than gridDim.y allows (65535): the kernels loop over the rest.
TEST(CudaDevice, TokensBeyondTheGridYLimit) {
  TRIT_REQUIRE_DEVICE();
  struct Case {
    tc::KernelChoice kernel;
    std::size_t tokens;
  };
  const Case cases[] = {{tc::KernelChoice::dp4a, 65535u * tc::kGemvMaxTokens + 13},
                        {tc::KernelChoice::mma, 65535u * tc::kMmaBlockTokens + 77}};
  for (const Case& c : cases) {
    const Problem p = make_problem(5, 40, c.tokens, 3, trit::ScaleGranularity::per_row, false, 8);
    SCOPED_TRACE(tc::kernel_name(c.kernel));
    expect_matches(p, run_on_device(p, c.kernel, true, nullptr, 0, 1, 1), unpacked_reference_int32(p), true,
                   tc::kernel_name(c.kernel));
  }
}

// Activations, outputs and bias at addresses that are not 16-byte aligned (the activations
// at every offset up to 16, outputs and bias one float off).
TEST(CudaDevice, MisalignedPointersGiveTheSameResults) {
  TRIT_REQUIRE_DEVICE();
  for (const std::size_t tokens : {1u, 5u, 40u}) {
    const Problem p = make_problem(77, 999, tokens, 31, trit::ScaleGranularity::per_row, false);
    const std::vector<std::int32_t> expected_acc = unpacked_reference_int32(p);
    const std::vector<float> expected_y = epilogue_of(p, expected_acc, true);
    const tc::DeviceMatrix w(p.w);
    const tc::DeviceBuffer<float> scales(p.x_scales);
    std::vector<float> bias_host(p.bias.size() + 1, 0.0f);
    std::copy(p.bias.begin(), p.bias.end(), bias_host.begin() + 1);
    const tc::DeviceBuffer<float> bias(bias_host);
    for (const std::size_t offset : {1u, 3u, 4u, 8u, 15u}) {
      std::vector<std::uint8_t> x_host(p.x.size() + offset, 0);
      std::memcpy(x_host.data() + offset, p.x.data(), p.x.size());
      const tc::DeviceBuffer<std::uint8_t> x(x_host);
      const std::size_t count = tokens * p.w.rows();
      tc::DeviceBuffer<float> y(std::vector<float>(count + 1, float_sentinel()));
      tc::DeviceBuffer<std::int32_t> acc(std::vector<std::int32_t>(count + 1, kIntSentinel));
      const tc::DeviceActivations view{reinterpret_cast<const std::int8_t*>(x.data() + offset), tokens, p.cols, 0,
                                       scales.data()};
      for (const unsigned split : {1u, 2u}) {
        tc::LaunchOptions options;
        options.split_k = split;
        tc::gemm(w, view, y.data() + 1, 0, bias.data() + 1, nullptr, options);
        tc::gemm_int32(w, view, acc.data() + 1, 0, nullptr, options);
        tc::detail::check_cuda(cudaDeviceSynchronize(), "test", "cudaDeviceSynchronize");
        const std::vector<float> y_got = y.download();
        const std::vector<std::int32_t> acc_got = acc.download();
        ASSERT_EQ(acc_got[0], kIntSentinel) << "wrote before acc";
        ASSERT_EQ(std::memcmp(&y_got[0], &kFloatSentinelBits, 4), 0) << "wrote before y";
        ASSERT_EQ(first_difference(expected_acc, std::vector<std::int32_t>(acc_got.begin() + 1, acc_got.end())), -1)
            << "offset " << offset << " tokens " << tokens;
        ASSERT_EQ(first_difference(expected_y, std::vector<float>(y_got.begin() + 1, y_got.end())), -1)
            << "offset " << offset << " tokens " << tokens;
      }
    }
  }
}

// The bench's largest shape, 16384 x 16384, for the token counts of the dp4a kernel (its
// CPU reference for 128 tokens would take minutes), with and without split-K.
TEST(CudaDevice, SquareShapeMatchesTheReference) {
  TRIT_REQUIRE_DEVICE();
  for (const std::size_t tokens : {1u, 8u}) {
    const Problem p = make_problem(16384, 16384, tokens, 123, trit::ScaleGranularity::per_row, false);
    const std::vector<std::int32_t> acc = unpacked_reference_int32(p);
    for (const unsigned split : {0u, 1u, 4u}) {
      SCOPED_TRACE("split_k " + std::to_string(split));
      expect_matches(p, run_on_device(p, tc::KernelChoice::dp4a, true, nullptr, 0, 0, split), acc, true, "dp4a");
    }
  }
}

// A DeviceMatrix used while another device is current is refused before any launch. With
// one device, a view claiming device 1 stands in for the matrix of another device.
TEST(CudaDevice, ProductsRefuseAMatrixOfAnotherDevice) {
  TRIT_REQUIRE_DEVICE();
  const Problem p = make_problem(16, 100, 1, 1, trit::ScaleGranularity::per_tensor, false);
  DeviceProblem d(p);
  int current = 0;
  tc::detail::check_cuda(cudaGetDevice(&current), "test", "cudaGetDevice");
  tc::DeviceMatrixView other = d.w.view();
  EXPECT_EQ(other.device, current);
  other.device = current + 1;
  try {
    tc::gemm(other, d.int8_view(p), d.y.data(), 0, nullptr, nullptr);
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("w lives on device " + std::to_string(current + 1)), std::string::npos)
        << e.what();
  }
  const std::vector<float> untouched = d.y.download();
  EXPECT_EQ(std::memcmp(untouched.data(), &kFloatSentinelBits, 4), 0);
}

}  // namespace
