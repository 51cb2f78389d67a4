// trit: the x86-64 int4 kernel paths (lut_int4_common.hpp describes what a path does).
//   avx512_int4  AVX-512 BW + VBMI: a table of 122 sums is two ZMM registers, and one
//                vpermi2b looks up 64 rows at once; the code's top bit negates the sum.
//   avx2_int4    AVX2: vpshufb looks up 16-entry tables only, so each 7-bit code c is split
//                into c / 9 (trits t0..t2, 14 values) and c % 9 (t3 t4, 9 values) with a
//                16-bit multiply, and the sum is two lookups.
// Both accumulate three lookups in int8 (|sum| <= 120), then widen to int16 (even and odd
// rows apart, by shifts), then to int32 every kInt4PositionsPerFlush positions. Only with
// TRIT_ENABLE_INT4.
#pragma once

#if defined(TRIT_ENABLE_INT4)

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "trit/paths/cpu_features.hpp"
#include "trit/detail/target.hpp"
#include "trit/kernels/path_kernels.hpp"
#include "trit/kernels/lut_int4_common.hpp"
#include "trit/format/lut_weights.hpp"
#include "trit/version.hpp"

#if TRIT_HAS_X86_KERNELS
#include <immintrin.h>

// Loops over tiles and halves have constant trip counts and index arrays of vector registers;
// left rolled (GCC -O2 does), those arrays live on the stack.
#if !defined(TRIT_UNROLL)
#define TRIT_UNROLL TRIT_PRAGMA(GCC unroll 16)
#endif

#if defined(__GNUC__) || defined(__clang__)
#define TRIT_INT4_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define TRIT_INT4_ALWAYS_INLINE inline
#endif

TRIT_BEGIN_NAMESPACE
namespace detail {

// Index vectors for building a 128-entry table from the five activations of a position with
// byte permutes (avx512_int4::build_tables).
struct Avx512TableConstants {
  // terms[3i + d] = (d - 1) * a_i: lane 3i takes -a_i (lane i of the negated activations,
  // index 64 + i), lane 3i + 2 takes a_i; the other lanes are zeroed by kTermsMask.
  std::uint8_t terms[64];
  // halves = terms[first] + terms[second] + terms[third]: lanes 0..26 hold high[h] (trits
  // t0..t2 of h), lanes 32..40 hold low[l] (t3 t4); lane 15 of terms is always 0.
  std::uint8_t first[64];
  std::uint8_t second[64];
  std::uint8_t third[64];
  // table[c] = halves[high_of[c]] + halves[low_of[c]]; lanes 31 and 63 of halves are 0.
  std::uint8_t high_of[128];
  std::uint8_t low_of[128];
};

constexpr Avx512TableConstants make_avx512_table_constants() {
  Avx512TableConstants k{};
  for (int i = 0; i < 5; ++i) {
    k.terms[3 * i] = static_cast<std::uint8_t>(64 + i);
    k.terms[3 * i + 2] = static_cast<std::uint8_t>(i);
  }
  for (int lane = 0; lane < 64; ++lane) k.first[lane] = k.second[lane] = k.third[lane] = 15;
  for (int h = 0; h < 27; ++h) {
    k.first[h] = static_cast<std::uint8_t>(h / 9);
    k.second[h] = static_cast<std::uint8_t>(3 + h / 3 % 3);
    k.third[h] = static_cast<std::uint8_t>(6 + h % 3);
  }
  for (int l = 0; l < 9; ++l) {
    k.first[32 + l] = static_cast<std::uint8_t>(9 + l / 3);
    k.second[32 + l] = static_cast<std::uint8_t>(12 + l % 3);
  }
  for (int c = 0; c < 128; ++c) {
    k.high_of[c] = static_cast<std::uint8_t>(c < lut::kTableEntries ? c / 9 : 31);
    k.low_of[c] = static_cast<std::uint8_t>(c < lut::kTableEntries ? 32 + c % 9 : 63);
  }
  return k;
}

inline constexpr Avx512TableConstants kAvx512TableConstants = make_avx512_table_constants();
constexpr std::uint64_t make_avx512_terms_mask() {
  std::uint64_t mask = 0;
  for (int i = 0; i < 5; ++i) mask |= (std::uint64_t{1} << (3 * i)) | (std::uint64_t{1} << (3 * i + 2));
  return mask;
}
inline constexpr std::uint64_t kAvx512TermsMask = make_avx512_terms_mask();

// Adds int16 partial sums of even and odd rows (lane i of `even` is row 2i of the span) into
// the int32 accumulators of a span of 2 * lanes rows.
inline void add_even_odd(const std::int16_t* even, const std::int16_t* odd, std::size_t lanes, std::int32_t* acc) {
  for (std::size_t i = 0; i < lanes; ++i) {
    acc[2 * i] += even[i];
    acc[2 * i + 1] += odd[i];
  }
}

}  // namespace detail
TRIT_END_NAMESPACE

