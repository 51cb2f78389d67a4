// trit::cuda: the CUDA kernels. Device code; include from a .cu file compiled by nvcc. The
// per-thread arithmetic lives in gemv_tile.hpp and mma_tile.hpp, shared with the CPU tests;
// this file adds what only a GPU has: warp shuffles, shared memory, cp.async and MMA.
#pragma once

#if !defined(__CUDACC__)
#error "trit/cuda/detail/kernels.cuh contains CUDA kernels: include it from a .cu file compiled by nvcc"
#endif

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "trit/cuda/config.hpp"
#include "trit/cuda/detail/decode.hpp"
#include "trit/cuda/detail/gemv_tile.hpp"
#include "trit/cuda/detail/kernel_args.hpp"
#include "trit/cuda/detail/mma_tile.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace cuda {
namespace detail {

__device__ __forceinline__ std::int32_t warp_sum(std::int32_t v) {
#pragma unroll
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(0xFFFFFFFFu, v, offset);
  return v;
}

// ---- dp4a: one warp per kRows rows, kTokens tokens per pass --------------------------------

template <int kTokens, int kRows, class Source>
__global__ void __launch_bounds__(kGemvWarpsPerBlock* kWarpSize)
    d243_dp4a_kernel(WeightArgs w, Source x, std::size_t tokens, OutputArgs out) {
  static_assert(kTokens * kRows <= kWarpSize, "one lane stores each (row, token) result");
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const std::size_t warp = static_cast<std::size_t>(blockIdx.x) * kGemvWarpsPerBlock + threadIdx.x / kWarpSize;
  const std::size_t m0 = warp * kRows;
  if (m0 >= w.rows) return;  // the whole warp leaves together, so no shuffle misses a lane

  for (std::size_t n0 = static_cast<std::size_t>(blockIdx.y) * kTokens; n0 < tokens;
       n0 += static_cast<std::size_t>(gridDim.y) * kTokens) {
    const int count = tokens - n0 < static_cast<std::size_t>(kTokens) ? static_cast<int>(tokens - n0) : kTokens;
    std::int32_t acc[kRows][kTokens] = {};
    gemv_lane_accumulate<kTokens, kRows>(w, m0, x, n0, count, lane, acc);
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
#pragma unroll
      for (int n = 0; n < kTokens; ++n) {
        const std::int32_t total = warp_sum(acc[r][n]);
        // Each (row, token) result is stored by its own lane, so the stores go out together.
        if (lane == r * kTokens + n && n < count && m0 + r < w.rows) store_result(out, w, n0 + n, m0 + r, total);
      }
    }
  }
}

// ---- mma: int8 tensor cores -------------------------------------------------------------------

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
#define TRIT_CUDA_HAS_MMA 1
#else
#define TRIT_CUDA_HAS_MMA 0
#endif

#if TRIT_CUDA_HAS_MMA
__device__ __forceinline__ void mma_s8_m16n8k32(std::int32_t (&c)[4], std::uint32_t a0, std::uint32_t a1,
                                                std::uint32_t a2, std::uint32_t a3, std::uint32_t b0,
                                                std::uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

__device__ __forceinline__ void cp_async16(void* shared_dst, const void* global_src) {
  const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(shared_dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(global_src) : "memory");
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }

template <int kPendingGroups>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPendingGroups) : "memory");
}
#endif

// Shared memory of the mma kernel: the activation stager's region, then two weight stages.
inline constexpr std::size_t kActivationStageBytes = static_cast<std::size_t>(kMmaBlockTokens) * kStageRowBytes;
inline constexpr std::size_t kStagerBytes = 2 * kActivationStageBytes;
inline constexpr std::size_t kWeightStageBytes = static_cast<std::size_t>(kMmaBlockRows) * dense243::kGroupBytes;
inline constexpr std::size_t kMmaSharedBytes = kStagerBytes + 2 * kWeightStageBytes;
static_assert(kMmaSharedBytes <= 48 * 1024, "the mma kernel's shared memory must fit the static limit");

