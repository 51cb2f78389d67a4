// The BitNet b1.58 forward pass, one layer at a time, as transformers' BitNetForCausalLM
// computes it (models/bitnet/modeling_bitnet.py):
//
//   x = embedding[token]
//   for each layer:
//     h = rms_norm(x) * attn_norm
//     q, k, v = Wq h, Wk h, Wv h                    (ternary, trit::BitLinear)
//     rotate q and k by their positions (RoPE, halves of each head)
//     append k, v to the KV cache
//     a = softmax(q k^T / sqrt(head_dim)) v         (causal, KV heads shared by groups of heads)
//     x = x + Wo (rms_norm(a) * attn_sub_norm)
//     h = rms_norm(x) * ffn_norm
//     x = x + Wdown (rms_norm(relu(Wgate h)^2 * Wup h) * ffn_sub_norm)
//   logits = lm_head (rms_norm(x) * final_norm)
//
// A prompt runs as one batch (each projection one GEMM); decode runs one token at a time (each
// projection one GEMV). Everything besides the projections runs on trit's worker threads too
// (trit::parallel_for), so the process has one set of threads.
#pragma once

#include <trit/trit.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "config.hpp"
#include "vector_math.hpp"
#include "weights.hpp"

namespace bitnet {

// Seconds spent in each part of the forward pass, summed over calls (when ModelOptions::profile).
struct Profile {
  double projections = 0;  // the seven ternary projections of every layer
  double attention = 0;    // RoPE, the KV cache and attention
  double lm_head = 0;      // the final norm and the LM head
  double other = 0;        // embedding, norms, residuals, the FFN gate
};

// The four places where a layer quantizes its input for the projections.
enum class InputSite { qkv = 0, o = 1, gate_up = 2, down = 3 };

struct ModelOptions {
  unsigned threads = 0;        // 0: one per hardware thread
  trit::Isa isa = trit::Isa::automatic;
  std::size_t max_context = 0;  // KV cache positions; 0: the config's max_position_embeddings
  bool profile = false;         // time the parts of the forward pass (profile())
  // Called with each projection input (count x width floats at the next positions) before it
  // is quantized: lets a test compare the quantized activations with another implementation's.
  std::function<void(std::size_t layer, InputSite site, const float* input, std::size_t count, std::size_t width)> observe_input;
};

// One sequence with its KV cache. forward is not reentrant: run one call at a time per Model
// (several Models may share one Weights' borrowed views and run concurrently).
class Model {
 public:
  Model(Config config, Weights weights, const ModelOptions& options = {})
      : config_(std::move(config)), weights_(std::move(weights)), options_(options) {
    config_.validate();
    context_ = options.max_context != 0 ? options.max_context : config_.max_positions;
    if (context_ == 0) throw std::invalid_argument("bitnet: no context length (set max_context)");
    const std::size_t cache_values = config_.layers * context_ * config_.kv_dim();
    keys_.assign(cache_values, 0.0f);
    values_.assign(cache_values, 0.0f);
    const std::size_t half = config_.head_dim / 2;
    inverse_frequencies_.resize(half);
    for (std::size_t i = 0; i < half; ++i) {
      // As transformers computes it, in float: 1 / theta^(2i / head_dim).
      const float exponent = static_cast<float>(2 * i) / static_cast<float>(config_.head_dim);
      inverse_frequencies_[i] = 1.0f / std::pow(config_.rope_theta, exponent);
    }
  }

  const Config& config() const { return config_; }
  const Weights& weights() const { return weights_; }
  std::size_t position() const { return position_; }  // tokens in the KV cache
  std::size_t context() const { return context_; }
  std::size_t kv_cache_bytes() const { return (keys_.size() + values_.size()) * sizeof(float); }
  void reset() { position_ = 0; }
  const Profile& profile() const { return profile_; }

  // Swaps in another LM head of the same shape (e.g. the same head in int8).
  void replace_lm_head(DenseMatrix head) {
    if (head.rows() != config_.vocab || head.cols() != config_.hidden) throw std::invalid_argument("bitnet: LM head of the wrong shape");
    weights_.lm_head = std::move(head);
  }

