// trit: PackedMatrix, the owning container of Dense243 ternary weights and their scales.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "trit/format/dense243.hpp"
#include "trit/detail/aligned_buffer.hpp"
#include "trit/error.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

// One scale for the whole tensor (BitNet's choice and the default) or one per output row.
enum class ScaleGranularity : std::uint32_t { per_tensor = 0, per_row = 1 };

// Largest padding a row stride may add beyond the row's bytes; the loader refuses more, so
// anything that can be built can also be saved and loaded back.
inline constexpr std::size_t kMaxRowPaddingBytes = std::size_t{1} << 20;

// Largest K for which int32 accumulators cannot overflow: |acc| <= 128 * K < 2^31.
inline constexpr std::size_t kMaxCols = (std::size_t{1} << 24) - 1;

// M x K ternary weights (M output rows, K inputs) in Dense243 v1 layout: row m starts at
// data() + m * row_stride(), is dense243::row_layout(K).bytes long, and the buffer is
// 64-byte aligned with dense243::kTailSlackBytes zero bytes after the last row.
// A default-constructed matrix is empty. Copies are deep; moves are cheap.
class PackedMatrix {
 public:
  PackedMatrix() = default;

  // rows x cols zero weights with unit scales. row_stride 0 means tight rows
  // (row_layout(cols).bytes); a larger stride leaves zero bytes between rows.
  PackedMatrix(std::size_t rows, std::size_t cols, ScaleGranularity granularity,
               std::size_t row_stride = 0)
      : rows_(rows), cols_(cols), granularity_(granularity), layout_(dense243::row_layout(cols)) {
    detail::require(rows > 0 && cols > 0, "PackedMatrix", "rows and cols must be positive, got ",
                    rows, "x", cols);
    detail::require(cols <= kMaxCols, "PackedMatrix", "cols ", cols, " exceeds kMaxCols ",
                    kMaxCols);
    detail::require(granularity == ScaleGranularity::per_tensor ||
                        granularity == ScaleGranularity::per_row,
                    "PackedMatrix", "granularity is not a ScaleGranularity value");
    row_stride_ = row_stride == 0 ? layout_.bytes : row_stride;
    detail::require(row_stride_ >= layout_.bytes, "PackedMatrix", "row_stride ", row_stride_,
                    " is smaller than the ", layout_.bytes, " bytes of a row");
    detail::require(row_stride_ - layout_.bytes <= kMaxRowPaddingBytes, "PackedMatrix", "row_stride ",
                    row_stride_, " pads a row by more than kMaxRowPaddingBytes");
    bytes_ = detail::AlignedBuffer<std::uint8_t>(rows * row_stride_ + dense243::kTailSlackBytes);
    for (std::size_t m = 0; m < rows; ++m) {
      for (std::size_t j = 0; j < layout_.bytes; ++j) bytes_[m * row_stride_ + j] = dense243::kZeroByte;
    }
    scales_.assign(granularity == ScaleGranularity::per_row ? rows : 1, 1.0f);
  }

  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  bool empty() const { return rows_ == 0; }
  ScaleGranularity granularity() const { return granularity_; }
  const dense243::RowLayout& layout() const { return layout_; }
  std::size_t row_bytes() const { return layout_.bytes; }
  std::size_t row_stride() const { return row_stride_; }

  const std::uint8_t* data() const { return bytes_.data(); }
  std::uint8_t* data() { return bytes_.data(); }
  const std::uint8_t* row(std::size_t m) const { return bytes_.data() + m * row_stride_; }
  std::uint8_t* row(std::size_t m) { return bytes_.data() + m * row_stride_; }
  // Bytes holding weights (rows * row_stride), excluding the tail slack and the scales.
  std::size_t weight_bytes() const { return rows_ * row_stride_; }
  // Storage bits per weight, counting row padding but not the scales.
  double bits_per_weight() const {
    return empty() ? 0.0 : 8.0 * static_cast<double>(weight_bytes()) /
                               (static_cast<double>(rows_) * static_cast<double>(cols_));
  }

  // 1 scale (per_tensor) or rows() scales (per_row); dequantized weight = trit * scale.
  const std::vector<float>& scales() const { return scales_; }
  float scale(std::size_t m) const {
    return granularity_ == ScaleGranularity::per_row ? scales_[m] : scales_[0];
  }
  // Replaces the scales; each must be finite and > 0, and there must be scales().size() of them.
  void set_scales(const float* scales, std::size_t count) {
    detail::require(count == scales_.size(), "PackedMatrix::set_scales", "expected ",
                    scales_.size(), " scales, got ", count);
    detail::require(scales != nullptr, "PackedMatrix::set_scales", "scales is null");
    for (std::size_t i = 0; i < count; ++i) {
      detail::require(detail::is_finite_positive(scales[i]), "PackedMatrix::set_scales",
                      "scales[", i, "] = ", scales[i], " is not a finite positive number");
    }
    scales_.assign(scales, scales + count);
  }

  // Weight (m, k) as -1, 0 or +1; bounds-checked, for tests and debugging rather than loops.
  int trit(std::size_t m, std::size_t k) const {
    detail::require(m < rows_ && k < cols_, "PackedMatrix::trit", "(", m, ", ", k,
                    ") is outside a ", rows_, "x", cols_, " matrix");
    const dense243::TritPosition at = dense243::locate(layout_, k);
    return dense243::decode_trit(row(m)[at.byte], at.digit);
  }

 private:
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  ScaleGranularity granularity_ = ScaleGranularity::per_tensor;
  dense243::RowLayout layout_{};
  std::size_t row_stride_ = 0;
  detail::AlignedBuffer<std::uint8_t> bytes_;
  std::vector<float> scales_;
};

TRIT_END_NAMESPACE
