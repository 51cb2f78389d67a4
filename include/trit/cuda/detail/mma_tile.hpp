// trit::cuda: the index arithmetic of the tensor-core kernel: which weight bytes a thread
// decodes, where activations are staged, and which registers feed each int8 MMA. Compiles for
// the device and the host, so the CPU tests replay a block with an emulated MMA.
//
// The MMA is mma.sync m16n8k32 s8 x s8 -> s32 with A = weights (16 rows x 32 k, row-major)
// and B = activations (32 k x 8 tokens, column-major, i.e. token rows). For thread
// (g = lane / 4, t = lane % 4), register r of A holds row g + 8 (r & 1) at 4 k-slots of
// t, and register r of B holds token g at the k-slots of t for r = 0, 1 (PTX ISA, "Matrix
// fragments for mma.m16n8k32"). The MMA sums over k-slots, so which real k sits in a slot is
// free, provided A and B agree. trit puts there the k that make a thread's operands
// contiguous bytes:
//   k-step s of digit i, register half h (A: r >> 1, B: r) of thread t
//     -> the 4 activations at 64 i + 16 t + 8 s + 4 h within the group,
// which are the trits of packed bytes 16 t + 8 s + 4 h .. + 3 of the group, digit i. So a
// thread's 16 weight bytes per row and group decode to its A registers for all ten k-steps,
// and one 16-byte shared-memory load per token fragment and digit gives its B registers.
#pragma once

#include <cstddef>
#include <cstdint>

#include "trit/cuda/config.hpp"
#include "trit/cuda/detail/decode.hpp"
#include "trit/cuda/detail/kernel_args.hpp"
#include "trit/format/dense243.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace cuda {
namespace detail {

// Row of fragment `frag`, half `half` (0: rows 0..7, 1: rows 8..15) for thread group g.
TRIT_CUDA_HD std::size_t mma_weight_row(std::size_t warp_row0, int frag, int half, int g) {
  return warp_row0 + static_cast<std::size_t>(kMmaFragRows * frag + 8 * half + g);
}

// The 16 bytes of `group` that thread t decodes from row m. Every group is whole in the
// device layout; past K its trits are zero.
TRIT_CUDA_HD Words16 mma_load_weights(const WeightArgs& w, std::size_t m, std::uint32_t group, int t) {
  return load_global16(w.row(m) + static_cast<std::size_t>(group) * dense243::kGroupBytes + 16u * static_cast<std::size_t>(t));
}

// Where the 16 staged weight bytes of block row `row` and thread t start (rows of 64 bytes).
TRIT_CUDA_HD std::size_t mma_weight_stage_offset(int row, int t) {
  return static_cast<std::size_t>(row) * dense243::kGroupBytes + 16u * static_cast<std::size_t>(t);
}

// Register r (0..3) of A for k-step `step` (0, 1), from one fragment's decoded trits
// [half][word] of the current digit.
TRIT_CUDA_HD std::uint32_t mma_a_register(const std::uint32_t (&trits)[2][4], int step, int r) {
  return trits[r & 1][2 * step + (r >> 1)];
}

// Register r (0, 1) of B for k-step `step`, from the 16 staged bytes a thread loaded.
TRIT_CUDA_HD std::uint32_t mma_b_register(const Words16& staged, int step, int r) { return staged.w[2 * step + r]; }

// Staged bytes thread t loads for token `token` of the block and digit `digit`.
TRIT_CUDA_HD std::size_t mma_stage_offset(int token, int digit, int t) {
  return static_cast<std::size_t>(token) * kStageRowBytes + 64u * static_cast<std::size_t>(digit) + 16u * t;
}

// Output coordinates of accumulator register c (0..3): row within the warp's rows, token
// within the block.
TRIT_CUDA_HD int mma_out_row(int frag, int g, int c) { return kMmaFragRows * frag + g + 8 * (c >> 1); }
TRIT_CUDA_HD int mma_out_token(int frag_n, int t, int c) { return kMmaFragTokens * frag_n + 2 * t + (c & 1); }

// ---- Staging ---------------------------------------------------------------------------------
// A staged group is kStageRowBytes bytes per token: its 320 activations in order, zero past
// K (the weights there are zero trits too, but a zero times whatever memory lies past a row
// is not something to read).

// First activation of 16-byte chunk `chunk` of group `group`.
TRIT_CUDA_HD std::size_t staged_chunk_k(std::uint32_t group, int chunk) {
  return static_cast<std::size_t>(group) * dense243::kGroupTrits + 16u * static_cast<std::size_t>(chunk);
}

// The 16 staged int8 activations of chunk `chunk` of `group` for token n (zeros when !valid):
// what the stager leaves in shared memory, copied whole where the chunk lies inside K.
template <class Source>
TRIT_CUDA_HD Words16 staged_chunk(const Source& x, std::size_t cols, std::size_t n, bool valid, std::uint32_t group,
                                  int chunk) {
  if (!valid) return Words16{{0u, 0u, 0u, 0u}};
  const std::size_t k = staged_chunk_k(group, chunk);
  return k + 16 <= cols ? x.load16(n, k) : load16_bounded(x, n, k, cols);
}

}  // namespace detail
}  // namespace cuda
TRIT_END_NAMESPACE
