// trit::cuda: the layout of weights in device memory. Plain C++ (no CUDA headers), so host
// code and the CPU tests build and check it without a GPU.
//
// A device row is whole 64-byte groups: ceil(K / 320) of them. Full groups are the Dense243
// bytes unchanged. The last, short group of a Dense243 row (g bytes, byte j digit i holding
// trit j + g i) is re-encoded at upload as a full group (byte j digit i holding trit
// 64 i + j, zero trits past K), so every group of every row has one layout and the kernels
// need no tail code: past K they meet zero trits, and the activations they stage there are
// zero too. The cost is at most 63 bytes per row of extra traffic (about 2% for K = 6912).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "trit/format/dense243.hpp"
#include "trit/error.hpp"
#include "trit/format/packed_matrix.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace cuda {

// 64-byte groups per device row of `cols` trits.
constexpr std::size_t device_groups(std::size_t cols) {
  return (cols + dense243::kGroupTrits - 1) / dense243::kGroupTrits;
}

// Bytes per device row: whole groups, so also a multiple of 16 (aligned vector loads).
constexpr std::size_t device_row_stride(std::size_t cols) { return device_groups(cols) * dense243::kGroupBytes; }

namespace detail {

inline int packed_trit(const PackedMatrixView& w, std::size_t m, std::size_t k) {
  const dense243::TritPosition at = dense243::locate(dense243::row_layout(w.cols()), k);
  return dense243::decode_trit(w.row(m)[at.byte], at.digit);
}

}  // namespace detail

// The device bytes of `w`: rows of device_row_stride(cols) bytes, as described above.
inline std::vector<std::uint8_t> device_layout(const PackedMatrixView& w) {
  const dense243::RowLayout layout = dense243::row_layout(w.cols());
  const std::size_t stride = device_row_stride(w.cols());
  std::vector<std::uint8_t> bytes(w.rows() * stride, dense243::kZeroByte);
  const std::size_t full_bytes = layout.full_groups * dense243::kGroupBytes;
  const std::size_t tail_k0 = layout.full_groups * dense243::kGroupTrits;
  for (std::size_t m = 0; m < w.rows(); ++m) {
    std::uint8_t* out = bytes.data() + m * stride;
    const std::uint8_t* in = w.row(m);
    for (std::size_t j = 0; j < full_bytes; ++j) out[j] = in[j];
    if (layout.tail_trits == 0) continue;
    for (std::size_t j = 0; j < dense243::kGroupBytes; ++j) {
      int t[5];
      for (std::size_t i = 0; i < 5; ++i) {
        const std::size_t k = tail_k0 + dense243::kGroupBytes * i + j;
        t[i] = k < w.cols() ? detail::packed_trit(w, m, k) : 0;
      }
      out[full_bytes + j] = dense243::encode(t[0], t[1], t[2], t[3], t[4]);
    }
  }
  return bytes;
}

// Trit k of device row `row` (device_layout's inverse, one trit at a time).
inline int device_trit(const std::uint8_t* row, std::size_t k) {
  const std::size_t group = k / dense243::kGroupTrits;
  const std::size_t in_group = k % dense243::kGroupTrits;
  return dense243::decode_trit(row[group * dense243::kGroupBytes + in_group % dense243::kGroupBytes],
                               static_cast<int>(in_group / dense243::kGroupBytes));
}

// The Dense243 rows back from device bytes (rows of device_row_stride(cols)); scales are
// left at 1 for the caller to set.
inline PackedMatrix packed_from_device_layout(const std::uint8_t* bytes, std::size_t rows, std::size_t cols,
                                              ScaleGranularity granularity) {
  PackedMatrix host(rows, cols, granularity);
  const dense243::RowLayout layout = dense243::row_layout(cols);
  const std::size_t stride = device_row_stride(cols);
  const std::size_t full_bytes = layout.full_groups * dense243::kGroupBytes;
  const std::size_t tail_k0 = layout.full_groups * dense243::kGroupTrits;
  for (std::size_t m = 0; m < rows; ++m) {
    const std::uint8_t* in = bytes + m * stride;
    std::uint8_t* out = host.data() + m * host.row_stride();
    for (std::size_t j = 0; j < full_bytes; ++j) out[j] = in[j];
    for (std::size_t j = 0; j < layout.tail_bytes; ++j) {
      int t[5];
      for (std::size_t i = 0; i < 5; ++i) {
        const std::size_t position = j + layout.tail_bytes * i;
        t[i] = position < layout.tail_trits ? device_trit(in, tail_k0 + position) : 0;
      }
      out[full_bytes + j] = dense243::encode(t[0], t[1], t[2], t[3], t[4]);
    }
  }
  return host;
}

}  // namespace cuda
TRIT_END_NAMESPACE
