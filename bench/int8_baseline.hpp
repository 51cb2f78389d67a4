// trit_bench: the int8 x int8 baseline, products on unpacked int8 weights (1 byte per weight)
// with AVX-512 VNNI, written the straightforward way a competent int8 library would:
//   - activations become u8 by adding 128 (one XOR per call), weights stay s8, and each
//     output subtracts 128 * (sum of its row's weights), precomputed when the weights are laid out;
//   - GEMV streams rows, 8 at a time sharing each activation load;
//   - GEMM lays the weights out once as panels of 32 rows, [K/4][32 rows][4 bytes], packs the
//     tokens 12 at a time as [K/4][12][4], and runs the same 12-token x 32-row vpdpbusd
//     micro-kernel as trit's GEMM, so the two differ only in where the weight bytes come from.
// Outputs pass through trit's float epilogue, so they equal trit's on the same ternary weights.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <immintrin.h>

#include <trit/trit.hpp>

// GCC 12's AVX-512 reductions start from "undefined" vectors initialised from themselves,
// which -Wuninitialized reports at every inlined use; the values are never read.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace trit_bench {

inline bool int8_baseline_available() { return trit::cpu_features().avx512vnni; }

class Int8Weights {
 public:
  // rows: row-major, K padded to a multiple of kKStep (GEMV); panels: kPanelRows-row panels (GEMM).
  enum class Layout { rows, panels };
  static constexpr std::size_t kKStep = 128;
  static constexpr std::size_t kPanelRows = 32;

  Int8Weights(const std::int8_t* w, std::size_t rows, std::size_t cols, float scale, Layout layout)
      : rows_(rows),
        cols_(cols),
        k_padded_((cols + kKStep - 1) / kKStep * kKStep),
        scale_(scale),
        layout_(layout),
        row_sums_(rows) {
    const std::size_t padded_rows = (rows + kPanelRows - 1) / kPanelRows * kPanelRows;
    bytes_ = trit::detail::AlignedBuffer<std::int8_t>(layout == Layout::rows ? rows * k_padded_ : padded_rows * k_padded_);
    for (std::size_t m = 0; m < rows; ++m) {
      std::int32_t sum = 0;
      for (std::size_t k = 0; k < cols; ++k) {
        sum += w[m * cols + k];
        if (layout == Layout::rows) {
          bytes_[m * k_padded_ + k] = w[m * cols + k];
        } else {
          const std::size_t panel = m / kPanelRows, r = m % kPanelRows;
          bytes_[panel * kPanelRows * k_padded_ + ((k / 4) * kPanelRows + r) * 4 + k % 4] = w[m * cols + k];
        }
      }
      row_sums_[m] = sum;
    }
  }

  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  std::size_t k_padded() const { return k_padded_; }
  float scale() const { return scale_; }
  Layout layout() const { return layout_; }
  const std::int8_t* data() const { return bytes_.data(); }
  const std::int32_t* row_sums() const { return row_sums_.data(); }
  // Bytes a product reads: one per weight, padding excluded.
  std::size_t weight_bytes() const { return rows_ * cols_; }

 private:
  std::size_t rows_, cols_, k_padded_;
  float scale_;
  Layout layout_;
  trit::detail::AlignedBuffer<std::int8_t> bytes_;
  std::vector<std::int32_t> row_sums_;
};

TRIT_TARGET_BEGIN("avx2,fma,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")
namespace int8_vnni {

// Tokens as u8 (x + 128), rows of k_padded bytes with zero weights beyond K, so the padding
// adds nothing whatever its activation bytes are.
inline void to_unsigned(const trit::ActivationsView& x, std::size_t k_padded, std::uint8_t* out) {
  const __m512i flip = _mm512_set1_epi8(-128);
  for (std::size_t n = 0; n < x.tokens; ++n) {
    const std::int8_t* row = x.row(n);
    std::uint8_t* dst = out + n * k_padded;
    std::size_t k = 0;
    for (; k + 64 <= x.cols; k += 64) {
      _mm512_storeu_si512(dst + k, _mm512_xor_si512(_mm512_loadu_si512(row + k), flip));
    }
    for (; k < k_padded; ++k) dst[k] = k < x.cols ? static_cast<std::uint8_t>(row[k] ^ 0x80) : 0x80;
  }
}

inline float output(const Int8Weights& w, std::int32_t biased, float x_scale, std::size_t m) {
  const std::int32_t acc = static_cast<std::int32_t>(static_cast<std::uint32_t>(biased) -
                                                     128u * static_cast<std::uint32_t>(w.row_sums()[m]));
  return trit::detail::epilogue(acc, x_scale, w.scale(), nullptr, m);
}

// output() for up to 16 consecutive rows: the same float operations, vectorised, as trit's
// GEMM does.
inline void store_outputs(const Int8Weights& w, const std::int32_t* biased, float x_scale, std::size_t m,
                          std::size_t count, float* y) {
  const __mmask16 lanes = static_cast<__mmask16>(count >= 16 ? 0xFFFF : (1u << count) - 1);
  const __m512i correction = _mm512_slli_epi32(_mm512_maskz_loadu_epi32(lanes, w.row_sums() + m), 7);
  const __m512i acc = _mm512_sub_epi32(_mm512_loadu_si512(biased), correction);
  __m512 out = _mm512_div_ps(_mm512_cvtepi32_ps(acc), _mm512_set1_ps(x_scale));
  out = _mm512_mul_ps(out, _mm512_set1_ps(w.scale()));
  _mm512_mask_storeu_ps(y, lanes, out);
}

template <int R>
inline void gemv_block(const Int8Weights& w, const std::uint8_t* a, float x_scale, std::size_t m, float* y) {
  __m512i acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_si512();
  const std::int8_t* rows = w.data() + m * w.k_padded();
  for (std::size_t k = 0; k < w.k_padded(); k += 128) {
    const __m512i a0 = _mm512_loadu_si512(a + k), a1 = _mm512_loadu_si512(a + k + 64);
    for (int r = 0; r < R; ++r) {
      acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], a0, _mm512_loadu_si512(rows + r * w.k_padded() + k));
      acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], a1, _mm512_loadu_si512(rows + r * w.k_padded() + k + 64));
    }
  }
  for (int r = 0; r < R; ++r) {
    y[m + r] = output(w, _mm512_reduce_add_epi32(_mm512_add_epi32(acc[r][0], acc[r][1])), x_scale, m + r);
  }
}

