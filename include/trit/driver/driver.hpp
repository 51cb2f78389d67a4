// trit: the one driver. For any product (weight layout x activation type) it picks the
// kernels (the requested path, walking the table's fallbacks to a path that has kernels for
// the product), splits the output rows over threads, reserves every byte of scratch on the
// calling thread, and runs the path's kernels, which neither allocate nor throw.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "trit/detail/aligned_buffer.hpp"
#include "trit/detail/checked.hpp"
#include "trit/driver/run.hpp"
#include "trit/kernels/contract.hpp"
#include "trit/kernels/path_kernels.hpp"
#include "trit/driver/worker_pool.hpp"
#include "trit/error.hpp"
#include "trit/format/lut_weights.hpp"
#include "trit/kernels/lut_int4_common.hpp"
#include "trit/kernels/neon/dense243_int8.hpp"
#include "trit/kernels/neon/lut_int4.hpp"
#include "trit/kernels/scalar/dense243_int8.hpp"
#include "trit/kernels/x86/dense243_int8.hpp"
#include "trit/kernels/x86/lut_int4.hpp"
#include "trit/kernels/two_bit_contract.hpp"
#include "trit/kernels/neon/two_bit_int8.hpp"
#include "trit/kernels/scalar/two_bit_int8.hpp"
#include "trit/kernels/x86/two_bit_int8.hpp"
#include "trit/paths/cpu_features.hpp"
#include "trit/paths/path_table.hpp"
#include "trit/version.hpp"
#include "trit/views/int4_activations.hpp"
#include "trit/views/matrix_ref.hpp"

TRIT_BEGIN_NAMESPACE
namespace detail {

// ---- Choosing kernels --------------------------------------------------------------------------

// The path that runs `Product` when `requested` is asked for: the requested path (or the best
// one for Isa::automatic) if it has kernels for the product whose extra features this CPU
// has, else the first such path down its fallback chain. Throws unsupported_isa_error for a
// path this build or this CPU cannot run: never SIGILL.
template <class Product>
Isa product_path(Isa requested) {
  Isa isa = requested == Isa::automatic ? best_isa() : requested;
  if (!isa_supported(isa)) {
    raise<unsupported_isa_error>("unsupported_isa_error", concat("trit: kernel path '", isa_name(isa),
                                                                 "' is not supported here: ", isa_unsupported_reason(isa)));
  }
  for (;;) {
    const typename Product::Kernels* kernels = own_kernels<Product>(isa);
    if (kernels != nullptr && (cpu_feature_bits() & kernels->extra_needs) == kernels->extra_needs) return isa;
    isa = find_path(isa)->fallback;  // the scalar row has kernels for every product
  }
}

template <class Product>
const typename Product::Kernels& select_kernels(Isa requested) {
  return *own_kernels<Product>(product_path<Product>(requested));
}

// ---- Scratch -----------------------------------------------------------------------------------

// The calling thread's scratch, grown on demand and kept, so a thread allocates only when a
// call needs more than any earlier call on it. Allocation happens here, on the caller, before
// any work fans out, so a failure reaches the caller as an exception.
inline std::uint8_t* caller_scratch(std::size_t bytes) {
  thread_local AlignedBuffer<std::uint8_t> scratch;
  if (scratch.size() < bytes) {
    scratch = AlignedBuffer<std::uint8_t>();
    scratch = AlignedBuffer<std::uint8_t>(bytes);
  }
  return scratch.data();
}

inline constexpr std::size_t kScratchAlignment = 64;

// ---- Threads -----------------------------------------------------------------------------------

// Output rows [m0, m1) on the calling thread.
template <class Product>
void run_range(const typename Product::Problem& problem, const typename Product::Kernels& kernels, std::size_t m0,
               std::size_t m1) {
  if (m0 >= m1) return;
  std::uint8_t* scratch = caller_scratch(Product::scratch_bytes(problem, kernels, m1 - m0));
  Product::run(problem, kernels, m0, m1, scratch);
}

// Splits the M rows into one contiguous range per thread, each a multiple of the kernels'
// row tile (the last takes the rest). Every row is computed by exactly one kernel call with
// the same code, so the result does not depend on the thread count.
template <class Product>
void run_parallel(const typename Product::Problem& problem, const typename Product::Kernels& kernels,
                  unsigned threads) {
  const std::size_t rows = Product::rows(problem);
  const std::size_t tile = Product::row_tile(kernels);
  const std::size_t tiles = (rows + tile - 1) / tile;
  const std::size_t workers = std::max<std::size_t>(1, std::min<std::size_t>(resolve_threads(threads), tiles));
  if (workers == 1) {
    run_range<Product>(problem, kernels, 0, rows);
    return;
  }
  const auto range_begin = [&](std::size_t t) { return std::min(rows, (tiles * t / workers) * tile); };
  std::size_t widest = 0;
  for (std::size_t t = 0; t < workers; ++t) widest = std::max(widest, range_begin(t + 1) - range_begin(t));
  const std::size_t per_worker = align_up(Product::scratch_bytes(problem, kernels, widest), kScratchAlignment);
  std::uint8_t* scratch = caller_scratch(checked_mul(per_worker, workers, "trit", "scratch"));
  parallel_for(workers, [&](std::size_t t) noexcept {
    Product::run(problem, kernels, range_begin(t), range_begin(t + 1), scratch + t * per_worker);
  });
}

// ---- Dense243 x int8 ---------------------------------------------------------------------------

struct Dense243Int8Product : Int8RowsProduct<GemmProblem> {
  using Problem = GemmProblem;
  static constexpr std::uint32_t kBit = kProductDense243Int8;
  static constexpr const char* kName = "dense243 x int8";
};

// ---- LutWeights x int4 -------------------------------------------------------------------------

struct LutInt4Product {
  using Kernels = Int4KernelSet;
  using Problem = LutInt4Problem;
  static constexpr std::uint32_t kBit = kProductLutInt4;
  static constexpr const char* kName = "lut x int4";

