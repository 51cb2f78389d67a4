// trit: LutWeights, ternary weights laid out for the int4 lookup-table kernels.
// Always built: TRIT_ENABLE_INT4 only decides whether the SIMD int4 kernels are compiled.
//
// The int4 kernels look up, for each Dense243 byte position p of a row, a table of the 243
// possible sums t0*a0 + ... + t4*a4 of that byte's five trits times the five int4 activations
// they meet (|sum| <= 40, so a sum fits in a byte). A table is shared by every row, so the
// kernels want the bytes of many rows at one position side by side in a vector: LutWeights
// stores the same bytes as a PackedMatrix, transposed in tiles of 64 rows, and folded so that
// a table needs 122 entries instead of 243:
//
//   tile t holds rows 64t .. 64t+63; position p of tile t is 64 bytes at
//   tile(t) + 64 * p, byte l (the lane) for row 64t + l. Rows past M hold kZeroCode.
//
//   code = v               when v <= 121
//   code = 0x80 | (242-v)  when v > 121
//
// where v is the base-3 value of the Dense243 byte (docs/FORMAT.md: v = d0*81 + ... + d4).
// Negating all five trits maps v to 242 - v, so the low 7 bits index a table of 122 sums and
// bit 7 says whether to negate the sum. The layout costs the same 1.6 bits per weight as
// Dense243 (plus padding of M to a multiple of 64) and converts back to a PackedMatrix.
#pragma once


#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "trit/format/dense243.hpp"
#include "trit/detail/aligned_buffer.hpp"
#include "trit/error.hpp"
#include "trit/format/packed_matrix.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

namespace lut {

inline constexpr std::size_t kTileRows = 64;
inline constexpr std::uint8_t kNegateBit = 0x80;
inline constexpr int kTableEntries = 122;  // codes 0 .. 121 after removing the negate bit
inline constexpr std::uint8_t kZeroCode = 121;  // five zero trits: v = 1*81 + 1*27 + 1*9 + 1*3 + 1

// Base-3 value of a valid Dense243 byte: the inverse of dense243::byte_from_value.
constexpr int value_from_byte(std::uint8_t b) { return (static_cast<int>(b) * 243) >> 8; }

constexpr std::uint8_t code_from_value(int v) {
  return v <= 121 ? static_cast<std::uint8_t>(v) : static_cast<std::uint8_t>(kNegateBit | (242 - v));
}

constexpr int value_from_code(std::uint8_t code) {
  return (code & kNegateBit) != 0 ? 242 - (code & 0x7F) : code;
}

constexpr std::uint8_t code_from_byte(std::uint8_t b) { return code_from_value(value_from_byte(b)); }
constexpr std::uint8_t byte_from_code(std::uint8_t code) { return dense243::byte_from_value(value_from_code(code)); }

// Trit i (0..4, t0 first, as in Dense243) of a code, in {-1, 0, +1}.
constexpr int code_trit(std::uint8_t code, int i) {
  int v = value_from_code(code);
  for (int step = i; step < 4; ++step) v /= 3;
  return v % 3 - 1;
}

// Where the activation for digit i of Dense243 byte position p sits in a row (its column), or
// kPadding for a padding trit of a tail group.
inline constexpr std::size_t kPadding = ~std::size_t{0};

constexpr std::size_t column_of(const dense243::RowLayout& layout, std::size_t p, int i) {
  const std::size_t full_bytes = layout.full_groups * dense243::kGroupBytes;
  if (p < full_bytes) {
    const std::size_t group = p / dense243::kGroupBytes;
    return group * dense243::kGroupTrits + static_cast<std::size_t>(i) * dense243::kGroupBytes +
           p % dense243::kGroupBytes;
  }
  const std::size_t in_group = (p - full_bytes) + layout.tail_bytes * static_cast<std::size_t>(i);
  return in_group < layout.tail_trits ? layout.full_groups * dense243::kGroupTrits + in_group : kPadding;
}

namespace detail {
constexpr std::array<std::uint8_t, 256> make_code_table() {
  std::array<std::uint8_t, 256> codes{};
  for (int b = 0; b < 256; ++b) codes[static_cast<std::size_t>(b)] = code_from_byte(static_cast<std::uint8_t>(b));
  return codes;
}
inline constexpr std::array<std::uint8_t, 256> kCodeOfByte = make_code_table();
}  // namespace detail

}  // namespace lut

