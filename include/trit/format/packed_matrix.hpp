// trit: PackedMatrix, the owning container of Dense243 ternary weights and their scales.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "trit/detail/aligned_buffer.hpp"
#include "trit/detail/checked.hpp"
#include "trit/format/dense243.hpp"
#include "trit/views/scale_granularity.hpp"
#include "trit/error.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE


// Largest padding a row stride may add beyond the row's bytes; the loader refuses more, so
// anything that can be built can also be saved and loaded back.
inline constexpr std::size_t kMaxRowPaddingBytes = std::size_t{1} << 20;

// Largest K for which int32 accumulators cannot overflow: |acc| <= 128 * K < 2^31.
inline constexpr std::size_t kMaxCols = (std::size_t{1} << 24) - 1;

namespace detail {
// The shape rules every matrix and view of either layout obeys (PackedShape here, the TwoBit
// types in format/two_bit.hpp): M x K with 0 < K <= kMaxCols, a known granularity, rows of
// `row_bytes` bytes at a stride of at least that and at most kMaxRowPaddingBytes more, and
// M * row_stride bytes in a size_t. Throws std::invalid_argument naming `fn`.
inline void check_matrix_shape(std::size_t rows, std::size_t cols, std::size_t row_stride, std::size_t row_bytes,
                               ScaleGranularity granularity, const char* fn) {
  require(rows > 0 && cols > 0, fn, "rows and cols must be positive, got ", rows, "x", cols);
  require(cols <= kMaxCols, fn, "cols ", cols, " exceeds kMaxCols ", kMaxCols);
  require(granularity == ScaleGranularity::per_tensor || granularity == ScaleGranularity::per_row, fn,
          "granularity is not a ScaleGranularity value");
  require(row_stride >= row_bytes, fn, "row_stride ", row_stride, " is smaller than the ", row_bytes, " bytes of a row");
  require(row_stride - row_bytes <= kMaxRowPaddingBytes, fn, "row_stride ", row_stride,
          " pads a row by more than kMaxRowPaddingBytes");
  checked_mul(rows, row_stride, fn, "rows * row_stride");
}
}  // namespace detail

// The shape both the owning matrix and its view describe: M x K trits in rows of
// dense243::row_layout(K).bytes bytes, row m at byte m * row_stride, one scale per tensor or
// per row. The checking constructor is the one set of shape rules every way in shares. (Not in
// detail: a base class's namespace joins argument-dependent lookup for its users' calls.)
class PackedShape {
 public:
  PackedShape() = default;

  // row_stride 0 means tight rows. Throws std::invalid_argument naming `fn`.
  PackedShape(std::size_t rows, std::size_t cols, std::size_t row_stride, ScaleGranularity granularity, const char* fn)
      : rows_(rows), cols_(cols), granularity_(granularity), layout_(dense243::row_layout(cols)) {
    row_stride_ = row_stride == 0 ? layout_.bytes : row_stride;
    detail::check_matrix_shape(rows, cols, row_stride_, layout_.bytes, granularity, fn);
  }

  // For shapes whose rules already hold (a validated blob, a matrix's own view).
  struct Trusted {};
  PackedShape(Trusted, std::size_t rows, std::size_t cols, std::size_t row_stride, ScaleGranularity granularity)
      : rows_(rows), cols_(cols), row_stride_(row_stride), granularity_(granularity),
        layout_(dense243::row_layout(cols)) {}

  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  bool empty() const { return rows_ == 0; }
  ScaleGranularity granularity() const { return granularity_; }
  const dense243::RowLayout& layout() const { return layout_; }
  std::size_t row_bytes() const { return layout_.bytes; }
  std::size_t row_stride() const { return row_stride_; }
  // Bytes holding weights (rows * row_stride), excluding the tail slack and the scales.
  std::size_t weight_bytes() const { return rows_ * row_stride_; }
  // Storage bits per weight, counting row padding but not the scales.
  double bits_per_weight() const {
    return empty() ? 0.0 : 8.0 * static_cast<double>(weight_bytes()) /
                               (static_cast<double>(rows_) * static_cast<double>(cols_));
  }
  // 1 (per_tensor) or rows() (per_row).
  std::size_t scale_count() const { return granularity_ == ScaleGranularity::per_row ? rows_ : 1; }

