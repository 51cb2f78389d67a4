// trit_bench: whole-model rows on a BitNet b1.58 2B4T-shaped stack of projections
// (30 layers of q, k, v, o, gate, up, down: 2.08 G ternary weights, 417 MB packed):
//   decode_step/bitnet_2b4t       one token through every projection (one GEMV each)
//   prefill/bitnet_2b4t_n128      128 tokens through every projection (one GEMM each)
// Attention, norms and activations are left out: they are not weight products. The model/ rows
// run the whole forward pass of examples/bitnet (attention, norms, KV cache, LM head and all)
// on a 2B4T-shaped model with random weights built in memory:
//   model/bitnet_2b4t/decode/lm_int8   one token, int8 LM head (per-row scales)
//   model/bitnet_2b4t/decode/lm_f16    one token, fp16 LM head
//   model/bitnet_2b4t/decode/lm_int8_two_bit   one token, int8 LM head, projections in TwoBit
//   model/bitnet_2b4t/prefill128       a 128-token prompt as one batch
#include <algorithm>
#include <cmath>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "bitnet/model.hpp"
#include "bitnet/sampling.hpp"

namespace trit_bench {
namespace {

constexpr std::size_t kLayers = 30;
constexpr std::size_t kHidden = 2560;
constexpr std::size_t kIntermediate = 6912;
constexpr std::size_t kKeyValue = 640;  // 5 key/value heads of 128
constexpr std::size_t kPrefillTokens = 128;
// Like every t2 row: the targets are set for the two cores of the reference machine.
constexpr unsigned kModelThreads = 2;

constexpr Shape kLayerProjections[] = {
    {kHidden, kHidden},        // q
    {kKeyValue, kHidden},      // k
    {kKeyValue, kHidden},      // v
    {kHidden, kHidden},        // o
    {kIntermediate, kHidden},  // gate
    {kIntermediate, kHidden},  // up
    {kHidden, kIntermediate},  // down
};

// Several copies of the whole model, more than 1 GiB together, cycled one per step so that
// every step reads its weights from DRAM, as a real decode does.
struct BitnetModel {
  std::vector<trit::PackedMatrix> projections;  // copy-major, then layer, then projection
  std::size_t per_copy = kLayers * std::size(kLayerProjections);
  std::size_t copies = 0;
  std::size_t next_copy = 0;
  double weights = 0;
  double weight_bytes = 0;
  trit::QuantizedActivations x_hidden = random_activations(kPrefillTokens, kHidden, 21);
  trit::QuantizedActivations x_intermediate = random_activations(kPrefillTokens, kIntermediate, 22);
  std::vector<float> y = std::vector<float>(kPrefillTokens * kIntermediate);

  BitnetModel() {
    std::vector<trit::PackedMatrix> templates;
    for (std::size_t p = 0; p < std::size(kLayerProjections); ++p) {
      templates.push_back(random_packed(kLayerProjections[p], static_cast<std::uint32_t>(100 + p)));
      weights += static_cast<double>(kLayers) * kLayerProjections[p].rows * kLayerProjections[p].cols;
      weight_bytes += static_cast<double>(kLayers) * templates.back().weight_bytes();
    }
    copies = copies_for(weight_bytes, true);
    projections.reserve(copies * per_copy);
    for (std::size_t c = 0; c < copies; ++c) {
      for (std::size_t layer = 0; layer < kLayers; ++layer) {
        for (const trit::PackedMatrix& projection : templates) projections.push_back(projection);
      }
    }
  }

