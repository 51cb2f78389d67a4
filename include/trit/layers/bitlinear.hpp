// trit: BitLinear, a ternary linear layer with float inputs and outputs (BitNet b1.58 and
// BitNet a4.8). docs/LAYERS.md is the guide; this header is the reference.
//
//   BitLinear layer = BitLinear::from_float(trit::matrix<const float>(w, M, K));
//   layer.forward(trit::matrix<const float>(x, N, K), trit::matrix(y, N, M));
//
// forward quantizes each token (row of X) with the layer's activation scheme, runs the
// ternary product on the best kernel path, and writes
//
//   Y[n][m] = ((float)acc[n][m] / s[n]) * w_scale[m] + bias[m],
//   acc[n][m] = sum_k Wq[m][k] * q[n][k]   (exact int32)
//
// with q, s exactly as quantize_activations computes them (docs/SEMANTICS.md),
// so Y is bit-identical to trit::ref::gemm_rows on quantize_activations(X). The activation
// schemes:
//   int8_absmax   (default) BitNet b1.58: s = 127 / max|x|, q in [-128, 127]
//   int4_absmax   s = 7 / max|x|, q in [-8, 7]
//   int4_absmean  BitNet a4.8: s = sqrt(7) / mean|x|, q in [-8, 7]
//   int8_topk     BitNet a4.8: keep the ceil(ratio * K) largest |x|, then int8 absmax
// With TRIT_ENABLE_INT4 the int4 schemes run the int4 lookup-table kernels
// (trit/int4/gemm.hpp) on weights kept in their layout (LutWeights); without it they store
// the int4 values one per int8 and run the int8 kernels. Both give the same floats.
//
// forward is const and thread-safe: any number of threads may call it on one layer at once.
// Its scratch memory is per thread and kept between calls, so a thread allocates only when a
// call needs more scratch than any earlier call on that thread.
#pragma once

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "trit/views/activations.hpp"
#include "trit/detail/aligned_buffer.hpp"
#include "trit/error.hpp"
#include "trit/driver/gemm.hpp"
#include "trit/views/matrix_ref.hpp"
#include "trit/format/pack.hpp"
#include "trit/format/packed_matrix.hpp"
#include "trit/format/two_bit.hpp"
#include "trit/quantize/quantize.hpp"
#include "trit/quantize/activations.hpp"
#include "trit/quantize/int4_activations.hpp"
#include "trit/format/serialize.hpp"
#include "trit/kernels/token_quantizers.hpp"
#include "trit/version.hpp"

#include "trit/views/int4_activations.hpp"
#include "trit/driver/gemm_int4.hpp"
#include "trit/format/lut_weights.hpp"
#include "trit/format/blob.hpp"
#include "trit/detail/file_io.hpp"

TRIT_BEGIN_NAMESPACE
namespace detail {

// Per-thread buffers of forward, grown on demand and kept.
struct LayerScratch {
  AlignedBuffer<std::int8_t> values;
  std::vector<float> scales;
  TopkScratch topk;
};

inline LayerScratch& layer_scratch() {
  thread_local LayerScratch scratch;
  return scratch;
}

// ---- Serialized form of a layer (docs/LAYERS.md) ---------------------------------------------
namespace layer_blob {
inline constexpr char kMagic[8] = {'T', 'R', 'I', 'T', 'B', 'L', 'I', 'N'};
// Version 3: a weight layout field (0 Dense243, 1 TwoBit) at byte 44, and the weights blob in
// that layout. Version 2: the checksum covers header and payload and the weights blob starts
// 64-byte aligned. Versions 1 and 2 (always Dense243) still load.
inline constexpr std::uint32_t kVersion = 3;
inline constexpr std::size_t kHeaderBytes = kBlobHeaderBytes;
}  // namespace layer_blob

}  // namespace detail

// A ternary linear layer: M outputs, K inputs, weights in Dense243 or TwoBit (layout(), chosen
// at construction; with_layout converts) with one scale per tensor or per output row, an
// optional bias, and the activation scheme its inputs are quantized with. forward gives
// bit-identical results in either layout. The weights are owned (a PackedMatrix or TwoBitMatrix
// moved in) or borrowed (a PackedMatrixView or TwoBitMatrixView, e.g. of a mapped model file,
// which must outlive the layer). An int4 scheme keeps the weights in
// the int4 kernels' layout (LutWeights) as well, whatever TRIT_ENABLE_INT4 says: the macro
// only decides whether the SIMD int4 kernels are compiled, never a type's layout. Copies
// are deep for owned weights and share borrowed ones; moves are cheap. A default-constructed
// layer is empty.
class BitLinear {
 public:
  BitLinear() = default;

