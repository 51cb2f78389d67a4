// trit: a non-owning view of a row-major matrix with a row stride, used by every entry point
// that takes or fills caller memory.
#pragma once

#include <cstddef>

#include "trit/error.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

// rows x cols elements; row r starts at data + r * stride (stride counted in elements, >= cols).
template <class T>
struct MatrixRef {
  T* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::size_t stride = 0;

  T* row(std::size_t r) const { return data + r * stride; }
  T& operator()(std::size_t r, std::size_t c) const { return data[r * stride + c]; }
  bool empty() const { return rows == 0 || cols == 0; }

  operator MatrixRef<const T>() const { return MatrixRef<const T>{data, rows, cols, stride}; }
};

// A view of rows x cols elements at data; stride 0 means tightly packed (stride = cols).
template <class T>
MatrixRef<T> matrix(T* data, std::size_t rows, std::size_t cols, std::size_t stride = 0) {
  return MatrixRef<T>{data, rows, cols, stride == 0 ? cols : stride};
}

namespace detail {

// Checks a caller's view: non-null when non-empty, stride >= cols, and the expected shape.
template <class T>
void check_view(const MatrixRef<T>& m, const char* function, const char* name) {
  require(m.stride >= m.cols, function, name, ": stride ", m.stride, " is smaller than cols ", m.cols);
  require(m.empty() || m.data != nullptr, function, name, ": null data for a ", m.rows, "x", m.cols,
          " matrix");
}

template <class T>
void check_shape(const MatrixRef<T>& m, std::size_t rows, std::size_t cols, const char* function,
                 const char* name) {
  check_view(m, function, name);
  require(m.rows == rows && m.cols == cols, function, name, ": expected a ", rows, "x", cols,
          " matrix, got ", m.rows, "x", m.cols);
}

}  // namespace detail

TRIT_END_NAMESPACE
