// Driving trit from your own threads: a small persistent thread pool splits the M output rows
// of a product into ranges and calls the range API, trit::gemm_rows, on each. Ranges are
// disjoint, so the workers share one output without locks, and the result is bit-identical to
// trit::gemm's. Ranges at multiples of 64 rows suit every kernel path's row tile.
//
//   own_thread_pool [threads]       (default: one per hardware thread)
#include <trit/trit.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

namespace {

// Workers sleep until parallel_for hands them a job, then take task indices from a shared
// counter until none is left; the calling thread works too.
class ThreadPool {
 public:
  explicit ThreadPool(unsigned threads) {
    for (unsigned t = 1; t < threads; ++t) workers_.emplace_back([this] { work(); });
  }

  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& worker : workers_) worker.join();
  }

  unsigned size() const { return static_cast<unsigned>(workers_.size()) + 1; }

  // Runs task(i) for every i in [0, count) and returns when all have finished.
  void parallel_for(std::size_t count, const std::function<void(std::size_t)>& task) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task_ = &task;
      count_ = count;
      next_ = 0;
      unfinished_ = count;
      ++generation_;
    }
    wake_.notify_all();
    run_tasks();
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return unfinished_ == 0; });
    task_ = nullptr;
  }

 private:
  void work() {
    std::uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
      }
      run_tasks();
    }
  }

  void run_tasks() {
    for (;;) {
      const std::function<void(std::size_t)>* task;
      std::size_t i;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (task_ == nullptr || next_ >= count_) return;
        task = task_;
        i = next_++;
      }
      (*task)(i);
      std::lock_guard<std::mutex> lock(mutex_);
      if (--unfinished_ == 0) done_.notify_all();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(std::size_t)>* task_ = nullptr;
  std::size_t count_ = 0, next_ = 0, unfinished_ = 0;
  std::uint64_t generation_ = 0;
  bool stopping_ = false;
};

template <class F>
double median_ms(int runs, F&& f) {
  std::vector<double> times;
  for (int r = 0; r < runs; ++r) {
    const auto start = std::chrono::steady_clock::now();
    f();
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const unsigned hardware = std::max(1u, std::thread::hardware_concurrency());
  ThreadPool pool(argc > 1 ? static_cast<unsigned>(std::max(1, std::atoi(argv[1]))) : hardware);

  // One BitNet 2B4T gate projection and four tokens.
  const std::size_t rows = 6912, cols = 2560, tokens = 4, rows_per_task = 256;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(rows * cols), x(tokens * cols), bias(rows);
  for (float& v : w) v = 0.02f * normal(rng);
  for (float& v : x) v = normal(rng);
  for (float& v : bias) v = 0.1f * normal(rng);
  const trit::PackedMatrix packed = trit::pack_weights(trit::matrix<const float>(w.data(), rows, cols));
  // Quantize once; every range reads the same quantized tokens.
  const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix<const float>(x.data(), tokens, cols));

  std::vector<float> y(tokens * rows), y_whole(tokens * rows);
  const std::size_t tasks = (rows + rows_per_task - 1) / rows_per_task;
  const auto run_on_pool = [&] {
    pool.parallel_for(tasks, [&](std::size_t task) {
      const std::size_t m0 = task * rows_per_task, m1 = std::min(rows, m0 + rows_per_task);
      trit::gemm_rows(packed, q, trit::matrix(y.data(), tokens, rows), bias.data(), m0, m1);
    });
  };
  run_on_pool();
  trit::gemm(packed, q, trit::matrix(y_whole.data(), tokens, rows), bias.data());
  bool match = y == y_whole;
  std::printf("int8: %zu ranges of %zu rows on %u threads, %s trit::gemm; %.3f ms on the pool, %.3f ms on one thread\n",
              tasks, rows_per_task, pool.size(), match ? "bit-identical to" : "DIFFERENT FROM",
              median_ms(11, run_on_pool),
              median_ms(11, [&] { trit::gemm(packed, q, trit::matrix(y_whole.data(), tokens, rows), bias.data()); }));

  // The int4 path has the same range API on its own weight layout.
  const trit::LutWeights lut(packed);
  const trit::PackedInt4Activations q4 = trit::quantize_activations_int4(trit::matrix<const float>(x.data(), tokens, cols));
  std::vector<float> y4(tokens * rows), y4_whole(tokens * rows);
  pool.parallel_for(tasks, [&](std::size_t task) {
    const std::size_t m0 = task * rows_per_task, m1 = std::min(rows, m0 + rows_per_task);
    trit::gemm_int4_rows(lut, q4, trit::matrix(y4.data(), tokens, rows), bias.data(), m0, m1);
  });
  trit::gemm_int4(lut, q4, trit::matrix(y4_whole.data(), tokens, rows), bias.data());
  const bool match4 = y4 == y4_whole;
  std::printf("int4: %zu ranges on %u threads, %s trit::gemm_int4\n", tasks, pool.size(),
              match4 ? "bit-identical to" : "DIFFERENT FROM");
  match = match && match4;
  return match ? 0 : 1;
}