  // Where each buffer of one worker's scratch lives, for row ranges of up to `span` rows.
  struct Layout {
    std::size_t values = 0, position_activations = 0, tables = 0, acc = 0, bytes = 0;
  };
  static Layout layout(const Problem& p, const Kernels& k, std::size_t span) {
    // A range may start mid-tile (row-range entry points): one more tile than span covers.
    const std::size_t tile_rows = ((span + lut::kTileRows - 1) / lut::kTileRows + 1) * lut::kTileRows;
    Layout at;
    at.position_activations = align_up(p.packed != nullptr ? p.w->cols() : 0, kScratchAlignment);
    at.tables = at.position_activations + align_up(p.w->positions() * kPositionActivationBytes, kScratchAlignment);
    at.acc = at.tables + align_up(2 * p.w->positions() * k.table_bytes, kScratchAlignment);
    at.bytes = at.acc + align_up(2 * tile_rows * sizeof(std::int32_t), kScratchAlignment);
    return at;
  }

  static std::size_t rows(const Problem& p) { return p.w->rows(); }
  static std::size_t row_tile(const Kernels&) { return lut::kTileRows; }
  static std::size_t scratch_bytes(const Problem& p, const Kernels& k, std::size_t span) {
    return layout(p, k, span).bytes;
  }

