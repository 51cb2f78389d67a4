// trit: what every trit blob shares (a packed matrix, a layer): a 64-byte little-endian
// header that starts with an 8-byte magic and a 4-byte version, and, from version 2 on, an
// FNV-1a 64 checksum at bytes 56..63 that covers the whole blob (header and payload) with
// those 8 bytes read as zero. One writer and one reader serve every blob kind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "trit/error.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace detail {

inline constexpr std::size_t kBlobHeaderBytes = 64;
inline constexpr std::size_t kBlobChecksumOffset = 56;

inline void put_le(std::vector<std::uint8_t>& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

inline std::uint64_t get_le(const std::uint8_t* in, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value |= static_cast<std::uint64_t>(in[i]) << (8 * i);
  return value;
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

inline constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ull;

inline std::uint64_t fnv1a64(const std::uint8_t* data, std::size_t size, std::uint64_t hash = kFnvOffset) {
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= data[i];
    hash *= 0x100000001b3ull;
  }
  return hash;
}

// The version-2 checksum of a whole blob (size >= kBlobHeaderBytes).
inline std::uint64_t blob_checksum(const std::uint8_t* blob, std::size_t size) {
  static constexpr std::uint8_t kZeros[8] = {};
  std::uint64_t hash = fnv1a64(blob, kBlobChecksumOffset);
  hash = fnv1a64(kZeros, 8, hash);
  return fnv1a64(blob + kBlobHeaderBytes, size - kBlobHeaderBytes, hash);
}

// Builds a header field by field; finish() pads it to 64 bytes and leaves room for the
// checksum, which seal() writes once the payload follows.
class BlobHeaderWriter {
 public:
  BlobHeaderWriter(const char (&magic)[8], std::uint32_t version) : bytes_(magic, magic + 8) {
    put_le(bytes_, version, 4);
  }
  BlobHeaderWriter& u32(std::uint64_t value) { return field(value, 4); }
  BlobHeaderWriter& u64(std::uint64_t value) { return field(value, 8); }
  std::vector<std::uint8_t> finish() {
    bytes_.resize(kBlobHeaderBytes, 0);
    return std::move(bytes_);
  }

 private:
  BlobHeaderWriter& field(std::uint64_t value, int bytes) {
    put_le(bytes_, value, bytes);
    return *this;
  }
  std::vector<std::uint8_t> bytes_;
};

inline void seal_blob(std::vector<std::uint8_t>& blob) {
  const std::uint64_t checksum = blob_checksum(blob.data(), blob.size());
  for (int i = 0; i < 8; ++i) blob[kBlobChecksumOffset + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(checksum >> (8 * i));
}

// Reads the fields of an untrusted header in order; every error names the function.
class BlobHeaderReader {
 public:
  // Checks the size, the magic and that the version is one of [1, max_version].
  BlobHeaderReader(const std::uint8_t* blob, std::size_t size, const char (&magic)[8], std::uint32_t max_version,
                   const char* function, const char* kind)
      : blob_(blob), size_(size), function_(function) {
    if (blob == nullptr && size != 0) throw_invalid_argument(function, "blob is null");
    if (size < kBlobHeaderBytes) {
      throw_format_error(function, "blob of ", size, " bytes is shorter than the ", kBlobHeaderBytes, "-byte header");
    }
    if (std::memcmp(blob, magic, 8) != 0) throw_format_error(function, "bad magic: not a ", kind);
    version_ = static_cast<std::uint32_t>(get_le(blob + 8, 4));
    if (version_ == 0 || version_ > max_version) throw_format_error(function, "unsupported ", kind, " version ", version_);
    at_ = 12;
  }
  std::uint32_t version() const { return version_; }
  std::uint64_t u32() { return next(4); }
  std::uint64_t u64() { return next(8); }
  std::size_t offset() const { return at_; }
  void skip_to(std::size_t offset) { at_ = offset; }
  // Bytes [offset(), end) must be zero (reserved).
  void reserved_until(std::size_t end) {
    for (std::size_t i = at_; i < end; ++i) {
      if (blob_[i] != 0) throw_format_error(function_, "reserved header byte ", i, " is not 0");
    }
    at_ = end;
  }
  // Version 2 and later: the stored checksum equals the whole blob's.
  void check_checksum() const {
    if (get_le(blob_ + kBlobChecksumOffset, 8) != blob_checksum(blob_, size_)) {
      throw_format_error(function_, "checksum mismatch (header or payload damaged)");
    }
  }

 private:
  std::uint64_t next(int bytes) {
    const std::uint64_t value = get_le(blob_ + at_, bytes);
    at_ += static_cast<std::size_t>(bytes);
    return value;
  }
  const std::uint8_t* blob_;
  std::size_t size_;
  const char* function_;
  std::uint32_t version_ = 0;
  std::size_t at_ = 0;
};

}  // namespace detail
TRIT_END_NAMESPACE
