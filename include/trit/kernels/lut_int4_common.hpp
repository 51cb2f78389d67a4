// trit: what every int4 kernel path shares: the record that describes a path, the gathering
// of the five activations each Dense243 byte position meets, the small partial-sum tables,
// and the portable scalar path. Always built (the scalar path is the fallback of every int4 chain).
//
// A path runs one token at a time:
//  1. unpack: packed int4 values to one int8 each (skipped when the caller has int8 values);
//  2. prepare: for each byte position p of a row, a table of the sums of the five trits of
//     any byte times the five activations of position p (lut_weights.hpp), in the path's own
//     table format, `table_bytes` bytes per position;
//  3. tiles: for tiles [t0, t1) of a LutWeights, acc[64 * (t - t0) + lane] = the int32 dot
//     product of row 64t + lane with the token, by one lookup per (row, position); a path
//     may also serve two tokens in one pass over the weights (tiles_pair);
//  4. epilogue: y = ((float)acc / x_scale) * w_scale (+ bias), as detail::epilogue does it.
// The tables depend on the token only, so step 2 is paid once per token and shared by all M
// rows; step 3 is where the time goes.
#pragma once


#include <cstddef>
#include <cstdint>
#include <cstring>

#include "trit/format/dense243.hpp"
#include "trit/detail/float_order.hpp"
#include "trit/views/int4_activations.hpp"
#include "trit/format/lut_weights.hpp"
#include "trit/paths/isa.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace detail {

// Activations for one token: 8 bytes per position, the five values its digits meet (0 for a
// padding trit) and three zeros.
inline constexpr std::size_t kPositionActivationBytes = 8;

// Positions between two widenings of the int16 partial sums to int32: each lookup adds at
// most 5 * 8 = 40 in magnitude, and 768 * 40 = 30720 stays below 32767.
inline constexpr std::size_t kInt4PositionsPerFlush = 768;

using Int4Unpack = void (*)(const std::uint8_t* packed, std::size_t cols, std::int8_t* values);
// scratch holds positions * kPositionActivationBytes bytes.
using Int4Prepare = void (*)(const dense243::RowLayout& layout, const std::int8_t* values, std::int8_t* scratch,
                             std::int8_t* tables);
using Int4TileKernel = void (*)(const LutWeights& w, const std::int8_t* tables, std::size_t t0, std::size_t t1,
                                std::int32_t* acc);
// The same for two tokens at once (reading the weights once for both); null for a path
// without it.
using Int4TilePairKernel = void (*)(const LutWeights& w, const std::int8_t* tables_a, const std::int8_t* tables_b,
                                    std::size_t t0, std::size_t t1, std::int32_t* acc_a, std::int32_t* acc_b);
// y[i] = ((float)acc[i] / x_scale) * w_scales[i * w_scale_step] (+ bias[i]) for i < count.
using Int4Epilogue = void (*)(const std::int32_t* acc, std::size_t count, float x_scale, const float* w_scales,
                              std::size_t w_scale_step, const float* bias, float* y);

struct Int4KernelSet {
  Isa isa;
  std::size_t table_bytes;  // per position
  Int4Unpack unpack;
  Int4Prepare prepare;
  Int4TileKernel tiles;
  Int4TilePairKernel tiles_pair;
  Int4Epilogue epilogue;
  std::uint32_t extra_needs = 0;  // CpuFeatureBit set beyond the path's own
};

inline void unpack_int4_row(const std::uint8_t* packed, std::size_t cols, std::int8_t* values) {
  int4::unpack_row(packed, cols, values);
}

inline void epilogue_rows(const std::int32_t* acc, std::size_t count, float x_scale, const float* w_scales,
                          std::size_t w_scale_step, const float* bias, float* y) {
  for (std::size_t i = 0; i < count; ++i) y[i] = epilogue(acc[i], x_scale, w_scales[i * w_scale_step], bias, i);
}

