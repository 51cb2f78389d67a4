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

// Unsigned adds: lane sums may wrap; the total is exact modulo 2^32 and fits an int32.
__device__ __forceinline__ std::int32_t warp_sum(std::int32_t v) {
  unsigned u = static_cast<unsigned>(v);
#pragma unroll
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) u += __shfl_xor_sync(0xFFFFFFFFu, u, offset);
  return static_cast<std::int32_t>(u);
}

// ---- dp4a: kRows rows per warp, kTokens tokens per pass, one K slice per blockIdx.z --------

template <int kTokens, int kRows, class Source>
__global__ void __launch_bounds__(kGemvThreads, gemv_min_blocks_per_sm(kTokens))
    d243_dp4a_kernel(WeightArgs w, Source x, std::size_t tokens, OutputArgs out, GemvSlice slice) {
  static_assert(kTokens * kRows <= kWarpSize, "one lane stores each (row, token) result");
  extern __shared__ uint4 gemv_stage_words[];
  std::uint8_t* const stage = reinterpret_cast<std::uint8_t*>(gemv_stage_words);
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const std::size_t warp = static_cast<std::size_t>(blockIdx.x) * kGemvWarpsPerBlock + threadIdx.x / kWarpSize;
  const std::size_t m0 = warp * kRows;
  // Warps past the matrix still stage and meet every barrier; they compute and store nothing.
  const bool active = m0 < w.rows;
  const std::uint8_t* rows[kRows];
#pragma unroll
  for (int r = 0; r < kRows; ++r) rows[r] = w.row(m0 + r < w.rows ? m0 + r : w.rows - 1);
  const std::uint32_t slice_begin = blockIdx.z * slice.groups_per_split;
  const std::uint32_t slice_end =
      w.groups - slice_begin < slice.groups_per_split ? w.groups : slice_begin + slice.groups_per_split;

  for (std::size_t n0 = static_cast<std::size_t>(blockIdx.y) * kTokens; n0 < tokens;
       n0 += static_cast<std::size_t>(gridDim.y) * kTokens) {
    const int count = tokens - n0 < static_cast<std::size_t>(kTokens) ? static_cast<int>(tokens - n0) : kTokens;
    std::int32_t acc[kRows][kTokens] = {};
    for (std::uint32_t chunk0 = slice_begin; chunk0 < slice_end; chunk0 += slice.chunk_groups) {
      const std::uint32_t groups = slice_end - chunk0 < slice.chunk_groups ? slice_end - chunk0 : slice.chunk_groups;
      // The weights first, so they are in flight while the block stages its activations.
      Words16 first[kRows];
      const bool lane_has_groups = active && gemv_lane_group(chunk0, lane) < chunk0 + groups;
      if (lane_has_groups) gemv_load_weights<kRows>(rows, gemv_lane_group(chunk0, lane), lane, first);
      __syncthreads();  // the previous chunk's (or token tile's) readers are done with the stage
      gemv_stage(x, w.cols, n0, count, chunk0, groups, stage, static_cast<int>(threadIdx.x), kGemvThreads);
      __syncthreads();
      if (lane_has_groups) gemv_lane_chunk<kTokens, kRows>(rows, stage, chunk0, groups, count, lane, first, acc);
    }
    if (!active) continue;
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
#pragma unroll
      for (int n = 0; n < kTokens; ++n) {
        const std::int32_t total = warp_sum(acc[r][n]);
        // Each (row, token) result is stored by its own lane, so the stores go out together.
        if (lane == r * kTokens + n && n < count && m0 + r < w.rows) emit_result(out, w, n0 + n, m0 + r, total);
      }
    }
  }
}

