// trit_bench: the baselines, in the same naming as trit's rows so that one table shows the
// speed-ups:
//   .../fp32_openblas/...  fp32 weights and activations through OpenBLAS sgemv / sgemm
//   .../int8_vnni/...      unpacked int8 weights through the AVX-512 VNNI kernels of
//                          int8_baseline.hpp
#include <cctype>
#include <cstdio>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bench_common.hpp"
#include "int8_baseline.hpp"

#if TRIT_BENCH_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace trit_bench {
namespace {

constexpr std::size_t kMaxTokens = 128;
constexpr const char* kInt8Path = "int8_vnni";
constexpr const char* kFp32Path = "fp32_openblas";

// The ternary weights of a shape as plain int8 values, the same for both baselines.
std::vector<std::int8_t> random_trits(Shape shape, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> trit_dist(-1, 1);
  std::vector<std::int8_t> trits(shape.rows * shape.cols);
  for (std::int8_t& t : trits) t = static_cast<std::int8_t>(trit_dist(rng));
  return trits;
}

template <class Matrix>
WeightCycle<Matrix> cycle_of(Matrix first, double bytes, bool cold) {
  const std::size_t copies = copies_for(bytes, cold);
  return WeightCycle<Matrix>(std::move(first), copies);
}

std::string data_key(const char* path, Shape shape, std::size_t tokens) {
  // GEMV and GEMM use different int8 layouts, so they do not share data.
  return std::string(path) + " " + std::to_string(shape.rows) + "x" + std::to_string(shape.cols) +
         (tokens == 1 ? " gemv" : " gemm");
}

Work baseline_work(Shape shape, std::size_t tokens, unsigned threads, bool cold, double bytes_per_weight) {
  Work work;
  work.ops = 2.0 * static_cast<double>(shape.rows) * static_cast<double>(shape.cols) * static_cast<double>(tokens);
  work.weight_bytes = bytes_per_weight * static_cast<double>(shape.rows) * static_cast<double>(shape.cols);
  work.bits_per_weight = 8.0 * bytes_per_weight;
  work.bound = cold && tokens == 1 ? Bound::dram_bandwidth : Bound::int8_dot_peak;
  work.threads = threads;
  return work;
}

// ---- int8 x int8 ------------------------------------------------------------------------------

struct Int8Data {
  WeightCycle<Int8Weights> weights;
  trit::QuantizedActivations x;
  std::vector<float> y;
  std::vector<std::uint8_t> scratch;

  Int8Data(Shape shape, bool gemv, bool cold)
      : weights(cycle_of(Int8Weights(random_trits(shape, 7).data(), shape.rows, shape.cols, 0.02f,
                                     gemv ? Int8Weights::Layout::rows : Int8Weights::Layout::panels),
                         static_cast<double>(shape.rows) * shape.cols, cold)),
        x(random_activations(kMaxTokens, shape.cols, 11)),
        y(kMaxTokens * shape.rows) {}
};

void run_int8_row(benchmark::State& state, Shape shape, std::size_t tokens, unsigned threads, bool cold) {
  Int8Data& data = (cold ? cold_data() : hot_data()).get<Int8Data>(data_key(kInt8Path, shape, tokens), [&] {
    return Int8Data(shape, tokens == 1, cold);
  });
  trit::ActivationsView x = data.x.view();
  x.tokens = tokens;
  const double seconds =
      seconds_per_iteration(state, [&] { int8_gemm(data.weights.next(), x, data.y.data(), threads, data.scratch); });
  report_work(state, baseline_work(shape, tokens, threads, cold, 1.0), seconds);
}

// ---- fp32 through OpenBLAS --------------------------------------------------------------------

#if TRIT_BENCH_HAVE_OPENBLAS
using FloatBuffer = trit::detail::AlignedBuffer<float>;

struct FloatData {
  WeightCycle<FloatBuffer> weights;
  FloatBuffer x;
  FloatBuffer y;

  FloatData(Shape shape, bool cold)
      : weights(cycle_of(random_weights(shape), 4.0 * static_cast<double>(shape.rows) * shape.cols, cold)),
        x(random_floats(kMaxTokens * shape.cols, 13)),
        y(kMaxTokens * shape.rows) {}