  // Takes packed weights as they are. bias is empty or holds M finite values.
  explicit BitLinear(PackedMatrix weights, std::vector<float> bias = {}, ActivationConfig activations = {})
      : rows_(weights.rows()), cols_(weights.cols()), bias_(std::move(bias)), config_(activations) {
    check_layer("BitLinear", !weights.empty());
    owned_ = std::move(weights);
    if (detail::is_int4_scheme(config_.scheme)) {
      lut_ = LutWeights(owned_.view());
      owned_ = PackedMatrix();  // the int4 kernels read lut_ only; packed_weights() rebuilds
    }
  }

  // Borrows weights that live elsewhere (a mapped model file): nothing is copied for the int8
  // schemes. The bytes and scales must outlive the layer and every copy of it.
  explicit BitLinear(const PackedMatrixView& weights, std::vector<float> bias = {}, ActivationConfig activations = {})
      : rows_(weights.rows()), cols_(weights.cols()), borrowed_(weights), bias_(std::move(bias)), config_(activations) {
    check_layer("BitLinear", !weights.empty());
    if (detail::is_int4_scheme(config_.scheme)) lut_ = LutWeights(weights);
  }

  // The same on TwoBit weights (layout() == WeightLayout::two_bit). An int4 scheme keeps the
  // weights in the int4 kernels' layout, as above, and still reports and serializes two_bit.
  explicit BitLinear(TwoBitMatrix weights, std::vector<float> bias = {}, ActivationConfig activations = {})
      : rows_(weights.rows()), cols_(weights.cols()), layout_(WeightLayout::two_bit), bias_(std::move(bias)),
        config_(activations) {
    check_layer("BitLinear", !weights.empty());
    if (detail::is_int4_scheme(config_.scheme)) {
      lut_ = LutWeights(to_dense243(weights).view());
    } else {
      owned_two_bit_ = std::move(weights);
    }
  }

  explicit BitLinear(const TwoBitMatrixView& weights, std::vector<float> bias = {}, ActivationConfig activations = {})
      : rows_(weights.rows()), cols_(weights.cols()), layout_(WeightLayout::two_bit), borrowed_two_bit_(weights),
        bias_(std::move(bias)), config_(activations) {
    check_layer("BitLinear", !weights.empty());
    if (detail::is_int4_scheme(config_.scheme)) lut_ = LutWeights(to_dense243(weights).view());
  }

  // Quantizes float weights w (M x K) with BitNet's absmean, one scale per tensor (BitNet's
  // choice) or one per output row. bias is null or points to M floats.
  // `layout` is the layout the weights are kept in (same results, different speed:
  // recommend_layout says which suits a matrix).
  static BitLinear from_float(MatrixRef<const float> w, ScaleGranularity granularity = ScaleGranularity::per_tensor,
                              const float* bias = nullptr, ActivationConfig activations = {},
                              WeightLayout layout = WeightLayout::dense243) {
    PackedMatrix packed = pack_weights(w, granularity);
    if (layout == WeightLayout::two_bit) return BitLinear(to_two_bit(packed), bias_vector(bias, w.rows), activations);
    return BitLinear(std::move(packed), bias_vector(bias, w.rows), activations);
  }

  // Already-ternary int8 weights (-1, 0, +1, e.g. from a checkpoint) with their scales: 1 for
  // per_tensor, M for per_row. No re-quantization. bias is null or points to M floats.
  static BitLinear from_ternary(MatrixRef<const std::int8_t> trits, const float* scales, std::size_t scale_count,
                                ScaleGranularity granularity = ScaleGranularity::per_tensor,
                                const float* bias = nullptr, ActivationConfig activations = {},
                                WeightLayout layout = WeightLayout::dense243) {
    if (layout == WeightLayout::two_bit) {
      return BitLinear(pack_trits_two_bit(trits, scales, scale_count, granularity), bias_vector(bias, trits.rows),
                       activations);
    }
    return BitLinear(pack_trits(trits, scales, scale_count, granularity), bias_vector(bias, trits.rows), activations);
  }

  // The layout the weights are kept in: Dense243 unless the layer was built from TwoBit
  // weights or with WeightLayout::two_bit.
  WeightLayout layout() const { return layout_; }

