// trit_bench: row names, counters and test data shared by every group of rows.
#include "bench_common.hpp"

#include <cstring>
#include <random>

namespace trit_bench {

std::string row_name(Shape shape, std::size_t tokens, const std::string& path, unsigned threads, bool cold) {
  return std::string(tokens == 1 ? "gemv/" : "gemm/") + std::to_string(shape.rows) + "x" + std::to_string(shape.cols) +
         "/n" + std::to_string(tokens) + "/" + path + "/t" + std::to_string(threads) + (cold ? "/cold" : "/hot");
}

void report_work(benchmark::State& state, const Work& work, double seconds) {
  if (seconds <= 0) return;
  const double gops = work.ops / seconds / 1e9;
  const double weight_gbps = work.weight_bytes / seconds / 1e9;
  state.counters["GOPS"] = gops;
  state.counters["weight_GBps"] = weight_gbps;
  state.counters["bits_per_weight"] = work.bits_per_weight;
  state.counters["frac_of_limit"] = work.bound == Bound::dram_bandwidth
                                        ? weight_gbps / machine_limit(Bound::dram_bandwidth, work.threads)
                                        : gops / machine_limit(Bound::int8_dot_peak, work.threads);
}

trit::PackedMatrix random_packed(Shape shape, std::uint32_t seed) {
  constexpr std::size_t kDistinctRows = 64;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> trit_dist(-1, 1);
  std::vector<std::int8_t> trits(kDistinctRows * shape.cols);
  for (std::int8_t& t : trits) t = static_cast<std::int8_t>(trit_dist(rng));
  const float unit_scale = 1.0f;
  const trit::PackedMatrix distinct =
      trit::pack_trits(trit::matrix<const std::int8_t>(trits.data(), kDistinctRows, shape.cols), &unit_scale, 1);

  trit::PackedMatrix packed(shape.rows, shape.cols, trit::ScaleGranularity::per_tensor);
  const float scale = 0.02f;
  packed.set_scales(&scale, 1);
  std::uniform_int_distribution<std::size_t> row_dist(0, kDistinctRows - 1);
  for (std::size_t m = 0; m < shape.rows; ++m) {
    std::memcpy(packed.row(m), distinct.row(row_dist(rng)), packed.row_bytes());
  }
  return packed;
}

trit::QuantizedActivations random_activations(std::size_t tokens, std::size_t cols, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> value_dist(-127, 127);
  trit::QuantizedActivations x(tokens, cols, trit::ActivationScheme::int8_absmax);
  for (std::size_t n = 0; n < tokens; ++n) {
    for (std::size_t k = 0; k < cols; ++k) x.row(n)[k] = static_cast<std::int8_t>(value_dist(rng));
    x.scale(n) = 127.0f / 3.0f;
  }
  return x;
}

DataSlot& hot_data() {
  static DataSlot slot;
  return slot;
}

DataSlot& cold_data() {
  static DataSlot slot;
  return slot;
}

}  // namespace trit_bench