#if TRIT_CUDA_HAS_MMA

// Brings the block's activations of one group into shared memory (layout in mma_tile.hpp).
// issue() starts copying a group into one of two buffers while the MMAs read the other;
// ready() returns the staged group once the caller has waited for the copies and
// synchronised. int8 rows are copied as they are, two stages in the region. Packed int4
// rows are copied packed (half the bytes) into two buffers and expanded by ready() into a
// single stage, behind one more barrier. A tail group is gathered value by value.
template <class Source>
class ActivationStager {
 public:
  static constexpr bool kExpands = Source::kBytesPer16 != 16;
  static constexpr int kCopyChunks = kStageChunks * Source::kBytesPer16 / 16;  // 16-byte copies per token
  static constexpr std::size_t kCopyBufferBytes = static_cast<std::size_t>(kMmaBlockTokens) * kCopyChunks * 16;
  static constexpr int kCopiesPerThread = kMmaBlockTokens * kCopyChunks / kMmaThreads;
  static constexpr int kStageChunksPerThread = kMmaBlockTokens * kStageChunks / kMmaThreads;
  static_assert(kMmaBlockTokens * kCopyChunks % kMmaThreads == 0, "copies divide evenly among threads");
  static_assert(kMmaBlockTokens * kStageChunks % kMmaThreads == 0, "stage chunks divide evenly among threads");
  static_assert(kExpands ? kActivationStageBytes + 2 * kCopyBufferBytes <= kStagerBytes
                         : kCopyBufferBytes == kActivationStageBytes,
                "the stager's buffers fit its region");

  __device__ ActivationStager(const Source& x, const WeightArgs& w, std::size_t n0, std::size_t tokens,
                              std::uint8_t* region)
      : x_(x), w_(w), n0_(n0), tokens_(tokens), region_(region) {}

  __device__ void issue(std::uint32_t group, int buffer) {
    if (group >= w_.full_groups) {
      if constexpr (!kExpands) gather_tail(copy_buffer(buffer));
      return;
    }
    std::uint8_t* dst_base = copy_buffer(buffer);
    // Not unrolled: unrolled, the compiler keeps every copy's address live across the whole
    // group loop, and the registers the MMAs need spill.
#pragma unroll 1
    for (int i = 0; i < kCopiesPerThread; ++i) {
      const int linear = static_cast<int>(threadIdx.x) + i * kMmaThreads;
      const std::size_t n = n0_ + static_cast<std::size_t>(linear / kCopyChunks);
      std::uint8_t* dst = dst_base + static_cast<std::size_t>(linear) * 16;
      if (n < tokens_) {
        const std::size_t chunk = static_cast<std::size_t>(linear % kCopyChunks);
        cp_async16(dst, x_.address(n, staged_chunk_k(group, 0)) + 16 * chunk);
      } else {
        store_staged16(dst, Words16{{0u, 0u, 0u, 0u}});
      }
    }
  }

  __device__ const std::uint8_t* ready(std::uint32_t group, int buffer) {
    if constexpr (!kExpands) {
      (void)group;
      return copy_buffer(buffer);
    } else {
      std::uint8_t* stage = region_;
      if (group >= w_.full_groups) {
        gather_tail(stage);
      } else {
        const std::uint8_t* packed = copy_buffer(buffer);
#pragma unroll 4
        for (int i = 0; i < kStageChunksPerThread; ++i) {
          const int linear = static_cast<int>(threadIdx.x) + i * kMmaThreads;
          // 16 activations are 8 packed bytes; a token's packed row is half its staged row.
          store_staged16(stage + static_cast<std::size_t>(linear) * 16,
                         unpack_int4x16(load_staged8(packed + static_cast<std::size_t>(linear) * 8)));
        }
      }
      __syncthreads();
      return stage;
    }
  }

