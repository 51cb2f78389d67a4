// trit: the trit model file (docs/CHECKPOINTS.md, "The trit model file"): one file holding a
// whole converted checkpoint, made to be mapped. A 64-byte header, metadata key/values in
// GGUF's value encoding (so tokenizer data is carried byte for byte), a tensor table, then
// each tensor 64-byte aligned with an FNV-1a 64 checksum in the table. Linear weights are
// trit matrix blobs in either layout (serialize(): Dense243 v2 blobs, TRIT_MATRIX, or TwoBit
// blobs, TRIT_TWO_BIT), so ModelFile hands out PackedMatrixViews or TwoBitMatrixViews that
// point into the mapping: nothing is copied. The writer goes through write_file_atomically.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "trit/detail/checked.hpp"
#include "trit/detail/file_io.hpp"
#include "trit/error.hpp"
#include "trit/format/blob.hpp"
#include "trit/format/packed_matrix.hpp"
#include "trit/format/serialize.hpp"
#include "trit/format/two_bit.hpp"
#include "trit/io/metadata.hpp"
#include "trit/io/tensor_types.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

namespace model_file {
inline constexpr char kMagic[8] = {'T', 'R', 'I', 'T', 'M', 'O', 'D', 'L'};
inline constexpr std::uint32_t kVersion = 1;
inline constexpr std::size_t kHeaderBytes = 64;
inline constexpr std::size_t kAlignment = 64;
inline constexpr std::uint32_t kMaxDims = 8;
}  // namespace model_file

struct ModelTensor {
  std::string name;
  TensorType type = TensorType::f32;
  std::vector<std::uint64_t> dims;  // outermost first: a matrix is {M, K}
  const std::uint8_t* data = nullptr;
  std::size_t bytes = 0;
  std::size_t offset = 0;     // in the file
  std::uint64_t checksum = 0;
  PackedMatrixView matrix;    // for type trit_matrix: a view into the mapping
  TwoBitMatrixView two_bit;   // for type trit_two_bit_matrix: a view into the mapping
  bool is_matrix() const { return type == TensorType::trit_matrix; }  // Dense243
  bool is_two_bit_matrix() const { return type == TensorType::trit_two_bit_matrix; }
  bool is_ternary_matrix() const { return is_matrix() || is_two_bit_matrix(); }
  // The layout of a ternary matrix tensor (Dense243 for any other tensor).
  WeightLayout layout() const { return is_two_bit_matrix() ? WeightLayout::two_bit : WeightLayout::dense243; }
};

// A parsed model file buffer: pointers into it stay valid while the buffer lives.
class ModelContents {
 public:
  const std::vector<MetadataEntry>& metadata() const { return metadata_; }
  const std::vector<ModelTensor>& tensors() const { return tensors_; }
  const MetadataEntry* find_metadata(const std::string& key) const {
    for (const auto& entry : metadata_) {
      if (entry.key == key) return &entry;
    }
    return nullptr;
  }
  const ModelTensor* find_tensor(const std::string& name) const {
    for (const auto& tensor : tensors_) {
      if (tensor.name == name) return &tensor;
    }
    return nullptr;
  }
  // The view of a Dense243 matrix tensor; throws std::invalid_argument if there is none of
  // that name (a TwoBit one included: two_bit_matrix gives those).
  PackedMatrixView matrix(const std::string& name) const {
    return checked_matrix(name, TensorType::trit_matrix, "ModelFile::matrix")->matrix;
  }
  // The view of a TwoBit matrix tensor; throws std::invalid_argument if there is none of that
  // name (a Dense243 one included).
  TwoBitMatrixView two_bit_matrix(const std::string& name) const {
    return checked_matrix(name, TensorType::trit_two_bit_matrix, "ModelFile::two_bit_matrix")->two_bit;
  }

