// trit: the TwoBit layout, version 1: 2 bits per ternary weight, laid out so that a shift
// and a mask give a vector of codes for consecutive k. Dense243 (1.6 bits) wins when weights
// stream from memory; TwoBit costs 25% more bytes but far fewer instructions per weight, so it
// wins when the weights sit in cache (docs/FORMAT.md, "TwoBit"; recommend_layout chooses).
//
// This header holds the layout, its matrix and view types, lossless conversion to and from
// Dense243, the versioned serialized form, and the one-time repacks from GGUF's I2_S
// (bitnet.cpp) and TQ2_0 (ggml) tensors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "trit/detail/aligned_buffer.hpp"
#include "trit/detail/checked.hpp"
#include "trit/detail/file_io.hpp"
#include "trit/detail/half.hpp"
#include "trit/error.hpp"
#include "trit/format/blob.hpp"
#include "trit/format/dense243.hpp"
#include "trit/format/pack.hpp"
#include "trit/format/packed_matrix.hpp"
#include "trit/format/serialize.hpp"
#include "trit/version.hpp"
#include "trit/views/matrix_ref.hpp"

TRIT_BEGIN_NAMESPACE

namespace two_bit {

inline constexpr int kFormatVersion = 1;
// A group is 64 bytes = 256 trits. Byte j of a group holds trits j, j+64, j+128, j+192 in
// bit pairs 0-1, 2-3, 4-5, 6-7, each as the code t + 1 in {0, 1, 2} (3 is invalid). So
// (bytes >> 2i) & 3 over a 64-byte vector is the codes of 64 *consecutive* trits 64i..64i+63:
// one contiguous activation load per shift on AVX-512, two on AVX2, four on NEON.
inline constexpr std::size_t kGroupBytes = 64;
inline constexpr std::size_t kTritsPerByte = 4;
inline constexpr std::size_t kGroupTrits = kGroupBytes * kTritsPerByte;
inline constexpr std::size_t kAlignment = 64;
// Padding positions (k >= K in the last group) hold code 1, trit 0.
inline constexpr std::uint8_t kZeroByte = 0x55;

constexpr std::uint8_t code(int t) { return static_cast<std::uint8_t>(t + 1); }

// A row of K trits is ceil(K / 256) groups of 64 bytes: the last group is always a whole
// one, padded with code 1, so every kernel reads whole groups and needs no slack after a row.
struct RowLayout {
  std::size_t cols = 0;         // K
  std::size_t full_groups = 0;  // groups whose 256 trits are all real
  std::size_t tail_trits = 0;   // K % 256: real trits of the last, padded group (0: none)
  std::size_t groups = 0;       // full_groups + (tail_trits != 0)
  std::size_t bytes = 0;        // groups * 64
};

constexpr RowLayout row_layout(std::size_t cols) {
  RowLayout layout;
  layout.cols = cols;
  layout.full_groups = cols / kGroupTrits;
  layout.tail_trits = cols % kGroupTrits;
  layout.groups = layout.full_groups + (layout.tail_trits != 0 ? 1 : 0);
  layout.bytes = layout.groups * kGroupBytes;
  return layout;
}

// Trit k of a row: byte k / 256 * 64 + k % 64, bit pair (k % 256) / 64.
constexpr std::size_t byte_of(std::size_t k) { return k / kGroupTrits * kGroupBytes + k % kGroupBytes; }
constexpr int shift_of(std::size_t k) { return static_cast<int>(2 * (k % kGroupTrits / kGroupBytes)); }

// Trit k of a row's bytes, -1, 0 or +1 (an invalid code 3 reads as +2; validators refuse it).
constexpr int trit_at(const std::uint8_t* row, std::size_t k) { return ((row[byte_of(k)] >> shift_of(k)) & 3) - 1; }

// Packs K trits (each -1, 0 or +1) into a row of row_layout(K).bytes bytes.
inline void pack_row(const std::int8_t* trits, const RowLayout& layout, std::uint8_t* out) {
  // Full groups without a bounds check per trit (a loop the compiler vectorises).
  for (std::size_t g = 0; g < layout.full_groups; ++g) {
    const std::int8_t* t = trits + g * kGroupTrits;
    for (std::size_t j = 0; j < kGroupBytes; ++j) {
      out[g * kGroupBytes + j] = static_cast<std::uint8_t>(code(t[j]) | code(t[j + 64]) << 2 | code(t[j + 128]) << 4 |
                                                           code(t[j + 192]) << 6);
    }
  }
  for (std::size_t g = layout.full_groups; g < layout.groups; ++g) {
    const std::size_t k0 = g * kGroupTrits;
    for (std::size_t j = 0; j < kGroupBytes; ++j) {
      unsigned byte = 0;
      for (unsigned i = 0; i < 4; ++i) {
        const std::size_t k = k0 + j + kGroupBytes * i;
        byte |= static_cast<unsigned>(k < layout.cols ? code(trits[k]) : 1) << (2 * i);
      }
      out[g * kGroupBytes + j] = static_cast<std::uint8_t>(byte);
    }
  }
}

// The K trits of a row.
inline void unpack_row(const std::uint8_t* row, const RowLayout& layout, std::int8_t* trits) {
  for (std::size_t g = 0; g < layout.groups; ++g) {
    const std::size_t k0 = g * kGroupTrits;
    for (std::size_t i = 0; i < 4; ++i) {
      for (std::size_t j = 0; j < kGroupBytes; ++j) {
        const std::size_t k = k0 + kGroupBytes * i + j;
        if (k < layout.cols) trits[k] = static_cast<std::int8_t>(((row[g * kGroupBytes + j] >> (2 * i)) & 3) - 1);
      }
    }
  }
}

}  // namespace two_bit

