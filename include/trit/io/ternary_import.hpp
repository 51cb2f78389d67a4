// trit: lossless import of the ternary tensor encodings that published BitNet checkpoints use
// (GGUF TQ1_0, TQ2_0, bitnet.cpp's I2_S, Hugging Face's 2-bit packed uint8 + weight_scale)
// into a PackedMatrix with the same trits and the same effective scale, absmean import of
// float weights, and export back to TQ2_0 and I2_S bytes. Byte layouts and scale conventions,
// with their upstream definitions, are in docs/CHECKPOINTS.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "trit/detail/checked.hpp"
#include "trit/error.hpp"
#include "trit/format/blob.hpp"
#include "trit/format/dense243.hpp"
#include "trit/format/pack.hpp"
#include "trit/format/packed_matrix.hpp"
#include "trit/io/tensor_types.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

namespace ternary_blocks {
inline constexpr std::size_t kTqBlockWeights = 256;
inline constexpr std::size_t kTq1BlockBytes = 54;
inline constexpr std::size_t kTq2BlockBytes = 66;
inline constexpr std::size_t kI2sGroupWeights = 128;  // QK_I2_S of bitnet.cpp's x86 build
inline constexpr std::size_t kI2sGroupBytes = 32;
}  // namespace ternary_blocks

// How a Hugging Face BitNet checkpoint's weight_scale applies. transformers' BitLinear (the
// class microsoft/bitnet-b1.58-2B-4T loads with, quantization_config linear_class "bitlinear")
// computes y = (x_q @ W^T) / (x_scale * weight_scale): the scale DIVIDES, so trit's scale is
// 1 / weight_scale. Its AutoBitLinear in offline mode multiplies instead.
enum class HfWeightScale { divides, multiplies };

namespace detail {

// Trits with one scale per 256-block (TQ types), made into one scale per tensor or per row.
struct BlockScaledTrits {
  std::size_t rows = 0, cols = 0;
  std::vector<std::int8_t> trits;   // rows x cols
  std::vector<float> block_scales;  // rows x (cols / 256)
};

inline PackedMatrix pack_checked(std::size_t rows, std::size_t cols, const std::vector<std::int8_t>& trits,
                                 const std::vector<float>& scales, ScaleGranularity granularity) {
  return pack_trits(matrix(trits.data(), rows, cols), scales.data(), scales.size(), granularity);
}

// All blocks holding a non-zero trit must agree on their scale within each row; if every row
// agrees, one scale per tensor. Anything else would need a scale per block, which trit does not
// have: refuse, naming the tensor, rather than guess.
inline PackedMatrix resolve_block_scales(const BlockScaledTrits& in, const std::string& tensor, const char* fn) {
  const std::size_t blocks_per_row = in.cols / ternary_blocks::kTqBlockWeights;
  std::vector<float> row_scales(in.rows, 0.0f);
  std::vector<bool> row_has_scale(in.rows, false);
  for (std::size_t m = 0; m < in.rows; ++m) {
    for (std::size_t b = 0; b < blocks_per_row; ++b) {
      const std::int8_t* block = in.trits.data() + m * in.cols + b * ternary_blocks::kTqBlockWeights;
      bool non_zero = false;
      for (std::size_t i = 0; i < ternary_blocks::kTqBlockWeights && !non_zero; ++i) non_zero = block[i] != 0;
      if (!non_zero) continue;
      const float d = in.block_scales[m * blocks_per_row + b];
      if (!is_finite_positive(d)) {
        throw_format_error(fn, "tensor \"", tensor, "\": row ", m, " block ", b, " has non-zero trits but scale ", d,
                           " (not finite and positive)");
      }
      if (!row_has_scale[m]) {
        row_scales[m] = d;
        row_has_scale[m] = true;
      } else if (float_bits(d) != float_bits(row_scales[m])) {
        throw_format_error(fn, "tensor \"", tensor, "\": blocks of row ", m, " carry different scales (", row_scales[m], " and ", d,
                           " in block ", b, "), so it is not ternary with one scale per row; refusing to guess");
      }
    }
  }
  bool one_scale = true;
  float tensor_scale = 0.0f;
  bool tensor_has_scale = false;
  for (std::size_t m = 0; m < in.rows; ++m) {
    if (!row_has_scale[m]) continue;
    if (!tensor_has_scale) {
      tensor_scale = row_scales[m];
      tensor_has_scale = true;
    } else if (float_bits(row_scales[m]) != float_bits(tensor_scale)) {
      one_scale = false;
    }
  }
  if (one_scale) return pack_checked(in.rows, in.cols, in.trits, {tensor_has_scale ? tensor_scale : 1.0f}, ScaleGranularity::per_tensor);
  // A row of zeros has no scale of its own; any positive one gives the same weights.
  for (std::size_t m = 0; m < in.rows; ++m) {
    if (!row_has_scale[m]) row_scales[m] = 1.0f;
  }
  return pack_checked(in.rows, in.cols, in.trits, row_scales, ScaleGranularity::per_row);
}

inline void check_tq_shape(std::size_t rows, std::size_t cols, std::size_t bytes, std::size_t block_bytes, const char* type,
                           const std::string& tensor, const char* fn) {
  if (rows == 0 || cols == 0 || cols % ternary_blocks::kTqBlockWeights != 0) {
    throw_format_error(fn, "tensor \"", tensor, "\": ", type, " needs K (", cols, ") to be a positive multiple of 256");
  }
  const std::size_t blocks = checked_mul(rows, cols / ternary_blocks::kTqBlockWeights, fn, "block count", SizeSource::file);
  if (checked_mul(blocks, block_bytes, fn, "tensor size", SizeSource::file) != bytes) {
    throw_format_error(fn, "tensor \"", tensor, "\": ", bytes, " bytes do not hold ", rows, "x", cols, " ", type, " weights");
  }
}

inline float read_half_scale(const std::uint8_t* p) { return half_to_float(static_cast<std::uint16_t>(p[0] | (p[1] << 8))); }

}  // namespace detail

