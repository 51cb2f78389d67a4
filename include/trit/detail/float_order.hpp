// trit: the output epilogue y = ((float)acc / s) * w_scale + bias, evaluated in exactly that
// order on every path, so that every kernel gives bit-identical floats.
#pragma once

#include <cstdint>

#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace detail {

// An empty asm statement that claims to modify v: the compiler must materialise the rounded
// float, so it cannot fuse the multiply and the bias add into one FMA (GCC contracts
// across expressions by default whenever FMA is enabled, e.g. under -march=native).
inline float keep_rounded(float v) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  __asm__("" : "+x"(v));
#elif defined(__GNUC__) && defined(__aarch64__)
  __asm__("" : "+w"(v));
#else
  volatile float materialised = v;
  v = materialised;
#endif
  return v;
}

inline float epilogue(std::int32_t acc, float act_scale, float weight_scale) {
  return keep_rounded((static_cast<float>(acc) / act_scale) * weight_scale);
}

inline float epilogue(std::int32_t acc, float act_scale, float weight_scale, const float* bias,
                      std::size_t m) {
  const float y = epilogue(acc, act_scale, weight_scale);
  return bias != nullptr ? y + bias[m] : y;
}

}  // namespace detail
TRIT_END_NAMESPACE