  // The same layer with its weights in `layout` (same trits, scales, bias and scheme, so the
  // same forward results): a copy of this layer if it already has that layout (borrowed
  // weights stay borrowed), else a layer owning converted weights.
  BitLinear with_layout(WeightLayout layout) const {
    detail::require(!empty(), "BitLinear::with_layout", "the layer is empty");
    if (layout == layout_) return *this;
    if (layout == WeightLayout::two_bit) return BitLinear(to_two_bit(packed_weights()), bias_, config_);
    return BitLinear(packed_weights(), bias_, config_);
  }

  bool empty() const { return rows_ == 0; }
  std::size_t out_features() const { return rows_; }  // M
  std::size_t in_features() const { return cols_; }   // K
  const ActivationConfig& activations() const { return config_; }
  ActivationScheme scheme() const { return config_.scheme; }
  bool has_bias() const { return !bias_.empty(); }
  const std::vector<float>& bias() const { return bias_; }
  // Whether the weights are borrowed (a view of memory the layer does not own).
  bool borrows_weights() const { return !borrowed_.empty() || !borrowed_two_bit_.empty(); }

  // True when forward runs the int4 lookup-table kernels (an int4 scheme).
  bool uses_int4_kernels() const { return !lut_.empty(); }

  ScaleGranularity granularity() const {
    if (!lut_.empty()) return lut_.granularity();
    return layout_ == WeightLayout::two_bit ? two_bit_weights().granularity() : weights().granularity();
  }
  std::vector<float> weight_scales() const {
    if (!lut_.empty()) return lut_.scales();
    if (layout_ == WeightLayout::two_bit) {
      const TwoBitMatrixView w = two_bit_weights();
      return std::vector<float>(w.scales(), w.scales() + w.scale_count());
    }
    const PackedMatrixView w = weights();
    return std::vector<float>(w.scales(), w.scales() + w.scale_count());
  }

  // The Dense243 weights the int8 kernels read (empty for a TwoBit layer, and for an int4
  // layer that owns its weights: those live in the int4 layout only).
  PackedMatrixView weights() const { return borrowed_.empty() ? owned_.view() : borrowed_; }

  // The TwoBit weights the int8 kernels read (empty unless layout() is two_bit, and for an
  // int4 layer that owns its weights).
  TwoBitMatrixView two_bit_weights() const {
    return borrowed_two_bit_.empty() ? owned_two_bit_.view() : borrowed_two_bit_;
  }

  // The weights as a PackedMatrix, whatever the layout: a copy (rebuilt from TwoBit or from
  // the int4 kernels' layout when the Dense243 bytes were not kept).
  PackedMatrix packed_weights() const {
    const TwoBitMatrixView two_bit = two_bit_weights();
    if (!two_bit.empty()) return to_dense243(two_bit);
    const PackedMatrixView w = weights();
    if (w.empty()) return lut_.to_packed();
    PackedMatrix copy(w.rows(), w.cols(), w.granularity(), w.row_stride());
    copy.set_scales(w.scales(), w.scale_count());
    std::memcpy(copy.data(), w.data(), w.weight_bytes());
    return copy;
  }

  // Bytes the layer owns: packed weights (with row padding), scales and bias; borrowed
  // weights count nothing.
  std::size_t memory_bytes() const {
    std::size_t bytes = bias_.size() * sizeof(float) + owned_.weight_bytes() + owned_.scales().size() * sizeof(float);
    bytes += owned_two_bit_.weight_bytes() + owned_two_bit_.scales().size() * sizeof(float);
    if (!lut_.empty()) bytes += lut_.weight_bytes() + lut_.scales().size() * sizeof(float);
    return bytes;
  }

  // The quantized activations forward computes for x (N x K), for inspection or for driving
  // trit::gemm_rows from one's own threads. int4 values are stored one per int8.
  QuantizedActivations quantize(MatrixRef<const float> x) const {
    constexpr const char* fn = "BitLinear::quantize";
    check_input(x, fn);
    QuantizedActivations q(x.rows, x.cols, config_.scheme);
    detail::TopkScratch topk;
    for (std::size_t n = 0; n < x.rows; ++n) {
      q.scale(n) = detail::quantize_token(config_, x.row(n), x.cols, q.row(n), topk, n, fn);
    }
    return q;
  }

