// trit_bench: Dense243 against TwoBit, side by side in one run, so the crossover shows on the
// machine at hand:
//   layout/<dense243|two_bit>/<gemv|gemm>/<M>x<K>/n<N>/<path>/t<threads>/<hot|cold>
// hot: the same matrix every call (in cache when it fits); cold: a cycle of copies larger than
// 1 GiB (from DRAM). The sweep over M at K = 2560 (hot) crosses from "fits in L2/L3" to
// "streams from DRAM", where Dense243's 20% fewer bytes take over: recommend_layout's rule.
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "bench_common.hpp"

namespace trit_bench {
namespace {

constexpr std::size_t kMaxTokens = 32;

template <class Matrix>
struct LayoutData {
  WeightCycle<Matrix> weights;
  trit::QuantizedActivations x;
  std::vector<float> y;
  LayoutData(Matrix w, std::size_t cols, std::size_t rows, bool cold)
      : weights(cycle_of(std::move(w), cold)), x(random_activations(kMaxTokens, cols, 11)), y(kMaxTokens * rows) {}
  static WeightCycle<Matrix> cycle_of(Matrix w, bool cold) {
    const std::size_t copies = copies_for(static_cast<double>(w.weight_bytes()), cold);
    return WeightCycle<Matrix>(std::move(w), copies);
  }
};

template <class Matrix>
Matrix make_weights(Shape shape) {
  trit::PackedMatrix dense = random_packed(shape, 7);
  if constexpr (std::is_same_v<Matrix, trit::TwoBitMatrix>) {
    return trit::to_two_bit(dense);
  } else {
    return dense;
  }
}

template <class Matrix>
void run_row(benchmark::State& state, Shape shape, std::size_t tokens, trit::Isa isa, unsigned threads, bool cold) {
  const std::string key = std::string(std::is_same_v<Matrix, trit::TwoBitMatrix> ? "two_bit " : "dense243 ") +
                          std::to_string(shape.rows) + "x" + std::to_string(shape.cols);
  auto& data = (cold ? cold_data() : hot_data()).get<LayoutData<Matrix>>(key, [&] {
    return LayoutData<Matrix>(make_weights<Matrix>(shape), shape.cols, shape.rows, cold);
  });
  const trit::GemmOptions options{isa, threads};
  trit::ActivationsView x = data.x.view();
  x.tokens = tokens;
  const trit::MatrixRef<float> y = trit::matrix(data.y.data(), tokens, shape.rows);
  const double seconds = seconds_per_iteration(state, [&] {
    const Matrix& w = data.weights.next();
    if (tokens == 1) {
      trit::gemv(w, x.data, x.scales[0], y.data, nullptr, options);
    } else {
      trit::gemm(w, x, y, nullptr, options);
    }
  });
  const Matrix& w = data.weights.front();
  Work work;
  work.ops = 2.0 * static_cast<double>(shape.rows) * static_cast<double>(shape.cols) * static_cast<double>(tokens);
  work.weight_bytes = static_cast<double>(w.weight_bytes());
  work.bits_per_weight = 8.0 * work.weight_bytes / (static_cast<double>(shape.rows) * static_cast<double>(shape.cols));
  work.bound = cold && tokens == 1 ? Bound::dram_bandwidth : Bound::int8_dot_peak;
  work.threads = threads;
  report_work(state, work, seconds);
}

template <class Matrix>
void add_row(const char* layout, Shape shape, std::size_t tokens, trit::Isa isa, unsigned threads, bool cold) {
  const std::string name = std::string("layout/") + layout + "/" + row_name(shape, tokens, trit::isa_name(isa), threads, cold);
  benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& state) {
    run_row<Matrix>(state, shape, tokens, isa, threads, cold);
  });
}

// Both layouts of one configuration, one after the other (hot rows of one shape share data).
void add_pair(Shape shape, std::size_t tokens, unsigned threads, bool cold) {
  add_row<trit::PackedMatrix>("dense243", shape, tokens, trit::gemm_path(), threads, cold);
  add_row<trit::TwoBitMatrix>("two_bit", shape, tokens, trit::two_bit_path(), threads, cold);
}