 private:
  __device__ std::uint8_t* copy_buffer(int buffer) const {
    return kExpands ? region_ + kActivationStageBytes + static_cast<std::size_t>(buffer) * kCopyBufferBytes
                    : region_ + static_cast<std::size_t>(buffer) * kActivationStageBytes;
  }

  // Once per block and not unrolled, so its one-value loads do not crowd the registers the
  // MMAs need.
  __device__ void gather_tail(std::uint8_t* stage) const {
#pragma unroll 1
    for (int i = 0; i < kStageChunksPerThread; ++i) {
      const int linear = static_cast<int>(threadIdx.x) + i * kMmaThreads;
      const std::size_t n = n0_ + static_cast<std::size_t>(linear / kStageChunks);
      store_staged16(stage + static_cast<std::size_t>(linear) * 16,
                     staged_tail_chunk(x_, w_, n, n < tokens_, linear % kStageChunks));
    }
  }

  Source x_;
  WeightArgs w_;
  std::size_t n0_;
  std::size_t tokens_;
  std::uint8_t* region_;
};
#endif

#if TRIT_CUDA_HAS_MMA
// Copies the block's packed weights of one group (kMmaBlockRows rows x 64 bytes) into shared
// memory with cp.async. Rows past the matrix repeat its last row (their results are dropped);
// 16-byte chunks past a short tail group get zero trits (see mma_load_weights).
__device__ __forceinline__ void stage_weights(const WeightArgs& w, std::size_t block_row0, std::uint32_t group,
                                              std::uint8_t* stage) {
  constexpr int kChunksPerRow = dense243::kGroupBytes / 16;
  constexpr int kChunksPerThread = kMmaBlockRows * kChunksPerRow / kMmaThreads;
  static_assert(kMmaBlockRows * kChunksPerRow % kMmaThreads == 0, "weight chunks divide evenly among threads");
#pragma unroll
  for (int i = 0; i < kChunksPerThread; ++i) {
    const int linear = static_cast<int>(threadIdx.x) + i * kMmaThreads;
    const int part = linear % kChunksPerRow;
    const std::size_t m = block_row0 + static_cast<std::size_t>(linear / kChunksPerRow);
    std::uint8_t* dst = stage + static_cast<std::size_t>(linear) * 16;
    const std::uint32_t offset = 16u * static_cast<std::uint32_t>(part);
    if (group < w.full_groups || offset < w.tail_bytes) {
      cp_async16(dst, w.row(m < w.rows ? m : w.rows - 1) + static_cast<std::size_t>(group) * dense243::kGroupBytes +
                          offset);
    } else {
      store_staged16(dst, mma_load_weights(w, 0, group, part));
    }
  }
}

// One group's MMAs for a warp: decode its 16 bytes per row digit by digit, each digit giving
// the A registers of two k-steps, against the staged activations of every token fragment.
__device__ __forceinline__ void mma_group(const std::uint8_t* weights, const std::uint8_t* activations, int warp,
                                          int g, int t, std::int32_t (&acc)[kMmaFragsM][kMmaFragsN][4]) {
  TritChain chains[kMmaFragsM][2][4];
#pragma unroll
  for (int f = 0; f < kMmaFragsM; ++f) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int row = static_cast<int>(mma_weight_row(static_cast<std::size_t>(warp) * kMmaWarpRows, f, h, g));
      const Words16 packed = load_staged16(weights + mma_weight_stage_offset(row, t));
#pragma unroll
      for (int q = 0; q < 4; ++q) chains[f][h][q] = TritChain(packed.w[q]);
    }
  }
  // Not unrolled: unrolled, the compiler hoists all five digits' shared loads and runs out
  // of registers. Nothing is indexed by the digit, so the arrays stay in registers.