  // Y (N x M) = layer(X (N x K)), both with any row stride. options.isa picks a kernel path
  // (Isa::automatic: the best; an int4 layer runs the int4 kernels down that path's fallback
  // chain); options.threads splits the M outputs (results do not depend on it). Throws
  // std::invalid_argument for wrong shapes, no tokens, null data or a non-finite input, and
  // unsupported_isa_error for a path this CPU lacks.
  void forward(MatrixRef<const float> x, MatrixRef<float> y, const GemmOptions& options = {}) const {
    constexpr const char* fn = "BitLinear::forward";
    check_input(x, fn);
    detail::require(x.rows > 0, fn, "x has no tokens");
    detail::check_shape(y, x.rows, rows_, fn, "y");

    detail::LayerScratch& scratch = detail::layer_scratch();
    const std::size_t stride = detail::align_up(cols_, QuantizedActivations::kRowAlignment);
    const std::size_t bytes = detail::checked_mul(x.rows, stride, fn, "activation scratch");
    if (scratch.values.size() < bytes) scratch.values = detail::AlignedBuffer<std::int8_t>(bytes);
    scratch.scales.resize(x.rows);
    for (std::size_t n = 0; n < x.rows; ++n) {
      std::int8_t* q = scratch.values.data() + n * stride;
      scratch.scales[n] = detail::quantize_token(config_, x.row(n), cols_, q, scratch.topk, n, fn);
      // Kernels may read whole vectors up to the stride; earlier calls may have left bytes there.
      std::memset(q + cols_, 0, stride - cols_);
    }
    const float* bias = bias_.empty() ? nullptr : bias_.data();
    if (!lut_.empty()) {
      using P = detail::LutInt4Product;
      detail::LutInt4Problem problem;
      problem.w = &lut_;
      problem.tokens = x.rows;
      problem.values = scratch.values.data();
      problem.values_stride = stride;
      problem.scales = scratch.scales.data();
      problem.y = y;
      problem.bias = bias;
      detail::run_product<P>(problem, options.isa, options.threads);
      return;
    }
    const ActivationsView q{scratch.values.data(), x.rows, cols_, stride, scratch.scales.data()};
    if (layout_ == WeightLayout::two_bit) {
      gemm(two_bit_weights(), q, y, bias, options);
    } else {
      gemm(weights(), q, y, bias, options);
    }
  }

  // The same on tightly packed vectors: x holds N * K floats; returns N * M floats.
  std::vector<float> forward(const std::vector<float>& x, const GemmOptions& options = {}) const {
    detail::require(!empty(), "BitLinear::forward", "the layer is empty");
    detail::require(x.size() % cols_ == 0, "BitLinear::forward", "x has ", x.size(),
                    " values, not a multiple of K = ", cols_);
    const std::size_t tokens = x.size() / cols_;
    std::vector<float> y(tokens * rows_);
    forward(matrix(x.data(), tokens, cols_), matrix(y.data(), tokens, rows_), options);
    return y;
  }

  // ---- Serialized form (docs/LAYERS.md) ------------------------------------------------------
  // A 64-byte header (version 3: with the weight layout), the bias (float32), zero bytes up to
  // a 64-byte boundary, then the weights in their own serialized form, in the layer's layout
  // (docs/FORMAT.md, section 5 for Dense243, T3 for TwoBit). deserialize restores the layout.
  std::vector<std::uint8_t> serialize() const {
    detail::require(!empty(), "BitLinear::serialize", "the layer is empty");
    std::vector<std::uint8_t> matrix;
    if (layout_ == WeightLayout::two_bit) {
      const TwoBitMatrixView w = two_bit_weights();
      matrix = w.empty() ? trit::serialize(to_two_bit(lut_.to_packed()).view()) : trit::serialize(w);
    } else {
      const PackedMatrix rebuilt = weights().empty() ? lut_.to_packed() : PackedMatrix();
      matrix = trit::serialize(rebuilt.empty() ? weights() : rebuilt.view());
    }
    std::uint64_t ratio_bits;
    std::memcpy(&ratio_bits, &config_.topk_ratio, sizeof ratio_bits);
    std::vector<std::uint8_t> blob = detail::BlobHeaderWriter(detail::layer_blob::kMagic, detail::layer_blob::kVersion)
                                         .u32(static_cast<std::uint32_t>(config_.scheme))
                                         .u64(ratio_bits)
                                         .u64(bias_.size())
                                         .u64(matrix.size())
                                         .u32(detail::layer_blob::kHeaderBytes)
                                         .u32(static_cast<std::uint32_t>(layout_))
                                         .finish();
    for (float b : bias_) detail::put_le(blob, detail::float_bits(b), 4);
    blob.resize(detail::align_up(blob.size(), dense243::kAlignment), 0);
    blob.insert(blob.end(), matrix.begin(), matrix.end());
    detail::seal_blob(blob);
    return blob;
  }