// GGUF bytes of a random ternary M x K tensor, written straight from the byte layouts of
// docs/FORMAT.md T4 (independently of the repacks).
std::vector<std::uint8_t> i2_s_bytes(Shape shape) {
  std::vector<std::uint8_t> bytes(shape.rows * shape.cols / 4 + 32, 0);
  std::uint32_t state = 12345;
  for (std::size_t i = 0; i < shape.rows * shape.cols / 4; ++i) {
    state = state * 1664525u + 1013904223u;
    std::uint8_t byte = 0;
    for (int n = 0; n < 4; ++n) byte = static_cast<std::uint8_t>(byte | (((state >> (8 + 2 * n)) % 3) << (2 * n)));
    bytes[i] = byte;
  }
  const float scale = 0.0123f;
  std::memcpy(bytes.data() + shape.rows * shape.cols / 4, &scale, 4);
  return bytes;
}

std::vector<std::uint8_t> tq2_0_bytes(Shape shape) {
  const std::size_t blocks = shape.rows * shape.cols / 256;
  std::vector<std::uint8_t> bytes(blocks * 66, 0);
  std::uint32_t state = 777;
  for (std::size_t b = 0; b < blocks; ++b) {
    for (std::size_t i = 0; i < 64; ++i) {
      state = state * 1664525u + 1013904223u;
      std::uint8_t byte = 0;
      for (int n = 0; n < 4; ++n) byte = static_cast<std::uint8_t>(byte | (((state >> (8 + 2 * n)) % 3) << (2 * n)));
      bytes[b * 66 + i] = byte;
    }
    bytes[b * 66 + 64] = 0x51;  // fp16 0x2A51, the same in every block
    bytes[b * 66 + 65] = 0x2A;
  }
  return bytes;
}

// One-time conversions: input GB/s (shown as GB/s; x1000 for MB/s).
void add_repack_rows() {
  const Shape shape{6912, 2560};
  const std::string suffix = "/" + std::to_string(shape.rows) + "x" + std::to_string(shape.cols);
  benchmark::RegisterBenchmark(("layout/repack_i2_s" + suffix).c_str(), [shape](benchmark::State& state) {
    const std::vector<std::uint8_t> bytes = i2_s_bytes(shape);
    const double seconds = seconds_per_iteration(state, [&] {
      trit::TwoBitMatrix w = trit::repack_i2_s(bytes.data(), bytes.size(), shape.rows, shape.cols);
      benchmark::DoNotOptimize(w.data());
    });
    state.counters["GBps"] = static_cast<double>(bytes.size()) / seconds / 1e9;  // input bytes
  });
  benchmark::RegisterBenchmark(("layout/repack_tq2_0" + suffix).c_str(), [shape](benchmark::State& state) {
    const std::vector<std::uint8_t> bytes = tq2_0_bytes(shape);
    const double seconds = seconds_per_iteration(state, [&] {
      trit::TwoBitMatrix w = trit::repack_tq2_0(bytes.data(), bytes.size(), shape.rows, shape.cols);
      benchmark::DoNotOptimize(w.data());
    });
    state.counters["GBps"] = static_cast<double>(bytes.size()) / seconds / 1e9;  // input bytes
  });
  benchmark::RegisterBenchmark(("layout/dense243_to_two_bit" + suffix).c_str(), [shape](benchmark::State& state) {
    const trit::PackedMatrix dense = random_packed(shape, 7);
    const double seconds = seconds_per_iteration(state, [&] {
      trit::TwoBitMatrix w = trit::to_two_bit(dense);
      benchmark::DoNotOptimize(w.data());
    });
    state.counters["GBps"] = static_cast<double>(dense.weight_bytes()) / seconds / 1e9;  // input bytes
  });
}

}  // namespace

void register_two_bit_rows(Sweep sweep) {
  const Shape gate_up{6912, 2560}, square{2560, 2560};
  // Rows sharing data must run one after another: each layout's data is its own key, so
  // configurations are grouped per layout by the data slot (one set held at a time).
  for (Shape shape : {gate_up, square}) {
    for (unsigned threads : kThreadCounts) add_pair(shape, 1, threads, false);
  }
  for (std::size_t tokens : {std::size_t{8}, std::size_t{32}}) {
    for (unsigned threads : kThreadCounts) add_pair(gate_up, tokens, threads, false);
  }
  for (unsigned threads : kThreadCounts) add_pair(gate_up, 1, threads, true);
  // The crossover: M x 2560 hot, from 0.4 MB to 35 MB of TwoBit weights.
  // (2560 and 6912 rows are the hot rows above.)
  const std::size_t sweep_rows[] = {640, 13824, 27648, 55296};
  for (std::size_t rows : sweep_rows) {
    for (unsigned threads : kThreadCounts) {
      if (sweep == Sweep::quick && threads != 1) continue;
      add_pair(Shape{rows, 2560}, 1, threads, false);
    }
  }
  add_repack_rows();
}

}  // namespace trit_bench
