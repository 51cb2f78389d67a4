// The float loops around the ternary products (attention, norms): dot products and y += a*x.
// Compilers do not vectorize a float sum without -ffast-math (it would reorder the additions),
// so the dot product is written for AVX2 with eight lanes and two accumulators; the plain loop
// serves other CPUs.
#pragma once

#include <cstddef>

#include "dense_matrix.hpp"  // BITNET_X86_KERNELS, has_avx2_fma_f16c

namespace bitnet {
namespace detail {

inline float dot_scalar(const float* a, const float* b, std::size_t n) {
  float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  std::size_t k = 0;
  for (; k + 4 <= n; k += 4) {
    for (std::size_t i = 0; i < 4; ++i) acc[i] += a[k + i] * b[k + i];
  }
  for (; k < n; ++k) acc[0] += a[k] * b[k];
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

#if BITNET_X86_KERNELS
__attribute__((target("avx2,fma"))) inline float dot_avx2(const float* a, const float* b, std::size_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  std::size_t k = 0;
  for (; k + 16 <= n; k += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 8), _mm256_loadu_ps(b + k + 8), acc1);
  }
  float total = sum8(_mm256_add_ps(acc0, acc1));
  for (; k < n; ++k) total += a[k] * b[k];
  return total;
}

__attribute__((target("avx2,fma"))) inline void axpy_avx2(float a, const float* x, float* y, std::size_t n) {
  const __m256 av = _mm256_set1_ps(a);
  std::size_t k = 0;
  for (; k + 8 <= n; k += 8) _mm256_storeu_ps(y + k, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + k), _mm256_loadu_ps(y + k)));
  for (; k < n; ++k) y[k] += a * x[k];
}
#endif

}  // namespace detail

inline float dot(const float* a, const float* b, std::size_t n) {
#if BITNET_X86_KERNELS
  if (detail::has_avx2_fma_f16c()) return detail::dot_avx2(a, b, n);
#endif
  return detail::dot_scalar(a, b, n);
}

// y += a * x
inline void axpy(float a, const float* x, float* y, std::size_t n) {
#if BITNET_X86_KERNELS
  if (detail::has_avx2_fma_f16c()) return detail::axpy_avx2(a, x, y, n);
#endif
  for (std::size_t k = 0; k < n; ++k) y[k] += a * x[k];
}

}  // namespace bitnet
