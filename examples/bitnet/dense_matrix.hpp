// The two dense (not ternary) matrices of a BitNet model: the token embedding, read one row per
// token, and the LM head, a vocab x hidden product per token. BitNet keeps both in full
// precision, and for 2B4T (128256 x 2560) the LM head alone is more bytes at fp16 than all
// ternary projections together, so decode speed depends on how it is stored:
//   stored  as in the model file (f32, f16 or bf16), read in place from the mapping
//   f16     converted once to fp16
//   int8    converted once to int8 with one absmax scale per row; the hidden state is
//           quantized per token to int8 (trit's int8 absmax) and the product is exact int32
#pragma once

#include <trit/detail/half.hpp>
#include <trit/io.hpp>
#include <trit/trit.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define BITNET_X86_KERNELS 1
#else
#define BITNET_X86_KERNELS 0
#endif

namespace bitnet {

enum class DenseFormat { f32, f16, bf16, int8 };

inline const char* format_name(DenseFormat format) {
  switch (format) {
    case DenseFormat::f32: return "f32";
    case DenseFormat::f16: return "f16";
    case DenseFormat::bf16: return "bf16";
    case DenseFormat::int8: return "int8";
  }
  return "?";
}

inline std::size_t element_bytes(DenseFormat format) {
  return format == DenseFormat::f32 ? 4 : format == DenseFormat::int8 ? 1 : 2;
}

namespace detail {

// fp16 and bf16 conversions: trit's own (exact; float to fp16 rounds to nearest even).
using trit::detail::bf16_to_float;
using trit::detail::float_to_half;
using trit::detail::half_to_float;

// Tells the kernel that the whole pages within [p, p + n) of a read-only file mapping are not
// needed for now: they leave the process's resident set (and come back from the file if read
// again). Converting a mapped LM head this way never holds both copies resident.
inline void release_mapped_pages(const std::uint8_t* p, std::size_t n) {
#if defined(__linux__)
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  const std::uintptr_t begin = (reinterpret_cast<std::uintptr_t>(p) + page - 1) / page * page;
  const std::uintptr_t end = (reinterpret_cast<std::uintptr_t>(p) + n) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
#else
  (void)p, (void)n;
#endif
}

// y[r] = dot(W[r], x) for r in [r0, r1): the plain loops every CPU runs.
inline void dot_rows_scalar(DenseFormat format, const std::uint8_t* data, std::size_t cols, const float* x,
                            const std::int8_t* xq, std::size_t r0, std::size_t r1, float* y) {
  for (std::size_t r = r0; r < r1; ++r) {
    const std::uint8_t* row = data + r * cols * element_bytes(format);
    if (format == DenseFormat::int8) {
      std::int32_t acc = 0;
      const auto* w = reinterpret_cast<const std::int8_t*>(row);
      for (std::size_t k = 0; k < cols; ++k) acc += static_cast<std::int32_t>(w[k]) * xq[k];
      y[r] = static_cast<float>(acc);
      continue;
    }
    float acc = 0.0f;
    for (std::size_t k = 0; k < cols; ++k) {
      float w;
      if (format == DenseFormat::f32) {
        std::memcpy(&w, row + 4 * k, 4);
      } else {
        std::uint16_t h;
        std::memcpy(&h, row + 2 * k, 2);
        w = format == DenseFormat::f16 ? half_to_float(h) : bf16_to_float(h);
      }
      acc += w * x[k];
    }
    y[r] = acc;
  }
}

#if BITNET_X86_KERNELS
__attribute__((target("avx2,fma"))) inline float sum8(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

// Eight weights of a row as floats.
template <DenseFormat F>
__attribute__((target("avx2,fma,f16c"))) inline __m256 load8(const std::uint8_t* row, std::size_t k) {
  if constexpr (F == DenseFormat::f32) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + k);
  } else if constexpr (F == DenseFormat::f16) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * k)));
  } else {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * k)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
}

