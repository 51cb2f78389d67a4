// The weights of a BitNet b1.58 model: every projection a trit::BitLinear, the embedding and
// LM head dense, the norms' gains as floats. load_weights borrows the packed projections and
// the embedding straight from a mapped trit model file (nothing is copied); random_weights
// builds a model of any shape in memory, for benchmarks.
#pragma once

#include <trit/io.hpp>
#include <trit/trit.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "config.hpp"
#include "dense_matrix.hpp"

namespace bitnet {

struct LayerWeights {
  std::vector<float> attn_norm;      // before q, k, v
  std::vector<float> attn_sub_norm;  // before o (empty: the model has none)
  std::vector<float> ffn_norm;       // before gate and up
  std::vector<float> ffn_sub_norm;   // before down (empty: none)
  trit::BitLinear q, k, v, o, gate, up, down;
};

// The bytes of weights (and scales) one forward of the layer reads, in whichever layout it
// holds them: Dense243, TwoBit, or the int4 kernels' lookup-table layout.
inline std::size_t projection_bytes(const trit::BitLinear& p) {
  if (p.uses_int4_kernels()) return p.memory_bytes();
  const std::size_t scales = p.weight_scales().size() * sizeof(float);
  return scales + (p.layout() == trit::WeightLayout::two_bit ? p.two_bit_weights().weight_bytes() : p.weights().weight_bytes());
}

struct Weights {
  DenseMatrix embedding;  // vocab x hidden
  DenseMatrix lm_head;    // vocab x hidden (the embedding itself when tied and kept as stored)
  std::vector<float> final_norm;
  std::vector<LayerWeights> layers;

  // Bytes of every weight: projections, embedding, the LM head (unless it is the embedding
  // itself) and norms.
  std::size_t total_bytes() const {
    std::size_t bytes = embedding.bytes() + (lm_head.data() == embedding.data() ? 0 : lm_head.bytes()) + final_norm.size() * sizeof(float);
    for (const LayerWeights& layer : layers) {
      for (const trit::BitLinear* p : {&layer.q, &layer.k, &layer.v, &layer.o, &layer.gate, &layer.up, &layer.down}) {
        bytes += projection_bytes(*p);
      }
      bytes += (layer.attn_norm.size() + layer.attn_sub_norm.size() + layer.ffn_norm.size() + layer.ffn_sub_norm.size()) * sizeof(float);
    }
    return bytes;
  }

