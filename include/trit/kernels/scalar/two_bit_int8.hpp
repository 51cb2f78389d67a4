// trit: the scalar path for TwoBit x int8: the reference itself, row by row.
#pragma once

#include <cstddef>
#include <cstdint>

#include "trit/kernels/two_bit_contract.hpp"
#include "trit/reference/two_bit.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace scalar {

inline void two_bit_rows(const detail::TwoBitProblem& p, std::size_t m0, std::size_t m1, std::uint8_t*) noexcept {
  if (p.acc.data != nullptr) {
    ref::gemm_int32_rows(p.w, p.x, p.acc, m0, m1);
  } else {
    ref::gemm_rows(p.w, p.x, p.y, p.bias, m0, m1);
  }
}

inline constexpr detail::TwoBitInt8Kernels kTwoBitKernels{
    Isa::scalar, two_bit_rows, two_bit_rows, detail::no_scratch<detail::TwoBitProblem>, detail::no_scratch<detail::TwoBitProblem>, 1, 1, 0};

}  // namespace scalar

namespace detail {
template <>
struct KernelsFor<TwoBitInt8Product, Isa::scalar> {
  static constexpr const TwoBitInt8Kernels* value = &scalar::kTwoBitKernels;
};
}  // namespace detail
TRIT_END_NAMESPACE
