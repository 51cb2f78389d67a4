// trit: a safetensors reader over a read-only mapping (format: huggingface/safetensors,
// docs/CHECKPOINTS.md): an 8-byte little-endian header length, a JSON header mapping each
// tensor name to its dtype, shape and [begin, end) byte offsets from the end of the header,
// then the data. Checked like the Rust reference: sizes agree with dtype x shape, offsets lie
// in the file, tensors neither overlap nor leave holes, no unknown dtypes or fields.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "trit/detail/checked.hpp"
#include "trit/detail/file_io.hpp"
#include "trit/error.hpp"
#include "trit/format/blob.hpp"
#include "trit/io/json.hpp"
#include "trit/io/tensor_types.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

namespace safetensors {
// The Rust reference refuses headers above 100 MB.
inline constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
}  // namespace safetensors

struct SafetensorsTensor {
  std::string name;
  std::string dtype;  // as written: "F32", "BF16", "U8", ...
  TensorType type = TensorType::f32;
  std::vector<std::uint64_t> shape;  // outermost first (PyTorch order): a weight is {M, K}
  std::size_t elements = 0;
  std::size_t bytes = 0;
  std::size_t file_offset = 0;
  const std::uint8_t* data = nullptr;
};

namespace detail {

inline bool safetensors_dtype(const std::string& dtype, TensorType* type) {
  static const std::pair<const char*, TensorType> kDtypes[] = {
      {"F32", TensorType::f32},   {"F16", TensorType::f16},   {"BF16", TensorType::bf16},       {"F64", TensorType::f64},
      {"I8", TensorType::i8},     {"I16", TensorType::i16},   {"I32", TensorType::i32},         {"I64", TensorType::i64},
      {"U8", TensorType::u8},     {"U16", TensorType::u16},   {"U32", TensorType::u32},         {"U64", TensorType::u64},
      {"BOOL", TensorType::boolean}, {"F8_E4M3", TensorType::f8_e4m3}, {"F8_E5M2", TensorType::f8_e5m2},
  };
  for (const auto& entry : kDtypes) {
    if (dtype == entry.first) {
      *type = entry.second;
      return true;
    }
  }
  return false;
}

}  // namespace detail

class SafetensorsContents {
 public:
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  // __metadata__ (string -> string), in file order.
  const std::vector<std::pair<std::string, std::string>>& metadata() const { return metadata_; }
  std::size_t header_bytes() const { return header_bytes_; }
  const SafetensorsTensor* find_tensor(const std::string& name) const {
    for (const auto& tensor : tensors_) {
      if (tensor.name == name) return &tensor;
    }
    return nullptr;
  }

