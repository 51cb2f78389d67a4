// trit::cuda: DeviceBuffer, an owning, move-only array in device memory. Host code; needs the
// CUDA runtime headers but not nvcc.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <memory>
#include <type_traits>
#include <vector>

#include "trit/cuda/error.hpp"
#include "trit/error.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace cuda {
namespace detail {

// A private non-blocking stream for one host<->device transfer, synchronized before the call
// returns. cudaMemset and cudaMemcpy run on the legacy default stream, which does not order
// itself with non-blocking streams, and cudaMemset may return before the memory is written;
// a kernel the caller then launches on a non-blocking stream could see memory half filled.
// Doing the work on a stream of our own and waiting for it makes "complete on return" true
// whatever stream the caller uses next, and never waits for the caller's other work.
class TransferStream {
 public:
  explicit TransferStream(const char* fn) : fn_(fn) {
    check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), fn, "cudaStreamCreateWithFlags");
  }
  ~TransferStream() { (void)cudaStreamDestroy(stream_); }
  TransferStream(const TransferStream&) = delete;
  TransferStream& operator=(const TransferStream&) = delete;

  cudaStream_t get() const { return stream_; }
  void wait() const { check_cuda(cudaStreamSynchronize(stream_), fn_, "cudaStreamSynchronize"); }

 private:
  cudaStream_t stream_ = nullptr;
  const char* fn_;
};

}  // namespace detail

// `count` values of T in device memory, allocated with cudaMalloc on the current device and
// zero-filled. The zero-fill, upload() and download() are complete when they return, ordered
// with every stream (they run on a private stream and wait for it). They do not wait for the
// caller's kernels: synchronize the stream that wrote a buffer before downloading it.
template <class T>
class DeviceBuffer {
  static_assert(std::is_trivially_copyable<T>::value, "DeviceBuffer holds plain values only");

 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t count) : count_(count) {
    if (count == 0) return;
    void* raw = nullptr;
    detail::check_cuda(cudaMalloc(&raw, count * sizeof(T)), "cuda::DeviceBuffer", "cudaMalloc");
    data_.reset(static_cast<T*>(raw));
    const detail::TransferStream transfer("cuda::DeviceBuffer");
    detail::check_cuda(cudaMemsetAsync(raw, 0, count * sizeof(T), transfer.get()), "cuda::DeviceBuffer",
                       "cudaMemsetAsync");
    transfer.wait();
  }
  // A device copy of host values.
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host.data(), host.size()); }

  DeviceBuffer(DeviceBuffer&&) noexcept = default;
  DeviceBuffer& operator=(DeviceBuffer&&) noexcept = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }

  void upload(const T* host, std::size_t count) {
    trit::detail::require(count <= count_, "cuda::DeviceBuffer::upload", "cannot copy ", count,
                          " values into a buffer of ", count_);
    if (count == 0) return;
    const detail::TransferStream transfer("cuda::DeviceBuffer::upload");
    detail::check_cuda(
        cudaMemcpyAsync(data_.get(), host, count * sizeof(T), cudaMemcpyHostToDevice, transfer.get()),
        "cuda::DeviceBuffer::upload", "cudaMemcpyAsync");
    transfer.wait();
  }
  std::vector<T> download() const {
    std::vector<T> host(count_);
    if (count_ != 0) {
      const detail::TransferStream transfer("cuda::DeviceBuffer::download");
      detail::check_cuda(
          cudaMemcpyAsync(host.data(), data_.get(), count_ * sizeof(T), cudaMemcpyDeviceToHost, transfer.get()),
          "cuda::DeviceBuffer::download", "cudaMemcpyAsync");
      transfer.wait();
    }
    return host;
  }

 private:
  struct Deleter {
    // cudaFree's error is dropped: a destructor cannot throw, and a failed free during
    // unwinding (e.g. after a sticky kernel error) must not hide the first error.
    void operator()(T* p) const { (void)cudaFree(p); }
  };
  std::unique_ptr<T, Deleter> data_;
  std::size_t count_ = 0;
};

}  // namespace cuda
TRIT_END_NAMESPACE