// ---------------------------------------------------------------- AVX-512 BW + VBMI
TRIT_TARGET_BEGIN("avx2,fma,bmi2,avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi")
TRIT_BEGIN_NAMESPACE
namespace avx512_int4 {

inline constexpr std::size_t kTableBytes = 128;
inline constexpr std::size_t kTilesPerPass = 4;

// Zero-masked forms with every lane kept stand in for some plain intrinsics: GCC 12's plain
// ones start from an undefined vector and trip -Wmaybe-uninitialized in callers' builds.
inline constexpr __mmask16 kAll16 = 0xFFFF;

inline __m512i permute(__m512i index, __m512i table) {
  return _mm512_maskz_permutexvar_epi8(~__mmask64{0}, index, table);
}

// The table of one position from its activations a0..a4 (bytes 0..4 of `five`).
struct TableBuilder {
  __m512i terms_index, first, second, third, high_lo, high_hi, low_lo, low_hi;

  TableBuilder() {
    const detail::Avx512TableConstants& k = detail::kAvx512TableConstants;
    terms_index = _mm512_loadu_si512(k.terms);
    first = _mm512_loadu_si512(k.first);
    second = _mm512_loadu_si512(k.second);
    third = _mm512_loadu_si512(k.third);
    high_lo = _mm512_loadu_si512(k.high_of);
    high_hi = _mm512_loadu_si512(k.high_of + 64);
    low_lo = _mm512_loadu_si512(k.low_of);
    low_hi = _mm512_loadu_si512(k.low_of + 64);
  }

  void build(const std::int8_t* five, std::int8_t* table) const {
    long long bytes;
    std::memcpy(&bytes, five, sizeof bytes);
    const __m512i a = _mm512_set1_epi64(bytes);
    const __m512i negated = _mm512_sub_epi8(_mm512_setzero_si512(), a);
    const __m512i terms = _mm512_maskz_permutex2var_epi8(detail::kAvx512TermsMask, a, terms_index, negated);
    const __m512i halves =
        _mm512_add_epi8(_mm512_add_epi8(permute(first, terms), permute(second, terms)), permute(third, terms));
    _mm512_storeu_si512(table, _mm512_add_epi8(permute(high_lo, halves), permute(low_lo, halves)));
    _mm512_storeu_si512(table + 64, _mm512_add_epi8(permute(high_hi, halves), permute(low_hi, halves)));
  }
};

// 64 values from 32 packed bytes: each byte widened to a 16-bit lane, its high nibble moved
// to the lane's upper byte, then every nibble sign-extended as (n ^ 8) - 8.
inline __m512i unpack64(const std::uint8_t* packed) {
  const __m512i wide = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(packed)));
  const __m512i nibbles = _mm512_or_si512(_mm512_and_si512(wide, _mm512_set1_epi16(0x000F)),
                                          _mm512_slli_epi16(_mm512_and_si512(wide, _mm512_set1_epi16(0x00F0)), 4));
  const __m512i eight = _mm512_set1_epi8(8);
  return _mm512_sub_epi8(_mm512_xor_si512(nibbles, eight), eight);
}

inline void unpack(const std::uint8_t* packed, std::size_t cols, std::int8_t* values) {
  std::size_t k = 0;
  for (; k + 64 <= cols; k += 64) _mm512_storeu_si512(values + k, unpack64(packed + k / 2));
  if (k < cols) detail::unpack_int4_row(packed + k / 2, cols - k, values + k);
}