  // Runs `count` tokens at the next positions, appending them to the KV cache. Writes the
  // logits of every token (count x vocab) when all_logits, else of the last one only (vocab).
  void forward(const std::int32_t* tokens, std::size_t count, float* logits, bool all_logits = false) {
    if (count == 0) throw std::invalid_argument("bitnet: forward of no tokens");
    if (position_ + count > context_) {
      throw std::length_error("bitnet: " + std::to_string(position_ + count) + " positions exceed the context of " + std::to_string(context_));
    }
    for (std::size_t t = 0; t < count; ++t) {
      if (tokens[t] < 0 || static_cast<std::size_t>(tokens[t]) >= config_.vocab) {
        throw std::invalid_argument("bitnet: token id " + std::to_string(tokens[t]) + " is outside the vocabulary of " + std::to_string(config_.vocab));
      }
    }
    reserve(count);
    const std::size_t hidden = config_.hidden;
    Stopwatch watch(options_.profile);
    for (std::size_t t = 0; t < count; ++t) weights_.embedding.row(static_cast<std::size_t>(tokens[t]), &x_[t * hidden]);
    profile_.other += watch.lap();
    for (std::size_t layer = 0; layer < config_.layers; ++layer) run_layer(layer, count);
    position_ += count;
    watch.lap();

    const std::size_t first = all_logits ? 0 : count - 1;
    const std::size_t rows = count - first;
    rms_norm(&x_[first * hidden], rows, hidden, weights_.final_norm, h_.data());
    const trit::QuantizedActivations* quantized = nullptr;
    trit::QuantizedActivations q;
    if (weights_.lm_head.format() == DenseFormat::int8) {
      q = trit::quantize_activations(trit::matrix<const float>(h_.data(), rows, hidden));
      quantized = &q;
    }
    weights_.lm_head.multiply(h_.data(), rows, quantized, logits, threads());
    profile_.lm_head += watch.lap();
  }

 private:
  // Laps of a steady clock, or zeros when profiling is off (no clock reads at all).
  class Stopwatch {
   public:
    explicit Stopwatch(bool on) : on_(on) {
      if (on_) last_ = std::chrono::steady_clock::now();
    }
    double lap() {
      if (!on_) return 0.0;
      const auto now = std::chrono::steady_clock::now();
      const double seconds = std::chrono::duration<double>(now - last_).count();
      last_ = now;
      return seconds;
    }

   private:
    bool on_;
    std::chrono::steady_clock::time_point last_;
  };

  unsigned threads() const { return options_.threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : options_.threads; }
  trit::GemmOptions gemm_options() const { return {options_.isa, options_.threads}; }

  void reserve(std::size_t count) {
    const std::size_t widest = std::max({config_.hidden, config_.q_dim(), config_.intermediate});
    if (x_.size() >= count * config_.hidden) return;
    x_.resize(count * config_.hidden);
    h_.resize(count * widest);
    q_.resize(count * config_.q_dim());
    k_.resize(count * config_.kv_dim());
    v_.resize(count * config_.kv_dim());
    attention_.resize(count * config_.q_dim());
    gate_.resize(count * config_.intermediate);
    up_.resize(count * config_.intermediate);
    out_.resize(count * config_.hidden);
  }

  // out = x / sqrt(mean(x^2) + eps) * gain, row by row (gain empty: no norm, out = x).
  void rms_norm(const float* x, std::size_t rows, std::size_t width, const std::vector<float>& gain, float* out) const {
    for (std::size_t r = 0; r < rows; ++r) {
      const float* in = x + r * width;
      float* o = out + r * width;
      if (gain.empty()) {
        std::copy(in, in + width, o);
        continue;
      }
      double sum = 0.0;
      for (std::size_t i = 0; i < width; ++i) sum += static_cast<double>(in[i]) * in[i];
      const float inverse = 1.0f / std::sqrt(static_cast<float>(sum / static_cast<double>(width)) + config_.rms_norm_eps);
      for (std::size_t i = 0; i < width; ++i) o[i] = gain[i] * (in[i] * inverse);
    }
  }

  // Rotates each head's two halves by the position's angles: (a, b) -> (a cos - b sin, b cos + a sin).
  void rope(float* vectors, std::size_t count, std::size_t heads) const {
    const std::size_t dim = config_.head_dim, half = dim / 2;
    for (std::size_t t = 0; t < count; ++t) {
      const float position = static_cast<float>(position_ + t);
      for (std::size_t i = 0; i < half; ++i) {
        const float angle = position * inverse_frequencies_[i];
        const float c = std::cos(angle), s = std::sin(angle);
        for (std::size_t head = 0; head < heads; ++head) {
          float* v = vectors + (t * heads + head) * dim;
          const float a = v[i], b = v[i + half];
          v[i] = a * c - b * s;
          v[i + half] = b * c + a * s;
        }
      }
    }
  }

  void project(const trit::BitLinear& layer, const float* in, std::size_t count, float* out) const {
    layer.forward(trit::matrix<const float>(in, count, layer.in_features()), trit::matrix(out, count, layer.out_features()), gemm_options());
  }

  void observe(std::size_t layer, InputSite site, std::size_t count, std::size_t width) const {
    if (options_.observe_input) options_.observe_input(layer, site, h_.data(), count, width);
  }