// The two layouts of ternary weights for the int8 product: Dense243 (1.6 bits a weight,
// PackedMatrix) and TwoBit (2 bits, TwoBitMatrix). recommend_layout (driver/two_bit.hpp)
// says which suits a matrix; BitLinear and trit-convert take it as a choice.
enum class WeightLayout : std::uint8_t { dense243, two_bit };

inline const char* layout_name(WeightLayout layout) { return layout == WeightLayout::two_bit ? "two_bit" : "dense243"; }

// A non-owning M x K TwoBit matrix (bytes and scales living elsewhere: a TwoBitMatrix, a
// mapped blob). Row m starts at data + m * row_stride and is row_layout(K).bytes long; the
// kernels read nothing past a row's bytes. Same scales as PackedMatrixView.
class TwoBitMatrixView {
 public:
  TwoBitMatrixView() = default;

  // Checks shape, stride, granularity and scales; the bytes are trusted (validate_two_bit_rows
  // checks untrusted ones).
  TwoBitMatrixView(const std::uint8_t* data, std::size_t rows, std::size_t cols, std::size_t row_stride,
                   ScaleGranularity granularity, const float* scales)
      : TwoBitMatrixView(Trusted{}, data, rows, cols, row_stride, granularity, scales) {
    constexpr const char* fn = "TwoBitMatrixView";
    detail::require(data != nullptr && scales != nullptr, fn, "data and scales must not be null");
    detail::check_matrix_shape(rows, cols, row_stride, layout_.bytes, granularity, fn);
    for (std::size_t i = 0; i < scale_count(); ++i) {
      detail::require(detail::is_finite_positive(scales[i]), fn, "scales[", i, "] = ", scales[i],
                      " is not a finite positive number");
    }
  }

  struct Trusted {};
  TwoBitMatrixView(Trusted, const std::uint8_t* data, std::size_t rows, std::size_t cols, std::size_t row_stride,
                   ScaleGranularity granularity, const float* scales)
      : data_(data), rows_(rows), cols_(cols), row_stride_(row_stride), granularity_(granularity), scales_(scales),
        layout_(two_bit::row_layout(cols)) {}

  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  bool empty() const { return rows_ == 0; }
  ScaleGranularity granularity() const { return granularity_; }
  const two_bit::RowLayout& layout() const { return layout_; }
  std::size_t row_bytes() const { return layout_.bytes; }
  std::size_t row_stride() const { return row_stride_; }
  const std::uint8_t* data() const { return data_; }
  const std::uint8_t* row(std::size_t m) const { return data_ + m * row_stride_; }
  std::size_t weight_bytes() const { return rows_ * row_stride_; }
  std::size_t scale_count() const { return granularity_ == ScaleGranularity::per_row ? rows_ : 1; }
  const float* scales() const { return scales_; }
  float scale(std::size_t m) const { return granularity_ == ScaleGranularity::per_row ? scales_[m] : scales_[0]; }

  int trit(std::size_t m, std::size_t k) const {
    detail::require(m < rows_ && k < cols_, "TwoBitMatrixView::trit", "(", m, ", ", k, ") is outside a ", rows_,
                    "x", cols_, " matrix");
    return two_bit::trit_at(row(m), k);
  }