// Four rows at a time share each load of x; two accumulators per row hide the FMA latency.
template <DenseFormat F>
__attribute__((target("avx2,fma,f16c"))) void dot_rows_float_avx2(const std::uint8_t* data, std::size_t cols, const float* x,
                                                                   std::size_t r0, std::size_t r1, float* y) {
  const std::size_t row_bytes = cols * element_bytes(F);
  const std::size_t vector_end = cols - cols % 16;
  std::size_t r = r0;
  for (; r + 4 <= r1; r += 4) {
    const std::uint8_t* w[4] = {data + r * row_bytes, data + (r + 1) * row_bytes, data + (r + 2) * row_bytes, data + (r + 3) * row_bytes};
    __m256 a[4][2];
    for (auto& row : a) row[0] = row[1] = _mm256_setzero_ps();
    for (std::size_t k = 0; k < vector_end; k += 16) {
      const __m256 x0 = _mm256_loadu_ps(x + k);
      const __m256 x1 = _mm256_loadu_ps(x + k + 8);
      for (int i = 0; i < 4; ++i) {
        a[i][0] = _mm256_fmadd_ps(load8<F>(w[i], k), x0, a[i][0]);
        a[i][1] = _mm256_fmadd_ps(load8<F>(w[i], k + 8), x1, a[i][1]);
      }
    }
    for (int i = 0; i < 4; ++i) {
      float tail = 0.0f;
      dot_rows_scalar(F, w[i] + vector_end * element_bytes(F), cols - vector_end, x + vector_end, nullptr, 0, 1, &tail);
      y[r + static_cast<std::size_t>(i)] = sum8(_mm256_add_ps(a[i][0], a[i][1])) + tail;
    }
  }
  if (r < r1) dot_rows_scalar(F, data, cols, x, nullptr, r, r1, y);
}

// int8 rows against int8 x: |x| (at most 128, unsigned) times w carrying x's sign (w is in
// [-127, 127], so negating it never overflows) keeps vpmaddubsw's pair sums within int16.
__attribute__((target("avx2"))) inline void dot_rows_int8_avx2(const std::uint8_t* data, std::size_t cols, const std::int8_t* xq,
                                                               std::size_t r0, std::size_t r1, float* y) {
  const std::size_t vector_end = cols - cols % 32;
  const __m256i ones = _mm256_set1_epi16(1);
  std::size_t r = r0;
  for (; r + 4 <= r1; r += 4) {
    __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
    for (std::size_t k = 0; k < vector_end; k += 32) {
      const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + k));
      const __m256i x_abs = _mm256_abs_epi8(xv);
      for (std::size_t i = 0; i < 4; ++i) {
        const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + (r + i) * cols + k));
        const __m256i pairs = _mm256_maddubs_epi16(x_abs, _mm256_sign_epi8(wv, xv));
        acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(pairs, ones));
      }
    }
    for (std::size_t i = 0; i < 4; ++i) {
      const __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc[i]), _mm256_extracti128_si256(acc[i], 1));
      const __m128i t = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
      std::int32_t total = _mm_cvtsi128_si32(_mm_add_epi32(t, _mm_shuffle_epi32(t, 0xb1)));
      const auto* w = reinterpret_cast<const std::int8_t*>(data + (r + i) * cols);
      for (std::size_t k = vector_end; k < cols; ++k) total += static_cast<std::int32_t>(w[k]) * xq[k];
      y[r + i] = static_cast<float>(total);
    }
  }
  if (r < r1) dot_rows_scalar(DenseFormat::int8, data, cols, nullptr, xq, r, r1, y);
}

// AVX2 with its register state enabled by the OS (trit's own detection), plus FMA and F16C
// (CPUID leaf 1, ECX bits 12 and 29), which every AVX2 CPU so far has but none promises.
inline bool has_avx2_fma_f16c() {
  static const bool has = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!trit::cpu_features().avx2 || __get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
    return (ecx & (1u << 12)) != 0 && (ecx & (1u << 29)) != 0;
  }();
  return has;
}
#endif

inline void dot_rows(DenseFormat format, const std::uint8_t* data, std::size_t cols, const float* x, const std::int8_t* xq,
                     std::size_t r0, std::size_t r1, float* y) {
#if BITNET_X86_KERNELS
  if (has_avx2_fma_f16c()) {
    switch (format) {
      case DenseFormat::f32: return dot_rows_float_avx2<DenseFormat::f32>(data, cols, x, r0, r1, y);
      case DenseFormat::f16: return dot_rows_float_avx2<DenseFormat::f16>(data, cols, x, r0, r1, y);
      case DenseFormat::bf16: return dot_rows_float_avx2<DenseFormat::bf16>(data, cols, x, r0, r1, y);
      case DenseFormat::int8: return dot_rows_int8_avx2(data, cols, xq, r0, r1, y);
    }
  }
#endif
  dot_rows_scalar(format, data, cols, x, xq, r0, r1, y);
}

}  // namespace detail