  void run_layer(std::size_t index, std::size_t count) {
    const LayerWeights& w = weights_.layers[index];
    const std::size_t hidden = config_.hidden, q_dim = config_.q_dim(), kv_dim = config_.kv_dim(), inter = config_.intermediate;
    Stopwatch watch(options_.profile);

    rms_norm(x_.data(), count, hidden, w.attn_norm, h_.data());
    observe(index, InputSite::qkv, count, hidden);
    profile_.other += watch.lap();
    project(w.q, h_.data(), count, q_.data());
    project(w.k, h_.data(), count, k_.data());
    project(w.v, h_.data(), count, v_.data());
    profile_.projections += watch.lap();
    rope(q_.data(), count, config_.heads);
    rope(k_.data(), count, config_.kv_heads);
    float* layer_keys = &keys_[index * context_ * kv_dim];
    float* layer_values = &values_[index * context_ * kv_dim];
    std::copy(k_.begin(), k_.begin() + static_cast<std::ptrdiff_t>(count * kv_dim), layer_keys + position_ * kv_dim);
    std::copy(v_.begin(), v_.begin() + static_cast<std::ptrdiff_t>(count * kv_dim), layer_values + position_ * kv_dim);
    attend(layer_keys, layer_values, count);
    profile_.attention += watch.lap();
    rms_norm(attention_.data(), count, q_dim, w.attn_sub_norm, h_.data());
    observe(index, InputSite::o, count, q_dim);
    profile_.other += watch.lap();
    project(w.o, h_.data(), count, out_.data());
    profile_.projections += watch.lap();
    for (std::size_t i = 0; i < count * hidden; ++i) x_[i] += out_[i];

    rms_norm(x_.data(), count, hidden, w.ffn_norm, h_.data());
    observe(index, InputSite::gate_up, count, hidden);
    profile_.other += watch.lap();
    project(w.gate, h_.data(), count, gate_.data());
    project(w.up, h_.data(), count, up_.data());
    profile_.projections += watch.lap();
    for (std::size_t i = 0; i < count * inter; ++i) {
      const float g = gate_[i];
      const float activated = config_.gate == GateActivation::relu_squared ? (g > 0.0f ? g * g : 0.0f) : g / (1.0f + std::exp(-g));
      gate_[i] = activated * up_[i];
    }
    rms_norm(gate_.data(), count, inter, w.ffn_sub_norm, h_.data());
    observe(index, InputSite::down, count, inter);
    profile_.other += watch.lap();
    project(w.down, h_.data(), count, out_.data());
    profile_.projections += watch.lap();
    for (std::size_t i = 0; i < count * hidden; ++i) x_[i] += out_[i];
    profile_.other += watch.lap();
  }

  // Causal attention of the `count` new tokens over every cached position up to their own; one
  // task per head, each with its own row of scores.
  void attend(const float* keys, const float* values, std::size_t count) {
    const std::size_t dim = config_.head_dim, heads = config_.heads, kv_dim = config_.kv_dim();
    const std::size_t group = config_.heads / config_.kv_heads;
    const std::size_t positions = position_ + count;
    scores_.resize(heads * positions);
    const float scale = 1.0f / std::sqrt(static_cast<float>(dim));
    const auto head_task = [&](std::size_t head) noexcept {
      const std::size_t kv_offset = (head / group) * dim;
      float* scores = &scores_[head * positions];
      for (std::size_t t = 0; t < count; ++t) {
        const float* query = &q_[(t * heads + head) * dim];
        const std::size_t visible = position_ + t + 1;
        float highest = -INFINITY;
        for (std::size_t j = 0; j < visible; ++j) {
          scores[j] = dot(query, keys + j * kv_dim + kv_offset, dim) * scale;
          highest = std::max(highest, scores[j]);
        }
        float total = 0.0f;
        for (std::size_t j = 0; j < visible; ++j) {
          scores[j] = std::exp(scores[j] - highest);
          total += scores[j];
        }
        float* out = &attention_[(t * heads + head) * dim];
        std::fill(out, out + dim, 0.0f);
        const float inverse_total = 1.0f / total;
        for (std::size_t j = 0; j < visible; ++j) axpy(scores[j] * inverse_total, values + j * kv_dim + kv_offset, out, dim);
      }
    };
    if (threads() <= 1) {
      for (std::size_t head = 0; head < heads; ++head) head_task(head);
    } else {
      trit::parallel_for(heads, head_task);
    }
  }

  Config config_;
  Weights weights_;
  ModelOptions options_;
  std::size_t context_ = 0;
  std::size_t position_ = 0;
  std::vector<float> keys_, values_;  // [layer][position][kv head][head_dim]
  std::vector<float> inverse_frequencies_;
  Profile profile_;
  // Per-call buffers, grown to the largest batch seen.
  std::vector<float> x_, h_, q_, k_, v_, attention_, gate_, up_, out_, scores_;
};

}  // namespace bitnet