inline void gemv_rows(const Int8Weights& w, const std::uint8_t* a, float x_scale, float* y, std::size_t m0,
                      std::size_t m1) {
  std::size_t m = m0;
  for (; m + 8 <= m1; m += 8) gemv_block<8>(w, a, x_scale, m, y);
  for (; m < m1; ++m) gemv_block<1>(w, a, x_scale, m, y);
}

constexpr std::size_t kTokens = 12;
constexpr std::size_t kRowsPerVec = 16;

// Tokens [n0, n0 + kTokens) as u8 quads [K/4][kTokens][4], like trit's packed token blocks;
// zero weights past K and past the last token's row make the padding harmless.
inline void pack_token_block(const std::uint8_t* acts, std::size_t k_padded, std::size_t tokens, std::size_t n0,
                             std::uint8_t* out) {
  const std::size_t count = std::min(kTokens, tokens - n0);
  for (std::size_t n = 0; n < kTokens; ++n) {
    const std::uint8_t* src = acts + std::min(n0 + n, n0 + count - 1) * k_padded;
    for (std::size_t kq = 0; kq < k_padded / 4; ++kq) std::memcpy(out + (kq * kTokens + n) * 4, src + kq * 4, 4);
  }
}

template <int NR>
inline void micro(const std::int8_t* panel, const std::uint8_t* acts, std::size_t k_quads,
                  std::int32_t* out /* [NR][32] */) {
  __m512i acc[NR][2];
#pragma GCC unroll 16
  for (int n = 0; n < NR; ++n) acc[n][0] = acc[n][1] = _mm512_setzero_si512();
  for (std::size_t kq = 0; kq < k_quads; ++kq) {
    const __m512i w0 = _mm512_loadu_si512(panel + kq * 128);
    const __m512i w1 = _mm512_loadu_si512(panel + kq * 128 + 64);
    const std::uint8_t* quad = acts + kq * kTokens * 4;
#pragma GCC unroll 16
    for (int n = 0; n < NR; ++n) {
      std::int32_t four;
      std::memcpy(&four, quad + n * 4, 4);
      const __m512i a = _mm512_set1_epi32(four);
      acc[n][0] = _mm512_dpbusd_epi32(acc[n][0], a, w0);
      acc[n][1] = _mm512_dpbusd_epi32(acc[n][1], a, w1);
    }
  }
#pragma GCC unroll 16
  for (int n = 0; n < NR; ++n) {
    _mm512_storeu_si512(out + n * 32, acc[n][0]);
    _mm512_storeu_si512(out + n * 32 + kRowsPerVec, acc[n][1]);
  }
}

template <int NR>
inline void micro_upto(int nr, const std::int8_t* panel, const std::uint8_t* acts, std::size_t k_quads,
                       std::int32_t* out) {
  if constexpr (NR > 1) {
    if (nr < NR) return micro_upto<NR - 1>(nr, panel, acts, k_quads, out);
  }
  micro<NR>(panel, acts, k_quads, out);
}

inline void gemm_panels(const Int8Weights& w, const std::uint8_t* packed_blocks, std::size_t tokens,
                        const float* x_scales, float* y, std::size_t p0, std::size_t p1) {
  const std::size_t kp = w.k_padded();
  const std::size_t blocks = (tokens + kTokens - 1) / kTokens;
  alignas(64) std::int32_t sums[kTokens * 32];
  for (std::size_t p = p0; p < p1; ++p) {
    const std::int8_t* panel = w.data() + p * 32 * kp;
    const std::size_t m0 = p * 32, count = std::min<std::size_t>(32, w.rows() - m0);
    for (std::size_t b = 0; b < blocks; ++b) {
      const std::size_t n0 = b * kTokens;
      const int nr = static_cast<int>(std::min(kTokens, tokens - n0));
      micro_upto<static_cast<int>(kTokens)>(nr, panel, packed_blocks + b * kp * kTokens, kp / 4, sums);
      for (int n = 0; n < nr; ++n) {
        for (std::size_t r = 0; r < count; r += kRowsPerVec) {
          store_outputs(w, sums + n * 32 + r, x_scales[n0 + n], m0 + r, std::min(kRowsPerVec, count - r),
                        y + (n0 + n) * w.rows() + m0 + r);
        }
      }
    }
  }
}

}  // namespace int8_vnni
TRIT_TARGET_END

