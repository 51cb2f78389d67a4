// trit: IEEE binary16 and bfloat16 conversions, bit-exact (checkpoint scales and tensors come
// in both).
#pragma once

#include <cstdint>
#include <cstring>

#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace detail {

// IEEE binary16 -> float (exact).
inline float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exponent = (h >> 10) & 0x1Fu;
  std::uint32_t mantissa = h & 0x3FFu;
  std::uint32_t bits;
  if (exponent == 0x1F) {
    bits = sign | 0x7F800000u | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {
    // Subnormal: shift until the implicit bit appears.
    exponent = 113;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << 23) | ((mantissa & 0x3FFu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// float -> binary16, round to nearest even (what numpy's astype(float16) and ggml do).
inline std::uint16_t float_to_half(float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  const std::uint32_t abs_bits = bits & 0x7FFFFFFFu;
  if (abs_bits >= 0x7F800000u) return static_cast<std::uint16_t>(sign | 0x7C00u | (abs_bits > 0x7F800000u ? 0x200u : 0u));
  if (abs_bits >= 0x477FF000u) return static_cast<std::uint16_t>(sign | 0x7C00u);  // rounds to infinity
  if (abs_bits < 0x38800000u) {  // subnormal or zero in binary16
    if (abs_bits < 0x33000000u) return sign;  // below half the smallest subnormal
    const std::uint32_t exponent = abs_bits >> 23;
    const std::uint32_t mantissa = (abs_bits & 0x7FFFFFu) | 0x800000u;
    const std::uint32_t shift = 126 - exponent;  // 14 + (113 - exponent) - 1 ... gives 13..24
    const std::uint32_t value = mantissa >> shift;
    const std::uint32_t rest = mantissa & ((1u << shift) - 1u);
    const std::uint32_t half_way = 1u << (shift - 1);
    std::uint32_t rounded = value + ((rest > half_way || (rest == half_way && (value & 1u))) ? 1u : 0u);
    return static_cast<std::uint16_t>(sign | rounded);
  }
  const std::uint32_t value = ((abs_bits >> 13) - (112u << 10));
  const std::uint32_t rest = abs_bits & 0x1FFFu;
  const std::uint32_t rounded = value + ((rest > 0x1000u || (rest == 0x1000u && (value & 1u))) ? 1u : 0u);
  return static_cast<std::uint16_t>(sign | rounded);
}

inline float bf16_to_float(std::uint16_t b) {
  const std::uint32_t bits = static_cast<std::uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

}  // namespace detail
TRIT_END_NAMESPACE
