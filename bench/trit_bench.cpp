// trit_bench: every CPU benchmark of trit in one binary, so that the machine's limits, trit's
// kernels and the baselines are measured in the same run.
//
//   trit_bench [--full] [Google Benchmark flags]
//
// Without --full it runs the default set (under two minutes); --full adds every shape, token
// count, thread count and kernel path. bench/run.sh is the reproducible way to run it.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace trit_bench {
void register_two_bit_rows(Sweep sweep);  // bench/two_bit_rows.cpp: Dense243 vs TwoBit
}

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

// Console output: one short line per row, "[12/87] name  time ±spread  figures", instead of
// Google Benchmark's table, which prints every aggregate of every row (five lines with
// repetitions) with every counter, SI-suffixed. The JSON (--benchmark_out) keeps everything.
class CompactReporter : public benchmark::BenchmarkReporter {
 public:
  CompactReporter(std::size_t total, std::size_t name_width) : total_(total), name_width_(name_width) {}

  bool ReportContext(const Context& context) override {
    std::ostream& out = GetOutputStream();
    out << "trit_bench: " << total_ << " row(s) on " << context.cpu_info.num_cpus << " CPU(s)";
    if (!context.cpu_info.load_avg.empty()) {
      out << ", load average at start";
      for (double load : context.cpu_info.load_avg) out << ' ' << format_number(load);
    }
    out << '\n';
    return true;
  }

  void ReportRuns(const std::vector<Run>& runs) override {
    // With repetitions the runs come twice, once each repetition and once the aggregates:
    // only the aggregates are shown.
    const Run* shown = nullptr;
    const Run* cv = nullptr;
    for (const Run& run : runs) {
      if (run.run_type == Run::RT_Aggregate) {
        if (run.aggregate_name == "median") shown = &run;
        if (run.aggregate_name == "cv") cv = &run;
      } else if (run.repetitions <= 1 || run.error_occurred) {
        shown = &run;
      }
    }
    if (shown == nullptr) return;
    std::ostream& out = GetOutputStream();
    const std::string name = shown->run_name.str();
    out << '[' << ++done_ << '/' << total_ << "] " << name;
    if (name.size() < name_width_) out << std::string(name_width_ - name.size(), ' ');
    if (shown->error_occurred) {
      out << "  ERROR: " << shown->error_message << std::endl;
      return;
    }
    const double seconds =
        shown->GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(shown->time_unit);
    out << "  " << format_time(seconds);
    if (cv != nullptr) out << " ±" << format_number(100.0 * cv->real_accumulated_time) << '%';  // a ratio, not a time
    const std::pair<const char*, const char*> shown_counters[] = {
        {"GOPS", "GOPS"},           {"weight_GBps", "GB/s"},    {"GBps", "GB/s"},
        {"ms_per_token", "ms/tok"}, {"tokens_per_s", "tok/s"},  {"G_instructions_per_s", "G instr/s"},
        {"frac_of_limit", "of limit"}};
    for (const auto& [key, unit] : shown_counters) {
      const auto found = shown->counters.find(key);
      if (found == shown->counters.end()) continue;
      const double value = found->second.value;
      out << "  " << (std::strcmp(key, "frac_of_limit") == 0 ? fixed3(value) : format_number(value)) << ' ' << unit;
    }
    if (!shown->report_label.empty()) {
      out << "  (" << shown->report_label << ')';
    } else if (const std::string winner = fastest_strategy(*shown); !winner.empty()) {
      // The repetitions of the DRAM probe disagreed on the fastest strategy, so Google
      // Benchmark dropped the label: name the one with the best median instead.
      out << "  (" << winner << ')';
    }
    out << std::endl;
  }

 private:
  // Three significant digits, never an SI suffix: a fraction stays 0.00320, not 3.2m.
  static std::string format_number(double value) {
    char text[32];
    const double magnitude = std::fabs(value);
    if (magnitude >= 100 || value == 0) {
      std::snprintf(text, sizeof text, "%.0f", value);
    } else {
      const int decimals = magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 2 - static_cast<int>(std::floor(std::log10(magnitude)));
      std::snprintf(text, sizeof text, "%.*f", decimals, value);
    }
    return text;
  }
  // "8 streams+pf" from the largest GBps_<S>s[_pf] counter; empty on rows without them.
  static std::string fastest_strategy(const Run& run) {
    std::string best;
    double best_value = 0;
    for (const auto& [key, counter] : run.counters) {
      if (key.rfind("GBps_", 0) != 0 || counter.value <= best_value) continue;
      best = key;
      best_value = counter.value;
    }
    if (best.empty()) return best;
    const std::size_t s = best.find('s', 5);
    const std::string streams = best.substr(5, s - 5);
    return streams + (streams == "1" ? " stream" : " streams") + (best.size() > s + 1 ? "+pf" : "");
  }
  static std::string fixed3(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3f", value);
    return text;
  }
  static std::string format_time(double seconds) {
    if (seconds >= 1) return format_number(seconds) + " s";
    if (seconds >= 1e-3) return format_number(seconds * 1e3) + " ms";
    return format_number(seconds * 1e6) + " us";
  }

