// trit: a GGUF (v2, v3) reader over a read-only mapping (ggml's gguf.cpp / gguf-py's
// gguf_reader.py define the format: docs/CHECKPOINTS.md). Nothing is copied: metadata values
// and tensor data are pointers into the mapping. Every offset, size, count and string length is
// checked against the file before it is used, so a malformed file is a format_error that names
// the file, the field and the offset, never a read out of bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "trit/detail/checked.hpp"
#include "trit/detail/file_io.hpp"
#include "trit/error.hpp"
#include "trit/io/metadata.hpp"
#include "trit/io/tensor_types.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

namespace gguf {
inline constexpr std::uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
inline constexpr std::uint32_t kDefaultAlignment = 32;
inline constexpr std::uint32_t kMaxDims = 4;  // GGML_MAX_DIMS
}  // namespace gguf

struct GgufTensor {
  std::string name;
  TensorType type = TensorType::f32;
  std::vector<std::uint64_t> dims;  // fastest-varying first, as GGUF stores them (a weight: {K, M})
  std::uint64_t offset = 0;         // from the start of the data section
  std::size_t elements = 0;
  std::size_t bytes = 0;
  const std::uint8_t* data = nullptr;  // inside the buffer or mapping
};

// A parsed GGUF buffer; the pointers inside stay valid while the buffer does (GgufFile keeps
// its mapping alive).
class GgufContents {
 public:
  std::uint32_t version() const { return version_; }
  std::uint32_t alignment() const { return alignment_; }
  std::size_t data_offset() const { return data_offset_; }
  const std::vector<MetadataEntry>& metadata() const { return metadata_; }
  const std::vector<GgufTensor>& tensors() const { return tensors_; }
  const MetadataEntry* find_metadata(const std::string& key) const {
    for (const auto& entry : metadata_) {
      if (entry.key == key) return &entry;
    }
    return nullptr;
  }
  const GgufTensor* find_tensor(const std::string& name) const {
    for (const auto& tensor : tensors_) {
      if (tensor.name == name) return &tensor;
    }
    return nullptr;
  }

  // Parses and checks `size` bytes; `source` (a path) goes into every error message.
  static GgufContents parse(const std::uint8_t* data, std::size_t size, const std::string& source) {
    constexpr const char* fn = "gguf";
    detail::ByteCursor in(data, size, fn, source);
    GgufContents out;
    if (in.u32("magic") != gguf::kMagic) in.fail("not a GGUF file (bad magic)");
    out.version_ = in.u32("version");
    if (out.version_ != 2 && out.version_ != 3) in.fail("unsupported GGUF version ", out.version_, " (2 and 3 are read)");
    const std::uint64_t tensor_count = in.u64("tensor count");
    const std::uint64_t metadata_count = in.u64("metadata count");
    out.metadata_ = detail::read_metadata(in, metadata_count);

    out.alignment_ = gguf::kDefaultAlignment;
    if (const MetadataEntry* alignment = out.find_metadata("general.alignment")) {
      if (alignment->type != MetadataType::u32) in.fail("general.alignment is a ", metadata_type_name(alignment->type), ", not u32");
      const std::uint64_t value = alignment->as_u64();
      if (value == 0 || (value & (value - 1)) != 0 || value > (1u << 20)) in.fail("general.alignment ", value, " is not a power of two");
      out.alignment_ = static_cast<std::uint32_t>(value);
    }

    // A tensor info takes at least 8 + 4 + 4 + 8 bytes.
    if (tensor_count > in.remaining() / 24) in.fail("tensor count ", tensor_count, " exceeds what ", in.remaining(), " bytes can hold");
    out.tensors_.reserve(static_cast<std::size_t>(tensor_count));
    for (std::uint64_t i = 0; i < tensor_count; ++i) {
      GgufTensor tensor;
      const std::size_t info_at = in.offset();
      tensor.name = in.string("tensor name");
      for (const GgufTensor& seen : out.tensors_) {
        if (seen.name == tensor.name) in.fail("duplicate tensor name \"", tensor.name, "\"");
      }
      const std::uint32_t n_dims = in.u32("tensor dimension count");
      if (n_dims == 0 || n_dims > gguf::kMaxDims) {
        in.fail("tensor \"", tensor.name, "\" (info at offset ", info_at, ") has ", n_dims, " dimensions (1 to 4 allowed)");
      }
      for (std::uint32_t d = 0; d < n_dims; ++d) tensor.dims.push_back(in.u64("tensor dimension"));
      const std::uint32_t type = in.u32("tensor type");
      tensor.type = static_cast<TensorType>(type);
      tensor.offset = in.u64("tensor offset");
      const detail::TensorExtent extent = detail::tensor_extent(type, tensor.dims, fn, source + ": tensor \"" + tensor.name + "\"");
      tensor.elements = extent.elements;
      tensor.bytes = extent.bytes;
      if (tensor.offset % out.alignment_ != 0) {
        in.fail("tensor \"", tensor.name, "\" offset ", tensor.offset, " is not a multiple of the alignment ", out.alignment_);
      }
      out.tensors_.push_back(std::move(tensor));
    }

    out.data_offset_ = detail::align_up(in.offset(), out.alignment_);
    if (out.data_offset_ > size) {
      if (!out.tensors_.empty()) in.fail("data section at offset ", out.data_offset_, " starts past the end (", size, " bytes, truncated?)");
      out.data_offset_ = size;
    }
    const std::size_t data_bytes = size - out.data_offset_;
    for (GgufTensor& tensor : out.tensors_) {
      if (tensor.offset > data_bytes || tensor.bytes > data_bytes - tensor.offset) {
        in.fail("tensor \"", tensor.name, "\" (", tensor_type_name(tensor.type), ", ", tensor.bytes, " bytes at data offset ",
                tensor.offset, ", file offset ", out.data_offset_ + tensor.offset, ") runs past the end of the file (",
                size, " bytes, truncated?)");
      }
      tensor.data = data + out.data_offset_ + tensor.offset;
    }
    return out;
  }

 private:
  std::uint32_t version_ = 0;
  std::uint32_t alignment_ = gguf::kDefaultAlignment;
  std::size_t data_offset_ = 0;
  std::vector<MetadataEntry> metadata_;
  std::vector<GgufTensor> tensors_;
};

// A mapped GGUF file. Move-only; everything it hands out points into the mapping.
class GgufFile {
 public:
  // Throws io_error (cannot open or map) or format_error (malformed).
  static GgufFile open(const std::string& path) {
    GgufFile file;
    file.file_ = MappedFile::open(path);
    file.contents_ = GgufContents::parse(file.file_.data(), file.file_.size(), path);
    return file;
  }
  const GgufContents& contents() const { return contents_; }
  const MappedFile& mapping() const { return file_; }
  const std::string& path() const { return file_.path(); }

 private:
  MappedFile file_;
  GgufContents contents_;
};

// Whether the first bytes look like GGUF (for tools that take any checkpoint).
inline bool looks_like_gguf(const std::uint8_t* data, std::size_t size) {
  return size >= 4 && detail::get_le(data, 4) == gguf::kMagic;
}

TRIT_END_NAMESPACE
