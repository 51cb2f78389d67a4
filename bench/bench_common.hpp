// trit_bench: what the benchmark files share: the shapes of the sweep, test data, the large
// weight sets that make rows cold, the measured machine limits, and the counters that every
// kernel row reports.
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <trit/trit.hpp>

namespace trit_bench {

// ---- What to run ------------------------------------------------------------------------------

// quick: the default set (under two minutes); full: the whole sweep (--full).
enum class Sweep { quick, full };

struct Shape {
  std::size_t rows;  // M, output features
  std::size_t cols;  // K, input features
};

// The projections of BitNet b1.58 2B4T (q/o, k/v, gate/up, down) and of LLaMA-7B.
inline constexpr Shape kBitnetShapes[] = {{2560, 2560}, {640, 2560}, {6912, 2560}, {2560, 6912}};
inline constexpr Shape kLlamaShapes[] = {{4096, 4096}, {11008, 4096}, {4096, 11008}};
inline constexpr std::size_t kTokenCounts[] = {1, 8, 32, 128};
inline constexpr unsigned kThreadCounts[] = {1, 2};

// A weight set is cold when it is larger than any cache can hold, so that each product reads
// its weights from DRAM: more than 1 GiB in total, cycled in order.
inline constexpr double kColdSetBytes = 1.1 * 1024 * 1024 * 1024;

// From 128 tokens on, each weight is reused so often that where it comes from hardly matters.
inline bool wants_cold_rows(std::size_t tokens) { return tokens < 128; }

// "gemv/6912x2560/n1/avx512vnni/t2/hot": the naming every kernel row follows.
std::string row_name(Shape shape, std::size_t tokens, const std::string& path, unsigned threads, bool cold);

// ---- Machine limits ---------------------------------------------------------------------------

// What bounds a row: DRAM bandwidth for a product whose weights come from DRAM with little
// reuse (cold GEMV, the decode step), the int8 dot-product peak for everything else.
enum class Bound { dram_bandwidth, int8_dot_peak };

// The limit in GB/s (dram_bandwidth) or GOPS (int8_dot_peak) with `threads` threads: the best
// pass the probe rows of this run measured (other work on the machine only ever makes a pass
// slower, so the best pass is the closest to what the hardware can do, and fractions of it
// err low), or, when a filter left the probes out, a pass made on first use.
double machine_limit(Bound bound, unsigned threads);
void record_probe_result(Bound bound, unsigned threads, double value);

// One pass of each probe: GB/s over a freshly allocated 1 GiB buffer, GOPS of the dot loop.
double measure_dram_read(unsigned threads);
double measure_int8_dot_peak(unsigned threads);
// The instruction the int8 peak probe uses, e.g. "vpdpbusd zmm (AVX-512 VNNI)".
const char* int8_dot_peak_instruction();

// ---- Counters ---------------------------------------------------------------------------------

// What one call of a row does: operations (2 per multiply-add), the weight bytes it reads, the
// bits each weight occupies, and what bounds it.
struct Work {
  double ops = 0;
  double weight_bytes = 0;
  double bits_per_weight = 0;
  Bound bound = Bound::int8_dot_peak;
  unsigned threads = 1;
};

// Wall-clock seconds per iteration of the benchmark loop around `body`. The rows measure wall
// time themselves because several threads work while the benchmark thread's CPU time only
// counts its own share.
template <class Body>
double seconds_per_iteration(benchmark::State& state, Body&& body) {
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    body();
    benchmark::ClobberMemory();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return state.iterations() > 0 ? seconds / static_cast<double>(state.iterations()) : 0.0;
}

// Sets GOPS, weight_GBps, bits_per_weight and frac_of_limit on the row.
void report_work(benchmark::State& state, const Work& work, double seconds);

// ---- Test data --------------------------------------------------------------------------------

// Random ternary weights (about a third each of -1, 0, +1), packed; rows repeat a small set
// of random rows, which changes nothing for speed and makes big matrices quick to build.
trit::PackedMatrix random_packed(Shape shape, std::uint32_t seed);
// Random int8 activations in [-127, 127], each row zero-padded like QuantizedActivations.
trit::QuantizedActivations random_activations(std::size_t tokens, std::size_t cols, std::uint32_t seed);

// Copies of one matrix, cycled in order by next() so consecutive calls read different memory;
// the position persists across benchmark runs so that no copy is read again soon.
template <class Matrix>
class WeightCycle {
 public:
  WeightCycle(Matrix first, std::size_t copies) {
    items_.reserve(copies);
    for (std::size_t i = 1; i < copies; ++i) items_.push_back(first);
    items_.push_back(std::move(first));
  }
  const Matrix& next() {
    const Matrix& item = items_[position_];
    position_ = position_ + 1 == items_.size() ? 0 : position_ + 1;
    return item;
  }
  const Matrix& front() const { return items_.front(); }
  std::size_t size() const { return items_.size(); }

 private:
  std::vector<Matrix> items_;
  std::size_t position_ = 0;
};

// How many copies of a matrix of `bytes` make a cold set (1 when hot).
inline std::size_t copies_for(double bytes, bool cold) {
  return cold ? static_cast<std::size_t>(kColdSetBytes / bytes) + 1 : 1;
}

// Keeps the data of one key at a time, so that the sweep never holds two 1 GiB sets: rows are
// registered so that those sharing data run one after another.
class DataSlot {
 public:
  template <class T, class Make>
  T& get(const std::string& key, Make&& make) {
    if (key != key_) {
      held_.reset();  // free the old set before building the next
      key_.clear();
      held_ = std::make_shared<T>(make());
      key_ = key;
    }
    return *static_cast<T*>(held_.get());
  }
  void clear() {
    held_.reset();
    key_.clear();
  }

 private:
  std::string key_;
  std::shared_ptr<void> held_;
};

// The slot for hot data and the slot for cold sets.
DataSlot& hot_data();
DataSlot& cold_data();

// ---- Registration -----------------------------------------------------------------------------

// Benchmarks run in registration order: probes first (every later row divides by them), the
// fp32 rows last (OpenBLAS's threads keep spinning after each call).
void register_probes();
void register_kernel_rows(Sweep sweep);
void register_baseline_rows(Sweep sweep);  // int8_vnni
void register_model_rows();
void register_int4_rows(Sweep sweep);     // int4-<path>, BitNet a4.8 activations
void register_openblas_rows(Sweep sweep);  // fp32_openblas
// Adds the baselines' facts (OpenBLAS core and configuration) to the output's context, prints
// them, and checks the int8 baseline against a naive loop; false when that check fails.
bool prepare_baselines();

}  // namespace trit_bench
