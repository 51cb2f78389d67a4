// trit::cuda: the macros and tile sizes shared by the CUDA kernels and by the host code that
// plans their launches. Plain C++: any compiler can include it, so host code and the CPU
// tests can reason about the same tiles the kernels use.
#pragma once

#include <cstddef>

#include "trit/version.hpp"

// Functions that run on the device and, unchanged, on the host. The host copies exist so the
// CPU tests can replay a kernel's per-thread arithmetic without a GPU.
#if defined(__CUDACC__)
#define TRIT_CUDA_HD __host__ __device__ __forceinline__
#else
#define TRIT_CUDA_HD inline
#endif
// Loop pragmas for the device compiler only: host compilers warn about ones they do not know.
#if defined(__CUDA_ARCH__)
#define TRIT_CUDA_PRAGMA(x) _Pragma(#x)
#else
#define TRIT_CUDA_PRAGMA(x)
#endif

TRIT_BEGIN_NAMESPACE
namespace cuda {

// ---- dp4a kernel (GEMV and small N) ----------------------------------------------------------
// A block of kGemvWarpsPerBlock warps owns consecutive rows (each warp kRows of them, 2 to 4)
// for up to kGemvMaxTokens tokens and one slice of K (split-K). It stages the slice's
// activations in shared memory once, in chunks of whole groups, and every warp reads them
// there. A warp step covers kGemvStepGroups 64-byte groups of a row: lane l reads 16 bytes
// at group l / 4 and byte 16 * (l % 4), so the warp's weight load is 512 contiguous bytes.
inline constexpr int kWarpSize = 32;
inline constexpr int kGemvWarpsPerBlock = 8;
inline constexpr int kGemvThreads = kGemvWarpsPerBlock * kWarpSize;
inline constexpr int kGemvLanesPerGroup = 4;
inline constexpr int kGemvStepGroups = kWarpSize / kGemvLanesPerGroup;
inline constexpr int kGemvMaxTokens = 8;
// Blocks per SM the dp4a kernel is compiled for (__launch_bounds__), so that enough warps'
// weight loads are in flight at once: three (24 warps, at most 80 registers) for one token,
// whose tile fits that unspilled; two (16 warps, 128 registers) for more tokens (two tokens
// spill a little at 80; ptxas, sm_90).
constexpr int gemv_min_blocks_per_sm(int tokens) { return tokens <= 1 ? 3 : 2; }
// Shared memory a block may use for staged activations; a chunk is the most whole steps
// (kGemvStepGroups groups) of all the tile's tokens that fit. 1 token: 96 groups, 30720 trits.
inline constexpr std::size_t kGemvStageBudget = 32 * 1024;
// Automatic split-K aims for this many warps per SM before it splits K.
inline constexpr std::size_t kGemvTargetWarpsPerSm = 32;

// ---- mma kernel (GEMM) -----------------------------------------------------------------------
// A block computes kMmaBlockRows output rows x kMmaBlockTokens tokens; each of its warps owns
// kMmaWarpRows rows (kMmaFragsM fragments of 16) for all the block's tokens (kMmaFragsN
// fragments of 8), so every weight byte is decoded by exactly one warp.
inline constexpr int kMmaFragRows = 16;
inline constexpr int kMmaFragTokens = 8;
inline constexpr int kMmaFragsM = 2;
inline constexpr int kMmaFragsN = 8;
inline constexpr int kMmaWarpsPerBlock = 2;
inline constexpr int kMmaWarpRows = kMmaFragsM * kMmaFragRows;
inline constexpr int kMmaBlockRows = kMmaWarpsPerBlock * kMmaWarpRows;
inline constexpr int kMmaBlockTokens = kMmaFragsN * kMmaFragTokens;
inline constexpr int kMmaThreads = kMmaWarpsPerBlock * kWarpSize;
// Stages of the mma kernel's cp.async pipeline: groups in flight while one is multiplied.
// Two (48 KiB of shared memory a block) unless LaunchOptions::mma_stages asks for three
// (72 KiB for int8 activations). Which is faster has not been measured; the bench runs both.
inline constexpr int kMmaDefaultStages = 2;
inline constexpr int kMmaMaxStages = 3;
// Blocks per SM the mma kernel is compiled for (__launch_bounds__): as many as its shared
// memory allows on an H100 (228 KiB an SM). Either way registers stay bounded at 255, which
// the kernel fits unspilled.
constexpr int mma_min_blocks_per_sm(int stages) { return stages <= 2 ? 4 : 3; }
// A staged group holds 320 activations per token: digit i of a group multiplies activations
// [64 i, 64 i + 64), so a thread's 16 weight bytes meet 16 consecutive staged bytes.
inline constexpr int kStageRowBytes = 320;
inline constexpr int kStageChunks = kStageRowBytes / 16;

// Automatic kernel choice: from this many tokens on, the tensor-core kernel runs (when the
// device and the build have it). A first guess; it has not been tuned on a GPU yet.
inline constexpr std::size_t kMmaMinTokens = 16;

// Device rows are padded to this many bytes so every 16-byte weight load is aligned.
inline constexpr std::size_t kDeviceRowAlignment = 16;

}  // namespace cuda
TRIT_END_NAMESPACE
