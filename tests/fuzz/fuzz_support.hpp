// What trit's libFuzzer targets share: an invariant check that aborts (libFuzzer then keeps
// the input as a crash), the errors trit documents for bad input, an independent FNV-1a 64
// to re-seal mutated blobs, matrix comparison, and a differential check of every kernel path
// this CPU runs against the scalar reference on a matrix that loaded.
//
// Any exception other than those in documented_error escapes LLVMFuzzerTestOneInput, which
// terminates the process: libFuzzer reports it as a crash, as it does a sanitizer report.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <utility>
#include <vector>

#include "trit/detail/file_io.hpp"
#include "trit/error.hpp"
#include "trit/format/pack.hpp"
#include "trit/format/packed_matrix.hpp"
#include "trit/format/serialize.hpp"

#define TRIT_FUZZ_CHECK(cond)                                                                       \
  do {                                                                                              \
    if (!(cond)) {                                                                                  \
      std::fprintf(stderr, "trit fuzz invariant violated: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                                 \
    }                                                                                               \
  } while (0)

namespace trit_fuzz {

// Runs f(); returns true when it returned, false when it threw one of the errors trit
// documents for bad input. on_format_error(what) sees each format_error's message.
template <class F, class OnFormatError>
bool documented(F&& f, OnFormatError&& on_format_error) {
  try {
    f();
    return true;
  } catch (const trit::format_error& e) {
    on_format_error(e.what());
  } catch (const trit::io_error&) {
  } catch (const std::invalid_argument&) {
  }
  return false;
}

template <class F>
bool documented(F&& f) {
  return documented(std::forward<F>(f), [](const char*) {});
}

// Something that must not throw at all (a valid object's own round trip): any exception is
// reported with its message and aborts.
template <class F>
void must_not_throw(F&& f, const char* what) {
  try {
    f();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "trit fuzz invariant violated: %s threw: %s\n", what, e.what());
    std::abort();
  }
}

inline std::uint64_t le(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}

inline void put(std::uint8_t* p, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// FNV-1a 64, written here from its definition rather than taken from trit, so that a wrong
// checksum in the library shows up as a resealed blob that still fails its checksum.
inline std::uint64_t fnv1a64(const std::uint8_t* p, std::size_t n, std::uint64_t h = 0xcbf29ce484222325ull) {
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

constexpr std::size_t kHeader = 64;

// Version 2 (and any version > 1): the whole blob, bytes 56..63 read as zero, stored at 56.
inline void seal_v2(std::uint8_t* blob, std::size_t size) {
  static const std::uint8_t zeros[8] = {};
  std::uint64_t h = fnv1a64(blob, 56);
  h = fnv1a64(zeros, 8, h);
  h = fnv1a64(blob + kHeader, size - kHeader, h);
  put(blob + 56, h, 8);
}

inline std::uint32_t version_of(const std::uint8_t* blob) { return static_cast<std::uint32_t>(le(blob + 8, 4)); }

inline bool mentions_checksum(const char* what) { return std::strstr(what, "checksum") != nullptr; }

// Re-seals a matrix blob after mutation: version 1 checks bytes 64..end at offset 56,
// every other version the whole blob. fix_payload also rewrites the header's payload size
// (bytes 48..55) to what the blob holds, so that dimension mutations reach further.
inline void reseal_matrix(std::uint8_t* blob, std::size_t size, bool fix_payload) {
  if (size < kHeader) return;
  if (fix_payload) put(blob + 48, size - kHeader, 8);
  if (version_of(blob) == 1) {
    put(blob + 56, fnv1a64(blob + kHeader, size - kHeader), 8);
  } else {
    seal_v2(blob, size);
  }
}

// Where a layer blob's weights start (docs/LAYERS.md), or 0 when the header's bias count
// does not fit the blob.
inline std::size_t layer_weights_offset(const std::uint8_t* blob, std::size_t size) {
  const std::uint64_t bias_count = le(blob + 24, 8);
  if (bias_count > (size - kHeader) / 4) return 0;
  std::size_t offset = kHeader + 4 * static_cast<std::size_t>(bias_count);
  if (version_of(blob) != 1) offset = (offset + 63) / 64 * 64;
  return offset <= size ? offset : 0;
}

// Re-seals a layer blob: the matrix blob inside first, then the layer's own checksum
// (version 1: bytes 64..end, stored at 40; later versions: the whole blob, at 56).
// fix_sizes also makes the weight-bytes field (32..39) and the inner payload size agree with
// the blob.
inline void reseal_layer(std::uint8_t* blob, std::size_t size, bool fix_sizes) {
  if (size < kHeader) return;
  const std::size_t offset = layer_weights_offset(blob, size);
  if (offset != 0) {
    if (fix_sizes) put(blob + 32, size - offset, 8);
    reseal_matrix(blob + offset, size - offset, fix_sizes);
  }
  if (version_of(blob) == 1) {
    put(blob + 40, fnv1a64(blob + kHeader, size - kHeader), 8);
  } else {
    seal_v2(blob, size);
  }
}

// Same shape, granularity, scales (bit for bit) and row bytes; the strides too when asked.
inline bool same_matrix(const trit::PackedMatrixView& a, const trit::PackedMatrixView& b, bool same_stride) {
  if (a.rows() != b.rows() || a.cols() != b.cols() || a.granularity() != b.granularity()) return false;
  if (same_stride && a.row_stride() != b.row_stride()) return false;
  if (std::memcmp(a.scales(), b.scales(), 4 * a.scale_count()) != 0) return false;
  for (std::size_t m = 0; m < a.rows(); ++m) {
    if (std::memcmp(a.row(m), b.row(m), a.row_bytes()) != 0) return false;
  }
  return true;
}

// Every trit of a valid matrix is -1, 0 or +1, and packing the unpacked trits again gives
// the same row bytes (tight rows, same scales).
inline void check_unpack_pack(const trit::PackedMatrixView& w) {
  std::vector<std::int8_t> trits(w.rows() * w.cols());
  must_not_throw(
      [&] {
        trit::unpack_trits(w, trit::matrix(trits.data(), w.rows(), w.cols()));
        for (std::int8_t t : trits) TRIT_FUZZ_CHECK(t >= -1 && t <= 1);
        const trit::PackedMatrix again = trit::pack_trits(trit::matrix<const std::int8_t>(trits.data(), w.rows(), w.cols()),
                                                          w.scales(), w.scale_count(), w.granularity());
        TRIT_FUZZ_CHECK(same_matrix(w, again, false));
      },
      "unpack_trits + pack_trits of a valid matrix");
}

// A matrix that deserialize accepted: it validates, re-serializes to a blob that loads as
// the same matrix (stride included), is byte-for-byte its input when that was version 2
// (the version-2 form is canonical: every header byte is a checked field), and unpacks and
// packs back to the same bytes.
inline void check_loaded_matrix(const trit::PackedMatrix& m, const std::uint8_t* blob, std::size_t size) {
  TRIT_FUZZ_CHECK(!m.empty());
  must_not_throw([&] { trit::validate(m); }, "validate of a loaded matrix");
  std::vector<std::uint8_t> again;
  must_not_throw([&] { again = trit::serialize(m); }, "serialize of a loaded matrix");
  if (version_of(blob) == trit::serialized::kVersion) {
    TRIT_FUZZ_CHECK(again.size() == size && std::memcmp(again.data(), blob, size) == 0);
  }
  must_not_throw(
      [&] {
        const trit::PackedMatrix back = trit::deserialize(again);
        TRIT_FUZZ_CHECK(same_matrix(m, back, true));
      },
      "deserialize of a re-serialized matrix");
  check_unpack_pack(m);
}

}  // namespace trit_fuzz