  static FloatBuffer random_weights(Shape shape) {
    const std::vector<std::int8_t> trits = random_trits(shape, 7);
    FloatBuffer w(trits.size());
    for (std::size_t i = 0; i < trits.size(); ++i) w[i] = 0.02f * static_cast<float>(trits[i]);
    return w;
  }
  static FloatBuffer random_floats(std::size_t count, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    FloatBuffer values(count);
    for (std::size_t i = 0; i < count; ++i) values[i] = dist(rng);
    return values;
  }
};

void run_fp32_row(benchmark::State& state, Shape shape, std::size_t tokens, unsigned threads, bool cold) {
  FloatData& data = (cold ? cold_data() : hot_data()).get<FloatData>(data_key(kFp32Path, shape, tokens), [&] {
    return FloatData(shape, cold);
  });
  openblas_set_num_threads(static_cast<int>(threads));
  const int m = static_cast<int>(shape.rows), k = static_cast<int>(shape.cols), n = static_cast<int>(tokens);
  const double seconds = seconds_per_iteration(state, [&] {
    const float* w = data.weights.next().data();
    if (tokens == 1) {
      cblas_sgemv(CblasRowMajor, CblasNoTrans, m, k, 1.0f, w, k, data.x.data(), 1, 0.0f, data.y.data(), 1);
    } else {
      // Y (N x M) = X (N x K) W^T, W stored M x K like trit's weights.
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, m, k, 1.0f, data.x.data(), k, w, k, 0.0f,
                  data.y.data(), m);
    }
  });
  report_work(state, baseline_work(shape, tokens, threads, cold, 4.0), seconds);
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// OpenBLAS's DYNAMIC_ARCH builds pick a core at load time; these are the cores whose kernels
// use AVX-512.
bool openblas_core_uses_avx512(const std::string& core) {
  const std::string name = lower(core);
  return name.find("skylakex") != std::string::npos || name.find("cooperlake") != std::string::npos ||
         name.find("sapphirerapids") != std::string::npos;
}
#endif

// ---- Registration -----------------------------------------------------------------------------

template <class Run>
void add_rows(const char* path, Shape shape, Sweep sweep, Run run) {
  const auto add = [&](std::size_t tokens, unsigned threads, bool cold) {
    benchmark::RegisterBenchmark(row_name(shape, tokens, path, threads, cold).c_str(),
                                 [=](benchmark::State& state) { run(state, shape, tokens, threads, cold); });
  };
  for (std::size_t tokens : kTokenCounts) {
    for (unsigned threads : kThreadCounts) add(tokens, threads, false);
  }
  // Cold rows last: the default set has them for GEMV only, the full sweep below 128 tokens.
  for (std::size_t tokens : kTokenCounts) {
    if (tokens > 1 && (sweep == Sweep::quick || !wants_cold_rows(tokens))) continue;
    for (unsigned threads : kThreadCounts) add(tokens, threads, true);
  }
}

std::vector<Shape> baseline_shapes(Sweep sweep) {
  if (sweep == Sweep::quick) return {Shape{6912, 2560}};
  std::vector<Shape> shapes(std::begin(kBitnetShapes), std::end(kBitnetShapes));
  shapes.insert(shapes.end(), std::begin(kLlamaShapes), std::end(kLlamaShapes));
  return shapes;
}

}  // namespace

bool prepare_baselines() {
  if (int8_baseline_available()) {
    const std::string problem = int8_baseline_self_check();
    if (!problem.empty()) {
      std::fprintf(stderr, "trit_bench: %s\n", problem.c_str());
      return false;
    }
    benchmark::AddCustomContext("int8_baseline", "AVX-512 VNNI, checked against a naive loop at startup");
  } else {
    std::fprintf(stderr, "trit_bench: this CPU has no AVX-512 VNNI: no int8_vnni rows\n");
    benchmark::AddCustomContext("int8_baseline", "unavailable (no AVX-512 VNNI)");
  }
#if TRIT_BENCH_HAVE_OPENBLAS
  const std::string config = openblas_get_config();
  const std::string core = openblas_get_corename();
  const bool avx512_core = openblas_core_uses_avx512(core);
  const bool avx512_cpu = trit::cpu_features().avx512bw;
  std::fprintf(stderr, "trit_bench: OpenBLAS core %s (%s), config: %s\n", core.c_str(),
              avx512_core ? "AVX-512 kernels" : "no AVX-512 kernels", config.c_str());
  if (avx512_cpu && !avx512_core) {
    std::fprintf(stderr, "trit_bench: warning: this CPU has AVX-512 but OpenBLAS chose %s; try OPENBLAS_CORETYPE=SkylakeX\n",
                core.c_str());
  }
  benchmark::AddCustomContext("openblas_config", config);
  benchmark::AddCustomContext("openblas_corename", core);
  benchmark::AddCustomContext("openblas_avx512_kernels", avx512_core ? "yes" : "no");
#else
  std::fprintf(stderr, "trit_bench: built without OpenBLAS (install libopenblas-dev and reconfigure): no fp32_openblas rows\n");
  benchmark::AddCustomContext("openblas_corename", "not found at build time: no fp32 rows");
#endif
  return true;
}

void register_baseline_rows(Sweep sweep) {
  for (Shape shape : baseline_shapes(sweep)) {
    if (int8_baseline_available()) add_rows(kInt8Path, shape, sweep, run_int8_row);
  }
}

// OpenBLAS's threads keep spinning for a while after each call and would take cycles from
// whatever runs next, so its rows are registered last, after the model rows.
void register_openblas_rows(Sweep sweep) {
#if TRIT_BENCH_HAVE_OPENBLAS
  for (Shape shape : baseline_shapes(sweep)) add_rows(kFp32Path, shape, sweep, run_fp32_row);
#else
  (void)sweep;
#endif
}

}  // namespace trit_bench
