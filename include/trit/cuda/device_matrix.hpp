// trit::cuda: DeviceMatrix, a PackedMatrix uploaded once to device memory and reused by every
// launch. Host code; needs the CUDA runtime headers but not nvcc.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "trit/cuda/config.hpp"
#include "trit/cuda/device_buffer.hpp"
#include "trit/cuda/device_layout.hpp"
#include "trit/cuda/error.hpp"
#include "trit/cuda/views.hpp"
#include "trit/format/dense243.hpp"
#include "trit/error.hpp"
#include "trit/format/packed_matrix.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace cuda {

// The weights and scales of a PackedMatrix in device memory (of the device current at
// construction), in the device layout of trit/cuda/device_layout.hpp: whole 64-byte groups
// per row, device_row_stride(cols) bytes apart. Move-only; the memory is freed with the
// object. A default-constructed DeviceMatrix is empty. Every product checks that the
// current device is this one.
class DeviceMatrix {
 public:
  DeviceMatrix() = default;

  // Uploads `host` (complete on return, ordered with every stream). Throws std::invalid_argument for an empty matrix and
  // cuda_error when the device cannot be used or the memory cannot be allocated.
  explicit DeviceMatrix(const PackedMatrixView& host)
      : rows_(host.rows()),
        cols_(host.cols()),
        granularity_(host.granularity()),
        row_stride_(device_row_stride(host.cols())) {
    constexpr const char* fn = "cuda::DeviceMatrix";
    trit::detail::require(!host.empty(), fn, "cannot upload an empty PackedMatrix");
    detail::check_cuda(cudaGetDevice(&device_), fn, "cudaGetDevice");
    const std::vector<std::uint8_t> bytes = device_layout(host);
    bytes_ = DeviceBuffer<std::uint8_t>(bytes.size());
    bytes_.upload(bytes.data(), bytes.size());
    scales_ = DeviceBuffer<float>(std::vector<float>(host.scales(), host.scales() + host.scale_count()));
  }

  DeviceMatrix(DeviceMatrix&& other) noexcept { swap(other); }
  DeviceMatrix& operator=(DeviceMatrix&& other) noexcept {
    DeviceMatrix taken(std::move(other));
    swap(taken);
    return *this;
  }
  DeviceMatrix(const DeviceMatrix&) = delete;
  DeviceMatrix& operator=(const DeviceMatrix&) = delete;

  bool empty() const { return rows_ == 0; }
  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  ScaleGranularity granularity() const { return granularity_; }
  std::size_t row_bytes() const { return dense243::row_layout(cols_).bytes; }
  std::size_t row_stride() const { return row_stride_; }
  int device() const { return device_; }
  // Device bytes the kernels read per product: rows * row_stride (whole groups).
  std::size_t weight_bytes() const { return rows_ * row_stride_; }
  double bits_per_weight() const {
    return empty() ? 0.0 : 8.0 * static_cast<double>(weight_bytes()) /
                               (static_cast<double>(rows_) * static_cast<double>(cols_));
  }

  const std::uint8_t* bytes() const { return bytes_.data(); }
  const float* scales() const { return scales_.data(); }

  DeviceMatrixView view() const {
    return DeviceMatrixView{bytes_.data(), scales_.data(), rows_, cols_, row_stride_, granularity_, device_};
  }
  operator DeviceMatrixView() const { return view(); }

  // The device bytes as they are (rows of row_stride() bytes). Complete on return.
  std::vector<std::uint8_t> download_device_bytes() const { return bytes_.download(); }

  // A host copy in the Dense243 layout (tight rows), e.g. to check an upload. Complete on return.
  PackedMatrix download() const {
    constexpr const char* fn = "cuda::DeviceMatrix::download";
    trit::detail::require(!empty(), fn, "the matrix is empty");
    const std::vector<std::uint8_t> bytes = bytes_.download();
    PackedMatrix host = packed_from_device_layout(bytes.data(), rows_, cols_, granularity_);
    const std::vector<float> scales = scales_.download();
    host.set_scales(scales.data(), scales.size());
    return host;
  }

 private:
  void swap(DeviceMatrix& other) noexcept {
    std::swap(rows_, other.rows_);
    std::swap(cols_, other.cols_);
    std::swap(granularity_, other.granularity_);
    std::swap(row_stride_, other.row_stride_);
    std::swap(device_, other.device_);
    std::swap(bytes_, other.bytes_);
    std::swap(scales_, other.scales_);
  }

  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  ScaleGranularity granularity_ = ScaleGranularity::per_tensor;
  std::size_t row_stride_ = 0;
  int device_ = -1;
  DeviceBuffer<std::uint8_t> bytes_;
  DeviceBuffer<float> scales_;
};

}  // namespace cuda
TRIT_END_NAMESPACE