  // Output rows [m0, m1) of every token; each token's tables are built here, by the thread
  // that uses them, so results do not depend on the thread count.
  static void run(const Problem& p, const Kernels& k, std::size_t m0, std::size_t m1, std::uint8_t* scratch) noexcept {
    if (m0 >= m1) return;
    const LutWeights& w = *p.w;
    const std::size_t t0 = m0 / lut::kTileRows;
    const std::size_t t1 = (m1 + lut::kTileRows - 1) / lut::kTileRows;
    const std::size_t first_row = t0 * lut::kTileRows;
    const std::size_t span = (t1 - t0) * lut::kTileRows;
    const std::size_t table_bytes = w.positions() * k.table_bytes;
    const bool per_row = w.granularity() == ScaleGranularity::per_row;
    const Layout at = layout(p, k, m1 - m0);
    std::int8_t* unpacked = reinterpret_cast<std::int8_t*>(scratch + at.values);
    std::int8_t* position_activations = reinterpret_cast<std::int8_t*>(scratch + at.position_activations);
    std::int8_t* tables = reinterpret_cast<std::int8_t*>(scratch + at.tables);
    std::int32_t* acc = reinterpret_cast<std::int32_t*>(scratch + at.acc);
    const auto values = [&](std::size_t n) -> const std::int8_t* {
      if (p.packed == nullptr) return p.values + n * p.values_stride;
      k.unpack(p.packed->row(n), p.packed->cols, unpacked);
      return unpacked;
    };
    const auto write = [&](std::size_t n, const std::int32_t* token_acc) {
      const std::int32_t* sums = token_acc + (m0 - first_row);
      if (p.acc.data != nullptr) {
        for (std::size_t m = m0; m < m1; ++m) p.acc(n, m) = sums[m - m0];
      } else {
        k.epilogue(sums, m1 - m0, p.scales[n], w.scales().data() + (per_row ? m0 : 0), per_row ? 1 : 0,
                   p.bias != nullptr ? p.bias + m0 : nullptr, &p.y(n, m0));
      }
    };
    std::size_t n = 0;
    if (k.tiles_pair != nullptr) {
      for (; n + 2 <= p.tokens; n += 2) {
        k.prepare(w.layout(), values(n), position_activations, tables);
        k.prepare(w.layout(), values(n + 1), position_activations, tables + table_bytes);
        k.tiles_pair(w, tables, tables + table_bytes, t0, t1, acc, acc + span);
        write(n, acc);
        write(n + 1, acc + span);
      }
    }
    for (; n < p.tokens; ++n) {
      k.prepare(w.layout(), values(n), position_activations, tables);
      k.tiles(w, tables, t0, t1, acc);
      write(n, acc);
    }
  }
};

template <class Product>
bool runs_own_kernels(Isa isa) {
  const typename Product::Kernels* kernels = own_kernels<Product>(isa);
  return kernels != nullptr && isa_supported(isa) && (cpu_feature_bits() & kernels->extra_needs) == kernels->extra_needs;
}

// ---- The entry points run.hpp declares -----------------------------------------------------

template <class Product, class Problem>
void run_product(const Problem& problem, Isa isa, unsigned threads) {
  static_assert(std::is_same<Problem, typename Product::Problem>::value, "the product's own problem type");
  run_parallel<Product>(problem, select_kernels<Product>(isa), threads);
}

template <class Product, class Problem>
void run_product_rows(const Problem& problem, Isa isa, std::size_t m0, std::size_t m1) {
  static_assert(std::is_same<Problem, typename Product::Problem>::value, "the product's own problem type");
  run_range<Product>(problem, select_kernels<Product>(isa), m0, m1);
}

template <class Product, class Visit>
bool visit_product(std::uint32_t product, const Visit& visit) {
  if (product != Product::kBit) return false;
  visit(Product{});
  return true;
}

}  // namespace detail

// Whether `isa` runs its own kernels for `product` (a ProductBit) here: the row lists the
// product, this build compiled them, and this CPU has what they need. Tests of a path's
// kernels run where this is true and print own_kernels_missing_reason where it is not.
inline bool has_own_kernels(std::uint32_t product, Isa isa) {
  bool runs = false;
  detail::visit_product<detail::Dense243Int8Product>(product, [&](auto p) { runs = detail::runs_own_kernels<decltype(p)>(isa); }) ||
      detail::visit_product<detail::LutInt4Product>(product, [&](auto p) { runs = detail::runs_own_kernels<decltype(p)>(isa); }) ||
      detail::visit_product<detail::TwoBitInt8Product>(product, [&](auto p) { runs = detail::runs_own_kernels<decltype(p)>(isa); });
  return runs;
}

inline std::string own_kernels_missing_reason(std::uint32_t product, Isa isa) {
  if (!isa_supported(isa)) return isa_unsupported_reason(isa);
  const KernelPath* path = find_path(isa);
  if ((path->products & product) == 0) return detail::concat(path->name, " has no kernels of its own for this product");
  if (has_own_kernels(product, isa)) return "it runs";
#if !defined(TRIT_ENABLE_INT4)
  if (product == kProductLutInt4 && isa != Isa::scalar) {
    return detail::concat("this build has no ", path->name, " int4 kernels (TRIT_ENABLE_INT4 is off)");
  }
#endif
  return detail::concat("this CPU lacks an extra feature the ", path->name, " kernels of this product need");
}

TRIT_END_NAMESPACE
