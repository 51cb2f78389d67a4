// trit: packing ternary weights into Dense243, unpacking them, and validating packed bytes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "trit/format/dense243.hpp"
#include "trit/error.hpp"
#include "trit/views/matrix_ref.hpp"
#include "trit/format/packed_matrix.hpp"
#include "trit/quantize/quantize.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

namespace detail {

// Packs one row of trits (each already checked to be -1, 0 or +1) into its Dense243 bytes.
inline void pack_row(const std::int8_t* trits, const dense243::RowLayout& layout, std::uint8_t* out) {
  std::size_t k0 = 0;
  std::size_t byte0 = 0;
  const std::size_t groups = layout.full_groups + (layout.tail_bytes > 0 ? 1 : 0);
  for (std::size_t group = 0; group < groups; ++group) {
    const bool full = group < layout.full_groups;
    const std::size_t group_bytes = full ? dense243::kGroupBytes : layout.tail_bytes;
    const std::size_t group_trits = full ? dense243::kGroupTrits : layout.tail_trits;
    for (std::size_t j = 0; j < group_bytes; ++j) {
      int t[5];
      for (std::size_t i = 0; i < 5; ++i) {
        const std::size_t pos = j + group_bytes * i;
        t[i] = pos < group_trits ? trits[k0 + pos] : 0;
      }
      out[byte0 + j] = dense243::encode(t[0], t[1], t[2], t[3], t[4]);
    }
    k0 += group_trits;
    byte0 += group_bytes;
  }
}

}  // namespace detail

// Packs already-ternary weights (int8 values -1, 0, +1, e.g. from a checkpoint) with their
// scales: 1 scale for per_tensor, trits.rows scales for per_row. No re-quantization.
inline PackedMatrix pack_trits(MatrixRef<const std::int8_t> trits, const float* scales,
                               std::size_t scale_count,
                               ScaleGranularity granularity = ScaleGranularity::per_tensor) {
  constexpr const char* fn = "pack_trits";
  detail::check_view(trits, fn, "trits");
  detail::require(!trits.empty(), fn, "trits is empty (", trits.rows, "x", trits.cols, ")");
  for (std::size_t m = 0; m < trits.rows; ++m) {
    for (std::size_t k = 0; k < trits.cols; ++k) {
      const int t = trits(m, k);
      detail::require(t >= -1 && t <= 1, fn, "trits(", m, ", ", k, ") = ", t, " is not -1, 0 or +1");
    }
  }
  PackedMatrix packed(trits.rows, trits.cols, granularity);
  packed.set_scales(scales, scale_count);
  for (std::size_t m = 0; m < trits.rows; ++m) detail::pack_row(trits.row(m), packed.layout(), packed.row(m));
  return packed;
}

inline PackedMatrix pack_trits(const TernaryWeights& weights) {
  detail::require(weights.trits.size() == weights.rows * weights.cols, "pack_trits", "weights.trits holds ",
                  weights.trits.size(), " values, not ", weights.rows, "x", weights.cols);
  return pack_trits(weights.view(), weights.scales.data(), weights.scales.size(), weights.granularity);
}

// Quantizes float weights with absmean (see quantize_weights_absmean) and packs them.
inline PackedMatrix pack_weights(MatrixRef<const float> w,
                                 ScaleGranularity granularity = ScaleGranularity::per_tensor) {
  return pack_trits(quantize_weights_absmean(w, granularity));
}

// Writes the trits of `packed` into out (rows x cols int8 values -1, 0, +1).
inline void unpack_trits(const PackedMatrixView& packed, MatrixRef<std::int8_t> out) {
  detail::check_shape(out, packed.rows(), packed.cols(), "unpack_trits", "out");
  for (std::size_t m = 0; m < packed.rows(); ++m) {
    const std::uint8_t* row = packed.row(m);
    for (std::size_t k = 0; k < packed.cols(); ++k) {
      const dense243::TritPosition at = dense243::locate(packed.layout(), k);
      out(m, k) = static_cast<std::int8_t>(dense243::decode_trit(row[at.byte], at.digit));
    }
  }
}

// Writes trit * scale for every weight into out (rows x cols floats).
inline void dequantize(const PackedMatrixView& packed, MatrixRef<float> out) {
  detail::check_shape(out, packed.rows(), packed.cols(), "dequantize", "out");
  for (std::size_t m = 0; m < packed.rows(); ++m) {
    const std::uint8_t* row = packed.row(m);
    for (std::size_t k = 0; k < packed.cols(); ++k) {
      const dense243::TritPosition at = dense243::locate(packed.layout(), k);
      out(m, k) = static_cast<float>(dense243::decode_trit(row[at.byte], at.digit)) * packed.scale(m);
    }
  }
}

// Checks untrusted Dense243 rows: every byte is one of the 243 valid bytes, padding trits in
// a tail group are 0, and bytes between row_bytes and row_stride are 0. Throws format_error
// naming the first offending row and byte.
inline void validate_packed_rows(const std::uint8_t* bytes, std::size_t rows, std::size_t cols,
                                 std::size_t row_stride) {
  constexpr const char* fn = "validate_packed_rows";
  const dense243::RowLayout layout = dense243::row_layout(cols);
  detail::require(bytes != nullptr || rows == 0, fn, "bytes is null");
  detail::require(row_stride >= layout.bytes, fn, "row_stride ", row_stride, " < row bytes ", layout.bytes);
  const std::size_t tail_start = layout.full_groups * dense243::kGroupBytes;
  for (std::size_t m = 0; m < rows; ++m) {
    const std::uint8_t* row = bytes + m * row_stride;
    for (std::size_t j = 0; j < layout.bytes; ++j) {
      if (!dense243::is_valid_byte(row[j])) {
        detail::throw_format_error(fn, "row ", m, " byte ", j, " = ", int{row[j]},
                                   " is not a valid Dense243 byte");
      }
      if (j >= tail_start) {
        const std::size_t jj = j - tail_start;
        for (std::size_t i = 0; i < 5; ++i) {
          if (jj + layout.tail_bytes * i >= layout.tail_trits && dense243::decode_trit(row[j], static_cast<int>(i)) != 0) {
            detail::throw_format_error(fn, "row ", m, " byte ", j, " has a non-zero padding trit");
          }
        }
      }
    }
    for (std::size_t j = layout.bytes; j < row_stride; ++j) {
      if (row[j] != 0) detail::throw_format_error(fn, "row ", m, " has a non-zero byte ", j, " in its stride padding");
    }
  }
}

inline void validate(const PackedMatrixView& packed) {
  validate_packed_rows(packed.data(), packed.rows(), packed.cols(), packed.row_stride());
}

TRIT_END_NAMESPACE
