// trit: PackedInt4Activations, int4 values two per byte with one scale per token, and the
// quantizers and packers that make them (layout: views/int4_activations.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "trit/detail/aligned_buffer.hpp"
#include "trit/error.hpp"
#include "trit/quantize/activations.hpp"
#include "trit/quantize/quantize.hpp"
#include "trit/version.hpp"
#include "trit/views/activations.hpp"
#include "trit/views/int4_activations.hpp"
#include "trit/views/matrix_ref.hpp"

TRIT_BEGIN_NAMESPACE

// Owning packed int4 activations. Rows are 64-byte aligned and zero-padded to a multiple of
// 64 bytes (128 values).
class PackedInt4Activations {
 public:
  static constexpr std::size_t kRowAlignment = 64;

  PackedInt4Activations() = default;
  PackedInt4Activations(std::size_t tokens, std::size_t cols, ActivationScheme scheme)
      : tokens_(tokens),
        cols_(cols),
        stride_(((cols + 1) / 2 + kRowAlignment - 1) / kRowAlignment * kRowAlignment),
        scheme_(scheme),
        bytes_(tokens * stride_),
        scales_(tokens, 1.0f) {}

  std::size_t tokens() const { return tokens_; }
  std::size_t cols() const { return cols_; }
  std::size_t stride() const { return stride_; }
  ActivationScheme scheme() const { return scheme_; }
  const std::uint8_t* row(std::size_t n) const { return bytes_.data() + n * stride_; }
  std::uint8_t* row(std::size_t n) { return bytes_.data() + n * stride_; }
  float scale(std::size_t n) const { return scales_[n]; }
  float& scale(std::size_t n) { return scales_[n]; }
  const std::vector<float>& scales() const { return scales_; }
  // Value k of token n, in [-8, 7].
  int value(std::size_t n, std::size_t k) const { return int4::value_at(row(n), k); }

  Int4ActivationsView view() const {
    return Int4ActivationsView{bytes_.data(), tokens_, cols_, stride_, scales_.data()};
  }
  operator Int4ActivationsView() const { return view(); }

 private:
  std::size_t tokens_ = 0;
  std::size_t cols_ = 0;
  std::size_t stride_ = 0;
  ActivationScheme scheme_ = ActivationScheme::int4_absmean;
  detail::AlignedBuffer<std::uint8_t> bytes_;
  std::vector<float> scales_;
};

namespace detail {

inline bool is_int4_scheme(ActivationScheme scheme) {
  return scheme == ActivationScheme::int4_absmax || scheme == ActivationScheme::int4_absmean;
}

// One token with an int4 scheme into q (cols int8 values in [-8, 7]); returns the scale.
inline float quantize_token_int4(ActivationScheme scheme, const float* x, std::size_t cols, std::int8_t* q) {
  return scheme == ActivationScheme::int4_absmax ? quantize_token_int4_absmax(x, cols, q)
                                                 : quantize_token_int4_absmean(x, cols, q);
}

}  // namespace detail

// Quantizes each row (token) of x with an int4 scheme (int4_absmax or int4_absmean, exactly
// as quantize_activations does) and packs the values. Throws std::invalid_argument for an
// empty x, a bad stride, a null pointer, a non-finite value or a scheme that is not int4.
inline PackedInt4Activations quantize_activations_int4(MatrixRef<const float> x,
                                                       ActivationScheme scheme = ActivationScheme::int4_absmean) {
  constexpr const char* fn = "quantize_activations_int4";
  detail::check_view(x, fn, "x");
  detail::require(!x.empty(), fn, "x is empty (", x.rows, "x", x.cols, ")");
  detail::require(detail::is_int4_scheme(scheme), fn, "scheme ", scheme_name(scheme), " is not an int4 scheme");
  detail::check_finite(x, fn, "x");

  PackedInt4Activations packed(x.rows, x.cols, scheme);
  std::vector<std::int8_t> values(x.cols);
  for (std::size_t n = 0; n < x.rows; ++n) {
    packed.scale(n) = detail::quantize_token_int4(scheme, x.row(n), x.cols, values.data());
    int4::pack_row(values.data(), x.cols, packed.row(n));
  }
  return packed;
}

// Packs activations already quantized with an int4 scheme (values stored one per int8, as
// quantize_activations produces them). Throws std::invalid_argument for a value outside
// [-8, 7].
inline PackedInt4Activations pack_int4(const ActivationsView& q, ActivationScheme scheme = ActivationScheme::int4_absmean) {
  constexpr const char* fn = "pack_int4";
  detail::require(q.tokens > 0 && q.cols > 0, fn, "q is empty (", q.tokens, "x", q.cols, ")");
  detail::require(q.data != nullptr && q.scales != nullptr, fn, "q has null data or scales");
  detail::require(q.stride >= q.cols, fn, "q.stride ", q.stride, " is smaller than q.cols ", q.cols);
  detail::check_token_scales(q.scales, q.tokens, fn);
  PackedInt4Activations packed(q.tokens, q.cols, scheme);
  for (std::size_t n = 0; n < q.tokens; ++n) {
    for (std::size_t k = 0; k < q.cols; ++k) {
      const int v = q.row(n)[k];
      detail::require(v >= -8 && v <= 7, fn, "q(", n, ", ", k, ") = ", v, " is outside [-8, 7]");
    }
    int4::pack_row(q.row(n), q.cols, packed.row(n));
    packed.scale(n) = q.scales[n];
  }
  return packed;
}

inline PackedInt4Activations pack_int4(const QuantizedActivations& q) {
  detail::require(detail::is_int4_scheme(q.scheme()), "pack_int4", "q was quantized with ", scheme_name(q.scheme()),
                  ", not an int4 scheme");
  return pack_int4(q.view(), q.scheme());
}

TRIT_END_NAMESPACE