// The five activations of the 64 positions of a full group are the 64-value rows a_0..a_4
// (position j meets a_i[j]). Three rounds of unpacks transpose them into 8-byte slots
// [a_0[j] .. a_4[j], 0, 0, 0]; slot e of 128-bit lane L of output vector 4x + 2y + z belongs
// to position j = 16L + 8x + 4y + 2z + e.
inline void prepare(const dense243::RowLayout& layout, const std::int8_t* values, std::int8_t* scratch,
                    std::int8_t* tables) {
  const TableBuilder builder;
  const __m512i zero = _mm512_setzero_si512();
  for (std::size_t group = 0; group < layout.full_groups; ++group) {
    const std::int8_t* a = values + group * dense243::kGroupTrits;
    const __m512i a0 = _mm512_loadu_si512(a);
    const __m512i a1 = _mm512_loadu_si512(a + 64);
    const __m512i a2 = _mm512_loadu_si512(a + 128);
    const __m512i a3 = _mm512_loadu_si512(a + 192);
    const __m512i a4 = _mm512_loadu_si512(a + 256);
    const __m512i pairs01[2] = {_mm512_unpacklo_epi8(a0, a1), _mm512_unpackhi_epi8(a0, a1)};
    const __m512i pairs23[2] = {_mm512_unpacklo_epi8(a2, a3), _mm512_unpackhi_epi8(a2, a3)};
    const __m512i pairs4[2] = {_mm512_unpacklo_epi8(a4, zero), _mm512_unpackhi_epi8(a4, zero)};
    std::int8_t* slots = scratch;
    for (int x = 0; x < 2; ++x) {
      const __m512i quads0123[2] = {_mm512_unpacklo_epi16(pairs01[x], pairs23[x]),
                                    _mm512_unpackhi_epi16(pairs01[x], pairs23[x])};
      const __m512i quads4[2] = {_mm512_unpacklo_epi16(pairs4[x], zero), _mm512_unpackhi_epi16(pairs4[x], zero)};
      for (int y = 0; y < 2; ++y) {
        _mm512_storeu_si512(slots, _mm512_maskz_unpacklo_epi32(kAll16, quads0123[y], quads4[y]));
        _mm512_storeu_si512(slots + 64, _mm512_maskz_unpackhi_epi32(kAll16, quads0123[y], quads4[y]));
        slots += 128;
      }
    }
    std::int8_t* group_tables = tables + group * dense243::kGroupBytes * kTableBytes;
    for (std::size_t s = 0; s < dense243::kGroupBytes; ++s) {
      const std::size_t vector = s / 8;
      const std::size_t lane = s % 8 / 2;
      const std::size_t j = 16 * lane + 8 * (vector >> 2) + 4 * ((vector >> 1) & 1) + 2 * (vector & 1) + s % 2;
      builder.build(scratch + 8 * s, group_tables + j * kTableBytes);
    }
  }
  const std::size_t full_bytes = layout.full_groups * dense243::kGroupBytes;
  for (std::size_t p = full_bytes; p < layout.bytes; ++p) {
    std::int8_t five[detail::kPositionActivationBytes] = {};
    for (int i = 0; i < 5; ++i) {
      const std::size_t k = lut::column_of(layout, p, i);
      if (k != lut::kPadding) five[i] = values[k];
    }
    builder.build(five, tables + p * kTableBytes);
  }
}

// The products and the division round exactly as the scalar epilogue's; the empty asm makes
// the compiler keep the rounded product, so it cannot fuse it with the bias add.
inline void epilogue(const std::int32_t* acc, std::size_t count, float x_scale, const float* w_scales,
                     std::size_t w_scale_step, const float* bias, float* y) {
  const __m512 divisor = _mm512_set1_ps(x_scale);
  for (std::size_t i = 0; i < count; i += 16) {
    const __mmask16 live = count - i >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << (count - i)) - 1);
    const __m512 sums = _mm512_maskz_cvtepi32_ps(live, _mm512_maskz_loadu_epi32(live, acc + i));
    const __m512 w = w_scale_step == 0 ? _mm512_set1_ps(w_scales[0]) : _mm512_maskz_loadu_ps(live, w_scales + i);
    __m512 out = _mm512_mul_ps(_mm512_div_ps(sums, divisor), w);
    __asm__("" : "+v"(out));
    if (bias != nullptr) out = _mm512_add_ps(out, _mm512_maskz_loadu_ps(live, bias + i));
    _mm512_mask_storeu_ps(y + i, live, out);
  }
}

