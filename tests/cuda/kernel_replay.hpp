// Replays the CUDA kernels on the CPU: the per-thread code of trit/cuda/detail/*_tile.hpp runs
// unchanged for every lane of every warp, and what only a GPU does (warp sums, mma.sync,
// copies to shared memory) is done here from its specification. A replay that matches
// trit::ref shows that the kernels' decoding, lane and fragment mappings, staging layouts and
// epilogue are right; what it cannot show is that the GPU instructions behave as specified.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "trit/cuda/config.hpp"
#include "trit/cuda/detail/decode.hpp"
#include "trit/cuda/detail/gemv_tile.hpp"
#include "trit/cuda/detail/kernel_args.hpp"
#include "trit/cuda/detail/mma_tile.hpp"
#include "trit/cuda/detail/plan.hpp"

namespace trit_cuda_test {

namespace tc = trit::cuda;
namespace tcd = trit::cuda::detail;

// A kernel's activation source that fails the test when a vector load would be misaligned
// on the device (the host copies do not care, so the replay checks it here).
template <class Source>
struct AlignmentCheckedSource : Source {
  tcd::Words16 load16(std::size_t n, std::size_t k) const {
    if (Source::kAligned) {
      const auto address = reinterpret_cast<std::uintptr_t>(this->address(n, k));
      if (address % Source::kBytesPer16 != 0) {
        ADD_FAILURE() << "misaligned vector load of token " << n << " at k = " << k;
      }
    }
    return Source::load16(n, k);
  }
};

// ---- dp4a ----------------------------------------------------------------------------------

template <int kTokens, int kRows, class Source>
void replay_dp4a_tiles(const tcd::WeightArgs& w, const Source& x, std::size_t tokens, const tcd::OutputArgs& out) {
  for (std::size_t m0 = 0; m0 < w.rows; m0 += kRows) {
    for (std::size_t n0 = 0; n0 < tokens; n0 += kTokens) {
      const int count = static_cast<int>(std::min<std::size_t>(kTokens, tokens - n0));
      std::int32_t warp_total[kRows][kTokens] = {};
      for (int lane = 0; lane < tc::kWarpSize; ++lane) {
        std::int32_t acc[kRows][kTokens] = {};
        tcd::gemv_lane_accumulate<kTokens, kRows>(w, m0, x, n0, count, lane, acc);
        for (int r = 0; r < kRows; ++r) {
          for (int n = 0; n < kTokens; ++n) warp_total[r][n] += acc[r][n];
        }
      }
      for (int r = 0; r < kRows; ++r) {
        for (int n = 0; n < count; ++n) {
          if (m0 + r < w.rows) tcd::store_result(out, w, n0 + n, m0 + r, warp_total[r][n]);
        }
      }
    }
  }
}

// The tile the launcher picks for this many tokens.
template <class Source>
void replay_dp4a(const tcd::WeightArgs& w, const Source& x, std::size_t tokens, const tcd::OutputArgs& out) {
  const tcd::Dp4aTile tile = tcd::dp4a_tile(tokens);
  if (tile.tokens == 1) {
    replay_dp4a_tiles<1, 1>(w, x, tokens, out);
  } else if (tile.tokens == 2) {
    replay_dp4a_tiles<2, 1>(w, x, tokens, out);
  } else if (tile.tokens == 4) {
    replay_dp4a_tiles<4, 2>(w, x, tokens, out);
  } else {
    replay_dp4a_tiles<tc::kGemvMaxTokens, 4>(w, x, tokens, out);
  }
}

// ---- mma -----------------------------------------------------------------------------------

// mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 for one warp, written from the PTX ISA's
// fragment tables: lane (g = lane / 4, t = lane % 4) holds
//   A: a[r] byte e = A[g + 8 * (r % 2)][16 * (r / 2) + 4 t + e]
//   B: b[r] byte e = B[16 r + 4 t + e][g]
//   C: c[i]        = C[g + 8 * (i / 2)][2 t + i % 2]
inline void emulate_mma_m16n8k32(const std::uint32_t (&a)[32][4], const std::uint32_t (&b)[32][2],
                                 std::int32_t (&c)[32][4]) {
  int matrix_a[16][32];
  int matrix_b[32][8];
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane / 4;
    const int t = lane % 4;
    for (int r = 0; r < 4; ++r) {
      for (int e = 0; e < 4; ++e) {
        matrix_a[g + 8 * (r % 2)][16 * (r / 2) + 4 * t + e] = static_cast<std::int8_t>(a[lane][r] >> (8 * e));
      }
    }
    for (int r = 0; r < 2; ++r) {
      for (int e = 0; e < 4; ++e) matrix_b[16 * r + 4 * t + e][g] = static_cast<std::int8_t>(b[lane][r] >> (8 * e));
    }
  }
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane / 4;
    const int t = lane % 4;
    for (int i = 0; i < 4; ++i) {
      const int row = g + 8 * (i / 2);
      const int col = 2 * t + i % 2;
      std::int32_t sum = 0;
      for (int k = 0; k < 32; ++k) sum += matrix_a[row][k] * matrix_b[k][col];
      c[lane][i] += sum;
    }
  }
}