  // Runs `tokens` tokens through every projection of the next copy.
  void step(std::size_t tokens, const trit::GemmOptions& options) {
    const trit::PackedMatrix* copy = projections.data() + next_copy * per_copy;
    next_copy = (next_copy + 1) % copies;
    for (std::size_t i = 0; i < per_copy; ++i) {
      const trit::PackedMatrix& w = copy[i];
      trit::ActivationsView x = (w.cols() == kHidden ? x_hidden : x_intermediate).view();
      x.tokens = tokens;
      if (tokens == 1) {
        trit::gemv(w, x.data, x.scales[0], y.data(), nullptr, options);
      } else {
        trit::gemm(w, x, trit::matrix(y.data(), tokens, w.rows()), nullptr, options);
      }
    }
  }
};

void run_model_row(benchmark::State& state, std::size_t tokens) {
  BitnetModel& model = cold_data().get<BitnetModel>("bitnet_2b4t model", [] { return BitnetModel(); });
  const trit::GemmOptions options{trit::best_isa(), kModelThreads};
  const double seconds = seconds_per_iteration(state, [&] { model.step(tokens, options); });
  Work work;
  work.ops = 2.0 * model.weights * static_cast<double>(tokens);
  work.weight_bytes = model.weight_bytes;
  work.bits_per_weight = 8.0 * model.weight_bytes / model.weights;
  work.bound = tokens == 1 ? Bound::dram_bandwidth : Bound::int8_dot_peak;
  work.threads = kModelThreads;
  report_work(state, work, seconds);
  if (seconds > 0) {
    state.counters["tokens_per_s"] = static_cast<double>(tokens) / seconds;
    state.counters["ms_per_token"] = 1e3 * seconds / static_cast<double>(tokens);
  }
  state.SetLabel(std::string(trit::isa_name(trit::best_isa())) + ", t" + std::to_string(kModelThreads));
}

// ---- The whole model (examples/bitnet) ---------------------------------------------------------

constexpr std::size_t kModelContext = 512;

// An fp16 LM head with every row distinct: random signs, exponents and mantissas, magnitudes
// in [1/16, 1). Drawn as bits so that 328 M values take a moment.
bitnet::DenseMatrix random_f16_head(std::size_t rows, std::size_t cols) {
  bitnet::DenseMatrix head(bitnet::DenseFormat::f16, rows, cols);
  std::vector<std::uint16_t> row(cols);
  std::uint64_t state = 0x9e3779b97f4a7c15ull;
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::uint16_t& h : row) {
      state ^= state << 13, state ^= state >> 7, state ^= state << 17;
      const auto bits = static_cast<std::uint32_t>(state);
      h = static_cast<std::uint16_t>((bits & 0x8000u) | ((11u + ((bits >> 10) & 3u)) << 10) | (bits & 0x3ffu));
    }
    head.set_row_bits(r, row.data());
  }
  return head;
}

struct WholeModel {
  std::unique_ptr<bitnet::Model> model;
  std::unique_ptr<bitnet::Model> two_bit_model;  // the same weights, projections in TwoBit
  bitnet::DenseMatrix head_f16, head_int8;
  double ternary_weights = 0;
  // The int8 head against the fp16 one on the same hidden states.
  double int8_min_cosine = 1, int8_top1_agreement = 1;

  WholeModel() {
    const bitnet::Config config = bitnet::bitnet_2b4t_shape(kModelContext);
    bitnet::WeightOptions options;
    options.lm_head_format = "f16";
    bitnet::Weights weights = bitnet::random_weights(config, 7, options);
    head_f16 = random_f16_head(config.vocab, config.hidden);
    head_int8 = head_f16.converted(bitnet::DenseFormat::int8);
    weights.lm_head = head_f16;
    for (const bitnet::LayerWeights& layer : weights.layers) {
      for (const trit::BitLinear* p : {&layer.q, &layer.k, &layer.v, &layer.o, &layer.gate, &layer.up, &layer.down}) {
        ternary_weights += static_cast<double>(p->out_features() * p->in_features());
      }
    }
    bitnet::ModelOptions model_options;
    model_options.threads = kModelThreads;
    model_options.max_context = kModelContext;
    model_options.profile = true;
    bitnet::Weights two_bit = weights;
    for (bitnet::LayerWeights& layer : two_bit.layers) {
      for (trit::BitLinear* p : {&layer.q, &layer.k, &layer.v, &layer.o, &layer.gate, &layer.up, &layer.down}) {
        *p = p->with_layout(trit::WeightLayout::two_bit);
      }
    }
    model = std::make_unique<bitnet::Model>(config, std::move(weights), model_options);
    two_bit_model = std::make_unique<bitnet::Model>(config, std::move(two_bit), model_options);
    compare_heads(config);
  }

  // Hidden states like the final norm's output (RMS 1, gains 1): normal values.
  void compare_heads(const bitnet::Config& config) {
    constexpr std::size_t kStates = 16;
    std::mt19937 rng(11);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> hidden(kStates * config.hidden), f16(kStates * config.vocab), int8(kStates * config.vocab);
    for (float& h : hidden) h = normal(rng);
    const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix<const float>(hidden.data(), kStates, config.hidden));
    head_f16.multiply(hidden.data(), kStates, nullptr, f16.data(), kModelThreads);
    head_int8.multiply(hidden.data(), kStates, &q, int8.data(), kModelThreads);
    std::size_t agree = 0;
    for (std::size_t s = 0; s < kStates; ++s) {
      const float* a = &f16[s * config.vocab];
      const float* b = &int8[s * config.vocab];
      double ab = 0, aa = 0, bb = 0;
      for (std::size_t v = 0; v < config.vocab; ++v) ab += double(a[v]) * b[v], aa += double(a[v]) * a[v], bb += double(b[v]) * b[v];
      int8_min_cosine = std::min(int8_min_cosine, ab / std::sqrt(aa * bb));
      agree += bitnet::argmax(a, config.vocab) == bitnet::argmax(b, config.vocab) ? 1 : 0;
    }
    int8_top1_agreement = static_cast<double>(agree) / kStates;
  }
};

