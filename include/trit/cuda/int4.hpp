// trit::cuda: packed int4 activations, two values per byte, for the int4-activation kernels.
//
// Layout (one token row): value k lives in byte k / 2, in the low nibble when k is even and in
// the high nibble when k is odd, as 4-bit two's complement (-8 = 0x8, -1 = 0xF). With an odd
// K the last byte's high nibble is padding and holds 0. Plain C++: host-side packing only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "trit/error.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace cuda {

// Bytes of one packed row of `cols` int4 values.
constexpr std::size_t int4_row_bytes(std::size_t cols) { return (cols + 1) / 2; }

// Value k of a packed row, sign-extended.
constexpr int unpack_int4(const std::uint8_t* row, std::size_t k) {
  const unsigned byte = row[k / 2];
  const unsigned nibble = (k % 2 == 0) ? (byte & 0x0Fu) : (byte >> 4);
  return static_cast<int>(nibble ^ 0x8u) - 8;
}

// Packed int4 tokens in host memory: token n at bytes.data() + n * stride.
struct PackedInt4 {
  std::size_t tokens = 0;
  std::size_t cols = 0;
  std::size_t stride = 0;
  std::vector<std::uint8_t> bytes;

  const std::uint8_t* row(std::size_t n) const { return bytes.data() + n * stride; }
};

// Packs tokens x cols int8-stored int4 values (token n at values + n * values_stride, each in
// [-8, 7], as trit's int4 quantizers produce) with packed rows `stride` bytes apart (0 means
// int4_row_bytes(cols)). Throws std::invalid_argument for a value outside [-8, 7].
inline PackedInt4 pack_int4(const std::int8_t* values, std::size_t tokens, std::size_t cols,
                            std::size_t values_stride, std::size_t stride = 0) {
  constexpr const char* fn = "cuda::pack_int4";
  trit::detail::require(values != nullptr || tokens * cols == 0, fn, "values is null");
  trit::detail::require(values_stride >= cols, fn, "values_stride ", values_stride, " is smaller than cols ",
                        cols);
  PackedInt4 packed;
  packed.tokens = tokens;
  packed.cols = cols;
  packed.stride = stride == 0 ? int4_row_bytes(cols) : stride;
  trit::detail::require(packed.stride >= int4_row_bytes(cols), fn, "stride ", packed.stride,
                        " is smaller than the ", int4_row_bytes(cols), " bytes of a packed row");
  packed.bytes.assign(tokens * packed.stride, 0);
  for (std::size_t n = 0; n < tokens; ++n) {
    const std::int8_t* in = values + n * values_stride;
    std::uint8_t* out = packed.bytes.data() + n * packed.stride;
    for (std::size_t k = 0; k < cols; ++k) {
      const int v = in[k];
      trit::detail::require(v >= -8 && v <= 7, fn, "value (", n, ", ", k, ") = ", v, " is outside [-8, 7]");
      const unsigned nibble = static_cast<unsigned>(v) & 0x0Fu;
      out[k / 2] = static_cast<std::uint8_t>(out[k / 2] | (k % 2 == 0 ? nibble : nibble << 4));
    }
  }
  return packed;
}

}  // namespace cuda
TRIT_END_NAMESPACE
