// trit's main demo: a BitNet b1.58 2B4T-shaped projection (6912 x 2560), quantized and packed,
// run on a batch of activations. Prints memory, accuracy and speed with the chosen kernel.
//
//   demo [--quick] [--threads N]
#include <trit/trit.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr std::size_t kRows = 6912;  // output features (gate/up projection)
constexpr std::size_t kCols = 2560;  // input features (hidden size)
constexpr std::size_t kBatch = 128;

template <class F>
double median_seconds(int repeats, F&& run) {
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

// y[n][m] = sum_k x[n][k] * w[m][k], in double for an accurate baseline.
std::vector<float> float_layer(const std::vector<float>& w, const std::vector<float>& x, std::size_t tokens) {
  std::vector<float> y(tokens * kRows);
  for (std::size_t n = 0; n < tokens; ++n) {
    const float* xn = x.data() + n * kCols;
    for (std::size_t m = 0; m < kRows; ++m) {
      const float* wm = w.data() + m * kCols;
      double sum = 0.0;
      for (std::size_t k = 0; k < kCols; ++k) sum += static_cast<double>(wm[k]) * xn[k];
      y[n * kRows + m] = static_cast<float>(sum);
    }
  }
  return y;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  unsigned threads = 0;  // 0: time with 1 thread and with every hardware thread
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    else if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = static_cast<unsigned>(std::stoul(argv[++i]));
    else {
      std::fprintf(stderr, "usage: %s [--quick] [--threads N]\n", argv[0]);
      return 2;
    }
  }

  // Weights ~ N(0, 0.02) like a trained projection; activations with a few outlier channels,
  // which is what makes per-token absmax quantization interesting.
  std::mt19937 rng(2024);
  std::normal_distribution<float> weight_dist(0.0f, 0.02f), act_dist(0.0f, 1.0f);
  std::vector<float> w(kRows * kCols), x(kBatch * kCols);
  for (float& v : w) v = weight_dist(rng);
  for (std::size_t n = 0; n < kBatch; ++n) {
    for (std::size_t k = 0; k < kCols; ++k) x[n * kCols + k] = act_dist(rng) * (k % 97 == 0 ? 8.0f : 1.0f);
  }

  const trit::PackedMatrix packed = trit::pack_weights(trit::matrix<const float>(w.data(), kRows, kCols));
  const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix<const float>(x.data(), kBatch, kCols));
  const trit::Isa isa = trit::best_isa();
  const trit::GemmOptions options{isa, threads == 0 ? 1 : threads};

  const double weights = static_cast<double>(kRows) * kCols;
  std::printf("trit %d.%d.%d demo: %zu x %zu ternary layer, batch %zu\n", TRIT_VERSION_MAJOR, TRIT_VERSION_MINOR,
              TRIT_VERSION_PATCH, kRows, kCols, kBatch);
  std::printf("memory: fp32 %.2f MiB, fp16 %.2f MiB, packed %.2f MiB (%.4f bits per weight, %.1fx smaller than fp16)\n",
              weights * 4 / 1048576.0, weights * 2 / 1048576.0, packed.weight_bytes() / 1048576.0,
              packed.bits_per_weight(), weights * 2 / static_cast<double>(packed.weight_bytes()));

  // Accuracy against the float layer computed with the dequantized (ternary * scale)
  // weights: what remains is the int8 activation quantization error.
  const std::size_t checked_tokens = quick ? 4 : 32;
  std::vector<float> dequantized(kRows * kCols);
  trit::dequantize(packed, trit::matrix(dequantized.data(), kRows, kCols));
  const std::vector<float> y_float = float_layer(dequantized, x, checked_tokens);
  std::vector<float> y(kBatch * kRows);
  trit::gemm(packed, q, trit::matrix(y.data(), kBatch, kRows), nullptr, options);
  double dot = 0, norm_y = 0, norm_f = 0, max_err = 0, max_ref = 0;
  for (std::size_t i = 0; i < checked_tokens * kRows; ++i) {
    dot += static_cast<double>(y[i]) * y_float[i];
    norm_y += static_cast<double>(y[i]) * y[i];
    norm_f += static_cast<double>(y_float[i]) * y_float[i];
    max_err = std::max(max_err, std::fabs(static_cast<double>(y[i]) - y_float[i]));
    max_ref = std::max(max_ref, std::fabs(static_cast<double>(y_float[i])));
  }
  const double cosine = dot / std::sqrt(norm_y * norm_f);
  std::printf("accuracy vs float layer with dequantized weights (%zu tokens): cosine similarity %.6f, "
              "max relative error %.3e (max |error| / max |y|)\n",
              checked_tokens, cosine, max_err / max_ref);

  const int gemv_repeats = quick ? 20 : 200;
  const int gemm_repeats = quick ? 3 : 15;
  std::vector<unsigned> thread_counts{threads};
  if (threads == 0) {
    thread_counts = {1};
    if (std::thread::hardware_concurrency() > 1) thread_counts.push_back(std::thread::hardware_concurrency());
  }
  for (unsigned t : thread_counts) {
    const trit::GemmOptions timed{isa, t};
    const double gemv_s = median_seconds(gemv_repeats, [&] {
      trit::gemv(packed, q.row(0), q.scale(0), y.data(), nullptr, timed);
    });
    const double gemm_s = median_seconds(gemm_repeats, [&] {
      trit::gemm(packed, q, trit::matrix(y.data(), kBatch, kRows), nullptr, timed);
    });
    std::printf("kernel %s, %u thread(s): GEMV %.1f us (%.1f GOPS, %.1f GB/s of packed weights), "
                "GEMM N=%zu %.2f ms (%.1f GOPS)\n",
                trit::isa_name(isa), t, gemv_s * 1e6, 2 * weights / gemv_s / 1e9,
                packed.weight_bytes() / gemv_s / 1e9, kBatch, gemm_s * 1e3, 2 * weights * kBatch / gemm_s / 1e9);
  }
  return cosine > 0.99 ? 0 : 1;
}
