// trit: what a kernel path is (a KernelSet), how a product is split into row ranges, and how
// threads share them. Paths register themselves in select_kernels().
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "trit/views/activations.hpp"
#include "trit/paths/cpu_features.hpp"
#include "trit/driver/problem.hpp"
#include "trit/paths/isa.hpp"
#include "trit/kernels/neon/dense243_int8.hpp"
#include "trit/kernels/x86/dense243_int8.hpp"
#include "trit/views/matrix_ref.hpp"
#include "trit/format/packed_matrix.hpp"
#include "trit/reference/reference.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace detail {

inline void scalar_rows(const GemmProblem& p, std::size_t m0, std::size_t m1) {
  if (p.acc.data != nullptr) {
    ref::gemm_int32_rows(*p.w, p.x, p.acc, m0, m1);
  } else {
    ref::gemm_rows(*p.w, p.x, p.y, p.bias, m0, m1);
  }
}

inline constexpr KernelSet kScalarKernels{Isa::scalar, scalar_rows, scalar_rows, 1};

// The kernels of one path, or of the best path this CPU has for Isa::automatic. Throws
// unsupported_isa_error for a path this build or this CPU cannot run: never SIGILL.
inline const KernelSet& select_kernels(Isa isa) {
  if (isa == Isa::automatic) isa = best_isa();
  if (!isa_supported(isa)) {
    throw unsupported_isa_error(concat("trit: kernel path '", isa_name(isa),
                                       "' is not supported here: ", isa_unsupported_reason(isa)));
  }
  switch (isa) {
#if TRIT_HAS_X86_KERNELS
    case Isa::avx2: return avx2::kKernels;
    case Isa::avxvnni: return avxvnni::kKernels;
    case Isa::avx512bw: return avx512bw::kKernels;
    case Isa::avx512vnni: return avx512vnni::kKernels;
#endif
#if TRIT_HAS_NEON_KERNELS
    case Isa::neon: return neon::kKernels;
    case Isa::neon_dotprod: return neon_dotprod::kKernels;
#endif
    default: return kScalarKernels;
  }
}

// The problem restricted to token n, for the one-token kernel.
inline GemmProblem single_token(const GemmProblem& problem, std::size_t n) {
  GemmProblem one = problem;
  one.x.data = problem.x.row(n);
  one.x.tokens = 1;
  one.x.scales = problem.x.scales + n;
  if (problem.acc.data != nullptr) one.acc = MatrixRef<std::int32_t>{problem.acc.row(n), 1, problem.acc.cols, problem.acc.stride};
  if (problem.y.data != nullptr) one.y = MatrixRef<float>{problem.y.row(n), 1, problem.y.cols, problem.y.stride};
  return one;
}

inline void run_rows(const GemmProblem& problem, const KernelSet& kernels, std::size_t m0, std::size_t m1) {
  if (m0 >= m1) return;
  if (problem.x.tokens >= kernels.min_gemm_tokens) {
    kernels.gemm(problem, m0, m1);
    return;
  }
  for (std::size_t n = 0; n < problem.x.tokens; ++n) kernels.gemv(single_token(problem, n), m0, m1);
}

inline unsigned resolve_threads(unsigned threads) {
  if (threads != 0) return threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : hw;
}

// Lets a spinning thread yield its core's issue slots to a sibling hyper-thread.
inline void spin_pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

// Worker threads shared by every product in the process. Creating and joining threads costs
// tens of microseconds, as much as a whole GEMV of a 2560 x 2560 projection, so the workers
// are created on first use and kept. After finishing a task a worker spins for a short while,
// because the next product usually follows at once (one projection after another), and then
// sleeps so that an idle process does not burn a core.
//
// Concurrent callers are safe: each run() is a job of its own, and the caller executes its
// own job's tasks whenever no worker has claimed them yet, so every call finishes even when
// all workers are busy with other callers' jobs.
class WorkerPool {
 public:
  // How long an idle worker keeps polling for work before it sleeps.
  static constexpr std::chrono::microseconds kSpinTime{300};
  // Workers beyond this are never created; a larger request shares them.
  static constexpr std::size_t kMaxWorkers = 255;

  // Never destroyed: a product run by some other static object's destructor must still find
  // it, and the workers end with the process.
  static WorkerPool& instance() {
    static WorkerPool* const pool = new WorkerPool;
    return *pool;
  }

