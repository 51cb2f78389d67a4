// trit: QuantizedActivations, int8 values with one scale per token, and the quantizer that
// makes them from floats (docs/SEMANTICS.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "trit/detail/aligned_buffer.hpp"
#include "trit/error.hpp"
#include "trit/quantize/quantize.hpp"
#include "trit/version.hpp"
#include "trit/views/activations.hpp"
#include "trit/views/matrix_ref.hpp"

TRIT_BEGIN_NAMESPACE

// Owning quantized activations. Rows are 64-byte aligned and zero-padded to a multiple of
// 64 values, so kernels may read whole vectors past cols.
class QuantizedActivations {
 public:
  static constexpr std::size_t kRowAlignment = 64;

  QuantizedActivations() = default;
  QuantizedActivations(std::size_t tokens, std::size_t cols, ActivationScheme scheme)
      : tokens_(tokens),
        cols_(cols),
        stride_((cols + kRowAlignment - 1) / kRowAlignment * kRowAlignment),
        scheme_(scheme),
        values_(tokens * stride_),
        scales_(tokens, 1.0f) {}

  std::size_t tokens() const { return tokens_; }
  std::size_t cols() const { return cols_; }
  std::size_t stride() const { return stride_; }
  ActivationScheme scheme() const { return scheme_; }
  const std::int8_t* row(std::size_t n) const { return values_.data() + n * stride_; }
  std::int8_t* row(std::size_t n) { return values_.data() + n * stride_; }
  float scale(std::size_t n) const { return scales_[n]; }
  float& scale(std::size_t n) { return scales_[n]; }
  const std::vector<float>& scales() const { return scales_; }

  ActivationsView view() const { return ActivationsView{values_.data(), tokens_, cols_, stride_, scales_.data()}; }
  operator ActivationsView() const { return view(); }

 private:
  std::size_t tokens_ = 0;
  std::size_t cols_ = 0;
  std::size_t stride_ = 0;
  ActivationScheme scheme_ = ActivationScheme::int8_absmax;
  detail::AlignedBuffer<std::int8_t> values_;
  std::vector<float> scales_;
};

// Quantizes each row (token) of x with `scheme`; topk_ratio is used by int8_topk only and
// must lie in (0, 1]. Throws std::invalid_argument for an empty x, a bad stride, a null
// pointer, a non-finite value or a ratio outside (0, 1].
inline QuantizedActivations quantize_activations(MatrixRef<const float> x,
                                                 ActivationScheme scheme = ActivationScheme::int8_absmax,
                                                 double topk_ratio = 0.5) {
  constexpr const char* fn = "quantize_activations";
  detail::check_view(x, fn, "x");
  detail::require(!x.empty(), fn, "x is empty (", x.rows, "x", x.cols, ")");
  detail::require(topk_ratio > 0.0 && topk_ratio <= 1.0, fn, "topk_ratio ", topk_ratio,
                  " is outside (0, 1]");
  detail::check_finite(x, fn, "x");

  QuantizedActivations q(x.rows, x.cols, scheme);
  std::vector<std::uint32_t> order;
  for (std::size_t n = 0; n < x.rows; ++n) {
    switch (scheme) {
      case ActivationScheme::int8_absmax: q.scale(n) = quantize_token_int8_absmax(x.row(n), x.cols, q.row(n)); break;
      case ActivationScheme::int4_absmax: q.scale(n) = quantize_token_int4_absmax(x.row(n), x.cols, q.row(n)); break;
      case ActivationScheme::int4_absmean: q.scale(n) = quantize_token_int4_absmean(x.row(n), x.cols, q.row(n)); break;
      case ActivationScheme::int8_topk:
        q.scale(n) = quantize_token_int8_topk(x.row(n), x.cols, topk_ratio, q.row(n), order);
        break;
      default: detail::throw_invalid_argument(fn, "scheme is not an ActivationScheme value");
    }
  }
  return q;
}

TRIT_END_NAMESPACE