// One position for kTiles tiles and kTokens tokens: each code vector loaded is looked up in
// every token's table, so tokens served together read the weights once.
template <std::size_t kTiles, std::size_t kTokens>
TRIT_INT4_ALWAYS_INLINE void lookup_position(__m512i (&partial)[kTokens][kTiles], const std::uint8_t* codes,
                                             std::size_t tile_stride, const std::int8_t* const (&tables)[kTokens],
                                             std::size_t p) {
  __m512i table_lo[kTokens], table_hi[kTokens];
  TRIT_UNROLL for (std::size_t n = 0; n < kTokens; ++n) {
    table_lo[n] = _mm512_loadu_si512(tables[n] + p * kTableBytes);
    table_hi[n] = _mm512_loadu_si512(tables[n] + p * kTableBytes + 64);
  }
  TRIT_UNROLL for (std::size_t u = 0; u < kTiles; ++u) {
    const __m512i code = _mm512_loadu_si512(codes + u * tile_stride + p * lut::kTileRows);
    const __mmask64 negate = _mm512_movepi8_mask(code);
    const __mmask64 keep = _knot_mask64(negate);
    TRIT_UNROLL for (std::size_t n = 0; n < kTokens; ++n) {
      const __m512i sum = _mm512_permutex2var_epi8(table_lo[n], code, table_hi[n]);
      partial[n][u] = _mm512_mask_add_epi8(partial[n][u], keep, partial[n][u], sum);
      partial[n][u] = _mm512_mask_sub_epi8(partial[n][u], negate, partial[n][u], sum);
    }
  }
}

template <std::size_t kTiles, std::size_t kTokens>
TRIT_INT4_ALWAYS_INLINE void widen(__m512i (&partial)[kTokens][kTiles], __m512i (&even)[kTokens][kTiles],
                                   __m512i (&odd)[kTokens][kTiles]) {
  TRIT_UNROLL for (std::size_t n = 0; n < kTokens; ++n) {
    TRIT_UNROLL for (std::size_t u = 0; u < kTiles; ++u) {
      odd[n][u] = _mm512_add_epi16(odd[n][u], _mm512_srai_epi16(partial[n][u], 8));
      even[n][u] = _mm512_add_epi16(even[n][u], _mm512_srai_epi16(_mm512_slli_epi16(partial[n][u], 8), 8));
      partial[n][u] = _mm512_setzero_si512();
    }
  }
}

// kTiles consecutive tiles starting at `codes`, for kTokens tokens; acc[n] receives the
// 64 * kTiles int32 sums of token n.
template <std::size_t kTiles, std::size_t kTokens>
void tile_pass(const std::uint8_t* codes, std::size_t positions, const std::int8_t* const (&tables)[kTokens],
               std::int32_t* const (&acc)[kTokens]) {
  const std::size_t tile_stride = positions * lut::kTileRows;
  for (std::size_t n = 0; n < kTokens; ++n) std::fill(acc[n], acc[n] + kTiles * lut::kTileRows, 0);
  __m512i partial[kTokens][kTiles], even[kTokens][kTiles], odd[kTokens][kTiles];
  std::size_t p = 0;
  while (p < positions) {
    const std::size_t flush_end = std::min(positions, p + detail::kInt4PositionsPerFlush);
    TRIT_UNROLL for (std::size_t n = 0; n < kTokens; ++n) {
      TRIT_UNROLL for (std::size_t u = 0; u < kTiles; ++u) {
        partial[n][u] = even[n][u] = odd[n][u] = _mm512_setzero_si512();
      }
    }
    for (; p + 3 <= flush_end; p += 3) {
      lookup_position(partial, codes, tile_stride, tables, p);
      lookup_position(partial, codes, tile_stride, tables, p + 1);
      lookup_position(partial, codes, tile_stride, tables, p + 2);
      widen(partial, even, odd);
    }
    for (; p < flush_end; ++p) lookup_position(partial, codes, tile_stride, tables, p);
    widen(partial, even, odd);
    for (std::size_t n = 0; n < kTokens; ++n) {
      for (std::size_t u = 0; u < kTiles; ++u) {
        alignas(64) std::int16_t even_sums[32];
        alignas(64) std::int16_t odd_sums[32];
        _mm512_store_si512(even_sums, even[n][u]);
        _mm512_store_si512(odd_sums, odd[n][u]);
        detail::add_even_odd(even_sums, odd_sums, 32, acc[n] + u * lut::kTileRows);
      }
    }
  }
}

inline void tiles(const LutWeights& w, const std::int8_t* tables, std::size_t t0, std::size_t t1, std::int32_t* acc) {
  const std::size_t positions = w.positions();
  const std::int8_t* const token_tables[1] = {tables};
  std::size_t t = t0;
  for (; t + kTilesPerPass <= t1; t += kTilesPerPass) {
    std::int32_t* const sums[1] = {acc + (t - t0) * lut::kTileRows};
    tile_pass<kTilesPerPass, 1>(w.tile(t), positions, token_tables, sums);
  }
  std::int32_t* const sums[1] = {acc + (t - t0) * lut::kTileRows};
  switch (t1 - t) {
    case 3: tile_pass<3, 1>(w.tile(t), positions, token_tables, sums); break;
    case 2: tile_pass<2, 1>(w.tile(t), positions, token_tables, sums); break;
    case 1: tile_pass<1, 1>(w.tile(t), positions, token_tables, sums); break;
    default: break;
  }
}