// GGUF TQ1_0 (ggml-common.h block_tq1_0; quantize_row_tq1_0_ref in ggml-quants.c): per 256
// weights, qs[48] and qh[4] of base-3 digits (t + 1) in the Dense243 byte code, then d (fp16).
// `rows` x `cols` is M x K (GGUF dims {K, M}).
inline PackedMatrix import_tq1_0(const std::uint8_t* data, std::size_t bytes, std::size_t rows, std::size_t cols,
                                 const std::string& tensor) {
  constexpr const char* fn = "import_tq1_0";
  detail::check_tq_shape(rows, cols, bytes, ternary_blocks::kTq1BlockBytes, "TQ1_0", tensor, fn);
  detail::BlockScaledTrits out;
  out.rows = rows;
  out.cols = cols;
  out.trits.resize(rows * cols);
  const std::size_t blocks = rows * (cols / ternary_blocks::kTqBlockWeights);
  out.block_scales.resize(blocks);
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::uint8_t* block = data + b * ternary_blocks::kTq1BlockBytes;
    std::int8_t* w = out.trits.data() + b * ternary_blocks::kTqBlockWeights;
    // Byte j of qs[0..32) holds weights j + 32n, of qs[32..48) weights 160 + j + 16n, of
    // qh[0..4) weights 240 + j + 4n (its fifth digit is padding); digit 0 is weight n = 0.
    for (std::size_t j = 0; j < 32; ++j) {
      for (std::size_t n = 0; n < 5; ++n) w[j + 32 * n] = static_cast<std::int8_t>(dense243::decode_trit(block[j], static_cast<int>(n)));
    }
    for (std::size_t j = 0; j < 16; ++j) {
      for (std::size_t n = 0; n < 5; ++n) w[160 + j + 16 * n] = static_cast<std::int8_t>(dense243::decode_trit(block[32 + j], static_cast<int>(n)));
    }
    for (std::size_t j = 0; j < 4; ++j) {
      for (std::size_t n = 0; n < 4; ++n) w[240 + j + 4 * n] = static_cast<std::int8_t>(dense243::decode_trit(block[48 + j], static_cast<int>(n)));
    }
    out.block_scales[b] = detail::read_half_scale(block + 52);
  }
  return detail::resolve_block_scales(out, tensor, fn);
}