  // Checks everything: header, index checksum, metadata, table, every tensor's bounds,
  // alignment and checksum, and every matrix blob (check_matrix_blob, check_two_bit_blob). `data` must be 64-byte
  // aligned (a mapping is) so that the matrix views are usable in place.
  // `checked`, when given, is called with each tensor's offset and size once the tensor has
  // passed every check (ModelFile::open releases those pages from the resident set).
  static ModelContents parse(const std::uint8_t* data, std::size_t size, const std::string& source,
                             const std::function<void(std::size_t offset, std::size_t bytes)>& checked = {}) {
    constexpr const char* fn = "ModelFile";
    detail::ByteCursor in(data, size, fn, source);
    if (size < model_file::kHeaderBytes) in.fail("file of ", size, " bytes is shorter than the 64-byte header");
    if (std::memcmp(data, model_file::kMagic, 8) != 0) in.fail("not a trit model file (bad magic)");
    if (reinterpret_cast<std::uintptr_t>(data) % model_file::kAlignment != 0) {
      detail::throw_invalid_argument(fn, source, ": buffer is not 64-byte aligned");
    }
    in.seek(8);
    const std::uint32_t version = in.u32("version");
    if (version != model_file::kVersion) in.fail("unsupported model file version ", version);
    const std::uint32_t header_bytes = in.u32("header size");
    if (header_bytes != model_file::kHeaderBytes) in.fail("header size ", header_bytes, " != 64");
    const std::uint64_t metadata_count = in.u64("metadata count");
    const std::uint64_t tensor_count = in.u64("tensor count");
    const std::uint64_t table_offset = in.u64("table offset");
    const std::uint64_t data_offset = in.u64("data offset");
    const std::uint64_t file_size = in.u64("file size");
    if (file_size != size) in.fail("header says ", file_size, " bytes, the file holds ", size, size < file_size ? " (truncated)" : "");
    if (table_offset < model_file::kHeaderBytes || table_offset > data_offset || data_offset > size ||
        data_offset % model_file::kAlignment != 0) {
      in.fail("inconsistent section offsets: table at ", table_offset, ", data at ", data_offset, " in ", size, " bytes");
    }
    const std::size_t index_end = static_cast<std::size_t>(data_offset);
    if (detail::get_le(data + detail::kBlobChecksumOffset, 8) != detail::blob_checksum(data, index_end)) {
      in.fail("index checksum mismatch (header, metadata or tensor table damaged)");
    }

    ModelContents out;
    detail::ByteCursor meta(data, static_cast<std::size_t>(table_offset), fn, source + ": metadata");
    meta.seek(model_file::kHeaderBytes);
    out.metadata_ = detail::read_metadata(meta, metadata_count);
    if (meta.offset() != table_offset) in.fail("metadata ends at ", meta.offset(), ", the table starts at ", table_offset);

    detail::ByteCursor table(data, index_end, fn, source + ": tensor table");
    table.seek(static_cast<std::size_t>(table_offset));
    // An entry takes at least 8 + 4 + 4 + 8 + 8 + 8 + 8 bytes.
    if (tensor_count > table.remaining() / 48) table.fail("tensor count ", tensor_count, " exceeds what the table can hold");
    std::size_t previous_end = index_end;
    out.tensors_.reserve(static_cast<std::size_t>(tensor_count));
    for (std::uint64_t i = 0; i < tensor_count; ++i) {
      ModelTensor tensor;
      tensor.name = table.string("tensor name");
      for (const ModelTensor& seen : out.tensors_) {
        if (seen.name == tensor.name) table.fail("duplicate tensor name \"", tensor.name, "\"");
      }
      const std::uint32_t type = table.u32("tensor type");
      tensor.type = static_cast<TensorType>(type);
      const std::uint32_t n_dims = table.u32("dimension count");
      if (n_dims > model_file::kMaxDims) table.fail("tensor \"", tensor.name, "\" has ", n_dims, " dimensions");
      for (std::uint32_t d = 0; d < n_dims; ++d) tensor.dims.push_back(table.u64("dimension"));
      const std::uint64_t offset = table.u64("tensor offset");
      const std::uint64_t bytes = table.u64("tensor size");
      tensor.checksum = table.u64("tensor checksum");
      if (offset % model_file::kAlignment != 0 || offset < previous_end || offset > size || bytes > size - offset) {
        table.fail("tensor \"", tensor.name, "\": ", bytes, " bytes at offset ", offset,
                   " are misaligned, overlap the previous tensor or run past the end (", size, " bytes)");
      }
      tensor.offset = static_cast<std::size_t>(offset);
      tensor.bytes = static_cast<std::size_t>(bytes);
      tensor.data = data + tensor.offset;
      previous_end = tensor.offset + tensor.bytes;
      if (detail::fnv1a64(tensor.data, tensor.bytes) != tensor.checksum) {
        table.fail("tensor \"", tensor.name, "\" at offset ", offset, ": checksum mismatch (data damaged)");
      }
      if (tensor.is_matrix()) {
        const detail::MatrixBlob at = checked_blob(table, tensor, [&] { return detail::check_matrix_blob(tensor.data, tensor.bytes, fn); });
        tensor.matrix = PackedMatrixView(PackedMatrixView::Trusted{}, tensor.data + at.rows_offset, at.rows, at.cols, at.row_stride,
                                         at.granularity, reinterpret_cast<const float*>(tensor.data + serialized::kHeaderBytes));
      } else if (tensor.is_two_bit_matrix()) {
        const detail::TwoBitBlob at = checked_blob(table, tensor, [&] { return detail::check_two_bit_blob(tensor.data, tensor.bytes, fn); });
        tensor.two_bit = TwoBitMatrixView(TwoBitMatrixView::Trusted{}, tensor.data + at.rows_offset, at.rows, at.cols, at.row_stride,
                                          at.granularity, reinterpret_cast<const float*>(tensor.data + serialized_two_bit::kHeaderBytes));
      } else {
        const TensorTypeTraits* traits = detail::find_tensor_type_traits(type);
        if (traits == nullptr) table.fail("tensor \"", tensor.name, "\" has unknown type ", type);
        std::vector<std::uint64_t> fastest_first(tensor.dims.rbegin(), tensor.dims.rend());
        const detail::TensorExtent extent = detail::tensor_extent(type, fastest_first, fn, source + ": tensor \"" + tensor.name + "\"");
        if (extent.bytes != tensor.bytes) table.fail("tensor \"", tensor.name, "\": ", tensor.bytes, " bytes, its type and shape need ", extent.bytes);
      }
      if (checked) checked(tensor.offset, tensor.bytes);
      out.tensors_.push_back(std::move(tensor));
    }
    return out;
  }

