// trit::cuda: what one lane of the dp4a kernel computes. The kernel adds the 32 lanes' sums
// with warp shuffles; the CPU tests add them in a loop, running this same code.
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

// Lane `lane`'s share of acc[r][n] = sum_k W[m0 + r][k] * x[n0 + n][k] for r < kRows and
// n < tokens (<= kTokens). Rows past the matrix repeat its last row; the caller drops them.
//
// Full groups: lane l takes 16 bytes at byte 16 * (l % 4) of group l / 4 + 8 s in step s.
// Digit i of byte j in a group is trit 64 i + j, so the lane's four words, decoded digit by
// digit, meet 16 consecutive activations per digit: one 16-byte load per token and digit.
// Tail group: lane l takes bytes l, l + 32, ..., digit by digit, one activation at a time.
template <int kTokens, int kRows, class Source>
TRIT_CUDA_HD void gemv_lane_accumulate(const WeightArgs& w, std::size_t m0, const Source& x, std::size_t n0,
                                       int tokens, int lane, std::int32_t (&acc)[kRows][kTokens]) {
  const std::uint8_t* rows[kRows];
  TRIT_CUDA_PRAGMA(unroll)
  for (int r = 0; r < kRows; ++r) rows[r] = w.row(m0 + r < w.rows ? m0 + r : w.rows - 1);

  const std::size_t byte_in_group = 16 * static_cast<std::size_t>(lane % kGemvLanesPerGroup);
  for (std::size_t group = static_cast<std::size_t>(lane / kGemvLanesPerGroup); group < w.full_groups;
       group += kGemvStepGroups) {
    const std::size_t byte = group * dense243::kGroupBytes + byte_in_group;
    const std::size_t k0 = group * dense243::kGroupTrits + byte_in_group;
    TritChain chains[kRows][4];
    TRIT_CUDA_PRAGMA(unroll)
    for (int r = 0; r < kRows; ++r) {
      const Words16 packed = load_global16(rows[r] + byte);
      TRIT_CUDA_PRAGMA(unroll)
      for (int q = 0; q < 4; ++q) chains[r][q] = TritChain(packed.w[q]);
    }
    // With many tokens and rows, unrolling the digits lets the compiler hoist every
    // activation load and run out of registers; nothing is indexed by the digit.
    [[maybe_unused]] constexpr int kDigitUnroll = kTokens * kRows >= 8 ? 1 : 5;
    TRIT_CUDA_PRAGMA(unroll kDigitUnroll)
    for (int digit = 0; digit < 5; ++digit) {
      std::uint32_t trits[kRows][4];
      TRIT_CUDA_PRAGMA(unroll)
      for (int r = 0; r < kRows; ++r) {
        TRIT_CUDA_PRAGMA(unroll)
        for (int q = 0; q < 4; ++q) trits[r][q] = chains[r][q].next_trits();
      }
      TRIT_CUDA_PRAGMA(unroll)
      for (int n = 0; n < kTokens; ++n) {
        if (n >= tokens) break;
        const Words16 a = x.load16(n0 + n, k0 + 64 * static_cast<std::size_t>(digit));
        TRIT_CUDA_PRAGMA(unroll)
        for (int r = 0; r < kRows; ++r) {
          TRIT_CUDA_PRAGMA(unroll)
          for (int q = 0; q < 4; ++q) acc[r][n] = dot4(trits[r][q], a.w[q], acc[r][n]);
        }
      }
    }
  }

  if (w.tail_bytes == 0) return;
  const std::size_t tail_byte0 = static_cast<std::size_t>(w.full_groups) * dense243::kGroupBytes;
  const std::size_t tail_k0 = static_cast<std::size_t>(w.full_groups) * dense243::kGroupTrits;
  for (std::uint32_t j = static_cast<std::uint32_t>(lane); j < w.tail_bytes; j += kWarpSize) {
    std::uint32_t chains[kRows];
    TRIT_CUDA_PRAGMA(unroll)
    for (int r = 0; r < kRows; ++r) chains[r] = rows[r][tail_byte0 + j];
    for (std::uint32_t digit = 0; digit < 5; ++digit) {
      const std::uint32_t position = j + w.tail_bytes * digit;
      if (position >= w.tail_trits) break;  // padding trits, all zero
      int trits[kRows];
      TRIT_CUDA_PRAGMA(unroll)
      for (int r = 0; r < kRows; ++r) {
        const std::uint32_t tripled = chains[r] * 3u;
        trits[r] = static_cast<int>(tripled >> 8) - 1;
        chains[r] = tripled & 0xFFu;
      }
      TRIT_CUDA_PRAGMA(unroll)
      for (int n = 0; n < kTokens; ++n) {
        if (n >= tokens) break;
        const int a = x.value(n0 + n, tail_k0 + position);
        TRIT_CUDA_PRAGMA(unroll)
        for (int r = 0; r < kRows; ++r) acc[r][n] += trits[r] * a;
      }
    }
  }
}

}  // namespace detail
}  // namespace cuda
TRIT_END_NAMESPACE