// A rows x cols matrix in one of the dense formats, owned or borrowed from a mapped file.
// Copies share the owned bytes (they are written only while the matrix is being built).
class DenseMatrix {
 public:
  DenseMatrix() = default;

  // Borrows a model-file tensor (f32, f16 or bf16, {rows, cols}); it must outlive the matrix.
  static DenseMatrix borrow(const trit::ModelTensor& tensor) {
    DenseMatrix m;
    if (tensor.dims.size() != 2) throw std::invalid_argument("bitnet: tensor \"" + tensor.name + "\" is not 2-D");
    switch (tensor.type) {
      case trit::TensorType::f32: m.format_ = DenseFormat::f32; break;
      case trit::TensorType::f16: m.format_ = DenseFormat::f16; break;
      case trit::TensorType::bf16: m.format_ = DenseFormat::bf16; break;
      default:
        throw std::invalid_argument("bitnet: tensor \"" + tensor.name + "\" is " + trit::tensor_type_name(tensor.type) +
                                    ", expected f32, f16 or bf16");
    }
    m.rows_ = static_cast<std::size_t>(tensor.dims[0]);
    m.cols_ = static_cast<std::size_t>(tensor.dims[1]);
    m.data_ = tensor.data;
    return m;
  }

  // An owned matrix of the given format, zero-filled; fill it with set_row.
  DenseMatrix(DenseFormat format, std::size_t rows, std::size_t cols)
      : format_(format), rows_(rows), cols_(cols),
        owned_(std::make_shared<std::vector<std::uint8_t>>(rows * cols * element_bytes(format))) {
    data_ = owned_->data();
    if (format == DenseFormat::int8) row_scales_.assign(rows, 1.0f);
  }

  // The same values in another format (f16 or int8: per-row absmax scale, round to nearest even).
  // release_source: this matrix borrows a read-only file mapping, whose pages may leave the
  // resident set once converted (never pass true for memory that is not a file mapping: the
  // kernel would zero it).
  DenseMatrix converted(DenseFormat format, bool release_source = false) const {
    if (format == format_) return *this;
    if (format != DenseFormat::f16 && format != DenseFormat::int8) throw std::invalid_argument("bitnet: can only convert to f16 or int8");
    DenseMatrix out(format, rows_, cols_);
    std::vector<float> row(cols_);
    constexpr std::size_t kRowsPerRelease = 1024;
    const std::size_t row_bytes = cols_ * element_bytes(format_);
    for (std::size_t r = 0; r < rows_; ++r) {
      this->row(r, row.data());
      out.set_row(r, row.data());
      if (release_source && !owns_data() && ((r + 1) % kRowsPerRelease == 0 || r + 1 == rows_)) {
        const std::size_t first = r / kRowsPerRelease * kRowsPerRelease;
        detail::release_mapped_pages(data_ + first * row_bytes, (r + 1 - first) * row_bytes);
      }
    }
    return out;
  }

  // Stores floats into row r of an owned matrix (int8: computes the row's scale).
  void set_row(std::size_t r, const float* values) {
    std::uint8_t* out = owned_->data() + r * cols_ * element_bytes(format_);
    if (format_ == DenseFormat::int8) {
      float amax = 0.0f;
      for (std::size_t k = 0; k < cols_; ++k) amax = std::max(amax, std::fabs(values[k]));
      const float scale = amax > 0.0f ? amax / 127.0f : 1.0f;
      row_scales_[r] = scale;
      for (std::size_t k = 0; k < cols_; ++k) {
        out[k] = static_cast<std::uint8_t>(static_cast<std::int8_t>(std::clamp(std::nearbyint(values[k] / scale), -127.0f, 127.0f)));
      }
    } else if (format_ == DenseFormat::f16) {
      for (std::size_t k = 0; k < cols_; ++k) {
        const std::uint16_t h = detail::float_to_half(values[k]);
        std::memcpy(out + 2 * k, &h, 2);
      }
    } else if (format_ == DenseFormat::f32) {
      std::memcpy(out, values, cols_ * 4);
    } else {
      throw std::invalid_argument("bitnet: set_row into bf16 is not offered");
    }
  }

