// trit: the versioned serialized form of a packed matrix (docs/FORMAT.md, "Serialized form"),
// its checked loader, atomic save, and map_file, which serves a saved matrix from a
// read-only mapping without copying it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "trit/detail/checked.hpp"
#include "trit/detail/file_io.hpp"
#include "trit/error.hpp"
#include "trit/format/blob.hpp"
#include "trit/format/dense243.hpp"
#include "trit/format/pack.hpp"
#include "trit/format/packed_matrix.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

namespace serialized {
inline constexpr char kMagic[8] = {'T', 'R', 'I', 'T', 'D', '2', '4', '3'};
// Version 2: the checksum covers header and payload, and the packed rows start 64-byte
// aligned and are followed by dense243::kTailSlackBytes zero bytes, so a mapped blob is
// usable in place. Version 1 blobs still load (by copy).
inline constexpr std::uint32_t kVersion = 2;
inline constexpr std::uint32_t kLayoutRowMajorGroups64 = 1;
inline constexpr std::size_t kHeaderBytes = detail::kBlobHeaderBytes;
}  // namespace serialized

namespace detail {

// Where everything of a checked matrix blob lies.
struct MatrixBlob {
  std::uint32_t version = 0;
  std::size_t rows = 0, cols = 0, row_stride = 0;
  ScaleGranularity granularity = ScaleGranularity::per_tensor;
  std::size_t scale_count = 0;
  std::size_t rows_offset = 0;  // of the packed rows, from the blob's start
  std::size_t size = 0;         // of the whole blob
};

inline std::size_t matrix_blob_rows_offset(std::size_t scale_count, std::uint32_t version) {
  const std::size_t end_of_scales = serialized::kHeaderBytes + 4 * scale_count;
  return version >= 2 ? align_up(end_of_scales, dense243::kAlignment) : end_of_scales;
}

// ---- What the matrix blobs of both layouts share (Dense243: section 5, TwoBit: T3) ----------

// The header fields after the version, in the order both layouts write them.
struct MatrixBlobFields {
  std::size_t rows = 0, cols = 0, row_stride = 0;
  ScaleGranularity granularity = ScaleGranularity::per_tensor;
  std::size_t scale_count = 0;
  std::uint64_t payload_bytes = 0;
};

// Reads and checks layout id, rows, cols, row_stride (against `row_bytes`, the layout's bytes
// for a row of K trits), granularity, header size and payload size.
inline MatrixBlobFields read_matrix_blob_fields(BlobHeaderReader& header, std::uint32_t layout_id,
                                                std::size_t (*row_bytes_of)(std::size_t cols), const char* fn) {
  const std::uint64_t layout = header.u32();
  if (layout != layout_id) throw_format_error(fn, "unknown layout ", layout);
  const std::uint64_t rows = header.u64();
  const std::uint64_t cols = header.u64();
  const std::uint64_t row_stride = header.u64();
  const std::uint64_t granularity = header.u32();
  const std::uint64_t header_bytes = header.u32();
  MatrixBlobFields fields;
  fields.payload_bytes = header.u64();
  if (header_bytes != kBlobHeaderBytes) throw_format_error(fn, "header size ", header_bytes, " != 64");
  if (rows == 0 || cols == 0 || cols > kMaxCols || rows > (std::uint64_t{1} << 40)) {
    throw_format_error(fn, "implausible dimensions ", rows, "x", cols);
  }
  if (granularity > 1) throw_format_error(fn, "unknown scale granularity ", granularity);
  const std::size_t row_bytes = row_bytes_of(static_cast<std::size_t>(cols));
  if (row_stride < row_bytes || row_stride - row_bytes > kMaxRowPaddingBytes) {
    throw_format_error(fn, "row_stride ", row_stride, " is inconsistent with ", row_bytes, " bytes per row");
  }
  fields.rows = static_cast<std::size_t>(rows);
  fields.cols = static_cast<std::size_t>(cols);
  fields.row_stride = static_cast<std::size_t>(row_stride);
  fields.granularity = static_cast<ScaleGranularity>(granularity);
  fields.scale_count = granularity == 1 ? fields.rows : 1;
  return fields;
}

// The blob's size from its header: rows at rows_offset, then `slack` bytes; checks it against
// the payload size field and against `size`, the bytes there are.
inline std::size_t check_matrix_blob_size(const MatrixBlobFields& fields, std::size_t rows_offset, std::size_t slack,
                                          std::size_t size, const char* fn) {
  const std::size_t weight_bytes = checked_mul(fields.rows, fields.row_stride, fn, "rows * row_stride", SizeSource::file);
  std::size_t expected = checked_add(rows_offset, weight_bytes, fn, "blob size", SizeSource::file);
  expected = checked_add(expected, slack, fn, "blob size", SizeSource::file);
  if (fields.payload_bytes != expected - kBlobHeaderBytes) {
    throw_format_error(fn, "payload size ", fields.payload_bytes, " != ", expected - kBlobHeaderBytes,
                       " implied by the header");
  }
  if (size != expected) {
    throw_format_error(fn, "blob holds ", size, " bytes, the header says ", expected, size < expected ? " (truncated)" : "");
  }
  return expected;
}

// Every scale finite and positive, and zeros from the scales' end to the rows.
inline void check_matrix_blob_scales(const std::uint8_t* blob, std::size_t scale_count, std::size_t rows_offset,
                                     const char* fn) {
  for (std::size_t i = 0; i < scale_count; ++i) {
    const float scale = bits_float(static_cast<std::uint32_t>(get_le(blob + kBlobHeaderBytes + 4 * i, 4)));
    if (!is_finite_positive(scale)) throw_format_error(fn, "scale ", i, " = ", scale, " is not a finite positive number");
  }
  for (std::size_t i = kBlobHeaderBytes + 4 * scale_count; i < rows_offset; ++i) {
    if (blob[i] != 0) throw_format_error(fn, "alignment padding byte ", i, " is not 0");
  }
}

inline std::size_t dense243_row_bytes(std::size_t cols) { return dense243::row_layout(cols).bytes; }

// Checks everything of an untrusted blob (header, sizes against `size` before the payload is
// read, checksum, scales, every packed byte and padding) and says where its parts lie.
inline MatrixBlob check_matrix_blob(const std::uint8_t* blob, std::size_t size, const char* fn) {
  BlobHeaderReader header(blob, size, serialized::kMagic, serialized::kVersion, fn, "trit matrix blob");
  MatrixBlob at;
  at.version = header.version();
  const MatrixBlobFields fields =
      read_matrix_blob_fields(header, serialized::kLayoutRowMajorGroups64, dense243_row_bytes, fn);
  at.rows = fields.rows;
  at.cols = fields.cols;
  at.row_stride = fields.row_stride;
  at.granularity = fields.granularity;
  at.scale_count = fields.scale_count;
  at.rows_offset = matrix_blob_rows_offset(at.scale_count, at.version);
  const std::size_t weight_bytes = at.rows * at.row_stride;
  at.size = check_matrix_blob_size(fields, at.rows_offset, at.version >= 2 ? dense243::kTailSlackBytes : 0, size, fn);
  if (at.version >= 2) {
    header.check_checksum();
  } else if (fnv1a64(blob + serialized::kHeaderBytes, size - serialized::kHeaderBytes) != get_le(blob + 56, 8)) {
    throw_format_error(fn, "checksum mismatch");
  }
  check_matrix_blob_scales(blob, at.scale_count, at.rows_offset, fn);
  for (std::size_t i = at.rows_offset + weight_bytes; i < at.size; ++i) {
    if (blob[i] != 0) throw_format_error(fn, "tail slack byte ", i, " is not 0");
  }
  validate_packed_rows(blob + at.rows_offset, at.rows, at.cols, at.row_stride);
  return at;
}

}  // namespace detail