 private:
  // A matrix tensor's blob checked by `check` (either layout's), its errors naming the tensor,
  // and its shape against the table's.
  template <class Check>
  static auto checked_blob(detail::ByteCursor& table, const ModelTensor& tensor, const Check& check) -> decltype(check()) {
    decltype(check()) at;
    try {
      at = check();
    } catch (const format_error& e) {
      table.fail("tensor \"", tensor.name, "\" at offset ", tensor.offset, ": ", e.what());
    }
    if (tensor.dims.size() != 2 || tensor.dims[0] != at.rows || tensor.dims[1] != at.cols) {
      table.fail("tensor \"", tensor.name, "\": table shape disagrees with its ", at.rows, "x", at.cols, " matrix blob");
    }
    return at;
  }

  const ModelTensor* checked_matrix(const std::string& name, TensorType type, const char* fn) const {
    const ModelTensor* tensor = find_tensor(name);
    detail::require(tensor != nullptr, fn, "no tensor named \"", name, "\"");
    detail::require(tensor->type == type, fn, "tensor \"", name, "\" is ", tensor_type_name(tensor->type), ", not a ",
                    tensor_type_name(type), " trit matrix");
    return tensor;
  }

  std::vector<MetadataEntry> metadata_;
  std::vector<ModelTensor> tensors_;
};

// A mapped, checked model file. Move-only; views and pointers point into the mapping.
class ModelFile {
 public:
  static ModelFile open(const std::string& path) {
    ModelFile file;
    file.file_ = MappedFile::open(path);
    // Checking reads every byte; releasing each tensor's pages once checked keeps a model of
    // many GB from becoming resident all at once: pages return as the model reads them.
    const MappedFile& mapping = file.file_;
    file.contents_ = ModelContents::parse(mapping.data(), mapping.size(), path,
                                          [&mapping](std::size_t offset, std::size_t bytes) { mapping.release_pages(offset, bytes); });
    return file;
  }
  const ModelContents& contents() const { return contents_; }
  const std::vector<ModelTensor>& tensors() const { return contents_.tensors(); }
  const std::vector<MetadataEntry>& metadata() const { return contents_.metadata(); }
  PackedMatrixView matrix(const std::string& name) const { return contents_.matrix(name); }
  TwoBitMatrixView two_bit_matrix(const std::string& name) const { return contents_.two_bit_matrix(name); }
  const MappedFile& mapping() const { return file_; }

 private:
  MappedFile file_;
  ModelContents contents_;
};

// Collects metadata and tensors, then writes them as one model file, atomically.
class ModelWriter {
 public:
  // Progress callback: (tensors written, tensor count, name of the current tensor).
  using Progress = std::function<void(std::size_t, std::size_t, const std::string&)>;

  void add_metadata(const std::string& key, MetadataType type, std::vector<std::uint8_t> encoded_value) {
    check_new_key(key);
    metadata_.push_back({key, type, std::move(encoded_value)});
  }
  void add_metadata(const MetadataEntry& entry) {
    add_metadata(entry.key, entry.type, std::vector<std::uint8_t>(entry.value, entry.value + entry.value_bytes));
  }
  void add_string(const std::string& key, const std::string& value) {
    std::vector<std::uint8_t> encoded;
    detail::put_metadata_string(encoded, value);
    add_metadata(key, MetadataType::string, std::move(encoded));
  }
  // A tensor stored as it came; `data` must stay valid until write() returns.
  void add_raw(const std::string& name, TensorType type, std::vector<std::uint64_t> dims, const std::uint8_t* data, std::size_t bytes) {
    check_new_tensor(name);
    tensors_.push_back({name, type, std::move(dims), data, bytes, {}});
  }
  void add_matrix(const std::string& name, const PackedMatrixView& matrix) {
    check_new_tensor(name);
    Pending pending{name, TensorType::trit_matrix, {matrix.rows(), matrix.cols()}, nullptr, 0, serialize(matrix)};
    pending.data = pending.owned.data();
    pending.bytes = pending.owned.size();
    tensors_.push_back(std::move(pending));
  }
  void add_matrix(const std::string& name, const TwoBitMatrixView& matrix) {
    check_new_tensor(name);
    Pending pending{name, TensorType::trit_two_bit_matrix, {matrix.rows(), matrix.cols()}, nullptr, 0, serialize(matrix)};
    pending.data = pending.owned.data();
    pending.bytes = pending.owned.size();
    tensors_.push_back(std::move(pending));
  }
  std::size_t tensor_count() const { return tensors_.size(); }