 protected:
  // Where trit (m, k) lives, bounds-checked.
  dense243::TritPosition locate_checked(std::size_t m, std::size_t k, const char* fn) const {
    detail::require(m < rows_ && k < cols_, fn, "(", m, ", ", k, ") is outside a ", rows_, "x", cols_,
                    " matrix");
    return dense243::locate(layout_, k);
  }
  void keep_rows(std::size_t rows) { rows_ = rows; }

 private:
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  std::size_t row_stride_ = 0;
  ScaleGranularity granularity_ = ScaleGranularity::per_tensor;
  dense243::RowLayout layout_{};
};

// A non-owning M x K Dense243 matrix: bytes and scales that live elsewhere (a PackedMatrix,
// a memory-mapped model file, a slice of either). Every product entry point and BitLinear
// take one. Row m starts at data + m * row_stride; the kernels may read up to
// dense243::kTailSlackBytes bytes past the last row's bytes, so the memory there must be
// readable (PackedMatrix and trit's serialized blobs guarantee it). Whoever owns the bytes
// must keep them alive and unchanged while the view is used. A default view is empty.
class PackedMatrixView : public PackedShape {
 public:
  PackedMatrixView() = default;

  // Checks the shape, stride, granularity and scales (each finite and > 0); the bytes are
  // trusted here: validate_packed_rows checks untrusted ones.
  PackedMatrixView(const std::uint8_t* data, std::size_t rows, std::size_t cols, std::size_t row_stride,
                   ScaleGranularity granularity, const float* scales)
      : PackedShape(rows, cols, row_stride, granularity, "PackedMatrixView"), data_(data), scales_(scales) {
    constexpr const char* fn = "PackedMatrixView";
    detail::require(data != nullptr && scales != nullptr, fn, "data and scales must not be null");
    for (std::size_t i = 0; i < scale_count(); ++i) {
      detail::require(detail::is_finite_positive(scales[i]), fn, "scales[", i, "] = ", scales[i],
                      " is not a finite positive number");
    }
  }

  // For owners whose invariants already hold (PackedMatrix, the loaders): no re-checking on
  // every product call.
  using Trusted = PackedShape::Trusted;
  PackedMatrixView(Trusted, const std::uint8_t* data, std::size_t rows, std::size_t cols, std::size_t row_stride,
                   ScaleGranularity granularity, const float* scales)
      : PackedShape(Trusted{}, rows, cols, row_stride, granularity), data_(data), scales_(scales) {}

  const std::uint8_t* data() const { return data_; }
  const std::uint8_t* row(std::size_t m) const { return data_ + m * row_stride(); }
  const float* scales() const { return scales_; }
  float scale(std::size_t m) const { return granularity() == ScaleGranularity::per_row ? scales_[m] : scales_[0]; }

  // Weight (m, k) as -1, 0 or +1; bounds-checked, for tests and debugging rather than loops.
  int trit(std::size_t m, std::size_t k) const {
    const dense243::TritPosition at = locate_checked(m, k, "PackedMatrixView::trit");
    return dense243::decode_trit(row(m)[at.byte], at.digit);
  }

  // Rows [m0, m1) as a view of their own (tensor parallelism over output rows): no copy; the
  // per-row scales follow the rows.
  // Columns [k0, k1) as a view of their own (tensor parallelism over K, each part's int32
  // partial sums added before the epilogue): no copy, when both ends fall on a group boundary
  // (k0 a multiple of dense243::kGroupTrits = 320, k1 too or k1 = cols()), because a group's
  // trits live in its own 64 bytes. Other cuts need a repack (pack_trits of the unpacked
  // columns, one pass over the part's weights): this throws std::invalid_argument for them.
  PackedMatrixView slice_cols(std::size_t k0, std::size_t k1) const {
    constexpr const char* fn = "PackedMatrixView::slice_cols";
    detail::require(k0 < k1 && k1 <= cols(), fn, "range [", k0, ", ", k1, ") is not a non-empty part of [0, ", cols(),
                    ")");
    detail::require(k0 % dense243::kGroupTrits == 0 && (k1 % dense243::kGroupTrits == 0 || k1 == cols()), fn,
                    "range [", k0, ", ", k1, ") does not start and end on a group boundary (multiples of ",
                    dense243::kGroupTrits, ", or the last column)");
    PackedMatrixView part(Trusted{}, data_ + k0 / dense243::kGroupTrits * dense243::kGroupBytes, rows(), k1 - k0,
                          row_stride(), granularity(), scales_);
    return part;
  }

