// trit: the element types of checkpoint tensors (GGUF's ggml type ids, plus the safetensors
// dtypes GGUF has no id for), their sizes, and the 16-bit float conversions the importers need.
// One numbering serves GGUF, safetensors and the trit model file, so a tensor "stored as it
// came" keeps its type id across formats.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "trit/detail/checked.hpp"
#include "trit/detail/half.hpp"
#include "trit/error.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

// ggml's numbering (ggml.h, gguf-py constants.py); i2_s is bitnet.cpp's id for its fork.
enum class TensorType : std::uint32_t {
  f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9,
  q2_k = 10, q3_k = 11, q4_k = 12, q5_k = 13, q6_k = 14, q8_k = 15,
  iq2_xxs = 16, iq2_xs = 17, iq3_xxs = 18, iq1_s = 19, iq4_nl = 20, iq3_s = 21, iq2_s = 22, iq4_xs = 23,
  i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_m = 29, bf16 = 30,
  tq1_0 = 34, tq2_0 = 35, i2_s = 36, mxfp4 = 39,
  // safetensors dtypes without a ggml id.
  u8 = 256, u16 = 257, u32 = 258, u64 = 259, boolean = 260, f8_e4m3 = 261, f8_e5m2 = 262,
  // A trit v2 matrix blob (serialize(PackedMatrixView), Dense243) in a trit model file.
  trit_matrix = 512,
  // A trit TwoBit matrix blob (serialize(TwoBitMatrixView), docs/FORMAT.md T3) in a trit
  // model file.
  trit_two_bit_matrix = 513,
};

struct TensorTypeTraits {
  const char* name;
  std::size_t block_elements;  // elements per block; the fastest dimension must be a multiple
  std::size_t block_bytes;
};

namespace detail {

// nullptr for an id this build does not know.
inline const TensorTypeTraits* find_tensor_type_traits(std::uint32_t id) {
  struct Entry {
    std::uint32_t id;
    TensorTypeTraits traits;
  };
  static const Entry kTable[] = {
      {0, {"F32", 1, 4}},          {1, {"F16", 1, 2}},         {2, {"Q4_0", 32, 18}},     {3, {"Q4_1", 32, 20}},
      {6, {"Q5_0", 32, 22}},       {7, {"Q5_1", 32, 24}},      {8, {"Q8_0", 32, 34}},     {9, {"Q8_1", 32, 40}},
      {10, {"Q2_K", 256, 84}},     {11, {"Q3_K", 256, 110}},   {12, {"Q4_K", 256, 144}},  {13, {"Q5_K", 256, 176}},
      {14, {"Q6_K", 256, 210}},    {15, {"Q8_K", 256, 292}},   {16, {"IQ2_XXS", 256, 66}}, {17, {"IQ2_XS", 256, 74}},
      {18, {"IQ3_XXS", 256, 98}},  {19, {"IQ1_S", 256, 50}},   {20, {"IQ4_NL", 32, 18}},  {21, {"IQ3_S", 256, 110}},
      {22, {"IQ2_S", 256, 82}},    {23, {"IQ4_XS", 256, 136}}, {24, {"I8", 1, 1}},        {25, {"I16", 1, 2}},
      {26, {"I32", 1, 4}},         {27, {"I64", 1, 8}},        {28, {"F64", 1, 8}},       {29, {"IQ1_M", 256, 56}},
      {30, {"BF16", 1, 2}},        {34, {"TQ1_0", 256, 54}},   {35, {"TQ2_0", 256, 66}},
      // I2_S: 4 weights per byte, and one float32 scale in 32 trailing bytes per tensor
      // (tensor_data_bytes adds those).
      {36, {"I2_S", 4, 1}},        {39, {"MXFP4", 32, 17}},
      {256, {"U8", 1, 1}},         {257, {"U16", 1, 2}},       {258, {"U32", 1, 4}},      {259, {"U64", 1, 8}},
      {260, {"BOOL", 1, 1}},       {261, {"F8_E4M3", 1, 1}},   {262, {"F8_E5M2", 1, 1}},
      {512, {"TRIT_MATRIX", 1, 0}},  {513, {"TRIT_TWO_BIT", 1, 0}},
  };
  for (const Entry& entry : kTable) {
    if (entry.id == id) return &entry.traits;
  }
  return nullptr;
}

}  // namespace detail

