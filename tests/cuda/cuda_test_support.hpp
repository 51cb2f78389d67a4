// Test data and CPU references shared by the CUDA tests: the host tests (replaying the
// kernels' arithmetic) and the device tests (running them). Plain C++.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "trit/views/activations.hpp"
#include "trit/quantize/activations.hpp"
#include "trit/cuda/device_matrix.hpp"
#include "trit/cuda/int4.hpp"
#include "trit/detail/float_order.hpp"
#include "trit/views/matrix_ref.hpp"
#include "trit/format/pack.hpp"
#include "trit/format/packed_matrix.hpp"
#include "trit/reference/reference.hpp"

namespace trit_cuda_test {

// One product: M x K weights, N tokens, as the host holds them before any upload.
struct Problem {
  trit::PackedMatrix w;
  std::size_t tokens = 0;
  std::size_t cols = 0;
  std::size_t x_stride = 0;      // int8 values between tokens (>= cols)
  std::vector<std::int8_t> x;    // tokens * x_stride values; int4 problems keep them in [-8, 7]
  std::vector<float> x_scales;   // one per token
  std::vector<float> bias;       // rows floats
  bool int4 = false;

  trit::ActivationsView view() const { return trit::ActivationsView{x.data(), tokens, cols, x_stride, x_scales.data()}; }
  std::string name() const {
    return std::to_string(w.rows()) + "x" + std::to_string(cols) + " N=" + std::to_string(tokens) +
           (int4 ? " int4" : " int8") + (w.granularity() == trit::ScaleGranularity::per_row ? " per-row" : " per-tensor");
  }
};

// Random trits (about a third zero), activations over the whole int8 range (or [-8, 7]),
// positive scales of varied magnitude, a bias. x_pad extra values end each token row.
inline Problem make_problem(std::size_t rows, std::size_t cols, std::size_t tokens, std::uint32_t seed,
                            trit::ScaleGranularity granularity, bool int4, std::size_t x_pad = 0) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> trit_dist(-1, 1);
  std::uniform_int_distribution<int> x_dist(int4 ? -8 : -128, int4 ? 7 : 127);
  std::uniform_real_distribution<float> scale_dist(0.01f, 3.0f);
  std::uniform_real_distribution<float> bias_dist(-2.0f, 2.0f);

  std::vector<std::int8_t> trits(rows * cols);
  for (auto& t : trits) t = static_cast<std::int8_t>(trit_dist(rng));
  std::vector<float> scales(granularity == trit::ScaleGranularity::per_row ? rows : 1);
  for (auto& s : scales) s = scale_dist(rng);

  Problem p;
  p.w = trit::pack_trits(trit::matrix(trits.data(), rows, cols), scales.data(), scales.size(), granularity);
  p.tokens = tokens;
  p.cols = cols;
  p.x_stride = cols + x_pad;
  p.int4 = int4;
  p.x.assign(tokens * p.x_stride, 0);
  for (std::size_t n = 0; n < tokens; ++n) {
    for (std::size_t k = 0; k < cols; ++k) p.x[n * p.x_stride + k] = static_cast<std::int8_t>(x_dist(rng));
  }
  p.x_scales.resize(tokens);
  for (auto& s : p.x_scales) s = 127.0f / scale_dist(rng);
  p.bias.resize(rows);
  for (auto& b : p.bias) b = bias_dist(rng);
  return p;
}

// The packed int4 rows of an int4 problem, with rows `stride` bytes apart (0: tight).
inline trit::cuda::PackedInt4 packed_int4(const Problem& p, std::size_t stride = 0) {
  return trit::cuda::pack_int4(p.x.data(), p.tokens, p.cols, p.x_stride, stride);
}

// Padding that makes a row of `cols` int8 values a multiple of 16 bytes.
inline std::size_t aligning_pad(std::size_t cols) { return (16 - cols % 16) % 16; }

// ---- References --------------------------------------------------------------------------------

// trit::ref itself: the specification, for shapes small enough for its per-trit decode.
inline std::vector<std::int32_t> scalar_reference_int32(const Problem& p) {
  std::vector<std::int32_t> acc(p.tokens * p.w.rows());
  trit::ref::gemm_int32_rows(p.w, p.view(), trit::matrix(acc.data(), p.tokens, p.w.rows()), 0, p.w.rows());
  return acc;
}

inline std::vector<float> scalar_reference(const Problem& p, bool with_bias) {
  std::vector<float> y(p.tokens * p.w.rows());
  trit::ref::gemm_rows(p.w, p.view(), trit::matrix(y.data(), p.tokens, p.w.rows()), with_bias ? p.bias.data() : nullptr,
                       0, p.w.rows());
  return y;
}

// The same sums for the model shapes, from trits unpacked once (checked against trit::ref by
// the host tests), and the reference's own epilogue.
inline std::vector<std::int32_t> unpacked_reference_int32(const Problem& p) {
  const std::size_t rows = p.w.rows();
  std::vector<std::int8_t> trits(rows * p.cols);
  trit::unpack_trits(p.w, trit::matrix(trits.data(), rows, p.cols));
  std::vector<std::int32_t> acc(p.tokens * rows);
  for (std::size_t n = 0; n < p.tokens; ++n) {
    const std::int8_t* x = p.x.data() + n * p.x_stride;
    for (std::size_t m = 0; m < rows; ++m) {
      const std::int8_t* t = trits.data() + m * p.cols;
      std::int32_t sum = 0;
      for (std::size_t k = 0; k < p.cols; ++k) sum += static_cast<std::int32_t>(t[k]) * x[k];
      acc[n * rows + m] = sum;
    }
  }
  return acc;
}

inline std::vector<float> epilogue_of(const Problem& p, const std::vector<std::int32_t>& acc, bool with_bias) {
  const std::size_t rows = p.w.rows();
  std::vector<float> y(acc.size());
  for (std::size_t n = 0; n < p.tokens; ++n) {
    for (std::size_t m = 0; m < rows; ++m) {
      y[n * rows + m] = trit::detail::epilogue(acc[n * rows + m], p.x_scales[n], p.w.scale(m),
                                               with_bias ? p.bias.data() : nullptr, m);
    }
  }
  return y;
}

// Index of the first difference (floats compared bit for bit), or -1.
template <class T>
long first_difference(const std::vector<T>& expected, const std::vector<T>& actual) {
  if (expected.size() != actual.size()) return 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (std::memcmp(&expected[i], &actual[i], sizeof(T)) != 0) return static_cast<long>(i);
  }
  return -1;
}

// The ragged shapes the sweeps cover: K below, at and above the 64-byte group and its tail
// sizes; M and N around the kernels' tiles.
inline const std::vector<std::size_t>& ragged_cols() {
  static const std::vector<std::size_t> cols = {1, 4, 5, 6, 63, 64, 65, 319, 320, 321, 639, 640, 641, 960, 1000, 1283};
  return cols;
}

}  // namespace trit_cuda_test