// The version-2 blob: the 64-byte header (docs/FORMAT.md), the scales (float32), zero bytes
// up to a 64-byte boundary, rows * row_stride packed bytes, and kTailSlackBytes zero bytes.
inline std::vector<std::uint8_t> serialize(const PackedMatrixView& packed) {
  detail::require(!packed.empty(), "serialize", "packed is empty");
  const std::size_t rows_offset = detail::matrix_blob_rows_offset(packed.scale_count(), serialized::kVersion);
  const std::size_t size = rows_offset + packed.weight_bytes() + dense243::kTailSlackBytes;
  std::vector<std::uint8_t> blob = detail::BlobHeaderWriter(serialized::kMagic, serialized::kVersion)
                                       .u32(serialized::kLayoutRowMajorGroups64)
                                       .u64(packed.rows())
                                       .u64(packed.cols())
                                       .u64(packed.row_stride())
                                       .u32(static_cast<std::uint32_t>(packed.granularity()))
                                       .u32(serialized::kHeaderBytes)
                                       .u64(size - serialized::kHeaderBytes)
                                       .finish();
  blob.reserve(size);
  for (std::size_t i = 0; i < packed.scale_count(); ++i) detail::put_le(blob, detail::float_bits(packed.scales()[i]), 4);
  // Row by row, stride padding written as zeros: a view's padding may hold other bytes (a
  // column slice's neighbours), and the loader accepts only zeros there.
  blob.resize(size, 0);
  for (std::size_t m = 0; m < packed.rows(); ++m) {
    std::memcpy(blob.data() + rows_offset + m * packed.row_stride(), packed.row(m), packed.row_bytes());
  }
  detail::seal_blob(blob);
  return blob;
}