// One block of the mma kernel, for every block of the grid.
template <class Source>
void replay_mma(const tcd::WeightArgs& w, const Source& x, std::size_t tokens, const tcd::OutputArgs& out) {
  using tc::kMmaFragsM;
  using tc::kMmaFragsN;
  std::vector<std::uint8_t> activation_stage(static_cast<std::size_t>(tc::kMmaBlockTokens) * tc::kStageRowBytes);
  std::vector<std::uint8_t> weight_stage(static_cast<std::size_t>(tc::kMmaBlockRows) * trit::dense243::kGroupBytes);
  const tcd::Words16 zero{{0u, 0u, 0u, 0u}};

  for (std::size_t block_row0 = 0; block_row0 < w.rows; block_row0 += tc::kMmaBlockRows) {
    for (std::size_t n0 = 0; n0 < tokens; n0 += tc::kMmaBlockTokens) {
      std::int32_t acc[tc::kMmaWarpsPerBlock][32][kMmaFragsM][kMmaFragsN][4] = {};

      for (std::uint32_t group = 0; group < w.groups(); ++group) {
        // What the stager and stage_weights leave in shared memory.
        for (int token = 0; token < tc::kMmaBlockTokens; ++token) {
          const std::size_t n = n0 + static_cast<std::size_t>(token);
          const bool valid = n < tokens;
          for (int chunk = 0; chunk < tc::kStageChunks; ++chunk) {
            const tcd::Words16 v = group < w.full_groups
                                       ? (valid ? x.load16(n, tcd::staged_chunk_k(group, chunk)) : zero)
                                       : tcd::staged_tail_chunk(x, w, n, valid, chunk);
            tcd::store_staged16(activation_stage.data() + static_cast<std::size_t>(token) * tc::kStageRowBytes +
                                    16 * static_cast<std::size_t>(chunk),
                                v);
          }
        }
        for (int row = 0; row < tc::kMmaBlockRows; ++row) {
          const std::size_t m = std::min(block_row0 + static_cast<std::size_t>(row), w.rows - 1);
          for (int part = 0; part < 4; ++part) {
            tcd::store_staged16(weight_stage.data() + tcd::mma_weight_stage_offset(row, part),
                                tcd::mma_load_weights(w, m, group, part));
          }
        }

        for (int warp = 0; warp < tc::kMmaWarpsPerBlock; ++warp) {
          tcd::TritChain chains[32][kMmaFragsM][2][4];
          for (int lane = 0; lane < 32; ++lane) {
            for (int f = 0; f < kMmaFragsM; ++f) {
              for (int h = 0; h < 2; ++h) {
                const int row = static_cast<int>(
                    tcd::mma_weight_row(static_cast<std::size_t>(warp) * tc::kMmaWarpRows, f, h, lane / 4));
                const tcd::Words16 packed =
                    tcd::load_staged16(weight_stage.data() + tcd::mma_weight_stage_offset(row, lane % 4));
                for (int q = 0; q < 4; ++q) chains[lane][f][h][q] = tcd::TritChain(packed.w[q]);
              }
            }
          }
          for (int digit = 0; digit < 5; ++digit) {
            std::uint32_t trits[32][kMmaFragsM][2][4];
            for (int lane = 0; lane < 32; ++lane) {
              for (int f = 0; f < kMmaFragsM; ++f) {
                for (int h = 0; h < 2; ++h) {
                  for (int q = 0; q < 4; ++q) trits[lane][f][h][q] = chains[lane][f][h][q].next_trits();
                }
              }
            }
            for (int j = 0; j < kMmaFragsN; ++j) {
              tcd::Words16 staged[32];
              for (int lane = 0; lane < 32; ++lane) {
                staged[lane] = tcd::load_staged16(
                    activation_stage.data() + tcd::mma_stage_offset(tc::kMmaFragTokens * j + lane / 4, digit, lane % 4));
              }
              for (int step = 0; step < 2; ++step) {
                for (int f = 0; f < kMmaFragsM; ++f) {
                  std::uint32_t a[32][4];
                  std::uint32_t b[32][2];
                  std::int32_t c[32][4];
                  for (int lane = 0; lane < 32; ++lane) {
                    for (int r = 0; r < 4; ++r) a[lane][r] = tcd::mma_a_register(trits[lane][f], step, r);
                    for (int r = 0; r < 2; ++r) b[lane][r] = tcd::mma_b_register(staged[lane], step, r);
                    for (int i = 0; i < 4; ++i) c[lane][i] = acc[warp][lane][f][j][i];
                  }
                  emulate_mma_m16n8k32(a, b, c);
                  for (int lane = 0; lane < 32; ++lane) {
                    for (int i = 0; i < 4; ++i) acc[warp][lane][f][j][i] = c[lane][i];
                  }
                }
              }
            }
          }
        }
      }

      for (int warp = 0; warp < tc::kMmaWarpsPerBlock; ++warp) {
        const std::size_t warp_row0 = block_row0 + static_cast<std::size_t>(warp) * tc::kMmaWarpRows;
        for (int lane = 0; lane < 32; ++lane) {
          for (int f = 0; f < kMmaFragsM; ++f) {
            for (int j = 0; j < kMmaFragsN; ++j) {
              for (int i = 0; i < 4; ++i) {
                const std::size_t m = warp_row0 + static_cast<std::size_t>(tcd::mma_out_row(f, lane / 4, i));
                const std::size_t n = n0 + static_cast<std::size_t>(tcd::mma_out_token(j, lane % 4, i));
                if (m < w.rows && n < tokens) tcd::store_result(out, w, n, m, acc[warp][lane][f][j][i]);
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace trit_cuda_test