// GGUF TQ2_0 (block_tq2_0; quantize_row_tq2_0_ref): per 256 weights, qs[64] with byte 32c + j
// holding weight 128c + j + 32n in bits 2n..2n+1 as t + 1 (code 3 is invalid), then d (fp16).
inline PackedMatrix import_tq2_0(const std::uint8_t* data, std::size_t bytes, std::size_t rows, std::size_t cols,
                                 const std::string& tensor) {
  constexpr const char* fn = "import_tq2_0";
  detail::check_tq_shape(rows, cols, bytes, ternary_blocks::kTq2BlockBytes, "TQ2_0", tensor, fn);
  detail::BlockScaledTrits out;
  out.rows = rows;
  out.cols = cols;
  out.trits.resize(rows * cols);
  const std::size_t blocks = rows * (cols / ternary_blocks::kTqBlockWeights);
  out.block_scales.resize(blocks);
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::uint8_t* block = data + b * ternary_blocks::kTq2BlockBytes;
    std::int8_t* w = out.trits.data() + b * ternary_blocks::kTqBlockWeights;
    for (std::size_t c = 0; c < 2; ++c) {
      for (std::size_t j = 0; j < 32; ++j) {
        const std::uint8_t byte = block[32 * c + j];
        for (int n = 0; n < 4; ++n) {
          const int code = (byte >> (2 * n)) & 3;
          if (code == 3) {
            const std::size_t k = (b % (cols / 256)) * 256 + 128 * c + j + 32 * static_cast<std::size_t>(n);
            detail::throw_format_error(fn, "tensor \"", tensor, "\": weight (", b / (cols / 256), ", ", k,
                                       ") has code 3, not a ternary value (byte ", b * ternary_blocks::kTq2BlockBytes + 32 * c + j,
                                       " of the tensor)");
          }
          w[128 * c + j + 32 * static_cast<std::size_t>(n)] = static_cast<std::int8_t>(code - 1);
        }
      }
    }
    out.block_scales[b] = detail::read_half_scale(block + 64);
  }
  return detail::resolve_block_scales(out, tensor, fn);
}

// bitnet.cpp I2_S, x86 layout (quantize_i2_s in src/ggml-bitnet-mad.cpp): the M x K weights,
// flattened row-major, in groups of 128 held by 32 bytes; byte j of a group holds weights j
// (bits 7:6), j + 32 (5:4), j + 64 (3:2), j + 96 (1:0) as codes 0, 1, 2 for -1, 0, +1. One
// float32 scale (max |w| of the tensor) follows the M*K/4 packed bytes, in a 32-byte trailer.
inline PackedMatrix import_i2_s(const std::uint8_t* data, std::size_t bytes, std::size_t rows, std::size_t cols,
                                const std::string& tensor) {
  constexpr const char* fn = "import_i2_s";
  const std::size_t n = detail::checked_mul(rows, cols, fn, "element count", detail::SizeSource::file);
  if (n == 0 || n % ternary_blocks::kI2sGroupWeights != 0) {
    detail::throw_format_error(fn, "tensor \"", tensor, "\": I2_S needs M*K (", n, ") to be a positive multiple of 128");
  }
  if (bytes != n / 4 + detail::kI2sTrailerBytes) {
    detail::throw_format_error(fn, "tensor \"", tensor, "\": ", bytes, " bytes, I2_S of ", rows, "x", cols, " takes ", n / 4 + 32);
  }
  std::vector<std::int8_t> trits(n);
  bool any_non_zero = false;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t j = i % ternary_blocks::kI2sGroupWeights;
    const std::size_t byte = (i / ternary_blocks::kI2sGroupWeights) * ternary_blocks::kI2sGroupBytes + j % 32;
    const int code = (data[byte] >> (6 - 2 * (j / 32))) & 3;
    if (code == 3) {
      detail::throw_format_error(fn, "tensor \"", tensor, "\": weight (", i / cols, ", ", i % cols, ") has code 3, not a ternary value (byte ",
                                 byte, " of the tensor)");
    }
    trits[i] = static_cast<std::int8_t>(code - 1);
    any_non_zero = any_non_zero || code != 1;
  }
  float scale = detail::bits_float(static_cast<std::uint32_t>(detail::get_le(data + n / 4, 4)));
  if (!any_non_zero && !detail::is_finite_positive(scale)) scale = 1.0f;
  if (!detail::is_finite_positive(scale)) {
    detail::throw_format_error(fn, "tensor \"", tensor, "\": I2_S scale ", scale, " at byte ", n / 4, " is not finite and positive");
  }
  return detail::pack_checked(rows, cols, trits, {scale}, ScaleGranularity::per_tensor);
}

