// trit: ternary weights x packed int4 activations, the public entry points and the choice of
// kernel path. Only with TRIT_ENABLE_INT4; without it this header declares nothing.
//
//   y[n][m] = ((float)acc[n][m] / x.scale(n)) * w.scale(m) + bias[m]
//   acc[n][m] = sum_k W[m][k] * x[n][k]       (int32, exact)
//
// The weights are a LutWeights (lut_weights.hpp), made once from a PackedMatrix. Every path
// gives the same int32 and bit-identical floats as trit::ref::gemm_int4_rows on the
// PackedMatrix. Paths: scalar, avx2, avx512bw (needs AVX-512 VBMI as well) and neon. Asking
// for avxvnni or avx512vnni (on a CPU that has it) runs the avx2 or avx512bw int4 kernels
// (they do not multiply, so VNNI adds nothing), neon-dotprod runs neon.
#pragma once

#if defined(TRIT_ENABLE_INT4)

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "trit/detail/aligned_buffer.hpp"
#include "trit/paths/cpu_features.hpp"
#include "trit/detail/float_order.hpp"
#include "trit/driver/driver.hpp"
#include "trit/error.hpp"
#include "trit/driver/gemm.hpp"
#include "trit/views/int4_activations.hpp"
#include "trit/kernels/lut_int4_common.hpp"
#include "trit/format/lut_weights.hpp"
#include "trit/kernels/neon/lut_int4.hpp"
#include "trit/reference/int4.hpp"
#include "trit/kernels/x86/lut_int4.hpp"
#include "trit/paths/isa.hpp"
#include "trit/views/matrix_ref.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

// The int4 kernel paths, in the order the tests list them.
inline constexpr Isa kInt4Isas[] = {Isa::scalar, Isa::avx2, Isa::avx512bw, Isa::neon};

// The int4 path that serves a requested path (see the header comment).
inline Isa int4_path_of(Isa isa) {
  switch (isa) {
    case Isa::avxvnni: return Isa::avx2;
    case Isa::avx512vnni: return Isa::avx512bw;
    case Isa::neon_dotprod: return Isa::neon;
    default: return isa;
  }
}

// Whether this CPU has the requested path and the int4 kernels that serve it (the avx512bw
// int4 kernels also need AVX-512 VBMI).
inline bool int4_isa_supported(Isa isa) {
  if (!isa_supported(isa)) return false;
  return int4_path_of(isa) != Isa::avx512bw || cpu_features().avx512vbmi;
}

// Why int4_isa_supported(isa) is false, in words.
inline std::string int4_isa_unsupported_reason(Isa isa) {
  if (!isa_supported(isa)) return isa_unsupported_reason(isa);
  return "the int4 avx512bw kernels need AVX-512 VBMI, which this CPU lacks";
}

// The int4 path Isa::automatic runs: the one serving best_isa() (so TRIT_ISA applies), or,
// when that is avx512bw on a CPU without VBMI, avx2.
inline Isa best_int4_isa() {
  const Isa best = best_isa();
  if (int4_isa_supported(best)) return int4_path_of(best);
  if (int4_path_of(best) == Isa::avx512bw && int4_isa_supported(Isa::avx2)) return Isa::avx2;
  return Isa::scalar;
}