  WorkerPool() = default;
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Calls task(i) once for every i in [0, count) and returns when all calls have returned.
  // The caller runs tasks itself; up to count - 1 workers run the others. Tasks must not
  // throw: a worker has nowhere to send the exception.
  template <class Task>
  void run(std::size_t count, const Task& task) {
    if (count == 0) return;
    if (count == 1) {
      task(std::size_t{0});
      return;
    }
    Job job;
    job.call = [](const void* erased, std::size_t index) { (*static_cast<const Task*>(erased))(index); };
    job.task = &task;
    job.count = count;
    submit(job);
    while (run_one_task(job)) {
    }
    wait_until_finished(job);
  }

 private:
  struct Job {
    void (*call)(const void* task, std::size_t index) = nullptr;
    const void* task = nullptr;
    std::size_t count = 0;
    std::size_t next = 0;                  // first unclaimed task; guarded by mutex_
    std::atomic<std::size_t> finished{0};  // the last access a worker makes to the job
    Job* later = nullptr;                  // queue link; guarded by mutex_
  };

  void submit(Job& job) {
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const std::size_t wanted = std::min(job.count - 1, kMaxWorkers);
      while (workers_.size() < wanted) workers_.emplace_back([this] { work(); });
      Job** tail = &queue_;
      while (*tail != nullptr) tail = &(*tail)->later;
      *tail = &job;
      unclaimed_.fetch_add(job.count, std::memory_order_release);
      wake = sleeping_ > 0;
    }
    if (wake) wake_.notify_all();
  }

  // Runs the next unclaimed task of the caller's own job; false when none is left.
  bool run_one_task(Job& job) { return run_claimed(claim(&job)); }

  struct Claim {
    Job* job = nullptr;
    std::size_t index = 0;
  };

  // The next task of job `only`, or with only null of the oldest queued job; an empty Claim
  // when there is none.
  Claim claim(Job* only) {
    std::lock_guard<std::mutex> lock(mutex_);
    Job** link = &queue_;
    while (*link != nullptr && only != nullptr && *link != only) link = &(*link)->later;
    Job* job = *link;
    if (job == nullptr || job->next == job->count) return {};
    const Claim claimed{job, job->next++};
    unclaimed_.fetch_sub(1, std::memory_order_relaxed);
    if (job->next == job->count) *link = job->later;  // fully claimed: leave the queue
    return claimed;
  }

  static bool run_claimed(const Claim& claimed) {
    if (claimed.job == nullptr) return false;
    claimed.job->call(claimed.job->task, claimed.index);
    claimed.job->finished.fetch_add(1, std::memory_order_acq_rel);
    return true;
  }

  static void wait_until_finished(const Job& job) {
    // The remaining tasks are running on workers and take about as long as the caller's own
    // did, so spin; yield now and then in case a worker is waiting for this core.
    for (unsigned spins = 1; job.finished.load(std::memory_order_acquire) != job.count; ++spins) {
      spin_pause();
      if (spins % 64 == 0) std::this_thread::yield();
    }
  }

  void work() {
    for (;;) {
      const auto spin_end = std::chrono::steady_clock::now() + kSpinTime;
      unsigned spins = 0;
      while (unclaimed_.load(std::memory_order_acquire) == 0) {
        spin_pause();
        if (++spins % 256 != 0 || std::chrono::steady_clock::now() < spin_end) continue;
        std::unique_lock<std::mutex> lock(mutex_);
        ++sleeping_;
        wake_.wait(lock, [this] { return unclaimed_.load(std::memory_order_relaxed) != 0; });
        --sleeping_;
        break;
      }
      while (run_claimed(claim(nullptr))) {
      }
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::thread> workers_;
  Job* queue_ = nullptr;
  std::atomic<std::size_t> unclaimed_{0};
  std::size_t sleeping_ = 0;  // guarded by mutex_
};

// Calls task(i) for every i in [0, count), spread over the shared workers and the caller.
template <class Task>
void parallel_for(std::size_t count, const Task& task) {
  WorkerPool::instance().run(count, task);
}

// Splits the M rows into one contiguous range per thread, each a multiple of the path's row
// tile (the last takes the rest). Every row is computed by exactly one kernel call with the
// same code, so the result does not depend on the thread count.
inline void run_parallel(const GemmProblem& problem, const KernelSet& kernels, unsigned threads) {
  const std::size_t rows = problem.w->rows();
  const std::size_t tile = kernels.row_tile;
  const std::size_t tiles = (rows + tile - 1) / tile;
  const std::size_t workers = std::min<std::size_t>(resolve_threads(threads), tiles);
  if (workers <= 1) {
    run_rows(problem, kernels, 0, rows);
    return;
  }
  const auto range_begin = [&](std::size_t t) { return std::min(rows, (tiles * t / workers) * tile); };
  parallel_for(workers, [&](std::size_t t) { run_rows(problem, kernels, range_begin(t), range_begin(t + 1)); });
}

}  // namespace detail
TRIT_END_NAMESPACE
