// trit: the versioned serialized form of a PackedMatrix (docs/FORMAT.md, "Serialized form")
// and its checked loader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "trit/format/dense243.hpp"
#include "trit/error.hpp"
#include "trit/format/pack.hpp"
#include "trit/format/packed_matrix.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

namespace serialized {
inline constexpr char kMagic[8] = {'T', 'R', 'I', 'T', 'D', '2', '4', '3'};
inline constexpr std::uint32_t kVersion = 1;
inline constexpr std::uint32_t kLayoutRowMajorGroups64 = 1;
inline constexpr std::size_t kHeaderBytes = 64;
}  // namespace serialized

namespace detail {

inline void put_le(std::vector<std::uint8_t>& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

inline std::uint64_t get_le(const std::uint8_t* in, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value |= static_cast<std::uint64_t>(in[i]) << (8 * i);
  return value;
}

// FNV-1a, 64-bit: catches flipped or swapped payload bytes that are still valid Dense243 bytes.
inline std::uint64_t fnv1a64(const std::uint8_t* data, std::size_t size) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= data[i];
    hash *= 0x100000001b3ull;
  }
  return hash;
}

inline std::uint32_t float_bits(float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

inline float bits_float(std::uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

}  // namespace detail

// Header (64 bytes, little-endian), then the scales (float32), then rows * row_stride bytes.
inline std::vector<std::uint8_t> serialize(const PackedMatrix& packed) {
  detail::require(!packed.empty(), "serialize", "packed is empty");
  std::vector<std::uint8_t> payload;
  payload.reserve(packed.scales().size() * 4 + packed.weight_bytes());
  for (float s : packed.scales()) detail::put_le(payload, detail::float_bits(s), 4);
  payload.insert(payload.end(), packed.data(), packed.data() + packed.weight_bytes());

  std::vector<std::uint8_t> blob(serialized::kMagic, serialized::kMagic + 8);
  detail::put_le(blob, serialized::kVersion, 4);
  detail::put_le(blob, serialized::kLayoutRowMajorGroups64, 4);
  detail::put_le(blob, packed.rows(), 8);
  detail::put_le(blob, packed.cols(), 8);
  detail::put_le(blob, packed.row_stride(), 8);
  detail::put_le(blob, static_cast<std::uint32_t>(packed.granularity()), 4);
  detail::put_le(blob, serialized::kHeaderBytes, 4);
  detail::put_le(blob, payload.size(), 8);
  detail::put_le(blob, detail::fnv1a64(payload.data(), payload.size()), 8);
  blob.insert(blob.end(), payload.begin(), payload.end());
  return blob;
}

// Rebuilds a PackedMatrix from untrusted bytes. Throws format_error for a wrong magic,
// version or layout, inconsistent or overflowing dimensions, a truncated or oversized blob,
// a checksum mismatch, a scale that is not finite and positive, or an invalid packed byte.
inline PackedMatrix deserialize(const std::uint8_t* blob, std::size_t size) {
  constexpr const char* fn = "deserialize";
  if (blob == nullptr && size != 0) detail::throw_invalid_argument(fn, "blob is null");
  if (size < serialized::kHeaderBytes) {
    detail::throw_format_error(fn, "blob of ", size, " bytes is shorter than the ", serialized::kHeaderBytes,
                               "-byte header");
  }
  if (std::memcmp(blob, serialized::kMagic, 8) != 0) detail::throw_format_error(fn, "bad magic: not a trit blob");
  const std::uint64_t version = detail::get_le(blob + 8, 4);
  if (version != serialized::kVersion) detail::throw_format_error(fn, "unsupported format version ", version);
  const std::uint64_t layout = detail::get_le(blob + 12, 4);
  if (layout != serialized::kLayoutRowMajorGroups64) detail::throw_format_error(fn, "unknown layout ", layout);
  const std::uint64_t rows = detail::get_le(blob + 16, 8);
  const std::uint64_t cols = detail::get_le(blob + 24, 8);
  const std::uint64_t row_stride = detail::get_le(blob + 32, 8);
  const std::uint64_t granularity = detail::get_le(blob + 40, 4);
  const std::uint64_t header_bytes = detail::get_le(blob + 44, 4);
  const std::uint64_t payload_bytes = detail::get_le(blob + 48, 8);
  const std::uint64_t checksum = detail::get_le(blob + 56, 8);

  if (header_bytes != serialized::kHeaderBytes) detail::throw_format_error(fn, "header size ", header_bytes, " != 64");
  if (rows == 0 || cols == 0 || cols > kMaxCols || rows > (std::uint64_t{1} << 40)) {
    detail::throw_format_error(fn, "implausible dimensions ", rows, "x", cols);
  }
  if (granularity > 1) detail::throw_format_error(fn, "unknown scale granularity ", granularity);
  const std::size_t row_bytes = dense243::row_layout(cols).bytes;
  if (row_stride < row_bytes || row_stride - row_bytes > kMaxRowPaddingBytes) {
    detail::throw_format_error(fn, "row_stride ", row_stride, " is inconsistent with ", row_bytes, " bytes per row");
  }
  const std::uint64_t scale_count = granularity == 1 ? rows : 1;
  if (rows > (std::uint64_t{1} << 62) / row_stride) detail::throw_format_error(fn, "dimensions overflow");
  const std::uint64_t expected_payload = scale_count * 4 + rows * row_stride;
  if (payload_bytes != expected_payload) {
    detail::throw_format_error(fn, "payload size ", payload_bytes, " != ", expected_payload, " implied by the header");
  }
  if (size - serialized::kHeaderBytes != payload_bytes) {
    detail::throw_format_error(fn, "blob holds ", size - serialized::kHeaderBytes, " payload bytes, header says ",
                               payload_bytes, size - serialized::kHeaderBytes < payload_bytes ? " (truncated)" : "");
  }
  const std::uint8_t* payload = blob + serialized::kHeaderBytes;
  if (detail::fnv1a64(payload, payload_bytes) != checksum) detail::throw_format_error(fn, "checksum mismatch");

  const std::uint8_t* rows_bytes = payload + scale_count * 4;
  validate_packed_rows(rows_bytes, rows, cols, row_stride);
  std::vector<float> scales(scale_count);
  for (std::size_t i = 0; i < scale_count; ++i) {
    scales[i] = detail::bits_float(static_cast<std::uint32_t>(detail::get_le(payload + 4 * i, 4)));
    if (!detail::is_finite_positive(scales[i])) {
      detail::throw_format_error(fn, "scale ", i, " = ", scales[i], " is not a finite positive number");
    }
  }
  PackedMatrix packed(rows, cols, static_cast<ScaleGranularity>(granularity), row_stride);
  packed.set_scales(scales.data(), scales.size());
  std::memcpy(packed.data(), rows_bytes, rows * row_stride);
  return packed;
}

inline PackedMatrix deserialize(const std::vector<std::uint8_t>& blob) {
  return deserialize(blob.data(), blob.size());
}

inline void save(const PackedMatrix& packed, const std::string& path) {
  const std::vector<std::uint8_t> blob = serialize(packed);
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(blob.data()), static_cast<std::streamsize>(blob.size()));
  out.close();  // flushes: a write that fails only when the buffer is flushed must be reported too
  if (!out) throw std::runtime_error("trit::save: cannot write " + path);
}

inline PackedMatrix load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("trit::load: cannot open " + path);
  std::vector<std::uint8_t> blob((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return deserialize(blob);
}

TRIT_END_NAMESPACE