  // Throws io_error; an interrupted write leaves no file at `path` (or the old one).
  void write(const std::string& path, const Progress& progress = {}) const {
    std::vector<std::uint8_t> metadata;
    for (const auto& entry : metadata_) {
      detail::put_metadata_string(metadata, entry.key);
      detail::put_le(metadata, static_cast<std::uint32_t>(entry.type), 4);
      metadata.insert(metadata.end(), entry.value.begin(), entry.value.end());
    }
    const std::size_t table_offset = model_file::kHeaderBytes + metadata.size();
    std::size_t table_bytes = 0;
    for (const auto& tensor : tensors_) table_bytes += 8 + tensor.name.size() + 4 + 4 + 8 * tensor.dims.size() + 24;
    const std::size_t data_offset = detail::align_up(table_offset + table_bytes, model_file::kAlignment);
    std::vector<std::uint8_t> table;
    std::vector<std::size_t> offsets;
    std::size_t at = data_offset;
    for (std::size_t i = 0; i < tensors_.size(); ++i) {
      const Pending& tensor = tensors_[i];
      if (progress) progress(i, tensors_.size(), tensor.name);
      detail::put_metadata_string(table, tensor.name);
      detail::put_le(table, static_cast<std::uint32_t>(tensor.type), 4);
      detail::put_le(table, tensor.dims.size(), 4);
      for (std::uint64_t d : tensor.dims) detail::put_le(table, d, 8);
      offsets.push_back(at);
      detail::put_le(table, at, 8);
      detail::put_le(table, tensor.bytes, 8);
      detail::put_le(table, detail::fnv1a64(tensor.data, tensor.bytes), 8);
      at = detail::align_up(at + tensor.bytes, model_file::kAlignment);
    }
    const std::size_t file_size = tensors_.empty() ? data_offset : offsets.back() + tensors_.back().bytes;
    std::vector<std::uint8_t> index(model_file::kHeaderBytes, 0);
    std::memcpy(index.data(), model_file::kMagic, 8);
    const auto set = [&](std::size_t offset, std::uint64_t value, int bytes) {
      for (int b = 0; b < bytes; ++b) index[offset + static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(value >> (8 * b));
    };
    set(8, model_file::kVersion, 4);
    set(12, model_file::kHeaderBytes, 4);
    set(16, metadata_.size(), 8);
    set(24, tensors_.size(), 8);
    set(32, table_offset, 8);
    set(40, data_offset, 8);
    set(48, file_size, 8);
    index.insert(index.end(), metadata.begin(), metadata.end());
    index.insert(index.end(), table.begin(), table.end());
    index.resize(data_offset, 0);
    detail::seal_blob(index);

    detail::write_file_atomically(path, "ModelWriter::write", [&](const auto& put) {
      static const std::uint8_t kZeros[model_file::kAlignment] = {};
      put(index.data(), index.size());
      std::size_t written = index.size();
      for (std::size_t i = 0; i < tensors_.size(); ++i) {
        if (progress) progress(i, tensors_.size(), tensors_[i].name);
        put(kZeros, offsets[i] - written);
        put(tensors_[i].data, tensors_[i].bytes);
        written = offsets[i] + tensors_[i].bytes;
      }
      if (progress) progress(tensors_.size(), tensors_.size(), "");
    });
  }

 private:
  struct OwnedMetadata {
    std::string key;
    MetadataType type;
    std::vector<std::uint8_t> value;
  };
  struct Pending {
    std::string name;
    TensorType type;
    std::vector<std::uint64_t> dims;
    const std::uint8_t* data;
    std::size_t bytes;
    std::vector<std::uint8_t> owned;
  };
  void check_new_key(const std::string& key) const {
    for (const auto& entry : metadata_) detail::require(entry.key != key, "ModelWriter", "duplicate metadata key \"", key, "\"");
  }
  void check_new_tensor(const std::string& name) const {
    for (const auto& tensor : tensors_) detail::require(tensor.name != name, "ModelWriter", "duplicate tensor \"", name, "\"");
  }

  std::vector<OwnedMetadata> metadata_;
  std::vector<Pending> tensors_;
};

TRIT_END_NAMESPACE
