// trit: the scalar path for Dense243 x int8: the reference itself, row by row.
#pragma once

#include <cstddef>
#include <cstdint>

#include "trit/kernels/path_kernels.hpp"
#include "trit/kernels/contract.hpp"
#include "trit/reference/reference.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace scalar {

inline void rows(const detail::GemmProblem& p, std::size_t m0, std::size_t m1, std::uint8_t*) noexcept {
  if (p.acc.data != nullptr) {
    ref::gemm_int32_rows(p.w, p.x, p.acc, m0, m1);
  } else {
    ref::gemm_rows(p.w, p.x, p.y, p.bias, m0, m1);
  }
}

inline constexpr detail::Dense243Int8Kernels kKernels{
    Isa::scalar, rows, rows, detail::no_scratch<detail::GemmProblem>, detail::no_scratch<detail::GemmProblem>, 1, 1, 0, 0};

}  // namespace scalar

namespace detail {
template <>
struct KernelsFor<Dense243Int8Product, Isa::scalar> {
  static constexpr const Dense243Int8Kernels* value = &scalar::kKernels;
};
}  // namespace detail
TRIT_END_NAMESPACE