// Two tokens per pass, two tiles at a time: the register budget of tiles x tokens is the
// same as tiles() spends on four tiles of one token.
inline void tiles_pair(const LutWeights& w, const std::int8_t* tables_a, const std::int8_t* tables_b, std::size_t t0,
                       std::size_t t1, std::int32_t* acc_a, std::int32_t* acc_b) {
  const std::size_t positions = w.positions();
  const std::int8_t* const token_tables[2] = {tables_a, tables_b};
  std::size_t t = t0;
  for (; t + 2 <= t1; t += 2) {
    std::int32_t* const sums[2] = {acc_a + (t - t0) * lut::kTileRows, acc_b + (t - t0) * lut::kTileRows};
    tile_pass<2, 2>(w.tile(t), positions, token_tables, sums);
  }
  if (t < t1) {
    std::int32_t* const sums[2] = {acc_a + (t - t0) * lut::kTileRows, acc_b + (t - t0) * lut::kTileRows};
    tile_pass<1, 2>(w.tile(t), positions, token_tables, sums);
  }
}

inline constexpr detail::Int4KernelSet kKernels{Isa::avx512bw, kTableBytes, unpack,   prepare,
                                                tiles,          tiles_pair,  epilogue, kFeatureAvx512Vbmi};

}  // namespace avx512_int4
TRIT_END_NAMESPACE
TRIT_TARGET_END

// ---------------------------------------------------------------- AVX2
TRIT_TARGET_BEGIN("avx2,fma,bmi2")
TRIT_BEGIN_NAMESPACE
namespace avx2_int4 {

// high[16] then low[16] (kernel_common.hpp, partial_tables).
inline constexpr std::size_t kTableBytes = 32;

inline void prepare(const dense243::RowLayout& layout, const std::int8_t* values, std::int8_t* scratch,
                    std::int8_t* tables) {
  detail::gather_position_activations(layout, values, scratch);
  for (std::size_t p = 0; p < layout.bytes; ++p) {
    std::int8_t* table = tables + p * kTableBytes;
    detail::partial_tables(scratch + p * detail::kPositionActivationBytes, table, table + 16);
  }
}

// As avx512_int4::epilogue, eight rows at a time.
inline void epilogue(const std::int32_t* acc, std::size_t count, float x_scale, const float* w_scales,
                     std::size_t w_scale_step, const float* bias, float* y) {
  const __m256 divisor = _mm256_set1_ps(x_scale);
  std::size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256 sums = _mm256_cvtepi32_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + i)));
    const __m256 w = w_scale_step == 0 ? _mm256_set1_ps(w_scales[0]) : _mm256_loadu_ps(w_scales + i);
    __m256 out = _mm256_mul_ps(_mm256_div_ps(sums, divisor), w);
    __asm__("" : "+x"(out));
    if (bias != nullptr) out = _mm256_add_ps(out, _mm256_loadu_ps(bias + i));
    _mm256_storeu_ps(y + i, out);
  }
  detail::epilogue_rows(acc + i, count - i, x_scale, w_scales + i * w_scale_step, w_scale_step,
                        bias != nullptr ? bias + i : nullptr, y + i);
}

// Sums for 32 codes: c = code & 0x7F splits into h = c / 9, computed as (c * 7282) >> 16 in
// 16-bit lanes (exact for c < 128), and l = c - 9h; vpsign then negates where the code's top
// bit is set (code | 1 is never 0, so no lane is zeroed).
TRIT_INT4_ALWAYS_INLINE __m256i lookup32(__m256i code, __m256i high, __m256i low) {
  const __m256i c = _mm256_and_si256(code, _mm256_set1_epi8(0x7F));
  const __m256i magic = _mm256_set1_epi16(7282);
  const __m256i h_even = _mm256_mulhi_epu16(_mm256_and_si256(c, _mm256_set1_epi16(0x00FF)), magic);
  const __m256i h_odd = _mm256_mulhi_epu16(_mm256_srli_epi16(c, 8), magic);
  const __m256i h = _mm256_or_si256(h_even, _mm256_slli_epi16(h_odd, 8));
  // h <= 13, so h << 3 stays inside each byte of a 16-bit lane.
  const __m256i l = _mm256_sub_epi8(c, _mm256_add_epi8(h, _mm256_slli_epi16(h, 3)));
  const __m256i sum = _mm256_add_epi8(_mm256_shuffle_epi8(high, h), _mm256_shuffle_epi8(low, l));
  return _mm256_sign_epi8(sum, _mm256_or_si256(code, _mm256_set1_epi8(1)));
}