namespace detail {

// The kernels of one int4 path. Throws unsupported_isa_error for a path this build or this
// CPU cannot run.
inline const Int4KernelSet& select_int4_kernels(Isa isa) {
  if (isa != Isa::automatic && !int4_isa_supported(isa)) {
    throw unsupported_isa_error(concat("trit: int4 kernel path '", isa_name(isa),
                                       "' is not supported here: ", int4_isa_unsupported_reason(isa)));
  }
  switch (isa == Isa::automatic ? best_int4_isa() : int4_path_of(isa)) {
#if TRIT_HAS_X86_KERNELS
    case Isa::avx2: return avx2_int4::kKernels;
    case Isa::avx512bw: return avx512_int4::kKernels;
#endif
#if TRIT_HAS_NEON_KERNELS
    case Isa::neon: return neon_int4::kKernels;
#endif
    default: return scalar_int4::kKernels;
  }
}

// Per-thread buffers, grown on demand and kept, so that a call allocates only when it needs
// more than any earlier call on the same thread.
struct Int4Scratch {
  AlignedBuffer<std::int8_t> values;
  AlignedBuffer<std::int8_t> position_activations;
  AlignedBuffer<std::int8_t> tables;
  AlignedBuffer<std::int32_t> acc;
};

inline Int4Scratch& int4_scratch() {
  thread_local Int4Scratch scratch;
  return scratch;
}

template <class T>
T* ensure_size(AlignedBuffer<T>& buffer, std::size_t count) {
  if (buffer.size() < count) buffer = AlignedBuffer<T>(count);
  return buffer.data();
}

// Where the results of one token go: either int32 sums or floats through the epilogue.
struct Int4Output {
  MatrixRef<std::int32_t> acc{};
  MatrixRef<float> y{};
  const float* bias = nullptr;
};

// Output rows [m0, m1) of every token. values(n, scratch) gives token n's K int8 values in
// [-8, 7], scales[n] its scale; each token's tables are built here, on the calling thread.
template <class Values>
void run_int4_rows(const LutWeights& w, std::size_t tokens, const Values& values, const float* scales,
                   const Int4Output& out, const Int4KernelSet& kernels, std::size_t m0, std::size_t m1) {
  if (m0 >= m1) return;
  const std::size_t t0 = m0 / lut::kTileRows;
  const std::size_t t1 = (m1 + lut::kTileRows - 1) / lut::kTileRows;
  const std::size_t first_row = t0 * lut::kTileRows;
  const std::size_t span = (t1 - t0) * lut::kTileRows;
  const std::size_t table_bytes = w.positions() * kernels.table_bytes;
  const bool per_row = w.granularity() == ScaleGranularity::per_row;
  Int4Scratch& scratch = int4_scratch();
  std::int8_t* position_activations =
      ensure_size(scratch.position_activations, w.positions() * kPositionActivationBytes);
  std::int8_t* tables = ensure_size(scratch.tables, 2 * table_bytes);
  std::int32_t* acc = ensure_size(scratch.acc, 2 * span);
  const auto write = [&](std::size_t n, const std::int32_t* token_acc) {
    const std::int32_t* sums = token_acc + (m0 - first_row);
    if (out.acc.data != nullptr) {
      for (std::size_t m = m0; m < m1; ++m) out.acc(n, m) = sums[m - m0];
    } else {
      kernels.epilogue(sums, m1 - m0, scales[n], w.scales().data() + (per_row ? m0 : 0), per_row ? 1 : 0,
                       out.bias != nullptr ? out.bias + m0 : nullptr, &out.y(n, m0));
    }
  };
  std::size_t n = 0;
  if (kernels.tiles_pair != nullptr) {
    for (; n + 2 <= tokens; n += 2) {
      kernels.prepare(w.layout(), values(n, kernels, scratch), position_activations, tables);
      kernels.prepare(w.layout(), values(n + 1, kernels, scratch), position_activations, tables + table_bytes);
      kernels.tiles_pair(w, tables, tables + table_bytes, t0, t1, acc, acc + span);
      write(n, acc);
      write(n + 1, acc + span);
    }
  }
  for (; n < tokens; ++n) {
    kernels.prepare(w.layout(), values(n, kernels, scratch), position_activations, tables);
    kernels.tiles(w, tables, t0, t1, acc);
    write(n, acc);
  }
}

// Splits the tiles into one contiguous range per thread; each thread runs every token on its
// rows (building the token's tables itself), so results do not depend on the thread count.
template <class Values>
void run_int4_parallel(const LutWeights& w, std::size_t tokens, const Values& values, const float* scales,
                       const Int4Output& out, const Int4KernelSet& kernels, unsigned threads) {
  const std::size_t tiles = w.tiles();
  const std::size_t workers = std::min<std::size_t>(resolve_threads(threads), tiles);
  const auto range_begin = [&](std::size_t t) { return std::min(w.rows(), (tiles * t / workers) * lut::kTileRows); };
  if (workers <= 1) {
    run_int4_rows(w, tokens, values, scales, out, kernels, 0, w.rows());
    return;
  }
  parallel_for(workers, [&](std::size_t t) {
    run_int4_rows(w, tokens, values, scales, out, kernels, range_begin(t), range_begin(t + 1));
  });
}

// Token values unpacked from packed int4 rows into the thread's scratch.
struct PackedInt4Values {
  const Int4ActivationsView* x;
  const std::int8_t* operator()(std::size_t n, const Int4KernelSet& kernels, Int4Scratch& scratch) const {
    std::int8_t* values = ensure_size(scratch.values, x->cols);
    kernels.unpack(x->row(n), x->cols, values);
    return values;
  }
};

// Token values already stored one per int8 (values n at data + n * stride).
struct Int8StoredValues {
  const std::int8_t* data;
  std::size_t stride;
  const std::int8_t* operator()(std::size_t n, const Int4KernelSet&, Int4Scratch&) const { return data + n * stride; }
};

inline void check_int4_problem(const LutWeights& w, const Int4ActivationsView& x, const char* fn) {
  require(!w.empty(), fn, "w is empty");
  check_int4_activations(x, w.cols(), fn);
}

inline void check_int4_range(const LutWeights& w, std::size_t m0, std::size_t m1, const char* fn) {
  require(m0 <= m1 && m1 <= w.rows(), fn, "row range [", m0, ", ", m1, ") is not inside [0, ", w.rows(), ")");
}

}  // namespace detail

