// Replays the CUDA kernels on the CPU: the per-thread code of trit/cuda/detail/*_tile.hpp runs
// unchanged for every lane of every warp, and what only a GPU does (warp sums, mma.sync,
// copies to shared memory) is done here from its specification. A replay that matches
// trit::ref shows that the kernels' decoding, lane and fragment mappings, staging layouts and
// epilogue are right; what it cannot show is that the GPU instructions behave as specified.
#pragma once

#include <algorithm>
#include <array>
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

// Where a replayed kernel's results go. With split-K the slices' sums are added into an
// int32 buffer (what the device does with atomics into the output's memory) and the
// epilogue runs once at the end; without, every result is stored as the kernel stores it.
class ReplayOutput {
 public:
  ReplayOutput(const tcd::WeightArgs& w, std::size_t tokens, const tcd::OutputArgs& out, bool split)
      : w_(w), tokens_(tokens), out_(out), split_(split) {
    if (split_) {
      partial_.assign(tokens * w.rows, 0);
      out_.partial = partial_.data();
      out_.partial_stride = w.rows;
    }
  }
  const tcd::OutputArgs& args() const { return out_; }
  void finish() const {
    if (!split_) return;
    for (std::size_t n = 0; n < tokens_; ++n) {
      for (std::size_t m = 0; m < w_.rows; ++m) {
        tcd::OutputArgs plain = out_;
        plain.partial = nullptr;
        tcd::store_result(plain, w_, n, m, partial_[n * w_.rows + m]);
      }
    }
  }

 private:
  tcd::WeightArgs w_;
  std::size_t tokens_;
  tcd::OutputArgs out_;
  bool split_;
  std::vector<std::int32_t> partial_;
};

// A 16-byte aligned host buffer standing in for shared memory.
struct StageBuffer {
  explicit StageBuffer(std::size_t bytes) : words((bytes + 15) / 16 + 1) {}
  std::uint8_t* data() { return reinterpret_cast<std::uint8_t*>(words.data()); }
  struct alignas(16) Word {
    std::uint8_t b[16];
  };
  std::vector<Word> words;
};

// ---- dp4a ----------------------------------------------------------------------------------

// Every block of the grid the launcher plans, every thread of it: the staging by all
// kGemvThreads threads between the barriers, then every lane's dot products, warp sums.
template <int kTokens, int kRows, class Source>
void replay_dp4a_tiles(const tcd::WeightArgs& w, const Source& x, std::size_t tokens, const tcd::OutputArgs& out,
                       const tcd::GemvPlan& plan) {
  ASSERT_EQ(plan.tile.tokens, kTokens);
  ASSERT_EQ(plan.tile.rows, kRows);
  StageBuffer stage(plan.shared_bytes);
  const ReplayOutput output(w, tokens, out, plan.grid.blocks_z > 1);
  for (unsigned z = 0; z < plan.grid.blocks_z; ++z) {
    const std::uint32_t begin = z * plan.slice.groups_per_split;
    const std::uint32_t end = std::min(w.groups, begin + plan.slice.groups_per_split);
    ASSERT_LT(begin, end) << "an empty split-K slice";
    for (unsigned bx = 0; bx < plan.grid.blocks_x; ++bx) {
      for (std::size_t n0 = 0; n0 < tokens; n0 += kTokens) {
        const int count = static_cast<int>(std::min<std::size_t>(kTokens, tokens - n0));
        std::vector<std::array<std::array<std::int32_t, kRows * kTokens>, tc::kWarpSize>> acc(
            tc::kGemvWarpsPerBlock);
        for (auto& warp : acc) {
          for (auto& lane : warp) lane.fill(0);
        }
        for (std::uint32_t chunk0 = begin; chunk0 < end; chunk0 += plan.slice.chunk_groups) {
          const std::uint32_t groups = std::min(plan.slice.chunk_groups, end - chunk0);
          ASSERT_LE(static_cast<std::size_t>(count) * tcd::gemv_stage_row_bytes(groups), plan.shared_bytes);
          std::fill(stage.data(), stage.data() + plan.shared_bytes, std::uint8_t{0xA5});
          for (int thread = 0; thread < tc::kGemvThreads; ++thread) {
            tcd::gemv_stage(x, w.cols, n0, count, chunk0, groups, stage.data(), thread, tc::kGemvThreads);
          }
          for (int warp = 0; warp < tc::kGemvWarpsPerBlock; ++warp) {
            const std::size_t m0 = (static_cast<std::size_t>(bx) * tc::kGemvWarpsPerBlock + warp) * kRows;
            if (m0 >= w.rows) continue;
            const std::uint8_t* rows[kRows];
            for (int r = 0; r < kRows; ++r) rows[r] = w.row(std::min(m0 + r, w.rows - 1));
            for (int lane = 0; lane < tc::kWarpSize; ++lane) {
              if (tcd::gemv_lane_group(chunk0, lane) >= chunk0 + groups) continue;
              tcd::Words16 first[kRows];
              tcd::gemv_load_weights<kRows>(rows, tcd::gemv_lane_group(chunk0, lane), lane, first);
              std::int32_t lane_acc[kRows][kTokens];
              for (int r = 0; r < kRows; ++r) {
                for (int n = 0; n < kTokens; ++n) lane_acc[r][n] = acc[warp][lane][r * kTokens + n];
              }
              tcd::gemv_lane_chunk<kTokens, kRows>(rows, stage.data(), chunk0, groups, count, lane, first, lane_acc);
              for (int r = 0; r < kRows; ++r) {
                for (int n = 0; n < kTokens; ++n) acc[warp][lane][r * kTokens + n] = lane_acc[r][n];
              }
            }
          }
        }
        for (int warp = 0; warp < tc::kGemvWarpsPerBlock; ++warp) {
          const std::size_t m0 = (static_cast<std::size_t>(bx) * tc::kGemvWarpsPerBlock + warp) * kRows;
          if (m0 >= w.rows) continue;
          for (int r = 0; r < kRows; ++r) {
            for (int n = 0; n < count; ++n) {
              std::int32_t total = 0;
              for (int lane = 0; lane < tc::kWarpSize; ++lane) {
                total = tcd::wrapping_add(total, acc[warp][lane][r * kTokens + n]);
              }
              if (m0 + r < w.rows) tcd::emit_result(output.args(), w, n0 + n, m0 + r, total);
            }
          }
        }
      }
    }
  }
  output.finish();
}