// M x K ternary weights in the tiled, folded layout above, with the scales of the PackedMatrix
// they came from. A default-constructed LutWeights is empty. Copies are deep; moves are cheap.
class LutWeights {
 public:
  LutWeights() = default;

  explicit LutWeights(const PackedMatrixView& packed)
      : rows_(packed.rows()),
        cols_(packed.cols()),
        granularity_(packed.granularity()),
        layout_(packed.layout()),
        tiles_((packed.rows() + lut::kTileRows - 1) / lut::kTileRows),
        scales_(packed.scales(), packed.scales() + packed.scale_count()) {
    detail::require(!packed.empty(), "LutWeights", "packed is empty");
    const std::size_t positions = layout_.bytes;
    codes_ = detail::AlignedBuffer<std::uint8_t>(tiles_ * positions * lut::kTileRows + lut::kTileRows);
    for (std::size_t t = 0; t < tiles_; ++t) {
      std::uint8_t* tile_codes = tile(t);
      for (std::size_t lane = 0; lane < lut::kTileRows; ++lane) {
        const std::size_t m = t * lut::kTileRows + lane;
        const std::uint8_t* row = m < rows_ ? packed.row(m) : nullptr;
        for (std::size_t p = 0; p < positions; ++p) {
          tile_codes[p * lut::kTileRows + lane] = row != nullptr ? lut::detail::kCodeOfByte[row[p]] : lut::kZeroCode;
        }
      }
    }
  }

  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  bool empty() const { return rows_ == 0; }
  ScaleGranularity granularity() const { return granularity_; }
  const dense243::RowLayout& layout() const { return layout_; }
  // Dense243 bytes per row: the number of table positions.
  std::size_t positions() const { return layout_.bytes; }
  std::size_t tiles() const { return tiles_; }
  const std::uint8_t* tile(std::size_t t) const { return codes_.data() + t * layout_.bytes * lut::kTileRows; }
  std::uint8_t code(std::size_t m, std::size_t p) const {
    return tile(m / lut::kTileRows)[p * lut::kTileRows + m % lut::kTileRows];
  }
  // Bytes holding codes, padding rows included (the scales are not counted).
  std::size_t weight_bytes() const { return tiles_ * layout_.bytes * lut::kTileRows; }

  const std::vector<float>& scales() const { return scales_; }
  float scale(std::size_t m) const { return granularity_ == ScaleGranularity::per_row ? scales_[m] : scales_[0]; }

  // The same weights and scales as a PackedMatrix with tight rows.
  PackedMatrix to_packed() const {
    detail::require(!empty(), "LutWeights::to_packed", "the weights are empty");
    PackedMatrix packed(rows_, cols_, granularity_);
    packed.set_scales(scales_.data(), scales_.size());
    for (std::size_t m = 0; m < rows_; ++m) {
      std::uint8_t* row = packed.row(m);
      for (std::size_t p = 0; p < layout_.bytes; ++p) row[p] = lut::byte_from_code(code(m, p));
    }
    return packed;
  }

 private:
  std::uint8_t* tile(std::size_t t) { return codes_.data() + t * layout_.bytes * lut::kTileRows; }

  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  ScaleGranularity granularity_ = ScaleGranularity::per_tensor;
  dense243::RowLayout layout_{};
  std::size_t tiles_ = 0;
  detail::AlignedBuffer<std::uint8_t> codes_;
  std::vector<float> scales_;
};

TRIT_END_NAMESPACE

