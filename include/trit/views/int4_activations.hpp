// trit: the view of packed int4 activations (two values per byte) the int4 kernels read.
//
//
// Nibble order: value k of a token lives in byte k / 2 of the token's row, in the low nibble
// when k is even and in the high nibble when k is odd, as a 4-bit two's-complement number
// (-8 = 0x8, -1 = 0xF, 7 = 0x7). Nibbles past the last value of a row are 0.
#pragma once


#include <cstddef>
#include <cstdint>

#include "trit/error.hpp"
#include "trit/views/matrix_ref.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

namespace int4 {

// The two's-complement nibble of v in [-8, 7].
constexpr std::uint8_t to_nibble(int v) { return static_cast<std::uint8_t>(v & 0xF); }

// The value in [-8, 7] that a nibble holds.
constexpr int from_nibble(std::uint8_t nibble) { return static_cast<int>(nibble & 0xF) - ((nibble & 0x8) << 1); }

// Value k of a packed row.
inline int value_at(const std::uint8_t* row, std::size_t k) {
  return from_nibble(static_cast<std::uint8_t>(row[k / 2] >> (4 * (k % 2))));
}

// Packs cols values in [-8, 7] (not checked) into (cols + 1) / 2 bytes.
inline void pack_row(const std::int8_t* values, std::size_t cols, std::uint8_t* out) {
  std::size_t k = 0;
  for (; k + 1 < cols; k += 2) out[k / 2] = static_cast<std::uint8_t>(to_nibble(values[k]) | (to_nibble(values[k + 1]) << 4));
  if (k < cols) out[k / 2] = to_nibble(values[k]);
}

// Unpacks cols values of a packed row into int8.
inline void unpack_row(const std::uint8_t* row, std::size_t cols, std::int8_t* out) {
  std::size_t k = 0;
  for (; k + 1 < cols; k += 2) {
    const std::uint8_t b = row[k / 2];
    out[k] = static_cast<std::int8_t>(from_nibble(b));
    out[k + 1] = static_cast<std::int8_t>(from_nibble(static_cast<std::uint8_t>(b >> 4)));
  }
  if (k < cols) out[k] = static_cast<std::int8_t>(from_nibble(row[k / 2]));
}

}  // namespace int4

// What the int4 kernels read: tokens x cols packed values (row n at data + n * stride bytes)
// and one scale per token (dequantized x = value / scale).
struct Int4ActivationsView {
  const std::uint8_t* data = nullptr;
  std::size_t tokens = 0;
  std::size_t cols = 0;
  std::size_t stride = 0;  // bytes between rows, >= (cols + 1) / 2
  const float* scales = nullptr;

  const std::uint8_t* row(std::size_t n) const { return data + n * stride; }
  int value(std::size_t n, std::size_t k) const { return int4::value_at(row(n), k); }
};

namespace detail {

inline void check_int4_activations(const Int4ActivationsView& x, std::size_t cols, const char* function) {
  require(x.tokens > 0, function, "x has no tokens");
  require(x.cols == cols, function, "x has ", x.cols, " columns but the weights have K = ", cols);
  require(x.stride >= (x.cols + 1) / 2, function, "x.stride ", x.stride, " bytes is smaller than the ",
          (x.cols + 1) / 2, " bytes of a row");
  require(x.data != nullptr && x.scales != nullptr, function, "x has null data or scales");
  check_token_scales(x.scales, x.tokens, function);
}

}  // namespace detail

TRIT_END_NAMESPACE