// Split-K's last step: the int32 sums that the slices added into y's memory become floats
// in place, each element read and written by one thread.
__global__ void __launch_bounds__(256) d243_split_epilogue_kernel(WeightArgs w, std::size_t tokens, OutputArgs out) {
  const std::size_t total = tokens * w.rows;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::size_t n = i / w.rows;
    const std::size_t m = i - n * w.rows;
    const std::int32_t acc = out.partial[n * out.partial_stride + m];
    out.y[n * out.y_stride + m] = epilogue(acc, out.act_scales[n], w.scale(m), out.bias, m);
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

// Shared memory of the mma kernel (dynamic): the activation stager's region, then kStages
// weight stages. int8 activations are copied as they are, one stage per pipeline stage;
// packed int4 activations are copied packed (half the bytes) into kStages copy buffers and
// expanded into one int8 stage in front of them.
inline constexpr std::size_t kActivationStageBytes = static_cast<std::size_t>(kMmaBlockTokens) * kStageRowBytes;
inline constexpr std::size_t kWeightStageBytes = static_cast<std::size_t>(kMmaBlockRows) * dense243::kGroupBytes;

template <class Source, int kStages>
struct MmaSharedLayout {
  static constexpr bool kExpands = Source::kBytesPer16 != 16;
  static constexpr std::size_t kCopyBufferBytes =
      static_cast<std::size_t>(kMmaBlockTokens) * kStageChunks * Source::kBytesPer16;
  static constexpr std::size_t kStagerBytes = (kExpands ? kActivationStageBytes : 0) + kStages * kCopyBufferBytes;
  static constexpr std::size_t kBytes = kStagerBytes + kStages * kWeightStageBytes;
};
static_assert(MmaSharedLayout<Int8Source<true>, 2>::kBytes <= 48 * 1024,
              "the default pipeline fits without opting in to more shared memory");

#if TRIT_CUDA_HAS_MMA

// Brings the block's activations of one group into shared memory (layout in mma_tile.hpp).
// issue() starts copying a group into one of kStages buffers while the MMAs read another;
// ready() returns the staged group once the caller has waited for the copies and
// synchronised. int8 rows are copied as they are. Packed int4 rows are copied packed (half
// the bytes) and expanded by ready() into a single stage, behind one more barrier. A 16-byte copy that would reach past K (the last
// group of a row) is replaced by a store of the bytes inside K and zeros.
template <class Source, int kStages>
class ActivationStager {
 public:
  using Layout = MmaSharedLayout<Source, kStages>;
  static constexpr bool kExpands = Layout::kExpands;
  static constexpr int kCopyChunks = kStageChunks * Source::kBytesPer16 / 16;  // 16-byte copies per token
  static constexpr std::size_t kValuesPerCopy = 16 * 16 / Source::kBytesPer16;
  static constexpr std::size_t kCopyBufferBytes = Layout::kCopyBufferBytes;
  static constexpr int kCopiesPerThread = kMmaBlockTokens * kCopyChunks / kMmaThreads;
  static constexpr int kStageChunksPerThread = kMmaBlockTokens * kStageChunks / kMmaThreads;
  static_assert(kMmaBlockTokens * kCopyChunks % kMmaThreads == 0, "copies divide evenly among threads");
  static_assert(kMmaBlockTokens * kStageChunks % kMmaThreads == 0, "stage chunks divide evenly among threads");
  static_assert(kCopyBufferBytes == static_cast<std::size_t>(kMmaBlockTokens) * kCopyChunks * 16,
                "a copy buffer holds every copy of a group");

  __device__ ActivationStager(const Source& x, std::size_t cols, std::size_t n0, std::size_t tokens,
                              std::uint8_t* region)
      : x_(x), cols_(cols), n0_(n0), tokens_(tokens), region_(region) {}

  __device__ void issue(std::uint32_t group, int buffer) {
    std::uint8_t* dst_base = copy_buffer(buffer);
    const std::size_t k_group = staged_chunk_k(group, 0);
    // Not unrolled: unrolled, the compiler keeps every copy's address live across the whole
    // group loop, and the registers the MMAs need spill.
#pragma unroll 1
    for (int i = 0; i < kCopiesPerThread; ++i) {
      const int linear = static_cast<int>(threadIdx.x) + i * kMmaThreads;
      const std::size_t n = n0_ + static_cast<std::size_t>(linear / kCopyChunks);
      std::uint8_t* dst = dst_base + static_cast<std::size_t>(linear) * 16;
      const std::size_t k = k_group + kValuesPerCopy * static_cast<std::size_t>(linear % kCopyChunks);
      if (n >= tokens_) {
        store_staged16(dst, Words16{{0u, 0u, 0u, 0u}});
      } else if (k + kValuesPerCopy <= cols_) {
        cp_async16(dst, x_.address(n, k));
      } else {
        store_staged16(dst, x_.raw16_bounded(n, k, cols_));
      }
    }
  }

  __device__ const std::uint8_t* ready(std::uint32_t group, int buffer) {
    (void)group;
    if constexpr (!kExpands) {
      return copy_buffer(buffer);
    } else {
      std::uint8_t* stage = region_;
      const std::uint8_t* packed = copy_buffer(buffer);
#pragma unroll 4
      for (int i = 0; i < kStageChunksPerThread; ++i) {
        const int linear = static_cast<int>(threadIdx.x) + i * kMmaThreads;
        // 16 activations are 8 packed bytes; a token's packed row is half its staged row.
        store_staged16(stage + static_cast<std::size_t>(linear) * 16,
                       unpack_int4x16(load_staged8(packed + static_cast<std::size_t>(linear) * 8)));
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

  Source x_;
  std::size_t cols_;
  std::size_t n0_;
  std::size_t tokens_;
  std::uint8_t* region_;
};
#endif

#if TRIT_CUDA_HAS_MMA
// Copies the block's packed weights of one group (kMmaBlockRows rows x 64 bytes) into shared
// memory with cp.async. Rows past the matrix repeat its last row (their results are dropped).
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
    cp_async16(stage + static_cast<std::size_t>(linear) * 16,
               w.row(m < w.rows ? m : w.rows - 1) + static_cast<std::size_t>(group) * dense243::kGroupBytes +
                   16u * static_cast<std::uint32_t>(part));
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

// Blocks with blockIdx.z = s take groups [s * groups_per_split, ...) of K (split-K).
// A kStages-deep cp.async pipeline: while the MMAs of group G run, the weights and
// activations of groups G + 1 .. G + kStages - 1 are being copied into the other stages.
template <class Source, int kStages>
__global__ void __launch_bounds__(kMmaThreads, mma_min_blocks_per_sm(kStages))
    d243_mma_kernel(WeightArgs w, Source x, std::size_t tokens, OutputArgs out, std::uint32_t groups_per_split) {
  static_assert(kStages >= 2 && kStages <= kMmaMaxStages, "two or three pipeline stages");
#if TRIT_CUDA_HAS_MMA
  extern __shared__ uint4 mma_shared_words[];
  std::uint8_t* const shared = reinterpret_cast<std::uint8_t*>(mma_shared_words);
  std::uint8_t* const weight_stages = shared + MmaSharedLayout<Source, kStages>::kStagerBytes;
  const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int g = lane / 4;
  const int t = lane % 4;
  const std::size_t block_row0 = static_cast<std::size_t>(blockIdx.x) * kMmaBlockRows;
  const std::uint32_t begin = blockIdx.z * groups_per_split;
  const std::uint32_t end = w.groups - begin < groups_per_split ? w.groups : begin + groups_per_split;

  for (std::size_t n0 = static_cast<std::size_t>(blockIdx.y) * kMmaBlockTokens; n0 < tokens;
       n0 += static_cast<std::size_t>(gridDim.y) * kMmaBlockTokens) {
    std::int32_t acc[kMmaFragsM][kMmaFragsN][4] = {};
    ActivationStager<Source, kStages> stager(x, w.cols, n0, tokens, shared);
    // Fill all stages but one. Every stage commits a copy group, empty or not, so that
    // waiting for all but the newest kStages - 2 groups always means "group G is here".
    for (int s = 0; s < kStages - 1; ++s) {
      const std::uint32_t group = begin + static_cast<std::uint32_t>(s);
      if (group < end) {
        stage_weights(w, block_row0, group, weight_stages + s * kWeightStageBytes);
        stager.issue(group, s);
      }
      cp_async_commit();
    }

    for (std::uint32_t group = begin; group < end; ++group) {
      const int current = static_cast<int>((group - begin) % kStages);
      cp_async_wait<kStages - 2>();
      // Group G's copies (and the plain stores issue() made) are visible to every thread, and
      // every thread is done with group G - 1, whose stage the next issue refills.
      __syncthreads();
      const std::uint32_t ahead = group + kStages - 1;
      if (ahead < end) {
        const int slot = static_cast<int>((ahead - begin) % kStages);
        stage_weights(w, block_row0, ahead, weight_stages + slot * kWeightStageBytes);
        stager.issue(ahead, slot);
      }
      cp_async_commit();
      const std::uint8_t* activations = stager.ready(group, current);
      mma_group(weight_stages + current * kWeightStageBytes, activations, warp, g, t, acc);
    }
    // The next token tile's first copies must not land in stages still being read.
    cp_async_wait<0>();
    __syncthreads();

    const std::size_t warp_row0 = block_row0 + static_cast<std::size_t>(warp) * kMmaWarpRows;
#pragma unroll
    for (int f = 0; f < kMmaFragsM; ++f) {
#pragma unroll
      for (int j = 0; j < kMmaFragsN; ++j) {
#pragma unroll
        for (int c = 0; c < 4; ++c) {
          const std::size_t m = warp_row0 + static_cast<std::size_t>(mma_out_row(f, g, c));
          const std::size_t n = n0 + static_cast<std::size_t>(mma_out_token(j, t, c));
          if (m < w.rows && n < tokens) emit_result(out, w, n, m, acc[f][j][c]);
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