  TwoBitMatrixView slice_rows(std::size_t m0, std::size_t m1) const {
    detail::require(m0 < m1 && m1 <= rows_, "TwoBitMatrixView::slice_rows", "range [", m0, ", ", m1,
                    ") is not a non-empty part of [0, ", rows_, ")");
    TwoBitMatrixView part = *this;
    part.data_ = row(m0);
    part.rows_ = m1 - m0;
    if (granularity_ == ScaleGranularity::per_row) part.scales_ = scales_ + m0;
    return part;
  }

 private:
  const std::uint8_t* data_ = nullptr;
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  std::size_t row_stride_ = 0;
  ScaleGranularity granularity_ = ScaleGranularity::per_tensor;
  const float* scales_ = nullptr;
  two_bit::RowLayout layout_{};
};

// M x K ternary weights in the TwoBit layout, 64-byte aligned rows of row_layout(K).bytes
// (plus optional zero stride padding). Copies are deep; moves are cheap.
class TwoBitMatrix {
 public:
  TwoBitMatrix() = default;

  // rows x cols zero weights with unit scales; row_stride 0 means tight rows.
  TwoBitMatrix(std::size_t rows, std::size_t cols, ScaleGranularity granularity, std::size_t row_stride = 0)
      : rows_(rows), cols_(cols), granularity_(granularity), layout_(two_bit::row_layout(cols)) {
    constexpr const char* fn = "TwoBitMatrix";
    row_stride_ = row_stride == 0 ? layout_.bytes : row_stride;
    detail::check_matrix_shape(rows, cols, row_stride_, layout_.bytes, granularity, fn);
    // The buffer is zeroed; the rows then get the zero-trit byte, the stride padding stays 0.
    bytes_ = detail::AlignedBuffer<std::uint8_t>(detail::checked_mul(rows, row_stride_, fn, "rows * row_stride"));
    for (std::size_t m = 0; m < rows; ++m) std::memset(row(m), two_bit::kZeroByte, layout_.bytes);
    scales_.assign(granularity == ScaleGranularity::per_row ? rows : 1, 1.0f);
  }

  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  bool empty() const { return rows_ == 0; }
  ScaleGranularity granularity() const { return granularity_; }
  const two_bit::RowLayout& layout() const { return layout_; }
  std::size_t row_bytes() const { return layout_.bytes; }
  std::size_t row_stride() const { return row_stride_; }
  const std::uint8_t* data() const { return bytes_.data(); }
  std::uint8_t* data() { return bytes_.data(); }
  const std::uint8_t* row(std::size_t m) const { return bytes_.data() + m * row_stride_; }
  std::uint8_t* row(std::size_t m) { return bytes_.data() + m * row_stride_; }
  std::size_t weight_bytes() const { return rows_ * row_stride_; }
  const std::vector<float>& scales() const { return scales_; }
  float scale(std::size_t m) const { return granularity_ == ScaleGranularity::per_row ? scales_[m] : scales_[0]; }

  void set_scales(const float* scales, std::size_t count) {
    constexpr const char* fn = "TwoBitMatrix::set_scales";
    detail::require(count == scales_.size(), fn, "expected ", scales_.size(), " scales, got ", count);
    detail::require(scales != nullptr, fn, "scales is null");
    for (std::size_t i = 0; i < count; ++i) {
      detail::require(detail::is_finite_positive(scales[i]), fn, "scales[", i, "] = ", scales[i],
                      " is not a finite positive number");
    }
    scales_.assign(scales, scales + count);
  }

  TwoBitMatrixView view() const {
    return empty() ? TwoBitMatrixView{}
                   : TwoBitMatrixView(TwoBitMatrixView::Trusted{}, data(), rows_, cols_, row_stride_, granularity_,
                                      scales_.data());
  }
  operator TwoBitMatrixView() const { return view(); }  // NOLINT: a matrix is usable wherever a view is

  int trit(std::size_t m, std::size_t k) const { return view().trit(m, k); }

 private:
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  ScaleGranularity granularity_ = ScaleGranularity::per_tensor;
  two_bit::RowLayout layout_{};
  std::size_t row_stride_ = 0;
  detail::AlignedBuffer<std::uint8_t> bytes_;
  std::vector<float> scales_;
};

// ---- Packing and conversion ------------------------------------------------------------------