inline std::string tensor_type_name(TensorType type) {
  const TensorTypeTraits* traits = detail::find_tensor_type_traits(static_cast<std::uint32_t>(type));
  return traits != nullptr ? traits->name : "type " + std::to_string(static_cast<std::uint32_t>(type));
}

inline bool is_ternary_type(TensorType type) {
  return type == TensorType::tq1_0 || type == TensorType::tq2_0 || type == TensorType::i2_s;
}

namespace detail {

inline constexpr std::size_t kI2sTrailerBytes = 32;

// Element count and byte size of a tensor of `type` with `dims` (fastest dimension first, as
// GGUF stores them). Throws format_error naming `what` for an unknown type, a zero or
// overflowing dimension, or a fastest dimension that is not a whole number of blocks.
struct TensorExtent {
  std::size_t elements = 0;
  std::size_t bytes = 0;
};
inline TensorExtent tensor_extent(std::uint32_t type_id, const std::vector<std::uint64_t>& fastest_first_dims,
                                  const char* fn, const std::string& what) {
  const TensorTypeTraits* traits = find_tensor_type_traits(type_id);
  if (traits == nullptr || type_id == static_cast<std::uint32_t>(TensorType::trit_matrix) ||
      type_id == static_cast<std::uint32_t>(TensorType::trit_two_bit_matrix)) {
    throw_format_error(fn, what, ": unknown tensor type ", type_id);
  }
  TensorExtent extent;
  extent.elements = 1;
  for (std::uint64_t d : fastest_first_dims) {
    if (d > (std::uint64_t{1} << 48)) throw_format_error(fn, what, ": implausible dimension ", d);
    if (__builtin_mul_overflow(extent.elements, static_cast<std::size_t>(d), &extent.elements)) throw_format_error(fn, what, ": element count overflows");
  }
  const std::uint64_t fastest = fastest_first_dims.empty() ? 1 : fastest_first_dims[0];
  if (type_id == static_cast<std::uint32_t>(TensorType::i2_s)) {
    if (extent.elements % 4 != 0) throw_format_error(fn, what, ": I2_S element count ", extent.elements, " is not a multiple of 4");
    extent.bytes = checked_add(extent.elements / 4, kI2sTrailerBytes, fn, "I2_S size", SizeSource::file);
    return extent;
  }
  if (fastest % traits->block_elements != 0) {
    throw_format_error(fn, what, ": ", traits->name, " needs the first dimension (", fastest, ") to be a multiple of ",
                       traits->block_elements);
  }
  if (__builtin_mul_overflow(extent.elements / traits->block_elements, traits->block_bytes, &extent.bytes)) {
    throw_format_error(fn, what, ": size overflows");
  }
  return extent;
}

// Element i of a little-endian F32, F16 or BF16 array as float; false for other types.
inline bool read_float_element(TensorType type, const std::uint8_t* data, std::size_t i, float* out) {
  switch (type) {
    case TensorType::f32: {
      std::uint32_t bits = 0;
      for (int b = 0; b < 4; ++b) bits |= static_cast<std::uint32_t>(data[4 * i + static_cast<std::size_t>(b)]) << (8 * b);
      std::memcpy(out, &bits, sizeof bits);
      return true;
    }
    case TensorType::f16:
      *out = half_to_float(static_cast<std::uint16_t>(data[2 * i] | (data[2 * i + 1] << 8)));
      return true;
    case TensorType::bf16:
      *out = bf16_to_float(static_cast<std::uint16_t>(data[2 * i] | (data[2 * i + 1] << 8)));
      return true;
    default: return false;
  }
}

}  // namespace detail

TRIT_END_NAMESPACE