// Rebuilds a PackedMatrix from untrusted bytes (version 1 or 2). Throws format_error for a
// wrong magic, version or layout, inconsistent or overflowing dimensions, a truncated or
// oversized blob, a checksum mismatch, a scale that is not finite and positive, an invalid
// packed byte or non-zero padding.
inline PackedMatrix deserialize(const std::uint8_t* blob, std::size_t size) {
  const detail::MatrixBlob at = detail::check_matrix_blob(blob, size, "deserialize");
  PackedMatrix packed(at.rows, at.cols, at.granularity, at.row_stride);
  std::vector<float> scales(at.scale_count);
  std::memcpy(scales.data(), blob + serialized::kHeaderBytes, 4 * at.scale_count);
  packed.set_scales(scales.data(), scales.size());
  std::memcpy(packed.data(), blob + at.rows_offset, at.rows * at.row_stride);
  return packed;
}

inline PackedMatrix deserialize(const std::vector<std::uint8_t>& blob) {
  return deserialize(blob.data(), blob.size());
}

// Writes the blob atomically: the old file survives any failure. Throws io_error.
inline void save(const PackedMatrixView& packed, const std::string& path) {
  const std::vector<std::uint8_t> blob = serialize(packed);
  detail::write_file_atomically(path, "save", blob.data(), blob.size());
}

// Maps the file and checks it before copying anything. Throws io_error or format_error.
inline PackedMatrix load(const std::string& path) {
  const MappedFile file = MappedFile::open(path);
  return deserialize(file.data(), file.size());
}

// A matrix served from a read-only mapping of a saved blob: the view's bytes and scales lie
// inside the mapping (no copy) for a version-2 blob; a version-1 blob, whose rows are not
// aligned, is copied once into `copy`. Move-only; the view is valid while this lives.
struct MappedMatrix {
  MappedFile file;
  PackedMatrix copy;  // empty unless the blob was version 1
  PackedMatrixView view;
};

// Validates exactly as load() does, then hands out a view. Throws io_error or format_error.
inline MappedMatrix map_file(const std::string& path) {
  MappedMatrix mapped;
  mapped.file = MappedFile::open(path);
  const std::uint8_t* blob = mapped.file.data();
  const detail::MatrixBlob at = detail::check_matrix_blob(blob, mapped.file.size(), "map_file");
  if (at.version < 2 || reinterpret_cast<std::uintptr_t>(blob) % alignof(float) != 0) {
    mapped.copy = deserialize(blob, mapped.file.size());
    mapped.view = mapped.copy.view();
    return mapped;
  }
  mapped.view = PackedMatrixView(PackedMatrixView::Trusted{}, blob + at.rows_offset, at.rows, at.cols, at.row_stride,
                                 at.granularity, reinterpret_cast<const float*>(blob + serialized::kHeaderBytes));
  return mapped;
}

TRIT_END_NAMESPACE
