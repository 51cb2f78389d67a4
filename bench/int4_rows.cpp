// trit_bench: the int4-activation rows (BitNet a4.8), next to the int8 rows of the same shape,
//   gemv/<M>x<K>/n1/int4-<path>/t<threads>/<hot|cold>
// The int4 path runs on LutWeights (the lookup-table layout, still 1.6 bits per weight) with
// packed int4 activations; the time includes building the token's tables.
#include <trit/driver/gemm_int4.hpp>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bench_common.hpp"

namespace trit_bench {
namespace {

struct Int4Data {
  WeightCycle<trit::LutWeights> weights;
  trit::PackedInt4Activations x;
  std::vector<float> y;

  Int4Data(Shape shape, bool cold)
      : weights(cycle_of(trit::LutWeights(random_packed(shape, 7)), cold)),
        x(random_int4_token(shape.cols)),
        y(shape.rows) {}

  static WeightCycle<trit::LutWeights> cycle_of(trit::LutWeights w, bool cold) {
    const std::size_t copies = copies_for(static_cast<double>(w.weight_bytes()), cold);
    return WeightCycle<trit::LutWeights>(std::move(w), copies);
  }

  static trit::PackedInt4Activations random_int4_token(std::size_t cols) {
    std::mt19937 rng(11);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> x(cols);
    for (float& v : x) v = dist(rng);
    return trit::quantize_activations_int4(trit::matrix<const float>(x.data(), 1, cols));
  }
};

void run_row(benchmark::State& state, Shape shape, trit::Isa isa, unsigned threads, bool cold) {
  const std::string key = "int4 " + std::to_string(shape.rows) + "x" + std::to_string(shape.cols);
  Int4Data& data = (cold ? cold_data() : hot_data()).get<Int4Data>(key, [&] { return Int4Data(shape, cold); });
  const trit::GemmOptions options{isa, threads};
  const double seconds = seconds_per_iteration(state, [&] {
    trit::gemv_int4(data.weights.next(), data.x.row(0), data.x.scale(0), data.y.data(), nullptr, options);
  });
  const trit::LutWeights& w = data.weights.front();
  Work work;
  work.ops = 2.0 * static_cast<double>(shape.rows) * static_cast<double>(shape.cols);
  work.weight_bytes = static_cast<double>(w.weight_bytes());
  work.bits_per_weight = 8.0 * work.weight_bytes / (static_cast<double>(shape.rows) * static_cast<double>(shape.cols));
  work.bound = cold ? Bound::dram_bandwidth : Bound::int8_dot_peak;
  work.threads = threads;
  report_work(state, work, seconds);
}

void add_row(Shape shape, trit::Isa isa, unsigned threads, bool cold) {
  const std::string path = std::string("int4-") + trit::isa_name(isa);
  benchmark::RegisterBenchmark(row_name(shape, 1, path, threads, cold).c_str(),
                               [=](benchmark::State& state) { run_row(state, shape, isa, threads, cold); });
}

}  // namespace

void register_int4_rows(Sweep sweep) {
  const trit::Isa best = trit::gemm_int4_path();
  const Shape quick_shapes[] = {{6912, 2560}, {2560, 6912}};
  if (sweep != Sweep::full) {
    for (Shape shape : quick_shapes) {
      for (unsigned threads : kThreadCounts) add_row(shape, best, threads, false);
    }
    return;
  }
  for (Shape shape : kBitnetShapes) {
    for (trit::Isa isa : trit::paths_with_product(trit::kProductLutInt4)) {
      if (isa == trit::Isa::scalar || !trit::has_own_kernels(trit::kProductLutInt4, isa)) continue;
      for (unsigned threads : kThreadCounts) {
        add_row(shape, isa, threads, false);
        add_row(shape, isa, threads, true);
      }
    }
  }
}

}  // namespace trit_bench
