// trit::cuda: the exception for failed CUDA runtime calls, and the device-availability check
// that tests and benches use to skip cleanly on machines without a GPU. Host code; needs the
// CUDA runtime headers but not nvcc.
#pragma once

#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

#include "trit/error.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace cuda {

// A CUDA runtime call failed; code() is what it returned.
class cuda_error : public std::runtime_error {
 public:
  cuda_error(const std::string& message, cudaError_t code) : std::runtime_error(message), code_(code) {}
  cudaError_t code() const { return code_; }

 private:
  cudaError_t code_;
};

namespace detail {

inline std::string describe(cudaError_t code) {
  return trit::detail::concat(cudaGetErrorString(code), " (", cudaGetErrorName(code), ")");
}

// Throws cuda_error naming the trit function and the CUDA call when `code` is an error.
inline void check_cuda(cudaError_t code, const char* function, const char* call) {
  if (code != cudaSuccess) {
    throw cuda_error(trit::detail::concat("trit::", function, ": ", call, " failed: ", describe(code)), code);
  }
}

}  // namespace detail

// Whether this process can use a CUDA device, and if not, why.
struct DeviceStatus {
  int device_count = 0;
  cudaError_t error = cudaSuccess;
  bool available() const { return error == cudaSuccess && device_count > 0; }
  // "no CUDA device: <reason>", for skip messages; empty when a device is available.
  std::string reason() const {
    if (available()) return {};
    if (error != cudaSuccess) return "no CUDA device: " + detail::describe(error);
    return "no CUDA device: cudaGetDeviceCount found none";
  }
};

inline DeviceStatus device_status() {
  DeviceStatus status;
  status.error = cudaGetDeviceCount(&status.device_count);
  if (status.error != cudaSuccess) {
    status.device_count = 0;
    // A failed query is not this caller's error to carry: later launches check
    // cudaGetLastError() and must not report it.
    (void)cudaGetLastError();
  }
  return status;
}

}  // namespace cuda
TRIT_END_NAMESPACE