// Already-ternary int8 weights (-1, 0, +1) and their scales into the TwoBit layout.
inline TwoBitMatrix pack_trits_two_bit(MatrixRef<const std::int8_t> trits, const float* scales, std::size_t scale_count,
                                       ScaleGranularity granularity = ScaleGranularity::per_tensor) {
  constexpr const char* fn = "pack_trits_two_bit";
  detail::check_view(trits, fn, "trits");
  detail::require(!trits.empty(), fn, "trits is empty (", trits.rows, "x", trits.cols, ")");
  for (std::size_t m = 0; m < trits.rows; ++m) {
    for (std::size_t k = 0; k < trits.cols; ++k) {
      const int t = trits(m, k);
      detail::require(t >= -1 && t <= 1, fn, "trits(", m, ", ", k, ") = ", t, " is not -1, 0 or +1");
    }
  }
  TwoBitMatrix packed(trits.rows, trits.cols, granularity);
  packed.set_scales(scales, scale_count);
  for (std::size_t m = 0; m < trits.rows; ++m) two_bit::pack_row(trits.row(m), packed.layout(), packed.row(m));
  return packed;
}

// The trits of a TwoBit matrix (rows x cols int8 values).
inline void unpack_trits(const TwoBitMatrixView& packed, MatrixRef<std::int8_t> out) {
  detail::check_shape(out, packed.rows(), packed.cols(), "unpack_trits", "out");
  for (std::size_t m = 0; m < packed.rows(); ++m) two_bit::unpack_row(packed.row(m), packed.layout(), out.row(m));
}

namespace detail {
// The K trits of a Dense243 row, group by group (byte j digit i is trit j + g * i of a group
// of g bytes), walking each byte's chain once rather than locating every trit.
inline void unpack_dense243_row(const std::uint8_t* row, const dense243::RowLayout& layout, std::int8_t* trits) {
  const std::size_t groups = layout.full_groups + (layout.tail_bytes != 0 ? 1 : 0);
  for (std::size_t g = 0; g < groups; ++g) {
    const bool full = g < layout.full_groups;
    const std::size_t bytes = full ? dense243::kGroupBytes : layout.tail_bytes;
    const std::size_t count = full ? dense243::kGroupTrits : layout.tail_trits;
    std::int8_t* out = trits + g * dense243::kGroupTrits;
    for (std::size_t j = 0; j < bytes; ++j) {
      unsigned x = row[g * dense243::kGroupBytes + j];
      for (std::size_t i = 0; i < 5; ++i) {
        const std::size_t pos = j + bytes * i;
        if (pos < count) out[pos] = static_cast<std::int8_t>(static_cast<int>((x * 3u) >> 8) - 1);
        x = (x * 3u) & 0xFFu;
      }
    }
  }
}
}  // namespace detail

// Dense243 -> TwoBit, lossless: same trits, same scales and granularity, tight rows.
inline TwoBitMatrix to_two_bit(const PackedMatrixView& dense) {
  detail::require(!dense.empty(), "to_two_bit", "the matrix is empty");
  TwoBitMatrix out(dense.rows(), dense.cols(), dense.granularity());
  out.set_scales(dense.scales(), dense.scale_count());
  std::vector<std::int8_t> trits(dense.cols());
  for (std::size_t m = 0; m < dense.rows(); ++m) {
    detail::unpack_dense243_row(dense.row(m), dense.layout(), trits.data());
    two_bit::pack_row(trits.data(), out.layout(), out.row(m));
  }
  return out;
}

// TwoBit -> Dense243, lossless for valid bytes (the inverse of to_two_bit).
inline PackedMatrix to_dense243(const TwoBitMatrixView& w) {
  detail::require(!w.empty(), "to_dense243", "the matrix is empty");
  PackedMatrix out(w.rows(), w.cols(), w.granularity());
  out.set_scales(w.scales(), w.scale_count());
  std::vector<std::int8_t> trits(w.cols());
  for (std::size_t m = 0; m < w.rows(); ++m) {
    two_bit::unpack_row(w.row(m), w.layout(), trits.data());
    detail::pack_row(trits.data(), out.layout(), out.row(m));
  }
  return out;
}

