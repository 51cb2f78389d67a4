// trit: checkpoint -> trit model file. Reads a GGUF file, a safetensors file, or a Hugging
// Face directory (model.safetensors, or shards listed by model.safetensors.index.json); turns
// every linear weight into a ternary matrix (TQ1_0, TQ2_0, I2_S and HF packed weights
// losslessly, float projections through absmean) stored in the layout ConvertOptions asks
// for (Dense243, TwoBit, or recommend_layout's choice per matrix), keeps every other tensor as
// it came, carries all metadata over, and writes one model file atomically.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "trit/detail/file_io.hpp"
#include "trit/driver/two_bit.hpp"
#include "trit/error.hpp"
#include "trit/format/two_bit.hpp"
#include "trit/io/gguf.hpp"
#include "trit/io/json.hpp"
#include "trit/io/model_file.hpp"
#include "trit/io/safetensors.hpp"
#include "trit/io/ternary_import.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

// The layout trit-convert stores ternary matrices in: one for all, or recommend_layout's
// choice for each matrix (for `layout_threads` threads).
enum class ConvertLayout : std::uint8_t { dense243, two_bit, automatic };

inline const char* convert_layout_name(ConvertLayout layout) {
  return layout == ConvertLayout::two_bit ? "two_bit" : layout == ConvertLayout::automatic ? "auto" : "dense243";
}

struct ConvertOptions {
  // Turn float attention/FFN projections into ternary with absmean (BitNet's quantizer).
  bool quantize_float_linears = true;
  // How a Hugging Face weight_scale applies; by default read from config.json's
  // quantization_config.linear_class ("autobitlinear" multiplies; anything else divides).
  bool hf_weight_scale_from_config = true;
  HfWeightScale hf_weight_scale = HfWeightScale::divides;
  // The layout of every ternary matrix; automatic asks recommend_layout(rows, cols,
  // layout_threads) for each (the result depends on this machine's caches).
  ConvertLayout layout = ConvertLayout::dense243;
  unsigned layout_threads = 1;
  // Called with a line of progress text; convert_checkpoint only calls it once a conversion
  // has run for more than a second.
  std::function<void(const std::string&)> progress;
};

struct ConvertSummary {
  std::string source_format;  // "gguf" or "safetensors"
  std::size_t matrices_imported = 0;  // ternary tensors, bit-exact
  std::size_t matrices_quantized = 0; // float projections through absmean
  std::size_t tensors_kept = 0;
  std::size_t metadata_entries = 0;
  std::size_t matrices_two_bit = 0;   // of the imported and quantized ones, stored as TwoBit
};