// Hugging Face BitNet (transformers integrations/bitnet.py, pack_weights/unpack_weights): the
// uint8 `weight` of shape [M/4, K] packs along the output dimension: value i (bits 2i..2i+1,
// stored as t + 1) of packed row r is row i*(M/4) + r. `weight_scale` holds one value (per
// tensor) or M (per row), as F32, F16 or BF16; `convention` says whether it divides (BitLinear,
// the published checkpoints) or multiplies.
inline PackedMatrix import_hf_packed(const std::uint8_t* packed, std::size_t packed_rows, std::size_t cols, TensorType scale_type,
                                     const std::uint8_t* scale_data, std::size_t scale_count, const std::string& tensor,
                                     HfWeightScale convention = HfWeightScale::divides) {
  constexpr const char* fn = "import_hf_packed";
  if (packed_rows == 0 || cols == 0) detail::throw_format_error(fn, "tensor \"", tensor, "\" is empty");
  const std::size_t rows = detail::checked_mul(packed_rows, 4, fn, "rows", detail::SizeSource::file);
  if (scale_count != 1 && scale_count != rows) {
    detail::throw_format_error(fn, "tensor \"", tensor, "\": weight_scale holds ", scale_count, " values, expected 1 or ", rows);
  }
  std::vector<float> scales(scale_count);
  for (std::size_t i = 0; i < scale_count; ++i) {
    float ws = 0.0f;
    if (!detail::read_float_element(scale_type, scale_data, i, &ws)) {
      detail::throw_format_error(fn, "tensor \"", tensor, "\": weight_scale is ", tensor_type_name(scale_type), ", expected F32, F16 or BF16");
    }
    if (!detail::is_finite_positive(ws)) detail::throw_format_error(fn, "tensor \"", tensor, "\": weight_scale[", i, "] = ", ws, " is not finite and positive");
    scales[i] = convention == HfWeightScale::divides ? 1.0f / ws : ws;
    if (!detail::is_finite_positive(scales[i])) {
      detail::throw_format_error(fn, "tensor \"", tensor, "\": 1 / weight_scale[", i, "] = ", scales[i], " is not finite");
    }
  }
  std::vector<std::int8_t> trits(rows * cols);
  for (std::size_t r = 0; r < packed_rows; ++r) {
    for (std::size_t k = 0; k < cols; ++k) {
      const std::uint8_t byte = packed[r * cols + k];
      for (std::size_t i = 0; i < 4; ++i) {
        const int code = (byte >> (2 * i)) & 3;
        if (code == 3) {
          detail::throw_format_error(fn, "tensor \"", tensor, "\": packed element [", r, ", ", k, "] holds code 3 for row ",
                                     i * packed_rows + r, ", not a ternary value");
        }
        trits[(i * packed_rows + r) * cols + k] = static_cast<std::int8_t>(code - 1);
      }
    }
  }
  return detail::pack_checked(rows, cols, trits, scales, scale_count == 1 ? ScaleGranularity::per_tensor : ScaleGranularity::per_row);
}

// Float weights (F32, F16 or BF16, M x K row-major) through BitNet's absmean quantizer.
inline PackedMatrix import_float_absmean(TensorType type, const std::uint8_t* data, std::size_t rows, std::size_t cols,
                                         const std::string& tensor, ScaleGranularity granularity = ScaleGranularity::per_tensor) {
  constexpr const char* fn = "import_float_absmean";
  const std::size_t n = detail::checked_mul(rows, cols, fn, "element count", detail::SizeSource::file);
  std::vector<float> w(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!detail::read_float_element(type, data, i, &w[i])) {
      detail::throw_format_error(fn, "tensor \"", tensor, "\" is ", tensor_type_name(type), ", expected F32, F16 or BF16");
    }
    if (!(w[i] - w[i] == 0.0f)) detail::throw_format_error(fn, "tensor \"", tensor, "\": element ", i, " is not finite");
  }
  return pack_weights(matrix(static_cast<const float*>(w.data()), rows, cols), granularity);
}