// Checks untrusted TwoBit rows: no code 3, padding positions hold code 1, stride padding is 0.
inline void validate_two_bit_rows(const std::uint8_t* bytes, std::size_t rows, std::size_t cols,
                                  std::size_t row_stride) {
  constexpr const char* fn = "validate_two_bit_rows";
  const two_bit::RowLayout layout = two_bit::row_layout(cols);
  detail::require(bytes != nullptr || rows == 0, fn, "bytes is null");
  detail::require(row_stride >= layout.bytes, fn, "row_stride ", row_stride, " < row bytes ", layout.bytes);
  for (std::size_t m = 0; m < rows; ++m) {
    const std::uint8_t* row = bytes + m * row_stride;
    for (std::size_t j = 0; j < layout.bytes; ++j) {
      // A pair is 3 exactly when both of its bits are set.
      if ((row[j] & (row[j] >> 1) & 0x55) != 0) {
        detail::throw_format_error(fn, "row ", m, " byte ", j, " = ", int{row[j]}, " holds the invalid code 3");
      }
    }
    for (std::size_t k = layout.cols; k < layout.groups * two_bit::kGroupTrits; ++k) {
      if (((row[two_bit::byte_of(k)] >> two_bit::shift_of(k)) & 3) != 1) {
        detail::throw_format_error(fn, "row ", m, " padding trit ", k, " is not code 1 (zero)");
      }
    }
    for (std::size_t j = layout.bytes; j < row_stride; ++j) {
      if (row[j] != 0) detail::throw_format_error(fn, "row ", m, " has a non-zero byte ", j, " in its stride padding");
    }
  }
}

inline void validate(const TwoBitMatrixView& w) { validate_two_bit_rows(w.data(), w.rows(), w.cols(), w.row_stride()); }

// ---- Serialized form (docs/FORMAT.md, "TwoBit serialized form") ----------------------------

namespace serialized_two_bit {
inline constexpr char kMagic[8] = {'T', 'R', 'I', 'T', '2', 'B', 'I', 'T'};
inline constexpr std::uint32_t kVersion = 1;
inline constexpr std::uint32_t kLayoutGroups64 = 1;  // two_bit::kFormatVersion 1
inline constexpr std::size_t kHeaderBytes = detail::kBlobHeaderBytes;
}  // namespace serialized_two_bit

namespace detail {
struct TwoBitBlob {
  std::size_t rows = 0, cols = 0, row_stride = 0;
  ScaleGranularity granularity = ScaleGranularity::per_tensor;
  std::size_t scale_count = 0, rows_offset = 0, size = 0;
};

inline std::size_t two_bit_row_bytes(std::size_t cols) { return two_bit::row_layout(cols).bytes; }

inline std::size_t two_bit_rows_offset(std::size_t scale_count) {
  return align_up(serialized_two_bit::kHeaderBytes + 4 * scale_count, two_bit::kAlignment);
}

inline TwoBitBlob check_two_bit_blob(const std::uint8_t* blob, std::size_t size, const char* fn) {
  BlobHeaderReader header(blob, size, serialized_two_bit::kMagic, serialized_two_bit::kVersion, fn,
                          "trit TwoBit matrix blob");
  // The checks both layouts share (format/serialize.hpp), then TwoBit's own: no tail slack,
  // and the codes.
  const MatrixBlobFields fields =
      read_matrix_blob_fields(header, serialized_two_bit::kLayoutGroups64, two_bit_row_bytes, fn);
  header.reserved_until(kBlobChecksumOffset);
  TwoBitBlob at;
  at.rows = fields.rows;
  at.cols = fields.cols;
  at.row_stride = fields.row_stride;
  at.granularity = fields.granularity;
  at.scale_count = fields.scale_count;
  at.rows_offset = two_bit_rows_offset(at.scale_count);
  at.size = check_matrix_blob_size(fields, at.rows_offset, 0, size, fn);
  header.check_checksum();
  check_matrix_blob_scales(blob, at.scale_count, at.rows_offset, fn);
  validate_two_bit_rows(blob + at.rows_offset, at.rows, at.cols, at.row_stride);
  return at;
}
}  // namespace detail