// ---- Whole products --------------------------------------------------------------------------

// Float output, with an optional bias of M floats.
inline void gemm_int4(const LutWeights& w, const Int4ActivationsView& x, MatrixRef<float> y,
                      const float* bias = nullptr, const GemmOptions& options = {}) {
  constexpr const char* fn = "gemm_int4";
  detail::check_int4_problem(w, x, fn);
  detail::check_shape(y, x.tokens, w.rows(), fn, "y");
  detail::Int4Output out;
  out.y = y;
  out.bias = bias;
  detail::run_int4_parallel(w, x.tokens, detail::PackedInt4Values{&x}, x.scales, out,
                            detail::select_int4_kernels(options.isa), options.threads);
}

// The exact int32 accumulators, no epilogue.
inline void gemm_int4_int32(const LutWeights& w, const Int4ActivationsView& x, MatrixRef<std::int32_t> acc,
                            const GemmOptions& options = {}) {
  constexpr const char* fn = "gemm_int4_int32";
  detail::check_int4_problem(w, x, fn);
  detail::check_shape(acc, x.tokens, w.rows(), fn, "acc");
  detail::Int4Output out;
  out.acc = acc;
  detail::run_int4_parallel(w, x.tokens, detail::PackedInt4Values{&x}, x.scales, out,
                            detail::select_int4_kernels(options.isa), options.threads);
}

// One token: x holds K packed int4 values ((K + 1) / 2 bytes) with scale x_scale; y receives
// M floats.
inline void gemv_int4(const LutWeights& w, const std::uint8_t* x, float x_scale, float* y,
                      const float* bias = nullptr, const GemmOptions& options = {}) {
  detail::require(y != nullptr, "gemv_int4", "y is null");
  gemm_int4(w, Int4ActivationsView{x, 1, w.cols(), (w.cols() + 1) / 2, &x_scale}, matrix(y, 1, w.rows()), bias,
            options);
}

// ---- Row ranges, for callers with their own thread pool ---------------------------------------
// Computes output rows [m0, m1) of every token and touches nothing else; disjoint ranges may
// run concurrently on the same y. Each call builds its tokens' tables (a small cost next to
// the product for ranges of a few hundred rows); ranges that start and end at multiples of
// 64 rows waste no work.

inline void gemm_int4_rows(const LutWeights& w, const Int4ActivationsView& x, MatrixRef<float> y, const float* bias,
                           std::size_t m0, std::size_t m1, Isa isa = Isa::automatic) {
  constexpr const char* fn = "gemm_int4_rows";
  detail::check_int4_problem(w, x, fn);
  detail::check_shape(y, x.tokens, w.rows(), fn, "y");
  detail::check_int4_range(w, m0, m1, fn);
  detail::Int4Output out;
  out.y = y;
  out.bias = bias;
  detail::run_int4_rows(w, x.tokens, detail::PackedInt4Values{&x}, x.scales, out, detail::select_int4_kernels(isa),
                        m0, m1);
}

inline void gemm_int4_int32_rows(const LutWeights& w, const Int4ActivationsView& x, MatrixRef<std::int32_t> acc,
                                 std::size_t m0, std::size_t m1, Isa isa = Isa::automatic) {
  constexpr const char* fn = "gemm_int4_int32_rows";
  detail::check_int4_problem(w, x, fn);
  detail::check_shape(acc, x.tokens, w.rows(), fn, "acc");
  detail::check_int4_range(w, m0, m1, fn);
  detail::Int4Output out;
  out.acc = acc;
  detail::run_int4_rows(w, x.tokens, detail::PackedInt4Values{&x}, x.scales, out, detail::select_int4_kernels(isa),
                        m0, m1);
}

TRIT_END_NAMESPACE

#endif  // TRIT_ENABLE_INT4
