// trit_bench: whole-model rows on a BitNet b1.58 2B4T-shaped stack of projections
// (30 layers of q, k, v, o, gate, up, down: 2.08 G ternary weights, 417 MB packed):
//   decode_step/bitnet_2b4t       one token through every projection (one GEMV each)
//   prefill/bitnet_2b4t_n128      128 tokens through every projection (one GEMM each)
// Attention, norms and activations are left out: they are not weight products.
#include <iterator>
#include <string>
#include <vector>

#include "bench_common.hpp"

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

}  // namespace

void register_model_rows() {
  benchmark::RegisterBenchmark("decode_step/bitnet_2b4t", [](benchmark::State& state) { run_model_row(state, 1); });
  benchmark::RegisterBenchmark("prefill/bitnet_2b4t_n128",
                               [](benchmark::State& state) { run_model_row(state, kPrefillTokens); });
}

}  // namespace trit_bench