// The blob: 64-byte header ("TRIT2BIT", version 1, layout 1, rows, cols, row_stride,
// granularity, header bytes, payload bytes, zeros, FNV-1a 64 of the whole blob at 56..63),
// the float32 scales, zeros to a 64-byte boundary, then rows * row_stride bytes.
inline std::vector<std::uint8_t> serialize(const TwoBitMatrixView& w) {
  detail::require(!w.empty(), "serialize", "the matrix is empty");
  const std::size_t rows_offset = detail::two_bit_rows_offset(w.scale_count());
  const std::size_t size = rows_offset + w.weight_bytes();
  std::vector<std::uint8_t> blob = detail::BlobHeaderWriter(serialized_two_bit::kMagic, serialized_two_bit::kVersion)
                                       .u32(serialized_two_bit::kLayoutGroups64)
                                       .u64(w.rows())
                                       .u64(w.cols())
                                       .u64(w.row_stride())
                                       .u32(static_cast<std::uint32_t>(w.granularity()))
                                       .u32(serialized_two_bit::kHeaderBytes)
                                       .u64(size - serialized_two_bit::kHeaderBytes)
                                       .finish();
  blob.reserve(size);
  for (std::size_t i = 0; i < w.scale_count(); ++i) detail::put_le(blob, detail::float_bits(w.scales()[i]), 4);
  blob.resize(rows_offset, 0);
  blob.insert(blob.end(), w.data(), w.data() + w.weight_bytes());
  detail::seal_blob(blob);
  return blob;
}

// Rebuilds a TwoBitMatrix from untrusted bytes; throws format_error on anything malformed.
inline TwoBitMatrix deserialize_two_bit(const std::uint8_t* blob, std::size_t size) {
  const detail::TwoBitBlob at = detail::check_two_bit_blob(blob, size, "deserialize_two_bit");
  TwoBitMatrix w(at.rows, at.cols, at.granularity, at.row_stride);
  std::vector<float> scales(at.scale_count);
  std::memcpy(scales.data(), blob + serialized_two_bit::kHeaderBytes, 4 * at.scale_count);
  w.set_scales(scales.data(), scales.size());
  std::memcpy(w.data(), blob + at.rows_offset, at.rows * at.row_stride);
  return w;
}

inline TwoBitMatrix deserialize_two_bit(const std::vector<std::uint8_t>& blob) {
  return deserialize_two_bit(blob.data(), blob.size());
}

// A view over a checked blob in caller-owned memory (e.g. a mapped file): no copy. The blob
// must stay alive and unchanged while the view is used, and be 4-byte aligned for the scales.
inline TwoBitMatrixView view_two_bit_blob(const std::uint8_t* blob, std::size_t size) {
  const detail::TwoBitBlob at = detail::check_two_bit_blob(blob, size, "view_two_bit_blob");
  detail::require(reinterpret_cast<std::uintptr_t>(blob) % alignof(float) == 0, "view_two_bit_blob",
                  "blob is not 4-byte aligned");
  return TwoBitMatrixView(TwoBitMatrixView::Trusted{}, blob + at.rows_offset, at.rows, at.cols, at.row_stride,
                          at.granularity, reinterpret_cast<const float*>(blob + serialized_two_bit::kHeaderBytes));
}

// ---- GGUF repacks (docs/FORMAT.md, "GGUF I2_S and TQ2_0") -------------------------------------

namespace detail {

inline constexpr std::uint64_t kBytes03 = 0x0303030303030303ull;
inline constexpr std::uint64_t kBytes0C = 0x0C0C0C0C0C0C0C0Cull;
inline constexpr std::uint64_t kBytes55 = 0x5555555555555555ull;

inline std::uint64_t load_u64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline void store_u64(std::uint8_t* p, std::uint64_t v) { std::memcpy(p, &v, 8); }
// Non-zero where a bit pair of the eight bytes is code 3.
inline std::uint64_t code3_lanes(std::uint64_t x) { return x & (x >> 1) & kBytes55; }

// Two bits of GGUF code -> trit, refusing code 3.
inline std::int8_t gguf_trit(unsigned code, const char* fn, std::size_t at) {
  if (code == 3) detail::throw_format_error(fn, "weight ", at, " has the invalid code 3");
  return static_cast<std::int8_t>(static_cast<int>(code) - 1);
}
}  // namespace detail

inline constexpr std::size_t kI2sGroupWeights = 128;
inline constexpr std::size_t kTq2BlockWeights = 256;
inline constexpr std::size_t kTq2BlockBytes = 66;