#pragma unroll 1
  for (int digit = 0; digit < 5; ++digit) {
    std::uint32_t trits[kMmaFragsM][2][4];
#pragma unroll
    for (int f = 0; f < kMmaFragsM; ++f) {
#pragma unroll
      for (int h = 0; h < 2; ++h) {
#pragma unroll
        for (int q = 0; q < 4; ++q) trits[f][h][q] = chains[f][h][q].next_trits();
      }
    }
#pragma unroll
    for (int j = 0; j < kMmaFragsN; ++j) {
      const Words16 b = load_staged16(activations + mma_stage_offset(kMmaFragTokens * j + g, digit, t));
#pragma unroll
      for (int step = 0; step < 2; ++step) {
#pragma unroll
        for (int f = 0; f < kMmaFragsM; ++f) {
          mma_s8_m16n8k32(acc[f][j], mma_a_register(trits[f], step, 0), mma_a_register(trits[f], step, 1),
                          mma_a_register(trits[f], step, 2), mma_a_register(trits[f], step, 3),
                          mma_b_register(b, step, 0), mma_b_register(b, step, 1));
        }
      }
    }
  }
}
#endif

// Weights and activations of group G + 1 are copied (cp.async) into one half of the
// double-buffered stages while the MMAs of group G read the other half.
template <class Source>
__global__ void __launch_bounds__(kMmaThreads, kMmaMinBlocksPerSm)
    d243_mma_kernel(WeightArgs w, Source x, std::size_t tokens, OutputArgs out) {
#if TRIT_CUDA_HAS_MMA
  __shared__ alignas(16) std::uint8_t shared[kMmaSharedBytes];
  std::uint8_t* const weight_stages = shared + kStagerBytes;
  const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int g = lane / 4;
  const int t = lane % 4;
  const std::size_t block_row0 = static_cast<std::size_t>(blockIdx.x) * kMmaBlockRows;
  const std::uint32_t groups = w.groups();

  for (std::size_t n0 = static_cast<std::size_t>(blockIdx.y) * kMmaBlockTokens; n0 < tokens;
       n0 += static_cast<std::size_t>(gridDim.y) * kMmaBlockTokens) {
    std::int32_t acc[kMmaFragsM][kMmaFragsN][4] = {};
    ActivationStager<Source> stager(x, w, n0, tokens, shared);
    stage_weights(w, block_row0, 0, weight_stages);
    stager.issue(0, 0);
    cp_async_commit();

    for (std::uint32_t group = 0; group < groups; ++group) {
      const int current = static_cast<int>(group & 1);
      if (group + 1 < groups) {
        // The other buffers were last read in the previous iteration, before its closing
        // barrier.
        stage_weights(w, block_row0, group + 1, weight_stages + (current ^ 1) * kWeightStageBytes);
        stager.issue(group + 1, current ^ 1);
        cp_async_commit();
        cp_async_wait<1>();
      } else {
        cp_async_wait<0>();
      }
      __syncthreads();
      const std::uint8_t* activations = stager.ready(group, current);
      mma_group(weight_stages + current * kWeightStageBytes, activations, warp, g, t, acc);
      __syncthreads();
    }

    const std::size_t warp_row0 = block_row0 + static_cast<std::size_t>(warp) * kMmaWarpRows;
#pragma unroll
    for (int f = 0; f < kMmaFragsM; ++f) {
#pragma unroll
      for (int j = 0; j < kMmaFragsN; ++j) {
#pragma unroll
        for (int c = 0; c < 4; ++c) {
          const std::size_t m = warp_row0 + static_cast<std::size_t>(mma_out_row(f, g, c));
          const std::size_t n = n0 + static_cast<std::size_t>(mma_out_token(j, t, c));
          if (m < w.rows && n < tokens) store_result(out, w, n, m, acc[f][j][c]);
        }
      }
    }
  }
#endif
  // Builds for devices without int8 MMA keep an empty kernel; the host never launches it
  // there (it checks the kernel's binary version first).
}

}  // namespace detail
}  // namespace cuda
TRIT_END_NAMESPACE

#undef TRIT_CUDA_HAS_MMA