// The tile and split the launcher picks for this many tokens (split_k as LaunchOptions).
template <class Source>
void replay_dp4a(const tcd::WeightArgs& w, const Source& x, std::size_t tokens, const tcd::OutputArgs& out,
                 unsigned split_k = 1) {
  const tcd::GemvPlan plan = tcd::gemv_plan(w.rows, w.cols, tokens, split_k, 132, "replay");
  if (plan.tile.tokens == 1) {
    replay_dp4a_tiles<1, 2>(w, x, tokens, out, plan);
  } else if (plan.tile.tokens == 2) {
    replay_dp4a_tiles<2, 2>(w, x, tokens, out, plan);
  } else if (plan.tile.tokens == 4) {
    replay_dp4a_tiles<4, 2>(w, x, tokens, out, plan);
  } else {
    replay_dp4a_tiles<tc::kGemvMaxTokens, 2>(w, x, tokens, out, plan);
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

// One block of the mma kernel, for every block of the grid the launcher plans.
template <class Source>
void replay_mma(const tcd::WeightArgs& w, const Source& x, std::size_t tokens, const tcd::OutputArgs& out,
                unsigned split_k = 1) {
  const tcd::MmaPlan plan = tcd::mma_plan(w.rows, w.cols, tokens, split_k, 132, "replay");
  const ReplayOutput output(w, tokens, out, plan.grid.blocks_z > 1);
  using tc::kMmaFragsM;
  using tc::kMmaFragsN;
  std::vector<std::uint8_t> activation_stage(static_cast<std::size_t>(tc::kMmaBlockTokens) * tc::kStageRowBytes);
  std::vector<std::uint8_t> weight_stage(static_cast<std::size_t>(tc::kMmaBlockRows) * trit::dense243::kGroupBytes);

  for (unsigned z = 0; z < plan.grid.blocks_z; ++z) {
  const std::uint32_t begin = z * plan.groups_per_split;
  const std::uint32_t end = std::min(w.groups, begin + plan.groups_per_split);
  ASSERT_LT(begin, end) << "an empty split-K slice";
  for (std::size_t block_row0 = 0; block_row0 < w.rows; block_row0 += tc::kMmaBlockRows) {
    for (std::size_t n0 = 0; n0 < tokens; n0 += tc::kMmaBlockTokens) {
      std::int32_t acc[tc::kMmaWarpsPerBlock][32][kMmaFragsM][kMmaFragsN][4] = {};

      for (std::uint32_t group = begin; group < end; ++group) {
        // What the stager and stage_weights leave in shared memory.
        for (int token = 0; token < tc::kMmaBlockTokens; ++token) {
          const std::size_t n = n0 + static_cast<std::size_t>(token);
          const bool valid = n < tokens;
          for (int chunk = 0; chunk < tc::kStageChunks; ++chunk) {
            const tcd::Words16 v = tcd::staged_chunk(x, w.cols, n, valid, group, chunk);
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
                if (m < w.rows && n < tokens) tcd::emit_result(output.args(), w, n, m, acc[warp][lane][f][j][i]);
              }
            }
          }
        }
      }
    }
  }
  }
  output.finish();
}

}  // namespace trit_cuda_test
