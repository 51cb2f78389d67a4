// trit_bench: the rows of trit's own kernels,
//   <gemv|gemm>/<M>x<K>/n<N>/<path>/t<threads>/<hot|cold>
// hot: the same weights every call; cold: a cycle of copies larger than 1 GiB, so that every
// call reads its weights from DRAM.
#include <string>
#include <utility>
#include <vector>

#include "bench_common.hpp"

namespace trit_bench {
namespace {

constexpr std::size_t kMaxTokens = 128;

// Weights (one matrix, or a cold cycle of copies), activations for up to kMaxTokens tokens and
// the output, shared by every row of one shape.
struct TritData {
  WeightCycle<trit::PackedMatrix> weights;
  trit::QuantizedActivations x;
  std::vector<float> y;

  TritData(Shape shape, bool cold)
      : weights(cycle_of(random_packed(shape, 7), cold)),
        x(random_activations(kMaxTokens, shape.cols, 11)),
        y(kMaxTokens * shape.rows) {}

  static WeightCycle<trit::PackedMatrix> cycle_of(trit::PackedMatrix w, bool cold) {
    const std::size_t copies = copies_for(static_cast<double>(w.weight_bytes()), cold);
    return WeightCycle<trit::PackedMatrix>(std::move(w), copies);
  }
};

std::string data_key(Shape shape) { return "trit " + std::to_string(shape.rows) + "x" + std::to_string(shape.cols); }

void run_row(benchmark::State& state, Shape shape, std::size_t tokens, trit::Isa isa, unsigned threads, bool cold) {
  TritData& data = (cold ? cold_data() : hot_data()).get<TritData>(data_key(shape), [&] { return TritData(shape, cold); });
  const trit::GemmOptions options{isa, threads};
  trit::ActivationsView x = data.x.view();
  x.tokens = tokens;
  const trit::MatrixRef<float> y = trit::matrix(data.y.data(), tokens, shape.rows);
  const double seconds = seconds_per_iteration(state, [&] {
    const trit::PackedMatrix& w = data.weights.next();
    if (tokens == 1) {
      trit::gemv(w, x.data, x.scales[0], y.data, nullptr, options);
    } else {
      trit::gemm(w, x, y, nullptr, options);
    }
  });
  const trit::PackedMatrix& w = data.weights.front();
  Work work;
  work.ops = 2.0 * static_cast<double>(shape.rows) * static_cast<double>(shape.cols) * static_cast<double>(tokens);
  work.weight_bytes = static_cast<double>(w.weight_bytes());
  work.bits_per_weight = w.bits_per_weight();
  work.bound = cold && tokens == 1 ? Bound::dram_bandwidth : Bound::int8_dot_peak;
  work.threads = threads;
  report_work(state, work, seconds);
}

void add_row(Shape shape, std::size_t tokens, trit::Isa isa, unsigned threads, bool cold) {
  benchmark::RegisterBenchmark(row_name(shape, tokens, trit::isa_name(isa), threads, cold).c_str(),
                               [=](benchmark::State& state) { run_row(state, shape, tokens, isa, threads, cold); });
}

// Every vector path this build and CPU can run, best first.
std::vector<trit::Isa> vector_paths() {
  std::vector<trit::Isa> paths;
  for (trit::Isa isa : trit::kAllIsas) {
    if (isa != trit::Isa::scalar && trit::isa_supported(isa)) paths.push_back(isa);
  }
  return paths;
}

// The default set: the 2B4T shapes on the best path, every path on 6912 x 2560 for the plot.
void register_quick(trit::Isa best) {
  const Shape gate_up{6912, 2560};
  for (std::size_t tokens : kTokenCounts) {
    for (unsigned threads : kThreadCounts) add_row(gate_up, tokens, best, threads, false);
  }
  for (trit::Isa isa : vector_paths()) {
    if (isa == best) continue;
    for (std::size_t tokens : kTokenCounts) add_row(gate_up, tokens, isa, 2, false);
  }
  for (unsigned threads : kThreadCounts) add_row(gate_up, 1, best, threads, true);
  const Shape down{2560, 6912};
  for (unsigned threads : kThreadCounts) add_row(down, 1, best, threads, false);
  for (unsigned threads : kThreadCounts) add_row(down, 1, best, threads, true);
  for (Shape shape : kBitnetShapes) {
    if (shape.rows == gate_up.rows && shape.cols == gate_up.cols) continue;
    for (unsigned threads : kThreadCounts) add_row(shape, 128, best, threads, false);
  }
}

// The whole sweep: every shape, token count, thread count and path; cold below 128 tokens;
// the scalar reference on the small shapes only, where it finishes in reasonable time.
void register_full() {
  std::vector<Shape> shapes(std::begin(kBitnetShapes), std::end(kBitnetShapes));
  shapes.insert(shapes.end(), std::begin(kLlamaShapes), std::end(kLlamaShapes));
  for (Shape shape : shapes) {
    for (trit::Isa isa : vector_paths()) {
      for (std::size_t tokens : kTokenCounts) {
        for (unsigned threads : kThreadCounts) {
          add_row(shape, tokens, isa, threads, false);
          if (wants_cold_rows(tokens)) add_row(shape, tokens, isa, threads, true);
        }
      }
    }
    if (shape.cols == 2560 && shape.rows <= 2560) {
      for (std::size_t tokens : {std::size_t{1}, std::size_t{8}}) {
        for (unsigned threads : kThreadCounts) add_row(shape, tokens, trit::Isa::scalar, threads, false);
      }
    }
  }
}

}  // namespace

void register_kernel_rows(Sweep sweep) {
  if (sweep == Sweep::full) {
    register_full();
  } else {
    register_quick(trit::best_isa());
  }
}

}  // namespace trit_bench
