// Choosing the next token from logits: greedy (temperature 0) or temperature with top-k, from
// a seeded generator so that a run can be repeated exactly.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

namespace bitnet {

struct SamplingOptions {
  float temperature = 0.0f;  // 0: greedy
  std::size_t top_k = 0;     // 0: the whole vocabulary
  std::uint64_t seed = 0;
};

// The first index of the largest logit (as torch.argmax picks among equal values).
inline std::int32_t argmax(const float* logits, std::size_t vocab) {
  return static_cast<std::int32_t>(std::max_element(logits, logits + vocab) - logits);
}

class Sampler {
 public:
  explicit Sampler(const SamplingOptions& options) : options_(options), rng_(options.seed) {
    if (!(options.temperature >= 0.0f) || !std::isfinite(options.temperature)) {
      throw std::invalid_argument("bitnet: temperature must be finite and >= 0");
    }
  }

  std::int32_t next(const float* logits, std::size_t vocab) {
    if (options_.temperature == 0.0f) return argmax(logits, vocab);
    const std::size_t k = options_.top_k == 0 ? vocab : std::min(options_.top_k, vocab);
    order_.resize(vocab);
    std::iota(order_.begin(), order_.end(), 0);
    // The k largest, ties to the lower id, so the candidates do not depend on the sort.
    const auto larger = [&](std::int32_t a, std::int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
    std::partial_sort(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(k), order_.end(), larger);
    weights_.resize(k);
    const float highest = logits[order_[0]];
    for (std::size_t i = 0; i < k; ++i) weights_[i] = std::exp((logits[order_[i]] - highest) / options_.temperature);
    // Drawn by hand rather than with std::discrete_distribution, whose algorithm differs
    // between standard libraries: the same seed gives the same tokens everywhere.
    const double total = std::accumulate(weights_.begin(), weights_.end(), 0.0);
    const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53 * total;
    double running = 0.0;
    for (std::size_t i = 0; i < k; ++i) {
      running += weights_[i];
      if (u < running) return order_[i];
    }
    return order_[k - 1];
  }

 private:
  SamplingOptions options_;
  std::mt19937_64 rng_;
  std::vector<std::int32_t> order_;
  std::vector<double> weights_;
};

}  // namespace bitnet
