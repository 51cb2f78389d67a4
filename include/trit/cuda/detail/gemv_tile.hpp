// trit::cuda: what one thread of the dp4a (GEMV) kernel computes: its share of staging a
// block's activations, and one lane's dot products. The kernel adds the 32 lanes' sums with
// warp shuffles and synchronizes around the staging; the CPU tests do both in loops, running
// this same code for every thread.
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

// What one block of the dp4a kernel covers of K: groups [begin, end) (its split-K slice),
// staged chunk_groups at a time.
struct GemvSlice {
  std::uint32_t groups_per_split;  // groups of one slice; slice z starts at z * groups_per_split
  std::uint32_t chunk_groups;      // groups staged at once; a multiple of kGemvStepGroups
};

// Bytes of one token's staged chunk of `groups` groups.
TRIT_CUDA_HD std::size_t gemv_stage_row_bytes(std::uint32_t groups) {
  return static_cast<std::size_t>(groups) * dense243::kGroupTrits;
}

// Thread `thread` of `threads` copies its share of the activations of groups
// [group0, group0 + groups) for tokens n0 .. n0 + tokens - 1 into `stage` (token t at
// t * gemv_stage_row_bytes(groups)), as int8, zero past K. Full 16-value chunks take the
// source's load (vector loads when aligned); the one chunk a row has across K is read value
// by value, so nothing past a row is touched.
template <class Source>
TRIT_CUDA_HD void gemv_stage(const Source& x, std::size_t cols, std::size_t n0, int tokens, std::uint32_t group0,
                             std::uint32_t groups, std::uint8_t* stage, int thread, int threads) {
  const int chunks_per_token = static_cast<int>(groups) * kStageChunks;
  const int total = tokens * chunks_per_token;
  const std::size_t k0 = static_cast<std::size_t>(group0) * dense243::kGroupTrits;
  for (int i = thread; i < total; i += threads) {
    const int t = i / chunks_per_token;
    const int c = i - t * chunks_per_token;
    const std::size_t k = k0 + 16 * static_cast<std::size_t>(c);
    const std::size_t n = n0 + static_cast<std::size_t>(t);
    const Words16 v = k + 16 <= cols ? x.load16(n, k) : load16_bounded(x, n, k, cols);
    store_staged16(stage + static_cast<std::size_t>(t) * gemv_stage_row_bytes(groups) + 16 * static_cast<std::size_t>(c),
                   v);
  }
}

// The 16 weight bytes per row that lane `lane` decodes in the step at `group`.
template <int kRows>
TRIT_CUDA_HD void gemv_load_weights(const std::uint8_t* const (&rows)[kRows], std::uint32_t group, int lane,
                                    Words16 (&out)[kRows]) {
  const std::size_t byte = static_cast<std::size_t>(group) * dense243::kGroupBytes +
                           16 * static_cast<std::size_t>(lane % kGemvLanesPerGroup);
  TRIT_CUDA_PRAGMA(unroll)
  for (int r = 0; r < kRows; ++r) out[r] = load_global16(rows[r] + byte);
}

// The first group lane `lane` takes in a chunk starting at group0.
TRIT_CUDA_HD std::uint32_t gemv_lane_group(std::uint32_t group0, int lane) {
  return group0 + static_cast<std::uint32_t>(lane / kGemvLanesPerGroup);
}

// Lane `lane`'s share of acc[r][n] += sum_k W[row r][k] * x[n0 + n][k] over the staged chunk
// of groups [group0, group0 + groups), for n < tokens (<= kTokens). `first` holds the lane's
// weights for its first step (gemv_load_weights at gemv_lane_group(group0, lane)), loaded by
// the caller before the staging so they are in flight meanwhile; the next step's weights are
// loaded before the current step is decoded, so two steps of loads are in flight.
//
// Digit i of byte j of a group is trit 64 i + j, so the lane's four words, decoded digit by
// digit, meet 16 consecutive staged activations per digit: one 16-byte shared load per token
// and digit, shared by all kRows rows. The decoder yields digits d = trit + 1, so the lane
// adds sum(d * a) and subtracts sum(a), which it takes from the same loads (once per token,
// not per row). Sums wrap modulo 2^32 until the warp total, which is exact.
template <int kTokens, int kRows>
TRIT_CUDA_HD void gemv_lane_chunk(const std::uint8_t* const (&rows)[kRows], const std::uint8_t* stage,
                                  std::uint32_t group0, std::uint32_t groups, int tokens, int lane,
                                  const Words16 (&first)[kRows], std::int32_t (&acc)[kRows][kTokens]) {
  const std::size_t row_bytes = gemv_stage_row_bytes(groups);
  const std::uint32_t end = group0 + groups;
  std::int32_t sum_a[kTokens] = {};
  Words16 next[kRows];
  TRIT_CUDA_PRAGMA(unroll)
  for (int r = 0; r < kRows; ++r) next[r] = first[r];
  for (std::uint32_t group = gemv_lane_group(group0, lane); group < end; group += kGemvStepGroups) {
    DigitDecoder decoders[kRows][4];
    TRIT_CUDA_PRAGMA(unroll)
    for (int r = 0; r < kRows; ++r) {
      TRIT_CUDA_PRAGMA(unroll)
      for (int q = 0; q < 4; ++q) decoders[r][q] = DigitDecoder(next[r].w[q]);
    }
    if (group + kGemvStepGroups < end) gemv_load_weights<kRows>(rows, group + kGemvStepGroups, lane, next);
    const std::uint8_t* a_base = stage + static_cast<std::size_t>(group - group0) * dense243::kGroupTrits +
                                 16 * static_cast<std::size_t>(lane % kGemvLanesPerGroup);
    // With many tokens and rows, unrolling the digits lets the compiler hoist every
    // activation load and run out of registers; nothing is indexed by the digit.
    [[maybe_unused]] constexpr int kDigitUnroll = kTokens * kRows >= 8 ? 1 : 5;
    TRIT_CUDA_PRAGMA(unroll kDigitUnroll)
    for (int digit = 0; digit < 5; ++digit) {
      std::uint32_t digits[kRows][4];
      TRIT_CUDA_PRAGMA(unroll)
      for (int r = 0; r < kRows; ++r) {
        TRIT_CUDA_PRAGMA(unroll)
        for (int q = 0; q < 4; ++q) digits[r][q] = decoders[r][q].next_digits();
      }
      TRIT_CUDA_PRAGMA(unroll)
      for (int n = 0; n < kTokens; ++n) {
        if (n >= tokens) break;
        const Words16 a = load_staged16(a_base + static_cast<std::size_t>(n) * row_bytes + 64 * digit);
        TRIT_CUDA_PRAGMA(unroll)
        for (int q = 0; q < 4; ++q) sum_a[n] = dot4_us(0x01010101u, a.w[q], sum_a[n]);
        TRIT_CUDA_PRAGMA(unroll)
        for (int r = 0; r < kRows; ++r) {
          TRIT_CUDA_PRAGMA(unroll)
          for (int q = 0; q < 4; ++q) acc[r][n] = dot4_us(digits[r][q], a.w[q], acc[r][n]);
        }
      }
    }
  }
  TRIT_CUDA_PRAGMA(unroll)
  for (int r = 0; r < kRows; ++r) {
    TRIT_CUDA_PRAGMA(unroll)
    for (int n = 0; n < kTokens; ++n) acc[r][n] = wrapping_sub(acc[r][n], sum_a[n]);
  }
}

}  // namespace detail
}  // namespace cuda
TRIT_END_NAMESPACE