inline void gather_position_activations(const dense243::RowLayout& layout, const std::int8_t* values,
                                        std::int8_t* out) {
  const std::size_t full_bytes = layout.full_groups * dense243::kGroupBytes;
  for (std::size_t group = 0; group < layout.full_groups; ++group) {
    const std::int8_t* group_values = values + group * dense243::kGroupTrits;
    std::int8_t* group_out = out + group * dense243::kGroupBytes * kPositionActivationBytes;
    for (std::size_t j = 0; j < dense243::kGroupBytes; ++j) {
      std::int8_t* slot = group_out + j * kPositionActivationBytes;
      for (std::size_t i = 0; i < 5; ++i) slot[i] = group_values[i * dense243::kGroupBytes + j];
      slot[5] = slot[6] = slot[7] = 0;
    }
  }
  for (std::size_t p = full_bytes; p < layout.bytes; ++p) {
    std::int8_t* slot = out + p * kPositionActivationBytes;
    for (int i = 0; i < 5; ++i) {
      const std::size_t k = lut::column_of(layout, p, i);
      slot[i] = k == lut::kPadding ? std::int8_t{0} : values[k];
    }
    slot[5] = slot[6] = slot[7] = 0;
  }
}

// The two halves of a table: a code c (0..121) is 9 * h + l with h = c / 9 holding trits
// t0 t1 t2 and l = c % 9 holding t3 t4, so table[c] = high[h] + low[l].
// high has 14 entries (h <= 13), low 9; both are padded with zeros to 16.
inline void partial_tables(const std::int8_t* a, std::int8_t high[16], std::int8_t low[16]) {
  for (int h = 0; h < 16; ++h) {
    high[h] = h < 14 ? static_cast<std::int8_t>((h / 9 - 1) * a[0] + (h / 3 % 3 - 1) * a[1] + (h % 3 - 1) * a[2]) : 0;
    low[h] = h < 9 ? static_cast<std::int8_t>((h / 3 - 1) * a[3] + (h % 3 - 1) * a[4]) : 0;
  }
}

}  // namespace detail

// ---- The scalar path: the same tables and lookups in plain C++ ---------------------------------
namespace scalar_int4 {

inline constexpr std::size_t kTableBytes = 128;

inline void build_tables(const std::int8_t* position_activations, std::size_t positions, std::int8_t* tables) {
  for (std::size_t p = 0; p < positions; ++p) {
    std::int8_t high[16];
    std::int8_t low[16];
    detail::partial_tables(position_activations + p * detail::kPositionActivationBytes, high, low);
    std::int8_t* table = tables + p * kTableBytes;
    for (int c = 0; c < lut::kTableEntries; ++c) table[c] = static_cast<std::int8_t>(high[c / 9] + low[c % 9]);
    for (std::size_t c = lut::kTableEntries; c < kTableBytes; ++c) table[c] = 0;
  }
}

inline void tiles(const LutWeights& w, const std::int8_t* tables, std::size_t t0, std::size_t t1, std::int32_t* acc) {
  const std::size_t positions = w.positions();
  for (std::size_t t = t0; t < t1; ++t) {
    std::int32_t* tile_acc = acc + (t - t0) * lut::kTileRows;
    for (std::size_t lane = 0; lane < lut::kTileRows; ++lane) tile_acc[lane] = 0;
    const std::uint8_t* codes = w.tile(t);
    for (std::size_t p = 0; p < positions; ++p) {
      const std::int8_t* table = tables + p * kTableBytes;
      const std::uint8_t* position_codes = codes + p * lut::kTileRows;
      for (std::size_t lane = 0; lane < lut::kTileRows; ++lane) {
        const std::uint8_t code = position_codes[lane];
        const std::int32_t sum = table[code & 0x7F];
        tile_acc[lane] += (code & lut::kNegateBit) != 0 ? -sum : sum;
      }
    }
  }
}

inline void prepare(const dense243::RowLayout& layout, const std::int8_t* values, std::int8_t* scratch,
                    std::int8_t* tables) {
  detail::gather_position_activations(layout, values, scratch);
  build_tables(scratch, layout.bytes, tables);
}

inline constexpr detail::Int4KernelSet kKernels{
    Isa::scalar, kTableBytes, detail::unpack_int4_row, prepare, tiles, nullptr, detail::epilogue_rows};

}  // namespace scalar_int4

namespace detail {
struct LutInt4Product;
template <class Product, Isa path>
struct KernelsFor;
template <>
struct KernelsFor<LutInt4Product, Isa::scalar> {
  static constexpr const Int4KernelSet* value = &scalar_int4::kKernels;
};
}  // namespace detail

TRIT_END_NAMESPACE

