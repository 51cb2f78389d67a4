// trit_bench: every CPU benchmark of trit in one binary, so that the machine's limits, trit's
// kernels and the baselines are measured in the same run.
//
//   trit_bench [--full] [Google Benchmark flags]
//
// Without --full it runs the default set (under two minutes); --full adds every shape, token
// count, thread count and kernel path. bench/run.sh is the reproducible way to run it.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace {

constexpr const char* kDefaultMinTime = "--benchmark_min_time=0.1";

struct Options {
  trit_bench::Sweep sweep = trit_bench::Sweep::quick;
  bool help = false;
};

// Takes trit_bench's own flags out of argv (Google Benchmark rejects flags it does not know)
// and gives a shorter default minimum time per row, which keeps the default set under two
// minutes; an explicit --benchmark_min_time wins.
Options take_own_flags(int& argc, char** argv, std::vector<char*>& storage) {
  Options options;
  bool min_time_given = false;
  storage.assign(argv, argv + argc);
  std::vector<char*> kept;
  for (char* arg : storage) {
    if (std::strcmp(arg, "--full") == 0) {
      options.sweep = trit_bench::Sweep::full;
      continue;
    }
    if (std::strcmp(arg, "--help") == 0 || std::strcmp(arg, "-h") == 0) options.help = true;
    if (std::strncmp(arg, "--benchmark_min_time", 20) == 0) min_time_given = true;
    kept.push_back(arg);
  }
  if (!min_time_given) kept.insert(kept.begin() + (kept.empty() ? 0 : 1), const_cast<char*>(kDefaultMinTime));
  storage = kept;
  storage.push_back(nullptr);
  argc = static_cast<int>(kept.size());
  return options;
}

// The CPU's marketing name, for the results' context (Linux; empty elsewhere).
std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) {
      return line.substr(line.find(':') + 2);
    }
  }
  return "";
}

std::string supported_paths() {
  std::string paths;
  for (trit::Isa isa : trit::kAllIsas) {
    if (!trit::isa_supported(isa)) continue;
    if (!paths.empty()) paths += ",";
    paths += trit::isa_name(isa);
  }
  return paths;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  const Options options = take_own_flags(argc, argv, args);
  if (options.help) {
    std::printf(
        "trit_bench [--full] [Google Benchmark flags]\n"
        "  --full   the whole sweep: every shape, N in {1, 8, 32, 128}, 1 and 2 threads, every kernel path\n"
        "           (default: probes, the BitNet 2B4T rows on the best path, the model rows and baselines)\n"
        "  Rows: <gemv|gemm>/<M>x<K>/n<N>/<path>/t<threads>/<hot|cold>, probe/..., decode_step/..., prefill/...\n"
        "  Select rows with --benchmark_filter=<regex>, e.g. --full --benchmark_filter='^gemv/.*/cold$'\n\n");
  }

  benchmark::AddCustomContext("trit_version", std::to_string(TRIT_VERSION_MAJOR) + "." +
                                                  std::to_string(TRIT_VERSION_MINOR) + "." +
                                                  std::to_string(TRIT_VERSION_PATCH));
  benchmark::AddCustomContext("cpu_model", cpu_model());
  benchmark::AddCustomContext("trit_best_path", trit::isa_name(trit::best_isa()));
  benchmark::AddCustomContext("trit_paths", supported_paths());
  benchmark::AddCustomContext("trit_sweep", options.sweep == trit_bench::Sweep::full ? "full" : "default");
  benchmark::AddCustomContext("int8_dot_peak_instruction", trit_bench::int8_dot_peak_instruction());
  if (!trit_bench::prepare_baselines()) return 1;

  trit_bench::register_probes();
  trit_bench::register_kernel_rows(options.sweep);
  trit_bench::register_int4_rows(options.sweep);
  trit_bench::register_baseline_rows(options.sweep);
  trit_bench::register_model_rows();
  trit_bench::register_openblas_rows(options.sweep);

  benchmark::Initialize(&argc, args.data());
  if (benchmark::ReportUnrecognizedArguments(argc, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
