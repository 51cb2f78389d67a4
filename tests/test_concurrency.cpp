// Concurrency: several std::threads using shared weights at once, each product also split
// over the worker pool (1 to 4 threads), and saves and loads running side by side. Every
// result must equal the one a single caller gets. scripts/test-tsan.sh runs these (and the
// other thread tests) under ThreadSanitizer, which checks that no two threads race.
#include <gtest/gtest.h>

#include <trit/trit.hpp>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using trit::ActivationScheme;

constexpr int kCallers = 4;
constexpr int kRepeats = 6;

std::vector<float> random_floats(std::size_t count, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

// The kernel paths this CPU runs for a product, automatic first.
std::vector<trit::Isa> runnable_paths(std::uint32_t product) {
  std::vector<trit::Isa> paths{trit::Isa::automatic};
  for (trit::Isa isa : trit::paths_with_product(product)) {
    if (trit::isa_supported(isa)) paths.push_back(isa);
  }
  return paths;
}

// Runs body(caller) on kCallers threads at once (released together) and joins them.
template <class Body>
void run_callers(Body body) {
  std::atomic<int> ready{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&, c] {
      ++ready;
      while (ready.load() < kCallers) std::this_thread::yield();
      body(c);
    });
  }
  for (std::thread& t : callers) t.join();
}

// A scratch directory removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::random_device random;
    path = std::filesystem::temp_directory_path() /
           ("trit-concurrency-" + std::to_string(random()) + "-" + std::to_string(random()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

bool same_matrix(const trit::PackedMatrix& a, const trit::PackedMatrix& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols() || a.row_stride() != b.row_stride() || a.scales() != b.scales()) {
    return false;
  }
  return std::memcmp(a.data(), b.data(), a.weight_bytes()) == 0;
}

}  // namespace

// Callers on several std::threads share one matrix; each also splits its product over 1 to
// 4 pool threads and picks its own path: all submit to the worker pool at the same time.
TEST(Concurrency, GemmCallersShareWeightsAndThePool) {
  const std::size_t rows = 300, cols = 777;
  const std::vector<float> w = random_floats(rows * cols, 1);
  const trit::PackedMatrix packed = trit::pack_weights(trit::matrix<const float>(w.data(), rows, cols));
  const std::vector<trit::Isa> paths = runnable_paths(trit::kProductDense243Int8);

  std::vector<trit::QuantizedActivations> inputs;
  std::vector<std::vector<float>> expected;
  for (int c = 0; c < kCallers; ++c) {
    const std::size_t tokens = 1 + static_cast<std::size_t>(c) * 3;
    const std::vector<float> x = random_floats(tokens * cols, 10 + static_cast<std::uint32_t>(c));
    inputs.push_back(trit::quantize_activations(trit::matrix<const float>(x.data(), tokens, cols)));
    expected.emplace_back(tokens * rows);
    trit::ref::gemm_rows(packed, inputs.back(), trit::matrix(expected.back().data(), tokens, rows), nullptr, 0, rows);
  }
  std::atomic<int> mismatches{0};
  run_callers([&](int c) {
    const std::size_t tokens = inputs[static_cast<std::size_t>(c)].tokens();
    std::vector<float> y(tokens * rows);
    for (int r = 0; r < kRepeats; ++r) {
      trit::GemmOptions options;
      options.threads = 1 + static_cast<unsigned>((c + r) % 4);
      options.isa = paths[static_cast<std::size_t>(c + r) % paths.size()];
      trit::gemm(packed, inputs[static_cast<std::size_t>(c)], trit::matrix(y.data(), tokens, rows), nullptr, options);
      if (y != expected[static_cast<std::size_t>(c)]) ++mismatches;
    }
  });
  EXPECT_EQ(mismatches.load(), 0);
}

// BitLinear::forward from several std::threads on one layer, for every scheme (the int4
// schemes run the LUT kernels), each call split over 1 to 4 pool threads.
TEST(Concurrency, BitLinearForwardFromManyThreads) {
  const std::size_t rows = 130, cols = 650;
  const std::vector<float> w = random_floats(rows * cols, 2);
  std::vector<float> bias(rows);
  for (std::size_t m = 0; m < rows; ++m) bias[m] = 0.01f * static_cast<float>(m);
  for (ActivationScheme scheme : {ActivationScheme::int8_absmax, ActivationScheme::int4_absmax,
                                  ActivationScheme::int4_absmean, ActivationScheme::int8_topk}) {
    trit::ActivationConfig config;
    config.scheme = scheme;
    config.topk_ratio = 0.5;
    const trit::BitLinear layer = trit::BitLinear::from_float(trit::matrix<const float>(w.data(), rows, cols),
                                                              trit::ScaleGranularity::per_row, bias.data(), config);
    std::vector<std::vector<float>> inputs, expected;
    for (int c = 0; c < kCallers; ++c) {
      inputs.push_back(random_floats((1 + static_cast<std::size_t>(c)) * cols, 20 + static_cast<std::uint32_t>(c)));
      expected.push_back(layer.forward(inputs.back()));  // one thread, the default path
    }
    std::atomic<int> mismatches{0};
    run_callers([&](int c) {
      for (int r = 0; r < kRepeats; ++r) {
        trit::GemmOptions options;
        options.threads = 1 + static_cast<unsigned>((c + r) % 4);
        if (layer.forward(inputs[static_cast<std::size_t>(c)], options) != expected[static_cast<std::size_t>(c)]) {
          ++mismatches;
        }
      }
    });
    EXPECT_EQ(mismatches.load(), 0) << trit::scheme_name(scheme);
  }
}