// bitnet.cpp's I2_S tensor (x86 default layout): the rows x cols weights flattened row-major
// into groups of 128 (rows * cols must be a multiple of 128); group byte j holds weight j in
// bits 7:6, j + 32 in 5:4, j + 64 in 3:2, j + 96 in 1:0, as t + 1. The float32 tensor scale
// follows the rows * cols / 4 packed bytes. `size` is the tensor's byte size (>= that + 4).
inline TwoBitMatrix repack_i2_s(const std::uint8_t* bytes, std::size_t size, std::size_t rows, std::size_t cols) {
  constexpr const char* fn = "repack_i2_s";
  detail::require(bytes != nullptr, fn, "bytes is null");
  detail::require(rows > 0 && cols > 0 && cols <= kMaxCols, fn, "bad shape ", rows, "x", cols);
  const std::size_t weights = detail::checked_mul(rows, cols, fn, "rows * cols");
  detail::require(weights % kI2sGroupWeights == 0, fn, "rows * cols = ", weights, " is not a multiple of 128");
  const std::size_t packed = weights / 4;
  if (size < packed + 4) detail::throw_format_error(fn, "tensor of ", size, " bytes is shorter than ", packed + 4);
  const float scale = detail::bits_float(static_cast<std::uint32_t>(detail::get_le(bytes + packed, 4)));
  if (!detail::is_finite_positive(scale)) detail::throw_format_error(fn, "tensor scale ", scale, " is not finite and positive");
  TwoBitMatrix out(rows, cols, ScaleGranularity::per_tensor);
  out.set_scales(&scale, 1);
  if (cols % kI2sGroupWeights == 0) {
    // Rows start on groups: byte to byte. I2_S groups 2G and 2G + 1 of a row fill TwoBit group
    // G: I2_S byte j holds k = j (bits 7:6), j + 32, j + 64, j + 96 (bits 1:0) of its 128, so
    // TwoBit byte j takes the codes of k = j and j + 64 and byte j + 32 those of j + 32 and
    // j + 96, from both I2_S groups (the second in the high nibble; 0x55, all zero trits,
    // where the row ends after the first).
    const std::size_t groups = cols / kI2sGroupWeights;
    for (std::size_t m = 0; m < rows; ++m) {
      const std::uint8_t* in = bytes + m * (cols / 4);
      std::uint8_t* row = out.row(m);
      std::uint64_t bad = 0;
      for (std::size_t q = 0; q < groups; q += 2) {
        const std::uint8_t* b0 = in + q * 32;
        const std::uint8_t* b1 = q + 1 < groups ? in + (q + 1) * 32 : nullptr;
        std::uint8_t* o = row + q / 2 * two_bit::kGroupBytes;
        // Eight bytes per step, every operation byte-wise: each shift's stray bits land
        // outside the mask that follows it.
        for (std::size_t j = 0; j < 32; j += 8) {
          const std::uint64_t x0 = detail::load_u64(b0 + j);
          const std::uint64_t x1 = b1 != nullptr ? detail::load_u64(b1 + j) : detail::kBytes55;
          bad |= detail::code3_lanes(x0) | detail::code3_lanes(x1);
          const std::uint64_t lo0 = ((x0 >> 6) & detail::kBytes03) | (x0 & detail::kBytes0C);
          const std::uint64_t lo1 = ((x1 >> 6) & detail::kBytes03) | (x1 & detail::kBytes0C);
          const std::uint64_t hi0 = ((x0 >> 4) & detail::kBytes03) | ((x0 & detail::kBytes03) << 2);
          const std::uint64_t hi1 = ((x1 >> 4) & detail::kBytes03) | ((x1 & detail::kBytes03) << 2);
          detail::store_u64(o + j, lo0 | lo1 << 4);
          detail::store_u64(o + j + 32, hi0 | hi1 << 4);
        }
      }
      if (bad != 0) detail::throw_format_error(fn, "row ", m, " holds the invalid code 3");
    }
    return out;
  }
  std::vector<std::int8_t> trits(cols);
  for (std::size_t m = 0; m < rows; ++m) {
    // The groups that overlap row m (a group may straddle rows when cols % 128 != 0).
    const std::size_t first = m * cols, last = first + cols;
    for (std::size_t g = first / kI2sGroupWeights; g * kI2sGroupWeights < last; ++g) {
      const std::uint8_t* group = bytes + g * 32;
      for (std::size_t n = 0; n < 4; ++n) {
        for (std::size_t j = 0; j < 32; ++j) {
          const std::size_t flat = g * kI2sGroupWeights + 32 * n + j;
          if (flat < first || flat >= last) continue;
          trits[flat - first] = detail::gguf_trit((group[j] >> (6 - 2 * n)) & 3u, fn, flat);
        }
      }
    }
    two_bit::pack_row(trits.data(), out.layout(), out.row(m));
  }
  return out;
}