  // Bytes a decode step reads: every projection, the LM head and one embedding row.
  std::size_t bytes_per_token() const {
    std::size_t bytes = lm_head.bytes() + embedding.cols() * element_bytes(embedding.format());
    for (const LayerWeights& layer : layers) {
      for (const trit::BitLinear* p : {&layer.q, &layer.k, &layer.v, &layer.o, &layer.gate, &layer.up, &layer.down}) {
        bytes += projection_bytes(*p);
      }
    }
    return bytes;
  }
};

struct WeightOptions {
  trit::ActivationConfig activations;  // the projections' activation scheme (int8 absmax: BitNet b1.58)
  // The LM head's format: empty keeps the file's (read in place), or "f16" / "int8" (converted).
  std::string lm_head_format;
  // The projections' layout: empty keeps the file's (read in place), or "dense243" / "two_bit"
  // (converted into memory: the model then owns a copy). Dense243 suits weights streamed from
  // DRAM, TwoBit weights that sit in cache (trit::recommend_layout).
  std::string layout;
};

// Tensor names: Hugging Face's (model.layers.N.self_attn.q_proj.weight) or GGUF's (blk.N.attn_q.weight).
struct TensorNames {
  bool gguf = false;
  std::string embedding() const { return gguf ? "token_embd.weight" : "model.embed_tokens.weight"; }
  std::string lm_head() const { return gguf ? "output.weight" : "lm_head.weight"; }
  std::string final_norm() const { return gguf ? "output_norm.weight" : "model.norm.weight"; }
  std::string layer(std::size_t i, const char* hf, const char* gguf_name) const {
    return gguf ? "blk." + std::to_string(i) + "." + gguf_name + ".weight" : "model.layers." + std::to_string(i) + "." + hf + ".weight";
  }
};

namespace detail {

inline std::vector<float> float_vector(const trit::ModelContents& file, const std::string& name, std::size_t size, bool optional) {
  const trit::ModelTensor* tensor = file.find_tensor(name);
  if (tensor == nullptr) {
    if (optional) return {};
    throw std::invalid_argument("bitnet: the model file has no tensor \"" + name + "\"");
  }
  std::size_t elements = 1;
  for (std::uint64_t d : tensor->dims) elements *= static_cast<std::size_t>(d);
  if (elements != size) {
    throw std::invalid_argument("bitnet: tensor \"" + name + "\" has " + std::to_string(elements) + " values, expected " + std::to_string(size));
  }
  std::vector<float> out(size);
  for (std::size_t i = 0; i < size; ++i) {
    if (!trit::detail::read_float_element(tensor->type, tensor->data, i, &out[i])) {
      throw std::invalid_argument("bitnet: tensor \"" + name + "\" is " + trit::tensor_type_name(tensor->type) + ", expected a float type");
    }
  }
  return out;
}

inline trit::BitLinear with_layout(trit::BitLinear layer, const std::string& layout) {
  if (layout.empty()) return layer;
  if (layout != "dense243" && layout != "two_bit") throw std::invalid_argument("bitnet: layout \"" + layout + "\" is not dense243 or two_bit");
  const trit::WeightLayout wanted = layout == "two_bit" ? trit::WeightLayout::two_bit : trit::WeightLayout::dense243;
  return layer.layout() == wanted ? layer : layer.with_layout(wanted);
}

// A projection borrowing its weights (Dense243 or TwoBit, as the file holds them).
inline trit::BitLinear projection(const trit::ModelFile& model, const std::string& name, std::size_t rows, std::size_t cols,
                                  const WeightOptions& options) {
  const trit::ModelContents& file = model.contents();
  const trit::ModelTensor* tensor = file.find_tensor(name);
  if (tensor == nullptr) throw std::invalid_argument("bitnet: the model file has no tensor \"" + name + "\"");
  trit::BitLinear layer = tensor->is_two_bit_matrix() ? trit::BitLinear(file.two_bit_matrix(name), {}, options.activations)
                                                      : trit::BitLinear(file.matrix(name), {}, options.activations);
  if (layer.out_features() != rows || layer.in_features() != cols) {
    throw std::invalid_argument("bitnet: \"" + name + "\" is " + std::to_string(layer.out_features()) + "x" +
                                std::to_string(layer.in_features()) + ", the config says " + std::to_string(rows) + "x" + std::to_string(cols));
  }
  if (options.layout.empty() || options.layout == trit::layout_name(layer.layout())) return layer;
  trit::BitLinear converted = with_layout(std::move(layer), options.layout);
  model.mapping().release_pages(tensor->offset, tensor->bytes);  // the file's copy is not read again
  return converted;
}

// `stored` borrows a file mapping; the converted pages leave the resident set.
inline DenseMatrix lm_head_in_format(const DenseMatrix& stored, const std::string& format) {
  if (format.empty() || format == "stored") return stored;
  if (format == "f16") return stored.converted(DenseFormat::f16, true);
  if (format == "int8") return stored.converted(DenseFormat::int8, true);
  throw std::invalid_argument("bitnet: LM head format \"" + format + "\" is not stored, f16 or int8");
}

}  // namespace detail

// Borrows everything it can from the mapped `model`, which must outlive the weights.
inline Weights load_weights(const trit::ModelFile& model, const Config& config, const WeightOptions& options = {}) {
  const trit::ModelContents& file = model.contents();
  const TensorNames names{file.find_tensor("token_embd.weight") != nullptr};
  Weights w;
  const trit::ModelTensor* embedding = file.find_tensor(names.embedding());
  if (embedding == nullptr) throw std::invalid_argument("bitnet: the model file has no tensor \"" + names.embedding() + "\"");
  w.embedding = DenseMatrix::borrow(*embedding);
  if (w.embedding.rows() != config.vocab || w.embedding.cols() != config.hidden) {
    throw std::invalid_argument("bitnet: the embedding's shape disagrees with vocab_size and hidden_size");
  }
  const trit::ModelTensor* head = config.tied_embeddings ? embedding : file.find_tensor(names.lm_head());
  if (head == nullptr) throw std::invalid_argument("bitnet: the model file has no tensor \"" + names.lm_head() + "\"");
  w.lm_head = detail::lm_head_in_format(DenseMatrix::borrow(*head), options.lm_head_format);
  if (w.lm_head.rows() != config.vocab || w.lm_head.cols() != config.hidden) {
    throw std::invalid_argument("bitnet: the LM head's shape disagrees with vocab_size and hidden_size");
  }
  w.final_norm = detail::float_vector(file, names.final_norm(), config.hidden, false);
  const std::size_t h = config.hidden, q = config.q_dim(), kv = config.kv_dim(), f = config.intermediate;
  const WeightOptions& a = options;
  for (std::size_t i = 0; i < config.layers; ++i) {
    LayerWeights layer;
    layer.attn_norm = detail::float_vector(file, names.layer(i, "input_layernorm", "attn_norm"), h, false);
    layer.attn_sub_norm = detail::float_vector(file, names.layer(i, "self_attn.attn_sub_norm", "attn_sub_norm"), q, true);
    layer.ffn_norm = detail::float_vector(file, names.layer(i, "post_attention_layernorm", "ffn_norm"), h, false);
    layer.ffn_sub_norm = detail::float_vector(file, names.layer(i, "mlp.ffn_sub_norm", "ffn_sub_norm"), f, true);
    layer.q = detail::projection(model, names.layer(i, "self_attn.q_proj", "attn_q"), q, h, a);
    layer.k = detail::projection(model, names.layer(i, "self_attn.k_proj", "attn_k"), kv, h, a);
    layer.v = detail::projection(model, names.layer(i, "self_attn.v_proj", "attn_v"), kv, h, a);
    layer.o = detail::projection(model, names.layer(i, "self_attn.o_proj", "attn_output"), h, q, a);
    layer.gate = detail::projection(model, names.layer(i, "mlp.gate_proj", "ffn_gate"), f, h, a);
    layer.up = detail::projection(model, names.layer(i, "mlp.up_proj", "ffn_up"), f, h, a);
    layer.down = detail::projection(model, names.layer(i, "mlp.down_proj", "ffn_down"), h, f, a);
    w.layers.push_back(std::move(layer));
  }
  return w;
}

namespace detail {

// A ternary matrix of random trits, written straight into the packed rows: each row is one of
// 64 random rows, so building 2 G weights takes a moment and no float copy of them.
inline trit::PackedMatrix random_packed(std::size_t rows, std::size_t cols, std::mt19937& rng) {
  constexpr std::size_t kDistinctRows = 64;
  std::uniform_int_distribution<int> trit(-1, 1);
  std::vector<std::int8_t> trits(kDistinctRows * cols);
  for (std::int8_t& t : trits) t = static_cast<std::int8_t>(trit(rng));
  const float one = 1.0f;
  const trit::PackedMatrix distinct = trit::pack_trits(trit::matrix<const std::int8_t>(trits.data(), kDistinctRows, cols), &one, 1);
  trit::PackedMatrix packed(rows, cols, trit::ScaleGranularity::per_tensor);
  const float scale = 1.0f / std::sqrt(static_cast<float>(cols));
  packed.set_scales(&scale, 1);
  std::uniform_int_distribution<std::size_t> pick(0, kDistinctRows - 1);
  for (std::size_t m = 0; m < rows; ++m) std::memcpy(packed.row(m), distinct.row(pick(rng)), packed.row_bytes());
  return packed;
}

inline DenseMatrix random_dense(DenseFormat format, std::size_t rows, std::size_t cols, std::mt19937& rng) {
  constexpr std::size_t kDistinctRows = 64;
  DenseMatrix distinct(format, kDistinctRows, cols);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> values(cols);
  for (std::size_t r = 0; r < kDistinctRows; ++r) {
    for (float& v : values) v = normal(rng);
    distinct.set_row(r, values.data());
  }
  DenseMatrix out(format, rows, cols);
  std::uniform_int_distribution<std::size_t> pick(0, kDistinctRows - 1);
  for (std::size_t r = 0; r < rows; ++r) out.copy_row_from(distinct, pick(rng), r);
  return out;
}

}  // namespace detail

// A model of `config`'s shape with random ternary projections, an fp16 embedding and an LM head
// in `lm_head_format` ("f16" or "int8"), built in memory. Its tokens mean nothing; its speed
// and memory are a real model's.
inline Weights random_weights(const Config& config, std::uint32_t seed, const WeightOptions& options = {}) {
  std::mt19937 rng(seed);
  Weights w;
  w.embedding = detail::random_dense(DenseFormat::f16, config.vocab, config.hidden, rng);
  w.lm_head = options.lm_head_format == "int8" ? detail::random_dense(DenseFormat::int8, config.vocab, config.hidden, rng)
                                               : detail::random_dense(DenseFormat::f16, config.vocab, config.hidden, rng);
  w.final_norm.assign(config.hidden, 1.0f);
  const std::size_t h = config.hidden, q = config.q_dim(), kv = config.kv_dim(), f = config.intermediate;
  const trit::ActivationConfig& a = options.activations;
  for (std::size_t i = 0; i < config.layers; ++i) {
    LayerWeights layer;
    layer.attn_norm.assign(h, 1.0f);
    layer.attn_sub_norm.assign(q, 1.0f);
    layer.ffn_norm.assign(h, 1.0f);
    layer.ffn_sub_norm.assign(f, 1.0f);
    const auto random = [&](std::size_t rows, std::size_t cols) {
      return detail::with_layout(trit::BitLinear(detail::random_packed(rows, cols, rng), {}, a), options.layout);
    };
    layer.q = random(q, h);
    layer.k = random(kv, h);
    layer.v = random(kv, h);
    layer.o = random(h, q);
    layer.gate = random(f, h);
    layer.up = random(f, h);
    layer.down = random(h, f);
    w.layers.push_back(std::move(layer));
  }
  return w;
}

// Writes weights (f16 or f32 embedding and LM head) as a trit model file with Hugging Face
// tensor names and a config.json, the file trit-convert makes of such a checkpoint: lets the
// mapped path be measured at full size without a download.
inline void write_model_file(const Weights& w, const Config& c, const std::string& path) {
  const auto dense_type = [](const DenseMatrix& m) {
    if (m.format() == DenseFormat::f16) return trit::TensorType::f16;
    if (m.format() == DenseFormat::f32) return trit::TensorType::f32;
    throw std::invalid_argument("bitnet: write_model_file stores f16 or f32 embeddings and LM heads");
  };
  trit::ModelWriter out;
  char json[1024];
  std::snprintf(json, sizeof json,
                "{\"architectures\": [\"BitNetForCausalLM\"], \"vocab_size\": %zu, \"hidden_size\": %zu, \"intermediate_size\": %zu, "
                "\"num_hidden_layers\": %zu, \"num_attention_heads\": %zu, \"num_key_value_heads\": %zu, \"head_dim\": %zu, "
                "\"rms_norm_eps\": %.9g, \"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": %.9g}, "
                "\"max_position_embeddings\": %zu, \"tie_word_embeddings\": false, \"hidden_act\": \"%s\"}",
                c.vocab, c.hidden, c.intermediate, c.layers, c.heads, c.kv_heads, c.head_dim, static_cast<double>(c.rms_norm_eps),
                static_cast<double>(c.rope_theta), c.max_positions, c.gate == GateActivation::silu ? "silu" : "relu2");
  out.add_string("hf.config_json", json);
  const TensorNames names;
  const auto add_dense = [&](const std::string& name, const DenseMatrix& m) {
    out.add_raw(name, dense_type(m), {m.rows(), m.cols()}, m.data(), m.rows() * m.cols() * element_bytes(m.format()));
  };
  const auto add_vector = [&](const std::string& name, const std::vector<float>& v) {
    out.add_raw(name, trit::TensorType::f32, {v.size()}, reinterpret_cast<const std::uint8_t*>(v.data()), v.size() * sizeof(float));
  };
  add_dense(names.embedding(), w.embedding);
  add_dense(names.lm_head(), w.lm_head);
  add_vector(names.final_norm(), w.final_norm);
  for (std::size_t i = 0; i < w.layers.size(); ++i) {
    const LayerWeights& l = w.layers[i];
    add_vector(names.layer(i, "input_layernorm", "attn_norm"), l.attn_norm);
    add_vector(names.layer(i, "self_attn.attn_sub_norm", "attn_sub_norm"), l.attn_sub_norm);
    add_vector(names.layer(i, "post_attention_layernorm", "ffn_norm"), l.ffn_norm);
    add_vector(names.layer(i, "mlp.ffn_sub_norm", "ffn_sub_norm"), l.ffn_sub_norm);
    const auto add_projection = [&](const std::string& name, const trit::BitLinear& p) {
      if (p.layout() == trit::WeightLayout::two_bit) {
        out.add_matrix(name, p.two_bit_weights());
      } else {
        out.add_matrix(name, p.weights());
      }
    };
    add_projection(names.layer(i, "self_attn.q_proj", "attn_q"), l.q);
    add_projection(names.layer(i, "self_attn.k_proj", "attn_k"), l.k);
    add_projection(names.layer(i, "self_attn.v_proj", "attn_v"), l.v);
    add_projection(names.layer(i, "self_attn.o_proj", "attn_output"), l.o);
    add_projection(names.layer(i, "mlp.gate_proj", "ffn_gate"), l.gate);
    add_projection(names.layer(i, "mlp.up_proj", "ffn_up"), l.up);
    add_projection(names.layer(i, "mlp.down_proj", "ffn_down"), l.down);
  }
  out.write(path);
}

}  // namespace bitnet
