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

// `count` values of T in device memory, allocated with cudaMalloc on the current device and
// zero-filled. Copies between host and device are synchronous.
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
    detail::check_cuda(cudaMemset(raw, 0, count * sizeof(T)), "cuda::DeviceBuffer", "cudaMemset");
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
    detail::check_cuda(cudaMemcpy(data_.get(), host, count * sizeof(T), cudaMemcpyHostToDevice),
                       "cuda::DeviceBuffer::upload", "cudaMemcpy");
  }
  std::vector<T> download() const {
    std::vector<T> host(count_);
    if (count_ != 0) {
      detail::check_cuda(cudaMemcpy(host.data(), data_.get(), count_ * sizeof(T), cudaMemcpyDeviceToHost),
                         "cuda::DeviceBuffer::download", "cudaMemcpy");
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