namespace detail {

// Adds a ternary matrix in the layout the options ask for.
inline void add_ternary_matrix(ModelWriter& writer, const std::string& name, const PackedMatrix& packed,
                               const ConvertOptions& options, ConvertSummary& summary) {
  const bool two_bit = options.layout == ConvertLayout::two_bit ||
                       (options.layout == ConvertLayout::automatic &&
                        recommend_layout(packed.rows(), packed.cols(), options.layout_threads) == WeightLayout::two_bit);
  if (two_bit) {
    writer.add_matrix(name, to_two_bit(packed));
    ++summary.matrices_two_bit;
  } else {
    writer.add_matrix(name, packed);
  }
}

inline bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// blk.<N>.{attn_q,attn_k,attn_v,attn_output,ffn_gate,ffn_up,ffn_down}.weight
inline bool is_gguf_projection(const std::string& name) {
  if (name.compare(0, 4, "blk.") != 0) return false;
  std::size_t at = 4;
  while (at < name.size() && name[at] >= '0' && name[at] <= '9') ++at;
  if (at == 4 || at >= name.size() || name[at] != '.') return false;
  const std::string rest = name.substr(at + 1);
  for (const char* projection : {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"}) {
    if (rest == std::string(projection) + ".weight") return true;
  }
  return false;
}

// *.{q,k,v,o,gate,up,down}_proj.weight
inline bool is_hf_projection(const std::string& name) {
  for (const char* projection : {".q_proj", ".k_proj", ".v_proj", ".o_proj", ".gate_proj", ".up_proj", ".down_proj"}) {
    if (ends_with(name, std::string(projection) + ".weight")) return true;
  }
  return false;
}

inline bool is_float_type(TensorType type) {
  return type == TensorType::f32 || type == TensorType::f16 || type == TensorType::bf16;
}

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_io_error("convert_checkpoint", path, "cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) throw_io_error("convert_checkpoint", path, "cannot read");
  return text.str();
}

// Reports progress only after the first second, so quick conversions stay quiet.
class ProgressReporter {
 public:
  explicit ProgressReporter(std::function<void(const std::string&)> sink)
      : sink_(std::move(sink)), start_(std::chrono::steady_clock::now()) {}
  void report(const std::string& line) {
    if (!sink_) return;
    if (std::chrono::steady_clock::now() - start_ < std::chrono::seconds(1)) return;
    sink_(line);
  }

 private:
  std::function<void(const std::string&)> sink_;
  std::chrono::steady_clock::time_point start_;
};

inline void convert_gguf(const std::string& path, ModelWriter& writer, ConvertSummary& summary, const ConvertOptions& options,
                         ProgressReporter& progress, std::vector<std::shared_ptr<void>>& keep_alive) {
  auto file = std::make_shared<GgufFile>(GgufFile::open(path));
  keep_alive.push_back(file);
  const GgufContents& gguf = file->contents();
  summary.source_format = "gguf";
  for (const MetadataEntry& entry : gguf.metadata()) writer.add_metadata(entry);
  summary.metadata_entries = gguf.metadata().size();
  std::size_t index = 0;
  for (const GgufTensor& tensor : gguf.tensors()) {
    progress.report(concat("[", ++index, "/", gguf.tensors().size(), "] importing ", tensor.name));
    const std::vector<std::uint64_t> dims(tensor.dims.rbegin(), tensor.dims.rend());
    const bool matrix_shape = tensor.dims.size() == 2;
    const std::string what = concat(path, ": tensor \"", tensor.name, "\" at file offset ", gguf.data_offset() + tensor.offset);
    try {
      if (is_ternary_type(tensor.type)) {
        if (!matrix_shape) throw_format_error("convert", "a ", tensor_type_name(tensor.type), " tensor must be 2-D");
        const std::size_t rows = static_cast<std::size_t>(tensor.dims[1]);
        const std::size_t cols = static_cast<std::size_t>(tensor.dims[0]);
        PackedMatrix packed = tensor.type == TensorType::tq1_0   ? import_tq1_0(tensor.data, tensor.bytes, rows, cols, tensor.name)
                              : tensor.type == TensorType::tq2_0 ? import_tq2_0(tensor.data, tensor.bytes, rows, cols, tensor.name)
                                                                 : import_i2_s(tensor.data, tensor.bytes, rows, cols, tensor.name);
        add_ternary_matrix(writer, tensor.name, packed, options, summary);
        ++summary.matrices_imported;
      } else if (options.quantize_float_linears && matrix_shape && is_float_type(tensor.type) && is_gguf_projection(tensor.name)) {
        add_ternary_matrix(writer, tensor.name,
                           import_float_absmean(tensor.type, tensor.data, static_cast<std::size_t>(tensor.dims[1]),
                                                static_cast<std::size_t>(tensor.dims[0]), tensor.name),
                           options, summary);
        ++summary.matrices_quantized;
      } else {
        writer.add_raw(tensor.name, tensor.type, dims, tensor.data, tensor.bytes);
        ++summary.tensors_kept;
      }
    } catch (const format_error& e) {
      throw format_error(concat(what, ": ", e.what()));
    } catch (const std::invalid_argument& e) {
      throw format_error(concat(what, ": ", e.what()));
    }
  }
}

inline HfWeightScale hf_weight_scale_from_config(const JsonValue& config, HfWeightScale fallback) {
  if (!config.is_object()) return fallback;
  const JsonValue* quantization = config.find("quantization_config");
  if (quantization == nullptr || !quantization->is_object()) return fallback;
  const JsonValue* linear_class = quantization->find("linear_class");
  if (linear_class != nullptr && linear_class->is_string() && linear_class->as_string() == "autobitlinear") {
    return HfWeightScale::multiplies;
  }
  return HfWeightScale::divides;
}

inline void convert_safetensors(const std::vector<std::string>& shards, const std::string& directory, ModelWriter& writer,
                                ConvertSummary& summary, const ConvertOptions& options, ProgressReporter& progress,
                                std::vector<std::shared_ptr<void>>& keep_alive) {
  namespace fs = std::filesystem;
  summary.source_format = "safetensors";
  HfWeightScale convention = options.hf_weight_scale;
  if (!directory.empty()) {
    // Tokenizer and architecture files travel with the weights, as GGUF's metadata does.
    static const std::pair<const char*, const char*> kSideFiles[] = {
        {"config.json", "hf.config_json"}, {"tokenizer.json", "hf.tokenizer_json"},
        {"tokenizer_config.json", "hf.tokenizer_config_json"}, {"generation_config.json", "hf.generation_config_json"},
        {"special_tokens_map.json", "hf.special_tokens_map_json"}};
    for (const auto& side : kSideFiles) {
      const fs::path file = fs::path(directory) / side.first;
      if (!fs::is_regular_file(file)) continue;
      const std::string text = read_text_file(file.string());
      if (std::string(side.first) == "config.json" && options.hf_weight_scale_from_config) {
        convention = hf_weight_scale_from_config(JsonParser::parse(text, file.string()), convention);
      }
      writer.add_string(side.second, text);
      ++summary.metadata_entries;
    }
  }
  writer.add_string("trit.hf_weight_scale", convention == HfWeightScale::divides ? "divides" : "multiplies");
  ++summary.metadata_entries;

  std::vector<std::shared_ptr<SafetensorsFile>> files;
  std::size_t total = 0;
  for (const std::string& shard : shards) {
    files.push_back(std::make_shared<SafetensorsFile>(SafetensorsFile::open(shard)));
    keep_alive.push_back(files.back());
    total += files.back()->contents().tensors().size();
    for (const auto& entry : files.back()->contents().metadata()) {
      const std::string key = "safetensors." + entry.first;
      bool seen = false;
      for (std::size_t i = 0; i + 1 < files.size() && !seen; ++i) {
        for (const auto& other : files[i]->contents().metadata()) seen = seen || other.first == entry.first;
      }
      if (seen) continue;
      writer.add_string(key, entry.second);
      ++summary.metadata_entries;
    }
  }
  // Tensors may sit in any shard: find weight_scale siblings across all of them.
  std::map<std::string, std::pair<const SafetensorsFile*, const SafetensorsTensor*>> by_name;
  for (const auto& file : files) {
    for (const auto& tensor : file->contents().tensors()) {
      if (!by_name.emplace(tensor.name, std::make_pair(file.get(), &tensor)).second) {
        throw_format_error("convert", file->path(), ": tensor \"", tensor.name, "\" appears in more than one shard");
      }
    }
  }
  std::size_t index = 0;
  for (const auto& file : files) {
    for (const SafetensorsTensor& tensor : file->contents().tensors()) {
      progress.report(concat("[", ++index, "/", total, "] importing ", tensor.name));
      const std::string what = concat(file->path(), ": tensor \"", tensor.name, "\" at file offset ", tensor.file_offset);
      const std::string suffix = ".weight_scale";
      const bool is_scale = tensor.name.size() > suffix.size() &&
                            tensor.name.compare(tensor.name.size() - suffix.size(), suffix.size(), suffix) == 0;
      try {
        if (is_scale) {
          const std::string weight = tensor.name.substr(0, tensor.name.size() - suffix.size()) + ".weight";
          auto found = by_name.find(weight);
          if (found == by_name.end() || found->second.second->type != TensorType::u8) {
            writer.add_raw(tensor.name, tensor.type, tensor.shape, tensor.data, tensor.bytes);  // not a packed weight's scale
            ++summary.tensors_kept;
          }
          continue;
        }
        const auto scale = by_name.find(tensor.name.size() > 7 && tensor.name.compare(tensor.name.size() - 7, 7, ".weight") == 0
                                            ? tensor.name.substr(0, tensor.name.size() - 7) + suffix
                                            : std::string());
        if (tensor.type == TensorType::u8 && scale != by_name.end()) {
          if (tensor.shape.size() != 2) throw_format_error("convert", "packed weight has ", tensor.shape.size(), " dimensions, expected 2");
          const SafetensorsTensor& s = *scale->second.second;
          add_ternary_matrix(writer, tensor.name,
                             import_hf_packed(tensor.data, static_cast<std::size_t>(tensor.shape[0]),
                                              static_cast<std::size_t>(tensor.shape[1]), s.type, s.data, s.elements,
                                              tensor.name, convention),
                             options, summary);
          ++summary.matrices_imported;
        } else if (options.quantize_float_linears && tensor.shape.size() == 2 && is_float_type(tensor.type) &&
                   is_hf_projection(tensor.name)) {
          add_ternary_matrix(writer, tensor.name,
                             import_float_absmean(tensor.type, tensor.data, static_cast<std::size_t>(tensor.shape[0]),
                                                  static_cast<std::size_t>(tensor.shape[1]), tensor.name),
                             options, summary);
          ++summary.matrices_quantized;
        } else {
          writer.add_raw(tensor.name, tensor.type, tensor.shape, tensor.data, tensor.bytes);
          ++summary.tensors_kept;
        }
      } catch (const format_error& e) {
        throw format_error(concat(what, ": ", e.what()));
      } catch (const std::invalid_argument& e) {
        throw format_error(concat(what, ": ", e.what()));
      }
    }
  }
}

// The shard files of a Hugging Face directory, from its index or a lone model.safetensors.
inline std::vector<std::string> safetensors_shards(const std::string& directory) {
  namespace fs = std::filesystem;
  const fs::path index = fs::path(directory) / "model.safetensors.index.json";
  if (fs::is_regular_file(index)) {
    const JsonValue json = JsonParser::parse(read_text_file(index.string()), index.string());
    const JsonValue* weight_map = json.is_object() ? json.find("weight_map") : nullptr;
    if (weight_map == nullptr || !weight_map->is_object()) throw_format_error("convert", index.string(), ": no weight_map object");
    std::vector<std::string> shards;
    for (const auto& member : weight_map->members()) {
      if (!member.second.is_string()) throw_format_error("convert", index.string(), ": weight_map[\"", member.first, "\"] is not a string");
      const std::string& shard = member.second.as_string();
      // Shards are plain file names beside the index: never a path out of the directory.
      if (shard.empty() || shard.find('/') != std::string::npos || shard.find('\\') != std::string::npos || shard == "." || shard == "..") {
        throw_format_error("convert", index.string(), ": shard name \"", shard, "\" is not a plain file name");
      }
      const std::string path = (fs::path(directory) / shard).string();
      bool seen = false;
      for (const auto& s : shards) seen = seen || s == path;
      if (!seen) shards.push_back(path);
    }
    if (shards.empty()) throw_format_error("convert", index.string(), ": weight_map lists no shards");
    // Every name the index lists must be in the shard it names.
    for (const auto& member : weight_map->members()) {
      const SafetensorsFile shard = SafetensorsFile::open((fs::path(directory) / member.second.as_string()).string());
      if (shard.contents().find_tensor(member.first) == nullptr) {
        throw_format_error("convert", index.string(), ": tensor \"", member.first, "\" is not in shard ", member.second.as_string());
      }
    }
    return shards;
  }
  const fs::path single = fs::path(directory) / "model.safetensors";
  if (fs::is_regular_file(single)) return {single.string()};
  throw io_error(concat("trit::convert: ", directory, ": no model.safetensors.index.json or model.safetensors in the directory"));
}

}  // namespace detail

// Converts `input` (a GGUF file, a safetensors file or a Hugging Face directory) into the trit
// model file `output`. Throws io_error or format_error naming the file, tensor and offset; on
// any failure `output` is left as it was.
inline ConvertSummary convert_checkpoint(const std::string& input, const std::string& output, const ConvertOptions& options = {}) {
  namespace fs = std::filesystem;
  ConvertSummary summary;
  ModelWriter writer;
  detail::ProgressReporter progress(options.progress);
  std::vector<std::shared_ptr<void>> keep_alive;
  std::error_code error;
  if (fs::is_directory(input, error)) {
    detail::convert_safetensors(detail::safetensors_shards(input), input, writer, summary, options, progress, keep_alive);
  } else {
    const MappedFile probe = MappedFile::open(input);
    if (looks_like_gguf(probe.data(), probe.size())) {
      detail::convert_gguf(input, writer, summary, options, progress, keep_alive);
    } else {
      const fs::path parent = fs::path(input).parent_path();
      detail::convert_safetensors({input}, parent.empty() ? "." : parent.string(), writer, summary, options, progress, keep_alive);
    }
  }
  writer.add_string("trit.source_format", summary.source_format);
  writer.add_string("trit.weight_layout", options.layout == ConvertLayout::automatic
                                              ? detail::concat("auto (recommend_layout, ", options.layout_threads, " threads)")
                                              : std::string(convert_layout_name(options.layout)));
  writer.write(output, [&](std::size_t done, std::size_t total, const std::string& name) {
    progress.report(detail::concat("[", done, "/", total, "] writing ", name));
  });
  return summary;
}

TRIT_END_NAMESPACE
