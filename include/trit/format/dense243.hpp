// trit: the Dense243 format, version 1: how 5 trits fit in a byte and how a row of K trits
// is laid out in bytes. docs/FORMAT.md is the normative description; this header is its code.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

namespace dense243 {

inline constexpr int kFormatVersion = 1;
inline constexpr std::size_t kTritsPerByte = 5;
// A full group is 64 bytes = 320 trits. Byte j of a group holds trits j, j+64, j+128, j+192
// and j+256, so digit i of a 64-byte vector lines up with 64 *consecutive* activations: one
// contiguous activation load per digit for AVX-512, two for AVX2, four for NEON.
inline constexpr std::size_t kGroupBytes = 64;
inline constexpr std::size_t kGroupTrits = kGroupBytes * kTritsPerByte;
// Owning packed buffers keep this many readable (zero) bytes after the last row, so a
// kernel may load a whole group at a row's tail without reading out of bounds.
inline constexpr std::size_t kTailSlackBytes = kGroupBytes;
inline constexpr std::size_t kAlignment = 64;
inline constexpr int kValidByteCount = 243;

// --- One byte: five trits ------------------------------------------------------------------
// Trits t0..t4 (t0 first) become digits d = t + 1 in {0,1,2} and the base-3 value
// v = d0*81 + d1*27 + d2*9 + d3*3 + d4 in [0, 242]. The byte stores v in fixed point,
// b = ceil(v * 256 / 243), so that digit i is the integer part of 3 * x_i / 256 where
// x_0 = b and x_{i+1} = 3 * x_i mod 256: byte-wise adds and compares, no division.

constexpr std::uint8_t byte_from_value(int v) {
  return static_cast<std::uint8_t>((v * 256 + 242) / 243);
}

constexpr std::uint8_t encode(int t0, int t1, int t2, int t3, int t4) {
  return byte_from_value((t0 + 1) * 81 + (t1 + 1) * 27 + (t2 + 1) * 9 + (t3 + 1) * 3 + (t4 + 1));
}

// Digit i (0..4) of byte b, as the trit d - 1 in {-1, 0, +1}. Defined for every byte; only
// the 243 valid bytes round-trip through encode().
constexpr int decode_trit(std::uint8_t b, int i) {
  unsigned x = b;
  for (int step = 0; step < i; ++step) x = (x * 3u) & 0xFFu;
  return static_cast<int>((x * 3u) >> 8) - 1;
}

namespace detail {
constexpr std::array<bool, 256> make_valid_byte_table() {
  std::array<bool, 256> valid{};
  for (int v = 0; v < 243; ++v) valid[byte_from_value(v)] = true;
  return valid;
}
inline constexpr std::array<bool, 256> kValidByte = make_valid_byte_table();
}  // namespace detail

// True for the 243 bytes that encode() can produce; the other 13 are rejected by every
// loader and validator.
constexpr bool is_valid_byte(std::uint8_t b) { return detail::kValidByte[b]; }

// The byte for five zero trits: what padding trits hold.
inline constexpr std::uint8_t kZeroByte = encode(0, 0, 0, 0, 0);

// --- One row: K trits ----------------------------------------------------------------------
// A row is floor(K / 320) full groups followed, if K % 320 = r > 0, by one tail group of
// g = ceil(r / 5) bytes. In a group of g bytes, byte j digit i holds trit j + g * i of the
// group (positions >= the group's trit count are padding and hold 0).

struct RowLayout {
  std::size_t cols = 0;         // K, trits per row
  std::size_t full_groups = 0;  // groups of kGroupBytes bytes
  std::size_t tail_trits = 0;   // r = K % kGroupTrits
  std::size_t tail_bytes = 0;   // g = ceil(r / 5), 0 when r = 0
  std::size_t bytes = 0;        // full_groups * kGroupBytes + tail_bytes
};

constexpr RowLayout row_layout(std::size_t cols) {
  RowLayout layout;
  layout.cols = cols;
  layout.full_groups = cols / kGroupTrits;
  layout.tail_trits = cols % kGroupTrits;
  layout.tail_bytes = (layout.tail_trits + kTritsPerByte - 1) / kTritsPerByte;
  layout.bytes = layout.full_groups * kGroupBytes + layout.tail_bytes;
  return layout;
}

// Where trit k of a row lives: byte offset within the row and digit index within the byte.
struct TritPosition {
  std::size_t byte = 0;
  int digit = 0;
};

constexpr TritPosition locate(const RowLayout& layout, std::size_t k) {
  const std::size_t group = k / kGroupTrits;
  const std::size_t in_group = k % kGroupTrits;
  const std::size_t group_bytes = group < layout.full_groups ? kGroupBytes : layout.tail_bytes;
  return TritPosition{group * kGroupBytes + in_group % group_bytes,
                      static_cast<int>(in_group / group_bytes)};
}

}  // namespace dense243

TRIT_END_NAMESPACE