  PackedMatrixView slice_rows(std::size_t m0, std::size_t m1) const {
    detail::require(m0 < m1 && m1 <= rows(), "PackedMatrixView::slice_rows", "range [", m0, ", ", m1,
                    ") is not a non-empty part of [0, ", rows(), ")");
    PackedMatrixView part = *this;
    part.data_ = row(m0);
    part.keep_rows(m1 - m0);
    if (granularity() == ScaleGranularity::per_row) part.scales_ = scales_ + m0;
    return part;
  }

 private:
  const std::uint8_t* data_ = nullptr;
  const float* scales_ = nullptr;
};

// M x K ternary weights (M output rows, K inputs) in Dense243 v1 layout: row m starts at
// data() + m * row_stride(), is dense243::row_layout(K).bytes long, and the buffer is
// 64-byte aligned with dense243::kTailSlackBytes zero bytes after the last row.
// A default-constructed matrix is empty. Copies are deep; moves are cheap.
class PackedMatrix : public PackedShape {
 public:
  PackedMatrix() = default;

  // rows x cols zero weights with unit scales. row_stride 0 means tight rows
  // (row_layout(cols).bytes); a larger stride leaves zero bytes between rows.
  PackedMatrix(std::size_t rows, std::size_t cols, ScaleGranularity granularity, std::size_t row_stride = 0)
      : PackedShape(rows, cols, row_stride, granularity, "PackedMatrix") {
    bytes_ = detail::AlignedBuffer<std::uint8_t>(
        detail::checked_add(weight_bytes(), dense243::kTailSlackBytes, "PackedMatrix", "buffer size"));
    for (std::size_t m = 0; m < rows; ++m) std::memset(row(m), dense243::kZeroByte, row_bytes());
    scales_.assign(scale_count(), 1.0f);
  }

  const std::uint8_t* data() const { return bytes_.data(); }
  std::uint8_t* data() { return bytes_.data(); }
  const std::uint8_t* row(std::size_t m) const { return bytes_.data() + m * row_stride(); }
  std::uint8_t* row(std::size_t m) { return bytes_.data() + m * row_stride(); }

  // 1 scale (per_tensor) or rows() scales (per_row); dequantized weight = trit * scale.
  const std::vector<float>& scales() const { return scales_; }
  float scale(std::size_t m) const { return granularity() == ScaleGranularity::per_row ? scales_[m] : scales_[0]; }
  // Replaces the scales; each must be finite and > 0, and there must be scales().size() of them.
  void set_scales(const float* scales, std::size_t count) {
    detail::require(count == scales_.size(), "PackedMatrix::set_scales", "expected ", scales_.size(),
                    " scales, got ", count);
    detail::require(scales != nullptr, "PackedMatrix::set_scales", "scales is null");
    for (std::size_t i = 0; i < count; ++i) {
      detail::require(detail::is_finite_positive(scales[i]), "PackedMatrix::set_scales", "scales[", i, "] = ",
                      scales[i], " is not a finite positive number");
    }
    scales_.assign(scales, scales + count);
  }

  // The non-owning view every product takes; valid while this matrix lives and is not moved.
  PackedMatrixView view() const {
    return empty() ? PackedMatrixView{}
                   : PackedMatrixView(PackedMatrixView::Trusted{}, data(), rows(), cols(), row_stride(),
                                      granularity(), scales_.data());
  }
  operator PackedMatrixView() const { return view(); }  // NOLINT: a matrix is usable wherever a view is

  // Weight (m, k) as -1, 0 or +1; bounds-checked, for tests and debugging rather than loops.
  int trit(std::size_t m, std::size_t k) const { return view().trit(m, k); }

 private:
  detail::AlignedBuffer<std::uint8_t> bytes_;
  std::vector<float> scales_;
};

TRIT_END_NAMESPACE