  // Rebuilds a layer from untrusted bytes (version 1, 2 or 3), in the layout it was saved in.
  // Throws format_error for a wrong magic or version, an unknown scheme or weight layout, a
  // top-K ratio outside (0, 1], a bias count that is neither 0 nor M, a non-finite bias, sizes
  // that disagree with the blob, a checksum mismatch, or weights that trit::deserialize (or
  // deserialize_two_bit, for the TwoBit layout) rejects.
  static BitLinear deserialize(const std::uint8_t* blob, std::size_t size) {
    constexpr const char* fn = "BitLinear::deserialize";
    detail::BlobHeaderReader header(blob, size, detail::layer_blob::kMagic, detail::layer_blob::kVersion, fn,
                                    "layer blob");
    const bool v1 = header.version() == 1;
    const std::uint64_t scheme = header.u32();
    if (scheme > static_cast<std::uint32_t>(ActivationScheme::int8_topk)) {
      detail::throw_format_error(fn, "unknown activation scheme ", scheme);
    }
    const std::uint64_t ratio_bits = header.u64();
    double ratio;
    std::memcpy(&ratio, &ratio_bits, sizeof ratio);
    if (!(ratio > 0.0 && ratio <= 1.0)) detail::throw_format_error(fn, "top-K ratio ", ratio, " is outside (0, 1]");
    const std::uint64_t bias_count = header.u64();
    const std::uint64_t weight_bytes = header.u64();
    const std::uint64_t v1_checksum = v1 ? header.u64() : 0;
    const std::uint64_t header_bytes = header.u32();
    if (header_bytes != detail::layer_blob::kHeaderBytes) {
      detail::throw_format_error(fn, "header size ", header_bytes, " != 64");
    }
    const std::uint64_t layout = header.version() >= 3 ? header.u32() : 0;
    if (layout > static_cast<std::uint32_t>(WeightLayout::two_bit)) {
      detail::throw_format_error(fn, "unknown weight layout ", layout);
    }
    header.reserved_until(v1 ? detail::layer_blob::kHeaderBytes : detail::kBlobChecksumOffset);
    const std::size_t available = size - detail::layer_blob::kHeaderBytes;
    if (bias_count > available / 4) {
      detail::throw_format_error(fn, "blob holds ", available, " payload bytes, the header says ", bias_count,
                                 " bias values");
    }
    const std::size_t bias_end = detail::layer_blob::kHeaderBytes + 4 * bias_count;
    const std::size_t weights_offset = v1 ? bias_end : detail::align_up(bias_end, dense243::kAlignment);
    if (weights_offset > size || weight_bytes != size - weights_offset) {
      detail::throw_format_error(fn, "blob holds ", available, " payload bytes, the header says ", bias_count,
                                 " bias values and ", weight_bytes, " weight bytes");
    }
    if (v1) {
      if (detail::fnv1a64(blob + detail::layer_blob::kHeaderBytes, available) != v1_checksum) {
        detail::throw_format_error(fn, "checksum mismatch");
      }
    } else {
      header.check_checksum();
      for (std::size_t i = bias_end; i < weights_offset; ++i) {
        if (blob[i] != 0) detail::throw_format_error(fn, "alignment padding byte ", i, " is not 0");
      }
    }
    std::vector<float> bias(bias_count);
    for (std::size_t m = 0; m < bias_count; ++m) {
      bias[m] = detail::bits_float(static_cast<std::uint32_t>(detail::get_le(blob + detail::layer_blob::kHeaderBytes + 4 * m, 4)));
      if (!std::isfinite(bias[m])) detail::throw_format_error(fn, "bias[", m, "] = ", bias[m], " is not finite");
    }
    ActivationConfig config;
    config.scheme = static_cast<ActivationScheme>(scheme);
    config.topk_ratio = ratio;
    const auto check_bias_count = [&](std::size_t rows) {
      if (bias_count != 0 && bias_count != rows) {
        detail::throw_format_error(fn, "bias has ", bias_count, " values for ", rows, " outputs");
      }
    };
    if (layout == static_cast<std::uint32_t>(WeightLayout::two_bit)) {
      TwoBitMatrix weights = deserialize_two_bit(blob + weights_offset, weight_bytes);
      check_bias_count(weights.rows());
      return BitLinear(std::move(weights), std::move(bias), config);
    }
    PackedMatrix weights = trit::deserialize(blob + weights_offset, weight_bytes);
    check_bias_count(weights.rows());
    return BitLinear(std::move(weights), std::move(bias), config);
  }