  // Stores raw fp16 values into row r of an owned f16 matrix.
  void set_row_bits(std::size_t r, const std::uint16_t* halves) {
    if (format_ != DenseFormat::f16) throw std::invalid_argument("bitnet: set_row_bits needs an f16 matrix");
    std::memcpy(owned_->data() + r * cols_ * 2, halves, cols_ * 2);
  }

  // Copies row `from` of `source` (same format and width) into row `to` of this owned matrix.
  void copy_row_from(const DenseMatrix& source, std::size_t from, std::size_t to) {
    const std::size_t row_bytes = cols_ * element_bytes(format_);
    std::memcpy(owned_->data() + to * row_bytes, source.data_ + from * row_bytes, row_bytes);
    if (format_ == DenseFormat::int8) row_scales_[to] = source.row_scales_[from];
  }

  // Row r as floats (an embedding lookup).
  void row(std::size_t r, float* out) const {
    if (r >= rows_) throw std::out_of_range("bitnet: row " + std::to_string(r) + " of a " + std::to_string(rows_) + "-row matrix");
    const std::uint8_t* in = data_ + r * cols_ * element_bytes(format_);
    for (std::size_t k = 0; k < cols_; ++k) {
      switch (format_) {
        case DenseFormat::f32: std::memcpy(out + k, in + 4 * k, 4); break;
        case DenseFormat::f16: {
          std::uint16_t h;
          std::memcpy(&h, in + 2 * k, 2);
          out[k] = detail::half_to_float(h);
          break;
        }
        case DenseFormat::bf16: {
          std::uint16_t h;
          std::memcpy(&h, in + 2 * k, 2);
          out[k] = detail::bf16_to_float(h);
          break;
        }
        case DenseFormat::int8: out[k] = static_cast<float>(static_cast<std::int8_t>(in[k])) * row_scales_[r]; break;
      }
    }
  }

  // Y (tokens x rows) = X (tokens x cols) W^T, rows spread over trit's worker threads.
  // `quantized` holds X quantized per token (int8 absmax) when the format is int8.
  void multiply(const float* x, std::size_t tokens, const trit::QuantizedActivations* quantized, float* y, unsigned threads) const {
    constexpr std::size_t kRowsPerTask = 512;
    const std::size_t tasks = (rows_ + kRowsPerTask - 1) / kRowsPerTask;
    for (std::size_t t = 0; t < tokens; ++t) {
      const float* xt = x + t * cols_;
      const std::int8_t* xq = quantized != nullptr ? quantized->row(t) : nullptr;
      const float inverse_x_scale = quantized != nullptr ? 1.0f / quantized->scale(t) : 1.0f;
      float* yt = y + t * rows_;
      const auto task = [&](std::size_t i) noexcept {
        const std::size_t r0 = i * kRowsPerTask, r1 = std::min(rows_, r0 + kRowsPerTask);
        detail::dot_rows(format_, data_, cols_, xt, xq, r0, r1, yt);
        if (format_ == DenseFormat::int8) {
          for (std::size_t r = r0; r < r1; ++r) yt[r] = yt[r] * inverse_x_scale * row_scales_[r];
        }
      };
      if (threads <= 1) {
        for (std::size_t i = 0; i < tasks; ++i) task(i);
      } else {
        trit::parallel_for(tasks, task);
      }
    }
  }

  DenseFormat format() const { return format_; }
  const std::uint8_t* data() const { return data_; }
  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  bool empty() const { return rows_ == 0; }
  bool owns_data() const { return owned_ != nullptr; }
  std::size_t bytes() const { return rows_ * cols_ * element_bytes(format_) + row_scales_.size() * sizeof(float); }

 private:
  DenseFormat format_ = DenseFormat::f32;
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  const std::uint8_t* data_ = nullptr;
  std::shared_ptr<std::vector<std::uint8_t>> owned_;  // copies share it
  std::vector<float> row_scales_;
};

}  // namespace bitnet
