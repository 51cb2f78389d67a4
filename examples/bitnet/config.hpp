// BitNet b1.58 hyper-parameters, read from a trit model file's metadata: the Hugging Face
// config.json that trit-convert stores as `hf.config_json`, or a GGUF file's `<arch>.*` keys.
#pragma once

#include <trit/io.hpp>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace bitnet {

// The FFN's gate non-linearity: BitNet b1.58 2B4T uses relu(x)^2, the 2024 1bitLLM models SiLU.
enum class GateActivation { relu_squared, silu };

struct Config {
  std::size_t vocab = 0;
  std::size_t hidden = 0;
  std::size_t intermediate = 0;
  std::size_t layers = 0;
  std::size_t heads = 0;
  std::size_t kv_heads = 0;
  std::size_t head_dim = 0;
  std::size_t max_positions = 0;
  float rms_norm_eps = 1e-5f;
  float rope_theta = 500000.0f;
  bool tied_embeddings = false;
  GateActivation gate = GateActivation::relu_squared;
  std::int64_t bos_token = -1;
  std::int64_t eos_token = -1;

  std::size_t q_dim() const { return heads * head_dim; }
  std::size_t kv_dim() const { return kv_heads * head_dim; }

  // Throws std::invalid_argument naming the first inconsistent value.
  void validate() const {
    const auto fail = [](const std::string& what) { throw std::invalid_argument("bitnet config: " + what); };
    if (vocab == 0 || hidden == 0 || intermediate == 0 || layers == 0 || heads == 0 || kv_heads == 0 || head_dim == 0) {
      fail("a size is zero or missing");
    }
    if (heads % kv_heads != 0) fail(std::to_string(heads) + " heads are not a multiple of " + std::to_string(kv_heads) + " KV heads");
    if (head_dim % 2 != 0) fail("head_dim " + std::to_string(head_dim) + " is odd (RoPE rotates halves)");
    if (!(rms_norm_eps > 0.0f) || !(rope_theta > 0.0f)) fail("rms_norm_eps and rope_theta must be positive");
  }
};

// The shape of microsoft/bitnet-b1.58-2B-4T (its config.json), for models with random weights.
inline Config bitnet_2b4t_shape(std::size_t max_positions) {
  Config c;
  c.vocab = 128256, c.hidden = 2560, c.intermediate = 6912, c.layers = 30, c.heads = 20, c.kv_heads = 5, c.head_dim = 128;
  c.max_positions = max_positions;
  c.rms_norm_eps = 1e-5f;
  c.rope_theta = 500000.0f;
  return c;
}