// ggml's TQ2_0 tensor: each row is cols / 256 blocks of 66 bytes, qs[64] then d (fp16); qs
// byte 32c + j holds weight 128c + j + 32n in bits 2n..2n+1 as t + 1. A block's d is its
// scale; trit keeps one scale per tensor or per row, so every block of a row that holds a
// non-zero weight must carry the same d (as llama.cpp's BitNet conversion writes them): the
// result is per_tensor when all rows agree, else per_row. A row of zeros takes scale 1.
inline TwoBitMatrix repack_tq2_0(const std::uint8_t* bytes, std::size_t size, std::size_t rows, std::size_t cols) {
  constexpr const char* fn = "repack_tq2_0";
  detail::require(bytes != nullptr, fn, "bytes is null");
  detail::require(rows > 0 && cols > 0 && cols <= kMaxCols, fn, "bad shape ", rows, "x", cols);
  detail::require(cols % kTq2BlockWeights == 0, fn, "cols ", cols, " is not a multiple of 256");
  const std::size_t blocks = cols / kTq2BlockWeights;
  const std::size_t row_bytes = blocks * kTq2BlockBytes;
  if (size < detail::checked_mul(rows, row_bytes, fn, "tensor size")) {
    detail::throw_format_error(fn, "tensor of ", size, " bytes is shorter than ", rows * row_bytes);
  }
  TwoBitMatrix out(rows, cols, ScaleGranularity::per_row);
  std::vector<float> scales(rows, 1.0f);
  for (std::size_t m = 0; m < rows; ++m) {
    const std::uint8_t* row = bytes + m * row_bytes;
    bool have_scale = false;
    for (std::size_t b = 0; b < blocks; ++b) {
      // A block is one TwoBit group. TQ2_0 byte 32c + j holds k = 128c + 32n + j in bits 2n;
      // TwoBit byte j + 32p holds k = j + 32p + 64i in bits 2i, so its codes i = 0..3 are
      // n = p and p + 2 of qs[j] and then of qs[32 + j].
      const std::uint8_t* qs = row + b * kTq2BlockBytes;
      std::uint8_t* o = out.row(m) + b * two_bit::kGroupBytes;
      std::uint64_t bad = 0, nonzero = 0;
      for (std::size_t j = 0; j < 32; j += 8) {  // eight bytes per step, byte-wise as above
        const std::uint64_t q0 = detail::load_u64(qs + j), q1 = detail::load_u64(qs + 32 + j);
        bad |= detail::code3_lanes(q0) | detail::code3_lanes(q1);
        nonzero |= (q0 ^ detail::kBytes55) | (q1 ^ detail::kBytes55);
        detail::store_u64(o + j, (q0 & detail::kBytes03) | ((q0 >> 2) & detail::kBytes0C) |
                                     ((q1 & detail::kBytes03) << 4) | ((q1 << 2) & (detail::kBytes03 << 6)));
        detail::store_u64(o + j + 32, ((q0 >> 2) & detail::kBytes03) | ((q0 >> 4) & detail::kBytes0C) |
                                          ((q1 << 2) & (detail::kBytes03 << 4)) | (q1 & (detail::kBytes03 << 6)));
      }
      if (bad != 0) detail::throw_format_error(fn, "row ", m, " block ", b, " holds the invalid code 3");
      if (nonzero == 0) continue;
      const float d = detail::half_to_float(static_cast<std::uint16_t>(detail::get_le(qs + 64, 2)));
      if (!detail::is_finite_positive(d)) detail::throw_format_error(fn, "row ", m, " block ", b, " scale ", d, " is not positive");
      if (have_scale && d != scales[m]) {
        detail::throw_format_error(fn, "row ", m, " block ", b, " scale ", d, " differs from the row's ", scales[m],
                           ": trit keeps one scale per row");
      }
      scales[m] = d;
      have_scale = true;
    }
  }
  bool uniform = true;
  for (std::size_t m = 1; m < rows; ++m) uniform = uniform && scales[m] == scales[0];
  if (!uniform) {
    out.set_scales(scales.data(), rows);
    return out;
  }
  TwoBitMatrix tensor(rows, cols, ScaleGranularity::per_tensor);
  tensor.set_scales(scales.data(), 1);
  std::memcpy(tensor.data(), out.data(), out.weight_bytes());
  return tensor;
}

TRIT_END_NAMESPACE