  static BitLinear deserialize(const std::vector<std::uint8_t>& blob) { return deserialize(blob.data(), blob.size()); }

  // Writes the blob atomically: the old file survives any failure. Throws io_error.
  void save(const std::string& path) const {
    const std::vector<std::uint8_t> blob = serialize();
    detail::write_file_atomically(path, "BitLinear::save", blob.data(), blob.size());
  }

  // Throws io_error or format_error; checks the header against the file before reading on.
  static BitLinear load(const std::string& path) {
    const MappedFile file = MappedFile::open(path);
    return deserialize(file.data(), file.size());
  }

 private:
  static std::vector<float> bias_vector(const float* bias, std::size_t rows) {
    return bias == nullptr ? std::vector<float>{} : std::vector<float>(bias, bias + rows);
  }

  void check_layer(const char* fn, bool has_weights) const {
    detail::require(has_weights, fn, "weights are empty");
    detail::check_activation_config(config_, fn);
    detail::require(bias_.empty() || bias_.size() == rows_, fn, "bias has ", bias_.size(), " values, expected 0 or ",
                    rows_);
    for (std::size_t m = 0; m < bias_.size(); ++m) {
      detail::require(std::isfinite(bias_[m]), fn, "bias[", m, "] = ", bias_[m], " is not finite");
    }
  }

  void check_input(MatrixRef<const float> x, const char* fn) const {
    detail::require(!empty(), fn, "the layer is empty");
    detail::check_view(x, fn, "x");
    detail::require(x.cols == cols_, fn, "x has ", x.cols, " columns but the layer has K = ", cols_, " inputs");
  }

  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  WeightLayout layout_ = WeightLayout::dense243;
  PackedMatrix owned_;
  PackedMatrixView borrowed_;
  TwoBitMatrix owned_two_bit_;
  TwoBitMatrixView borrowed_two_bit_;
  LutWeights lut_;
  std::vector<float> bias_;
  ActivationConfig config_;
};

namespace ref {

// The layer as a float computation on dequantized values: y[n][m] = sum_k (Wq[m][k] *
// w_scale[m]) * (q[n][k] / s[n]) + bias[m], summed in double, with q and s from the
// reference quantizers (quantize_activations). Agrees with BitLinear::forward to within
// float rounding; the tests and examples check a relative error below 1e-5.
inline void bitlinear_forward(const BitLinear& layer, MatrixRef<const float> x, MatrixRef<float> y) {
  constexpr const char* fn = "ref::bitlinear_forward";
  detail::require(!layer.empty(), fn, "the layer is empty");
  detail::check_shape(x, x.rows, layer.in_features(), fn, "x");
  detail::check_shape(y, x.rows, layer.out_features(), fn, "y");
  if (x.rows == 0) return;
  const PackedMatrix w = layer.packed_weights();
  std::vector<float> dequantized(w.rows() * w.cols());
  dequantize(w, matrix(dequantized.data(), w.rows(), w.cols()));
  const QuantizedActivations q = quantize_activations(x, layer.scheme(), layer.activations().topk_ratio);
  std::vector<double> xq(x.cols);
  for (std::size_t n = 0; n < x.rows; ++n) {
    for (std::size_t k = 0; k < x.cols; ++k) xq[k] = static_cast<double>(q.row(n)[k]) / static_cast<double>(q.scale(n));
    for (std::size_t m = 0; m < w.rows(); ++m) {
      const float* wm = dequantized.data() + m * w.cols();
      double sum = 0.0;
      for (std::size_t k = 0; k < x.cols; ++k) sum += static_cast<double>(wm[k]) * xq[k];
      if (layer.has_bias()) sum += static_cast<double>(layer.bias()[m]);
      y(n, m) = static_cast<float>(sum);
    }
  }
}

}  // namespace ref

TRIT_END_NAMESPACE