WholeModel& whole_model() { return cold_data().get<WholeModel>("bitnet_2b4t whole model", [] { return WholeModel(); }); }

void report_profile(benchmark::State& state, const bitnet::Profile& before, const bitnet::Profile& after, double tokens) {
  const double runs = static_cast<double>(state.iterations()) * tokens;
  if (runs <= 0) return;
  state.counters["projections_ms"] = 1e3 * (after.projections - before.projections) / runs;
  state.counters["attention_ms"] = 1e3 * (after.attention - before.attention) / runs;
  state.counters["lm_head_ms"] = 1e3 * (after.lm_head - before.lm_head) / runs;
  state.counters["other_ms"] = 1e3 * (after.other - before.other) / runs;
}

void run_whole_decode(benchmark::State& state, bool int8_head, bool two_bit = false) {
  WholeModel& w = whole_model();
  bitnet::Model& model = two_bit ? *w.two_bit_model : *w.model;
  model.replace_lm_head(int8_head ? w.head_int8 : w.head_f16);
  model.reset();
  std::vector<float> logits(model.config().vocab);
  std::int32_t token = 1;
  const bitnet::Profile before = model.profile();
  const double seconds = seconds_per_iteration(state, [&] {
    if (model.position() == model.context()) model.reset();
    model.forward(&token, 1, logits.data());
    token = bitnet::argmax(logits.data(), logits.size());
  });
  report_profile(state, before, model.profile(), 1);
  const double bytes = static_cast<double>(model.weights().bytes_per_token());
  if (seconds > 0) {
    state.counters["tokens_per_s"] = 1.0 / seconds;
    state.counters["ms_per_token"] = 1e3 * seconds;
    state.counters["MB_per_token"] = bytes / 1e6;
    state.counters["weight_GBps"] = bytes / seconds / 1e9;
    state.counters["frac_of_limit"] = bytes / seconds / 1e9 / machine_limit(Bound::dram_bandwidth, kModelThreads);
  }
  if (int8_head) {
    state.counters["int8_head_min_cosine"] = w.int8_min_cosine;
    state.counters["int8_head_top1_agreement"] = w.int8_top1_agreement;
  }
  state.SetLabel(std::string(trit::isa_name(trit::best_isa())) + ", t" + std::to_string(kModelThreads) + ", LM head " +
                 (int8_head ? "int8" : "f16") + (two_bit ? ", TwoBit" : ""));
}

void run_whole_prefill(benchmark::State& state) {
  WholeModel& w = whole_model();
  bitnet::Model& model = *w.model;
  model.replace_lm_head(w.head_int8);
  std::vector<std::int32_t> prompt(kPrefillTokens);
  for (std::size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<std::int32_t>((i * 7919) % model.config().vocab);
  std::vector<float> logits(model.config().vocab);
  const bitnet::Profile before = model.profile();
  const double seconds = seconds_per_iteration(state, [&] {
    model.reset();
    model.forward(prompt.data(), prompt.size(), logits.data());
  });
  report_profile(state, before, model.profile(), static_cast<double>(kPrefillTokens));
  if (seconds > 0) {
    const double tokens = static_cast<double>(kPrefillTokens);
    state.counters["tokens_per_s"] = tokens / seconds;
    state.counters["ms_per_token"] = 1e3 * seconds / tokens;
    state.counters["GOPS"] = 2.0 * w.ternary_weights * tokens / seconds / 1e9;
  }
  state.SetLabel(std::string(trit::isa_name(trit::best_isa())) + ", t" + std::to_string(kModelThreads));
}

}  // namespace

void register_model_rows() {
  benchmark::RegisterBenchmark("decode_step/bitnet_2b4t", [](benchmark::State& state) { run_model_row(state, 1); });
  benchmark::RegisterBenchmark("prefill/bitnet_2b4t_n128",
                               [](benchmark::State& state) { run_model_row(state, kPrefillTokens); });
  benchmark::RegisterBenchmark("model/bitnet_2b4t/decode/lm_int8", [](benchmark::State& state) { run_whole_decode(state, true); });
  benchmark::RegisterBenchmark("model/bitnet_2b4t/decode/lm_f16", [](benchmark::State& state) { run_whole_decode(state, false); });
  benchmark::RegisterBenchmark("model/bitnet_2b4t/decode/lm_int8_two_bit",
                               [](benchmark::State& state) { run_whole_decode(state, true, true); });
  benchmark::RegisterBenchmark("model/bitnet_2b4t/prefill128", [](benchmark::State& state) { run_whole_prefill(state); });
}

}  // namespace trit_bench
