// trit: the worker threads shared by every threaded product in the process.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "trit/error.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace detail {

inline unsigned hardware_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : hw;
}

// The number of threads a product runs on: 0 means one per hardware thread, and a request
// beyond the hardware (including a negative int converted to unsigned) is clamped to it:
// more threads than cores only adds waiting, and every worker would live as long as the
// process.
inline unsigned resolve_threads(unsigned threads) {
  const unsigned hw = hardware_threads();
  return threads == 0 || threads > hw ? hw : threads;
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
  // Workers beyond this (or beyond the hardware threads) are never created.
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
  // throw (a worker has nowhere to send the exception): the driver reserves all memory on
  // the calling thread before it fans out, so kernels never allocate.
  template <class Task>
  void run(std::size_t count, const Task& task) {
    static_assert(noexcept(task(std::size_t{0})), "worker-pool tasks must be noexcept");
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

  // Queues the job and wakes at most as many sleeping workers as it has tasks for them. A
  // worker that cannot be created (the OS refuses a thread) is not an error: the caller and
  // the existing workers run every task anyway.
  void submit(Job& job) {
    std::size_t wake = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const std::size_t wanted = std::min<std::size_t>(job.count - 1, std::min<std::size_t>(kMaxWorkers, hardware_threads()));
#if TRIT_EXCEPTIONS
      try {
        while (workers_.size() < wanted) workers_.emplace_back([this] { work(); });
      } catch (const std::exception&) {
      }
#else
      // Without exceptions the standard library aborts where the OS refuses a thread.
      while (workers_.size() < wanted) workers_.emplace_back([this] { work(); });
#endif
      Job** tail = &queue_;
      while (*tail != nullptr) tail = &(*tail)->later;
      *tail = &job;
      unclaimed_.fetch_add(job.count, std::memory_order_release);
      wake = std::min(sleeping_, job.count - 1);
    }
    for (std::size_t i = 0; i < wake; ++i) wake_.notify_one();
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

}  // namespace detail

// Calls task(i) once for every i in [0, count), spread over the calling thread and the worker
// threads trit's own products run on, and returns when every call has returned. Code around
// trit's products (attention, norms, an LM head) can use it so that a process keeps one set of
// threads instead of two sets taking turns on the same cores. task must be noexcept: a worker
// has nowhere to send an exception, so reserve memory before fanning out. At most one thread
// per hardware thread runs tasks; the order of the calls is unspecified.
template <class Task>
void parallel_for(std::size_t count, const Task& task) {
  detail::parallel_for(count, task);
}

TRIT_END_NAMESPACE
