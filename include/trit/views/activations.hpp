// trit: ActivationsView, the int8 activations (one scale per token) every kernel reads.
#pragma once

#include <cstddef>
#include <cstdint>

#include "trit/error.hpp"
#include "trit/views/matrix_ref.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

// What kernels read: tokens x cols int8 values (row n at data + n * stride) and one scale per
// token (dequantized x = q / scale). Values of the int4 schemes are stored one per int8.
struct ActivationsView {
  const std::int8_t* data = nullptr;
  std::size_t tokens = 0;
  std::size_t cols = 0;
  std::size_t stride = 0;
  const float* scales = nullptr;

  const std::int8_t* row(std::size_t n) const { return data + n * stride; }
};

namespace detail {

inline void check_activations(const ActivationsView& x, std::size_t cols, const char* function) {
  require(x.tokens > 0, function, "x has no tokens");
  require(x.cols == cols, function, "x has ", x.cols, " columns but the weights have K = ", cols);
  require(x.stride >= x.cols, function, "x.stride ", x.stride, " is smaller than x.cols ", x.cols);
  require(x.data != nullptr && x.scales != nullptr, function, "x has null data or scales");
  check_token_scales(x.scales, x.tokens, function);
}

}  // namespace detail

TRIT_END_NAMESPACE