namespace detail {
inline std::vector<std::int8_t> trits_of(const PackedMatrixView& view) {
  std::vector<std::int8_t> trits(view.rows() * view.cols());
  unpack_trits(view, matrix(trits.data(), view.rows(), view.cols()));
  return trits;
}
}  // namespace detail

// TQ2_0 bytes of a matrix (K a multiple of 256): each block's d is the row's scale rounded to
// fp16, or 0 for a block of zeros, as gguf's quantizer writes it. A scale that is not an fp16
// value is rounded (to nearest even): export from a Hugging Face or absmean import is lossy
// in the scale, never in the trits.
inline std::vector<std::uint8_t> export_tq2_0(const PackedMatrixView& w) {
  constexpr const char* fn = "export_tq2_0";
  detail::require(!w.empty() && w.cols() % ternary_blocks::kTqBlockWeights == 0, fn, "K = ", w.cols(), " is not a multiple of 256");
  const std::vector<std::int8_t> trits = detail::trits_of(w);
  const std::size_t blocks_per_row = w.cols() / ternary_blocks::kTqBlockWeights;
  std::vector<std::uint8_t> out(w.rows() * blocks_per_row * ternary_blocks::kTq2BlockBytes, 0);
  for (std::size_t m = 0; m < w.rows(); ++m) {
    for (std::size_t b = 0; b < blocks_per_row; ++b) {
      const std::int8_t* t = trits.data() + m * w.cols() + b * ternary_blocks::kTqBlockWeights;
      std::uint8_t* block = out.data() + (m * blocks_per_row + b) * ternary_blocks::kTq2BlockBytes;
      bool non_zero = false;
      for (std::size_t c = 0; c < 2; ++c) {
        for (std::size_t j = 0; j < 32; ++j) {
          for (std::size_t n = 0; n < 4; ++n) {
            const int trit = t[128 * c + j + 32 * n];
            non_zero = non_zero || trit != 0;
            block[32 * c + j] = static_cast<std::uint8_t>(block[32 * c + j] | ((trit + 1) << (2 * n)));
          }
        }
      }
      const std::uint16_t d = non_zero ? detail::float_to_half(w.scale(m)) : 0;
      block[64] = static_cast<std::uint8_t>(d & 0xFF);
      block[65] = static_cast<std::uint8_t>(d >> 8);
    }
  }
  return out;
}

// I2_S bytes (bitnet.cpp x86 layout, see import_i2_s) of a per-tensor matrix with M*K a
// multiple of 128: packed codes, the float32 scale, then 28 zero bytes.
inline std::vector<std::uint8_t> export_i2_s(const PackedMatrixView& w) {
  constexpr const char* fn = "export_i2_s";
  detail::require(!w.empty(), fn, "w is empty");
  detail::require(w.granularity() == ScaleGranularity::per_tensor, fn, "I2_S has one scale per tensor; w has one per row");
  const std::size_t n = w.rows() * w.cols();
  detail::require(n % ternary_blocks::kI2sGroupWeights == 0, fn, "M*K = ", n, " is not a multiple of 128");
  const std::vector<std::int8_t> trits = detail::trits_of(w);
  std::vector<std::uint8_t> out(n / 4 + detail::kI2sTrailerBytes, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t j = i % ternary_blocks::kI2sGroupWeights;
    const std::size_t byte = (i / ternary_blocks::kI2sGroupWeights) * ternary_blocks::kI2sGroupBytes + j % 32;
    out[byte] = static_cast<std::uint8_t>(out[byte] | ((trits[i] + 1) << (6 - 2 * (j / 32))));
  }
  const std::uint32_t bits = detail::float_bits(w.scales()[0]);
  for (std::size_t b = 0; b < 4; ++b) out[n / 4 + b] = static_cast<std::uint8_t>(bits >> (8 * b));
  return out;
}

TRIT_END_NAMESPACE