namespace detail {

inline const trit::JsonValue& member(const trit::JsonValue& object, const char* key) {
  const trit::JsonValue* value = object.find(key);
  if (value == nullptr || value->is_null()) throw std::invalid_argument(std::string("bitnet config: config.json has no \"") + key + "\"");
  return *value;
}

inline std::size_t size_member(const trit::JsonValue& object, const char* key) {
  const trit::JsonValue& value = member(object, key);
  if (!value.is_uint64()) throw std::invalid_argument(std::string("bitnet config: \"") + key + "\" is not a non-negative integer");
  return static_cast<std::size_t>(value.as_uint64());
}

inline std::int64_t token_member(const trit::JsonValue& object, const char* key) {
  const trit::JsonValue* value = object.find(key);
  if (value == nullptr || value->is_null()) return -1;
  if (value->is_array()) value = value->items().empty() ? nullptr : &value->items().front();  // the first of several
  return value != nullptr && value->is_uint64() ? static_cast<std::int64_t>(value->as_uint64()) : -1;
}

inline Config from_hf_config(const std::string& text) {
  const trit::JsonValue json = trit::JsonParser::parse(text, "hf.config_json");
  if (!json.is_object()) throw std::invalid_argument("bitnet config: config.json is not an object");
  Config c;
  c.vocab = size_member(json, "vocab_size");
  c.hidden = size_member(json, "hidden_size");
  c.intermediate = size_member(json, "intermediate_size");
  c.layers = size_member(json, "num_hidden_layers");
  c.heads = size_member(json, "num_attention_heads");
  c.kv_heads = json.find("num_key_value_heads") != nullptr && !json.find("num_key_value_heads")->is_null()
                   ? size_member(json, "num_key_value_heads")
                   : c.heads;
  c.head_dim = json.find("head_dim") != nullptr && !json.find("head_dim")->is_null() ? size_member(json, "head_dim")
                                                                                     : (c.heads == 0 ? 0 : c.hidden / c.heads);
  c.max_positions = json.find("max_position_embeddings") != nullptr ? size_member(json, "max_position_embeddings") : 0;
  c.rms_norm_eps = static_cast<float>(member(json, "rms_norm_eps").as_double());
  // transformers 5 keeps the RoPE base in rope_parameters; older config.json files at the top.
  const trit::JsonValue* rope = json.find("rope_parameters");
  if (rope != nullptr && rope->is_object() && rope->find("rope_theta") != nullptr) {
    const trit::JsonValue* type = rope->find("rope_type");
    if (type != nullptr && type->is_string() && type->as_string() != "default") {
      throw std::invalid_argument("bitnet config: rope_type \"" + type->as_string() + "\" is not implemented (only \"default\")");
    }
    c.rope_theta = static_cast<float>(rope->find("rope_theta")->as_double());
  } else if (json.find("rope_theta") != nullptr) {
    c.rope_theta = static_cast<float>(json.find("rope_theta")->as_double());
  }
  const trit::JsonValue* tie = json.find("tie_word_embeddings");
  c.tied_embeddings = tie != nullptr && tie->is_bool() && tie->as_bool();
  const trit::JsonValue* act = json.find("hidden_act");
  if (act != nullptr && act->is_string()) {
    if (act->as_string() == "relu2") {
      c.gate = GateActivation::relu_squared;
    } else if (act->as_string() == "silu" || act->as_string() == "swish") {
      c.gate = GateActivation::silu;
    } else {
      throw std::invalid_argument("bitnet config: hidden_act \"" + act->as_string() + "\" is not implemented (relu2, silu)");
    }
  }
  c.bos_token = token_member(json, "bos_token_id");
  c.eos_token = token_member(json, "eos_token_id");
  return c;
}

inline std::uint64_t gguf_size(const trit::ModelContents& file, const std::string& key) {
  const trit::MetadataEntry* entry = file.find_metadata(key);
  if (entry == nullptr) throw std::invalid_argument("bitnet config: GGUF metadata has no " + key);
  return entry->as_u64();
}

// llama.cpp names the 2B4T architecture "bitnet-b1.58" (relu^2) and the 1bitLLM one "bitnet"
// (SiLU); both rotate halves of each head (NEOX-style RoPE), as transformers does.
inline Config from_gguf_metadata(const trit::ModelContents& file, const std::string& arch) {
  Config c;
  c.hidden = gguf_size(file, arch + ".embedding_length");
  c.intermediate = gguf_size(file, arch + ".feed_forward_length");
  c.layers = gguf_size(file, arch + ".block_count");
  c.heads = gguf_size(file, arch + ".attention.head_count");
  c.kv_heads = file.find_metadata(arch + ".attention.head_count_kv") != nullptr ? gguf_size(file, arch + ".attention.head_count_kv") : c.heads;
  c.head_dim = c.heads == 0 ? 0 : c.hidden / c.heads;
  if (const trit::MetadataEntry* e = file.find_metadata(arch + ".context_length")) c.max_positions = e->as_u64();
  if (const trit::MetadataEntry* e = file.find_metadata(arch + ".attention.layer_norm_rms_epsilon")) c.rms_norm_eps = static_cast<float>(e->as_double());
  if (const trit::MetadataEntry* e = file.find_metadata(arch + ".rope.freq_base")) c.rope_theta = static_cast<float>(e->as_double());
  if (const trit::MetadataEntry* e = file.find_metadata("tokenizer.ggml.bos_token_id")) c.bos_token = static_cast<std::int64_t>(e->as_u64());
  if (const trit::MetadataEntry* e = file.find_metadata("tokenizer.ggml.eos_token_id")) c.eos_token = static_cast<std::int64_t>(e->as_u64());
  c.gate = arch == "bitnet" ? GateActivation::silu : GateActivation::relu_squared;
  const trit::ModelTensor* embedding = file.find_tensor("token_embd.weight");
  if (embedding == nullptr || embedding->dims.size() != 2) throw std::invalid_argument("bitnet config: no 2-D token_embd.weight");
  c.vocab = static_cast<std::size_t>(embedding->dims[0]);
  c.tied_embeddings = file.find_tensor("output.weight") == nullptr;
  return c;
}

}  // namespace detail

// The hyper-parameters of a converted model; throws std::invalid_argument if they are missing
// or inconsistent.
inline Config read_config(const trit::ModelContents& file) {
  Config config;
  if (const trit::MetadataEntry* hf = file.find_metadata("hf.config_json")) {
    config = detail::from_hf_config(hf->as_string());
    if (file.find_tensor("lm_head.weight") == nullptr) config.tied_embeddings = true;
  } else if (const trit::MetadataEntry* arch = file.find_metadata("general.architecture")) {
    config = detail::from_gguf_metadata(file, arch->as_string());
  } else {
    throw std::invalid_argument("bitnet config: the model file has neither hf.config_json nor general.architecture");
  }
  config.validate();
  return config;
}

}  // namespace bitnet