TRIT_INT4_ALWAYS_INLINE void lookup_position(__m256i (&partial)[2], const std::uint8_t* codes, const std::int8_t* table) {
  const __m256i high = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(table)));
  const __m256i low = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(table + 16)));
  TRIT_UNROLL for (std::size_t half = 0; half < 2; ++half) {
    const __m256i code = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + 32 * half));
    partial[half] = _mm256_add_epi8(partial[half], lookup32(code, high, low));
  }
}

TRIT_INT4_ALWAYS_INLINE void widen(__m256i (&partial)[2], __m256i (&even)[2], __m256i (&odd)[2]) {
  TRIT_UNROLL for (std::size_t half = 0; half < 2; ++half) {
    odd[half] = _mm256_add_epi16(odd[half], _mm256_srai_epi16(partial[half], 8));
    even[half] = _mm256_add_epi16(even[half], _mm256_srai_epi16(_mm256_slli_epi16(partial[half], 8), 8));
    partial[half] = _mm256_setzero_si256();
  }
}

inline void tile_pass(const std::uint8_t* codes, std::size_t positions, const std::int8_t* tables, std::int32_t* acc) {
  std::fill(acc, acc + lut::kTileRows, 0);
  __m256i partial[2], even[2], odd[2];
  std::size_t p = 0;
  while (p < positions) {
    const std::size_t flush_end = std::min(positions, p + detail::kInt4PositionsPerFlush);
    TRIT_UNROLL for (std::size_t half = 0; half < 2; ++half) partial[half] = even[half] = odd[half] = _mm256_setzero_si256();
    for (; p + 3 <= flush_end; p += 3) {
      lookup_position(partial, codes + p * lut::kTileRows, tables + p * kTableBytes);
      lookup_position(partial, codes + (p + 1) * lut::kTileRows, tables + (p + 1) * kTableBytes);
      lookup_position(partial, codes + (p + 2) * lut::kTileRows, tables + (p + 2) * kTableBytes);
      widen(partial, even, odd);
    }
    for (; p < flush_end; ++p) lookup_position(partial, codes + p * lut::kTileRows, tables + p * kTableBytes);
    widen(partial, even, odd);
    TRIT_UNROLL for (std::size_t half = 0; half < 2; ++half) {
      alignas(32) std::int16_t even_sums[16];
      alignas(32) std::int16_t odd_sums[16];
      _mm256_store_si256(reinterpret_cast<__m256i*>(even_sums), even[half]);
      _mm256_store_si256(reinterpret_cast<__m256i*>(odd_sums), odd[half]);
      detail::add_even_odd(even_sums, odd_sums, 16, acc + 32 * half);
    }
  }
}

inline void tiles(const LutWeights& w, const std::int8_t* tables, std::size_t t0, std::size_t t1, std::int32_t* acc) {
  for (std::size_t t = t0; t < t1; ++t) tile_pass(w.tile(t), w.positions(), tables, acc + (t - t0) * lut::kTileRows);
}

inline constexpr detail::Int4KernelSet kKernels{Isa::avx2,  kTableBytes, detail::unpack_int4_row, prepare,
                                                tiles,       nullptr,     epilogue};

}  // namespace avx2_int4
TRIT_END_NAMESPACE
TRIT_TARGET_END

#undef TRIT_INT4_ALWAYS_INLINE

TRIT_BEGIN_NAMESPACE
namespace detail {
template <>
struct KernelsFor<LutInt4Product, Isa::avx512bw> {
  static constexpr const Int4KernelSet* value = &avx512_int4::kKernels;
};
template <>
struct KernelsFor<LutInt4Product, Isa::avx2> {
  static constexpr const Int4KernelSet* value = &avx2_int4::kKernels;
};
}  // namespace detail
TRIT_END_NAMESPACE

#endif  // TRIT_HAS_X86_KERNELS
#endif  // TRIT_ENABLE_INT4