// y (x.tokens x M floats, token-major) = trit's epilogue of W x for int8 weights W: row
// layout runs the GEMV once per token, panel layout the GEMM.
inline void int8_gemm(const Int8Weights& w, const trit::ActivationsView& x, float* y, unsigned threads,
                      std::vector<std::uint8_t>& scratch) {
  const std::size_t kp = w.k_padded();
  const std::size_t blocks = (x.tokens + int8_vnni::kTokens - 1) / int8_vnni::kTokens;
  const bool panels = w.layout() == Int8Weights::Layout::panels;
  scratch.resize(x.tokens * kp + (panels ? blocks * kp * int8_vnni::kTokens : 0) + 64);
  std::uint8_t* acts = scratch.data();
  int8_vnni::to_unsigned(x, kp, acts);
  if (w.layout() == Int8Weights::Layout::rows) {
    const std::size_t tiles = (w.rows() + 7) / 8;
    const std::size_t workers = std::min<std::size_t>(threads, tiles);
    const auto begin = [&](std::size_t t) { return std::min(w.rows(), tiles * t / workers * 8); };
    trit::detail::parallel_for(workers, [&](std::size_t t) noexcept {
      for (std::size_t n = 0; n < x.tokens; ++n) {
        int8_vnni::gemv_rows(w, acts + n * kp, x.scales[n], y + n * w.rows(), begin(t), begin(t + 1));
      }
    });
  } else {
    std::uint8_t* packed = acts + x.tokens * kp;
    for (std::size_t b = 0; b < blocks; ++b) {
      int8_vnni::pack_token_block(acts, kp, x.tokens, b * int8_vnni::kTokens, packed + b * kp * int8_vnni::kTokens);
    }
    const std::size_t panel_count = (w.rows() + 31) / 32;
    const std::size_t workers = std::min<std::size_t>(threads, panel_count);
    trit::detail::parallel_for(workers, [&](std::size_t t) noexcept {
      int8_vnni::gemm_panels(w, packed, x.tokens, x.scales, y, panel_count * t / workers,
                             panel_count * (t + 1) / workers);
    });
  }
}

// Compares both layouts with a naive loop on awkward sizes; returns what went wrong, or "".
inline std::string int8_baseline_self_check() {
  constexpr std::size_t kRows = 45, kCols = 777, kTokensChecked = 13;
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> byte(-128, 127);
  std::vector<std::int8_t> w(kRows * kCols);
  for (std::int8_t& v : w) v = static_cast<std::int8_t>(byte(rng));
  trit::QuantizedActivations x(kTokensChecked, kCols, trit::ActivationScheme::int8_absmax);
  for (std::size_t n = 0; n < kTokensChecked; ++n) {
    for (std::size_t k = 0; k < kCols; ++k) x.row(n)[k] = static_cast<std::int8_t>(byte(rng));
    x.scale(n) = 1.0f + static_cast<float>(n);
  }
  const float w_scale = 0.5f;
  std::vector<std::uint8_t> scratch;
  for (Int8Weights::Layout layout : {Int8Weights::Layout::rows, Int8Weights::Layout::panels}) {
    const Int8Weights packed(w.data(), kRows, kCols, w_scale, layout);
    for (std::size_t tokens : {std::size_t{1}, kTokensChecked}) {
      for (unsigned threads : {1u, 2u}) {
        trit::ActivationsView view = x.view();
        view.tokens = tokens;
        std::vector<float> y(tokens * kRows, -1.0f);
        int8_gemm(packed, view, y.data(), threads, scratch);
        for (std::size_t n = 0; n < tokens; ++n) {
          for (std::size_t m = 0; m < kRows; ++m) {
            std::int32_t acc = 0;
            for (std::size_t k = 0; k < kCols; ++k) acc += w[m * kCols + k] * x.row(n)[k];
            const float expected = trit::detail::epilogue(acc, x.scale(n), w_scale, nullptr, m);
            if (y[n * kRows + m] != expected) {
              return "int8 baseline mismatch: layout " + std::to_string(static_cast<int>(layout)) + ", " +
                     std::to_string(tokens) + " tokens, " + std::to_string(threads) + " threads, token " +
                     std::to_string(n) + " row " + std::to_string(m) + ": got " + std::to_string(y[n * kRows + m]) +
                     ", expected " + std::to_string(expected);
            }
          }
        }
      }
    }
  }
  return "";
}

}  // namespace trit_bench

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