  static SafetensorsContents parse(const std::uint8_t* data, std::size_t size, const std::string& source) {
    constexpr const char* fn = "safetensors";
    const auto fail = [&](auto&&... parts) { detail::throw_format_error(fn, source, ": ", parts...); };
    if (size < 8) fail("file of ", size, " bytes is shorter than the 8-byte header length");
    const std::uint64_t header_length = detail::get_le(data, 8);
    if (header_length > safetensors::kMaxHeaderBytes) fail("header length ", header_length, " exceeds the 100 MB limit");
    if (header_length > size - 8) fail("header length ", header_length, " runs past the end of the ", size, "-byte file (truncated?)");
    if (header_length < 2 || data[8] != '{') fail("header does not start with a JSON object");
    const JsonValue header = JsonParser::parse(reinterpret_cast<const char*>(data + 8), static_cast<std::size_t>(header_length),
                                               source + ": safetensors header");
    if (!header.is_object()) fail("header is not a JSON object");

    SafetensorsContents out;
    out.header_bytes_ = 8 + static_cast<std::size_t>(header_length);
    const std::size_t data_bytes = size - out.header_bytes_;
    for (const auto& member : header.members()) {
      const std::string& name = member.first;
      const JsonValue& value = member.second;
      if (name == "__metadata__") {
        if (!value.is_object()) fail("__metadata__ is not an object");
        for (const auto& entry : value.members()) {
          if (!entry.second.is_string()) fail("__metadata__[\"", entry.first, "\"] is not a string");
          out.metadata_.emplace_back(entry.first, entry.second.as_string());
        }
        continue;
      }
      if (!value.is_object()) fail("tensor \"", name, "\" is not described by an object");
      SafetensorsTensor tensor;
      tensor.name = name;
      const JsonValue* dtype = value.find("dtype");
      const JsonValue* shape = value.find("shape");
      const JsonValue* offsets = value.find("data_offsets");
      if (dtype == nullptr || shape == nullptr || offsets == nullptr || value.members().size() != 3) {
        fail("tensor \"", name, "\" needs exactly the fields dtype, shape and data_offsets");
      }
      if (!dtype->is_string()) fail("tensor \"", name, "\": dtype is not a string");
      tensor.dtype = dtype->as_string();
      if (!detail::safetensors_dtype(tensor.dtype, &tensor.type)) fail("tensor \"", name, "\": unknown dtype \"", tensor.dtype, "\"");
      if (!shape->is_array() || shape->items().size() > 8) fail("tensor \"", name, "\": shape is not an array of at most 8 sizes");
      tensor.elements = 1;
      for (const JsonValue& dim : shape->items()) {
        if (!dim.is_uint64()) fail("tensor \"", name, "\": shape holds ", dim.number_text().empty() ? "a non-number" : dim.number_text(),
                                   ", not a non-negative integer");
        tensor.shape.push_back(dim.as_uint64());
        if (__builtin_mul_overflow(tensor.elements, static_cast<std::size_t>(dim.as_uint64()), &tensor.elements)) {
          fail("tensor \"", name, "\": element count overflows");
        }
      }
      const std::size_t element_bytes = detail::find_tensor_type_traits(static_cast<std::uint32_t>(tensor.type))->block_bytes;
      if (__builtin_mul_overflow(tensor.elements, element_bytes, &tensor.bytes)) fail("tensor \"", name, "\": size overflows");
      if (!offsets->is_array() || offsets->items().size() != 2 || !offsets->items()[0].is_uint64() ||
          !offsets->items()[1].is_uint64()) {
        fail("tensor \"", name, "\": data_offsets is not [begin, end]");
      }
      const std::uint64_t begin = offsets->items()[0].as_uint64();
      const std::uint64_t end = offsets->items()[1].as_uint64();
      if (end < begin || end > data_bytes) {
        fail("tensor \"", name, "\": data_offsets [", begin, ", ", end, "] lie outside the ", data_bytes, " data bytes (truncated?)");
      }
      if (end - begin != tensor.bytes) {
        fail("tensor \"", name, "\": data_offsets [", begin, ", ", end, "] hold ", end - begin, " bytes but ", tensor.dtype,
             " x ", tensor.elements, " elements need ", tensor.bytes);
      }
      tensor.file_offset = out.header_bytes_ + static_cast<std::size_t>(begin);
      tensor.data = data + tensor.file_offset;
      out.tensors_.push_back(std::move(tensor));
    }
    // The data must be covered exactly once, as the Rust reader requires.
    std::vector<const SafetensorsTensor*> by_offset;
    for (const auto& tensor : out.tensors_) by_offset.push_back(&tensor);
    std::sort(by_offset.begin(), by_offset.end(),
              [](const SafetensorsTensor* a, const SafetensorsTensor* b) { return a->file_offset < b->file_offset; });
    std::size_t expected = out.header_bytes_;
    for (const SafetensorsTensor* tensor : by_offset) {
      if (tensor->file_offset != expected) {
        fail("tensor \"", tensor->name, "\" starts at data offset ", tensor->file_offset - out.header_bytes_, ", expected ",
             expected - out.header_bytes_, tensor->file_offset < expected ? " (overlaps the previous tensor)" : " (leaves a hole)");
      }
      expected += tensor->bytes;
    }
    if (expected != size) fail("the tensors cover ", expected - out.header_bytes_, " data bytes, the file holds ", data_bytes);
    return out;
  }

 private:
  std::vector<SafetensorsTensor> tensors_;
  std::vector<std::pair<std::string, std::string>> metadata_;
  std::size_t header_bytes_ = 0;
};

class SafetensorsFile {
 public:
  static SafetensorsFile open(const std::string& path) {
    SafetensorsFile file;
    file.file_ = MappedFile::open(path);
    file.contents_ = SafetensorsContents::parse(file.file_.data(), file.file_.size(), path);
    return file;
  }
  const SafetensorsContents& contents() const { return contents_; }
  const MappedFile& mapping() const { return file_; }
  const std::string& path() const { return file_.path(); }

 private:
  MappedFile file_;
  SafetensorsContents contents_;
};

TRIT_END_NAMESPACE