  std::size_t total_;
  std::size_t name_width_;
  std::size_t done_ = 0;
};

// Collects nothing: the listing pass only needs the names RunSpecifiedBenchmarks prints.
class SilentReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

bool has_arg(const std::vector<char*>& args, const char* prefix) {
  for (char* arg : args) {
    if (arg != nullptr && std::strncmp(arg, prefix, std::strlen(prefix)) == 0) return true;
  }
  return false;
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
        "  Rows: <gemv|gemm>/<M>x<K>/n<N>/<path>/t<threads>/<hot|cold>, probe/..., decode_step/..., prefill/..., model/...\n"
        "  Select rows with --benchmark_filter=<regex>, e.g. --full --benchmark_filter='^gemv/.*/cold$'\n\n");
  }

  benchmark::AddCustomContext("trit_version", std::to_string(TRIT_VERSION_MAJOR) + "." +
                                                  std::to_string(TRIT_VERSION_MINOR) + "." +
                                                  std::to_string(TRIT_VERSION_PATCH));
  benchmark::AddCustomContext("cpu_model", cpu_model());
  benchmark::AddCustomContext("trit_best_path", trit::isa_name(trit::best_isa()));
  benchmark::AddCustomContext("trit_paths", supported_paths());
  // make_table.py compares the int4 row of this path with the int8 row of the best path: a
  // --full run has an int4 row for every path, and the first one found was not the best.
  benchmark::AddCustomContext("trit_best_int4_path", std::string("int4-") + trit::isa_name(trit::gemm_int4_path()));
  benchmark::AddCustomContext("trit_sweep", options.sweep == trit_bench::Sweep::full ? "full" : "default");
  benchmark::AddCustomContext("int8_dot_peak_instruction", trit_bench::int8_dot_peak_instruction());
  if (!trit_bench::prepare_baselines()) return 1;

  trit_bench::register_probes();
  trit_bench::register_kernel_rows(options.sweep);
  trit_bench::register_int4_rows(options.sweep);
  trit_bench::register_baseline_rows(options.sweep);
  trit_bench::register_model_rows();
  trit_bench::register_openblas_rows(options.sweep);
  trit_bench::register_two_bit_rows(options.sweep);  // bench/two_bit_rows.cpp

  // The compact console needs the number of rows and the widest name before the first row
  // runs, so the rows the flags select are listed first (a pass that runs nothing).
  const bool listing = has_arg(args, "--benchmark_list_tests") && !has_arg(args, "--benchmark_list_tests=false");
  const bool console = !has_arg(args, "--benchmark_format=") || has_arg(args, "--benchmark_format=console");
  std::size_t total = 0, name_width = 0;
  if (!listing && console) {
    std::vector<char*> list_args(args.begin(), args.begin() + argc);
    std::string list_flag = "--benchmark_list_tests=true", no_out = "--benchmark_out=";
    list_args.push_back(list_flag.data());
    list_args.push_back(no_out.data());
    list_args.push_back(nullptr);
    int list_argc = static_cast<int>(list_args.size()) - 1;
    benchmark::Initialize(&list_argc, list_args.data());
    if (benchmark::ReportUnrecognizedArguments(list_argc, list_args.data())) return 1;
    SilentReporter silent;
    std::ostringstream names;
    silent.SetOutputStream(&names);
    total = benchmark::RunSpecifiedBenchmarks(&silent);
    std::istringstream lines(names.str());
    for (std::string line; std::getline(lines, line);) name_width = std::max(name_width, line.size());
  }

  // The listing pass left its own flags set: the real pass overrides them.
  std::string not_listing = "--benchmark_list_tests=false", default_out = "--benchmark_out=";
  if (!listing) {
    args.insert(args.begin() + 1, &default_out[0]);
    args.insert(args.begin() + 1, &not_listing[0]);
    argc += 2;
  }
  benchmark::Initialize(&argc, args.data());
  if (benchmark::ReportUnrecognizedArguments(argc, args.data())) return 1;
  if (!listing && console) {
    CompactReporter compact(total, name_width);
    benchmark::RunSpecifiedBenchmarks(&compact);
  } else {
    benchmark::RunSpecifiedBenchmarks();
  }
  benchmark::Shutdown();
  return 0;
}
