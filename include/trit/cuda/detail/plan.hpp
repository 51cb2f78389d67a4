// trit::cuda: argument checks and launch shapes, on the host, before any CUDA call. Plain C++
// (no CUDA headers), so the CPU tests cover every check and every grid without a device.
#pragma once

#include <cstddef>
#include <cstdint>

#include "trit/cuda/config.hpp"
#include "trit/cuda/detail/gemv_tile.hpp"
#include "trit/cuda/device_layout.hpp"
#include "trit/cuda/int4.hpp"
#include "trit/cuda/views.hpp"
#include "trit/format/dense243.hpp"
#include "trit/error.hpp"
#include "trit/format/packed_matrix.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace cuda {
namespace detail {

inline bool aligned_to(const void* p, std::size_t alignment) {
  return reinterpret_cast<std::uintptr_t>(p) % alignment == 0;
}

inline void check_weights(const DeviceMatrixView& w, const char* fn) {
  using trit::detail::require;
  require(w.rows > 0 && w.cols > 0, fn, "w is empty (", w.rows, "x", w.cols, ")");
  require(w.cols <= kMaxCols, fn, "w has K = ", w.cols, " columns, more than kMaxCols = ", kMaxCols);
  require(w.granularity == ScaleGranularity::per_tensor || w.granularity == ScaleGranularity::per_row, fn,
          "w.granularity is not a ScaleGranularity value");
  require(w.bytes != nullptr && w.scales != nullptr, fn, "w has null bytes or scales");
  const std::size_t row_bytes = device_row_stride(w.cols);
  require(w.row_stride >= row_bytes, fn, "w.row_stride ", w.row_stride, " is smaller than the ", row_bytes,
          " bytes of a device row (whole groups)");
  require(w.row_stride % kDeviceRowAlignment == 0 && aligned_to(w.bytes, kDeviceRowAlignment), fn,
          "w.bytes and w.row_stride must be multiples of ", kDeviceRowAlignment,
          " bytes (DeviceMatrix pads its rows so)");
  require(aligned_to(w.scales, alignof(float)), fn, "w.scales is not aligned to a float");
}

// Activations as the kernels see them: raw bytes, a resolved stride, and whether the fast
// (vector-load) path applies.
struct ActivationLayout {
  const std::uint8_t* data = nullptr;
  std::size_t tokens = 0;
  std::size_t stride = 0;
  const float* scales = nullptr;
  bool vector_loads = false;
};

template <class View>
void check_activation_common(const View& x, std::size_t cols, std::size_t row_bytes, const char* fn) {
  using trit::detail::require;
  require(x.tokens > 0, fn, "x has no tokens");
  require(x.cols == cols, fn, "x has ", x.cols, " columns but the weights have K = ", cols);
  require(x.data != nullptr && x.scales != nullptr, fn, "x has null data or scales");
  require(x.stride == 0 || x.stride >= row_bytes, fn, "x.stride ", x.stride, " is smaller than the ", row_bytes,
          " bytes of a token");
  require(aligned_to(x.scales, alignof(float)), fn, "x.scales is not aligned to a float");
}

// Whether every token row starts 16-byte aligned, so that vector loads and 16-byte copies
// apply: the first row's address, and the stride only when there is a second row.
inline bool vector_loads_apply(const void* data, std::size_t tokens, std::size_t stride) {
  return aligned_to(data, 16) && (tokens == 1 || stride % 16 == 0);
}

inline ActivationLayout check_activations(const DeviceActivations& x, std::size_t cols, const char* fn) {
  check_activation_common(x, cols, cols, fn);
  ActivationLayout layout;
  layout.data = reinterpret_cast<const std::uint8_t*>(x.data);
  layout.tokens = x.tokens;
  layout.stride = x.stride == 0 ? cols : x.stride;
  layout.scales = x.scales;
  layout.vector_loads = vector_loads_apply(x.data, x.tokens, layout.stride);
  return layout;
}

inline ActivationLayout check_activations(const DeviceInt4Activations& x, std::size_t cols, const char* fn) {
  check_activation_common(x, cols, int4_row_bytes(cols), fn);
  ActivationLayout layout;
  layout.data = x.data;
  layout.tokens = x.tokens;
  layout.stride = x.stride == 0 ? int4_row_bytes(cols) : x.stride;
  layout.scales = x.scales;
  layout.vector_loads = vector_loads_apply(x.data, x.tokens, layout.stride);
  return layout;
}

// Checks a token-major output of tokens x rows elements; returns its stride (0 means rows).
template <class T>
std::size_t check_output(const T* out, std::size_t stride, std::size_t rows, const char* name, const char* fn) {
  using trit::detail::require;
  require(out != nullptr, fn, name, " is null");
  require(aligned_to(out, alignof(T)), fn, name, " is not aligned to its element type");
  const std::size_t resolved = stride == 0 ? rows : stride;
  require(resolved >= rows, fn, name, " stride ", resolved, " is smaller than the ", rows, " rows of w");
  return resolved;
}

inline void check_bias(const float* bias, const char* fn) {
  trit::detail::require(bias == nullptr || aligned_to(bias, alignof(float)), fn, "bias is not aligned to a float");
}

// ---- Launch shapes ---------------------------------------------------------------------------

struct LaunchGrid {
  unsigned blocks_x = 0;
  unsigned blocks_y = 0;
  unsigned blocks_z = 1;  // split-K slices
  unsigned threads = 0;
};

inline constexpr std::size_t kMaxBlocksX = 2147483647u;
// Tokens past gridDim.y tiles are handled by the kernels' loop over token tiles.
inline constexpr std::size_t kMaxBlocksY = 65535u;
inline constexpr std::size_t kMaxBlocksZ = 65535u;

// Tokens and rows per warp of the dp4a kernel: more tokens per warp share each decoded
// weight; more rows per warp share each staged activation load and keep more weight loads
// in flight per lane, but leave fewer warps for short matrices. The lane code takes 2 to 4
// rows; 2 is used throughout because 4 rows with 4 or more tokens spill under the
// register caps of config.hpp's gemv_min_blocks_per_sm (ptxas, sm_90). Not tuned on a GPU.
struct Dp4aTile {
  int tokens = 1;
  int rows = 2;
};

constexpr Dp4aTile dp4a_tile(std::size_t tokens) {
  if (tokens <= 1) return Dp4aTile{1, 2};
  if (tokens == 2) return Dp4aTile{2, 2};
  if (tokens <= 4) return Dp4aTile{4, 2};
  return Dp4aTile{kGemvMaxTokens, 2};
}

constexpr std::size_t ceil_div(std::size_t a, std::size_t b) { return (a + b - 1) / b; }

// How K is split: `splits` slices of `groups_per_split` groups (the last may be shorter,
// none is empty). `requested` is LaunchOptions::split_k (0: automatic); automatic splits only
// when the blocks alone give fewer than `target_blocks`, and never below `grain` groups a
// slice.
struct SplitK {
  unsigned splits = 1;
  std::uint32_t groups_per_split = 0;
};

inline SplitK plan_split_k(std::size_t groups, std::size_t blocks, std::size_t target_blocks, std::size_t grain,
                           unsigned requested) {
  std::size_t wanted = requested;
  if (requested == 0) {
    wanted = blocks >= target_blocks ? 1 : ceil_div(target_blocks, blocks);
    const std::size_t most = ceil_div(groups, grain);
    if (wanted > most) wanted = most;
  }
  if (wanted < 1) wanted = 1;
  if (wanted > groups) wanted = groups;
  if (wanted > kMaxBlocksZ) wanted = kMaxBlocksZ;
  std::size_t per = ceil_div(groups, wanted);
  if (requested == 0 && wanted > 1) per = ceil_div(per, grain) * grain;
  return SplitK{static_cast<unsigned>(ceil_div(groups, per)), static_cast<std::uint32_t>(per)};
}

// Everything a dp4a launch needs.
struct GemvPlan {
  Dp4aTile tile;
  LaunchGrid grid;
  GemvSlice slice{};
  std::size_t shared_bytes = 0;
};

// `sm_count` matters only for automatic split-K (requested_split 0).
inline GemvPlan gemv_plan(std::size_t rows, std::size_t cols, std::size_t tokens, unsigned requested_split,
                          int sm_count, const char* fn) {
  GemvPlan plan;
  plan.tile = dp4a_tile(tokens);
  const std::size_t warps = ceil_div(rows, static_cast<std::size_t>(plan.tile.rows));
  const std::size_t blocks_x = ceil_div(warps, kGemvWarpsPerBlock);
  trit::detail::require(blocks_x <= kMaxBlocksX, fn, "w has too many rows (", rows, ") for one launch");
  const std::size_t tiles = ceil_div(tokens, static_cast<std::size_t>(plan.tile.tokens));
  const std::size_t blocks_y = tiles < kMaxBlocksY ? tiles : kMaxBlocksY;
  const std::size_t groups = device_groups(cols);
  const std::size_t target_blocks =
      static_cast<std::size_t>(sm_count > 0 ? sm_count : 1) * kGemvTargetWarpsPerSm / kGemvWarpsPerBlock;
  const SplitK split = plan_split_k(groups, blocks_x * blocks_y, target_blocks, kGemvStepGroups, requested_split);
  // Whole steps per chunk, so every lane's group offset within a chunk is the same.
  std::size_t chunk = kGemvStageBudget / (static_cast<std::size_t>(plan.tile.tokens) * dense243::kGroupTrits);
  chunk = chunk / kGemvStepGroups * kGemvStepGroups;
  if (chunk > split.groups_per_split) chunk = split.groups_per_split;
  plan.slice = GemvSlice{split.groups_per_split, static_cast<std::uint32_t>(chunk)};
  plan.shared_bytes = static_cast<std::size_t>(plan.tile.tokens) * chunk * dense243::kGroupTrits;
  plan.grid = LaunchGrid{static_cast<unsigned>(blocks_x), static_cast<unsigned>(blocks_y), split.splits,
                         static_cast<unsigned>(kGemvThreads)};
  return plan;
}

struct MmaPlan {
  LaunchGrid grid;
  std::uint32_t groups_per_split = 0;
};

// `stages` sets how many blocks fit an SM, which automatic split-K aims to fill.
inline MmaPlan mma_plan(std::size_t rows, std::size_t cols, std::size_t tokens, unsigned requested_split, int sm_count,
                        const char* fn, int stages = kMmaDefaultStages) {
  const std::size_t blocks_x = ceil_div(rows, kMmaBlockRows);
  trit::detail::require(blocks_x <= kMaxBlocksX, fn, "w has too many rows (", rows, ") for one launch");
  const std::size_t tiles = ceil_div(tokens, kMmaBlockTokens);
  const std::size_t blocks_y = tiles < kMaxBlocksY ? tiles : kMaxBlocksY;
  const std::size_t target_blocks =
      static_cast<std::size_t>(sm_count > 0 ? sm_count : 1) * static_cast<std::size_t>(mma_min_blocks_per_sm(stages));
  const SplitK split = plan_split_k(device_groups(cols), blocks_x * blocks_y, target_blocks, 1, requested_split);
  MmaPlan plan;
  plan.grid = LaunchGrid{static_cast<unsigned>(blocks_x), static_cast<unsigned>(blocks_y), split.splits,
                         static_cast<unsigned>(kMmaThreads)};
  plan.groups_per_split = split.groups_per_split;
  return plan;
}

inline void check_options(const LaunchOptions& options, const char* fn) {
  trit::detail::require(options.mma_stages == 0 || (options.mma_stages >= 2 && options.mma_stages <= kMmaMaxStages),
                        fn, "options.mma_stages is ", options.mma_stages, "; it must be 0 (the default), 2 or ",
                        kMmaMaxStages);
}

// The kernel that runs: `automatic` resolved by the token count, and an explicit mma
// request refused when the device or the build cannot run it.
inline KernelChoice resolve_kernel(KernelChoice requested, std::size_t tokens, bool mma_runs_here, const char* fn) {
  switch (requested) {
    case KernelChoice::automatic:
      return tokens >= kMmaMinTokens && mma_runs_here ? KernelChoice::mma : KernelChoice::dp4a;
    case KernelChoice::dp4a: return KernelChoice::dp4a;
    case KernelChoice::mma:
      if (!mma_runs_here) {
        throw unsupported_isa_error(trit::detail::concat(
            "trit::", fn, ": the mma kernel needs compute capability 8.0 or newer and a build for it "
            "(CMAKE_CUDA_ARCHITECTURES 80 or later)"));
      }
      return KernelChoice::mma;
  }
  trit::detail::throw_invalid_argument(fn, "options.kernel is not a KernelChoice value");
}

// Whether resolving `requested` for this many tokens needs to know if mma runs here (a
// device query, which the dp4a-only cases skip).
constexpr bool needs_mma_query(KernelChoice requested, std::size_t tokens) {
  return requested == KernelChoice::mma || (requested == KernelChoice::automatic && tokens >= kMmaMinTokens);
}

}  // namespace detail
}  // namespace cuda
TRIT_END_NAMESPACE