// One caller, products split over 1, 2, 3 and 4 threads (the pool grows and shrinks its
// share of workers between calls): the same results every time, int8 and int4.
TEST(Concurrency, ThreadedProductsWithOneToFourThreads) {
  const std::size_t rows = 257, cols = 1000, tokens = 5;
  const std::vector<float> w = random_floats(rows * cols, 3);
  const std::vector<float> x = random_floats(tokens * cols, 4);
  const trit::PackedMatrix packed = trit::pack_weights(trit::matrix<const float>(w.data(), rows, cols));
  const trit::LutWeights lut(packed);
  const trit::QuantizedActivations q8 = trit::quantize_activations(trit::matrix<const float>(x.data(), tokens, cols));
  const trit::PackedInt4Activations q4 =
      trit::quantize_activations_int4(trit::matrix<const float>(x.data(), tokens, cols));
  std::vector<float> want8(tokens * rows), want4(tokens * rows), y(tokens * rows);
  trit::gemm(packed, q8, trit::matrix(want8.data(), tokens, rows));
  trit::gemm_int4(lut, q4, trit::matrix(want4.data(), tokens, rows));
  for (int round = 0; round < 3; ++round) {
    for (unsigned threads = 1; threads <= 4; ++threads) {
      trit::GemmOptions options;
      options.threads = threads;
      trit::gemm(packed, q8, trit::matrix(y.data(), tokens, rows), nullptr, options);
      EXPECT_EQ(y, want8) << "int8, threads " << threads;
      trit::gemm_int4(lut, q4, trit::matrix(y.data(), tokens, rows), nullptr, options);
      EXPECT_EQ(y, want4) << "int4, threads " << threads;
    }
  }
}

// Saves and loads of different files at once: matrices (load and map_file) and layers.
TEST(Concurrency, SavesAndLoadsOfDifferentFiles) {
  const TempDir dir;
  std::vector<trit::PackedMatrix> matrices;
  std::vector<trit::BitLinear> layers;
  for (int c = 0; c < kCallers; ++c) {
    const std::size_t rows = 20 + static_cast<std::size_t>(c), cols = 100 + 50 * static_cast<std::size_t>(c);
    const std::vector<float> w = random_floats(rows * cols, 30 + static_cast<std::uint32_t>(c));
    matrices.push_back(trit::pack_weights(trit::matrix<const float>(w.data(), rows, cols), trit::ScaleGranularity::per_row));
    trit::ActivationConfig config;
    config.scheme = c % 2 == 0 ? ActivationScheme::int8_absmax : ActivationScheme::int4_absmean;
    layers.push_back(trit::BitLinear::from_float(trit::matrix<const float>(w.data(), rows, cols),
                                                 trit::ScaleGranularity::per_tensor, nullptr, config));
  }
  std::atomic<int> failures{0};
  run_callers([&](int c) {
    const std::size_t i = static_cast<std::size_t>(c);
    const std::string matrix_path = (dir.path / ("matrix" + std::to_string(c) + ".trit")).string();
    const std::string layer_path = (dir.path / ("layer" + std::to_string(c) + ".trit")).string();
    for (int r = 0; r < 3; ++r) {
      trit::save(matrices[i], matrix_path);
      layers[i].save(layer_path);
      if (!same_matrix(trit::load(matrix_path), matrices[i])) ++failures;
      const trit::MappedMatrix mapped = trit::map_file(matrix_path);
      if (mapped.view.rows() != matrices[i].rows() ||
          std::memcmp(mapped.view.data(), matrices[i].data(), matrices[i].weight_bytes()) != 0) {
        ++failures;
      }
      if (trit::BitLinear::load(layer_path).serialize() != layers[i].serialize()) ++failures;
    }
  });
  EXPECT_EQ(failures.load(), 0);
}

// Saves of different matrices to the same path at once: each save is atomic (its own
// temporary file, then rename), so the file ends up as exactly one of them and no
// temporary file is left behind.
TEST(Concurrency, RacingSavesToOnePathLeaveOneWholeFile) {
  const TempDir dir;
  const std::string path = (dir.path / "shared.trit").string();
  std::vector<trit::PackedMatrix> matrices;
  for (int c = 0; c < kCallers; ++c) {
    const std::vector<float> w = random_floats(64 * 320, 40 + static_cast<std::uint32_t>(c));
    matrices.push_back(trit::pack_weights(trit::matrix<const float>(w.data(), 64, 320)));
  }
  run_callers([&](int c) {
    for (int r = 0; r < 3; ++r) trit::save(matrices[static_cast<std::size_t>(c)], path);
  });
  const trit::PackedMatrix loaded = trit::load(path);
  bool one_of_them = false;
  for (const trit::PackedMatrix& m : matrices) one_of_them = one_of_them || same_matrix(loaded, m);
  EXPECT_TRUE(one_of_them);
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path)) {
    ++files;
    EXPECT_EQ(entry.path().filename(), "shared.trit");
  }
  EXPECT_EQ(files, 1u);
}
