// trit: the TwoBit x int8 kernels, written once and compiled once per path (x86: avx2,
// avxvnni, avx512bw, avx512vnni; AArch64: neon, neon-dotprod), each inside its own namespace
// and target region. Before including it, the namespace defines:
//   Vec, kVecBytes              the vector type and its width (16, 32 or 64 bytes)
//   zero(), load(p)             an all-zero vector; an unaligned load
//   Acc, acc_zero()             int32 lanes
//   codes(w, i)                 (w >> 2i) & 3 per byte: the codes of trits 64i + (byte index)
//   Partial, partial_zero(), partial_add(part, codes, a)
//                               u8 codes x s8 activations summed into part's lanes
//   kFlushGroups                groups a Partial may hold before flush (0: Partial is int32
//                               already and is never flushed)
//   flush(acc, part)            part widened and added into acc's int32 lanes
//   reduce_add(acc)             the sum of acc's int32 lanes
//   prefetch(p)                 a hint that p will be read soon
//   store_outputs(p, n, m, count, sums, act_sum)
//                               outputs of token n, rows [m, m + count), from the code sums
//                               less act_sum, through detail::epilogue's float operations
//   kGemvRows, kGemmRows, kGemmTokens   the register blocking
//
// Why codes work: with c = t + 1 in {0, 1, 2}, sum t*x = sum c*x - sum x. The code sums and
// the activation sum wrap in uint32, but the true difference is |.| <= 128 K < 2^31, so the
// wrapped difference is exact.

inline constexpr int kChunks = static_cast<int>(two_bit::kGroupBytes / kVecBytes);

// The code sums of R rows x T tokens over every group of the row. x[t] is token t's row,
// tail[t] its last group's activations staged into 256 zero-padded bytes. out[t * R + r]
// receives sum_k c[r][k] * x[t][k] (wrapping). With kPrefetchAhead, each row's group in the
// block R rows further on (next_stride bytes away) is prefetched while this one is summed.
template <int R, int T, bool kPrefetchAhead>
inline void code_sums(const std::uint8_t* const* rows, const std::int8_t* const* x, const std::int8_t* const* tail,
                      const two_bit::RowLayout& layout, std::size_t next_stride, std::uint32_t* out) {
  Acc acc[std::size_t{R}][std::size_t{T}];
  Partial part[std::size_t{R}][std::size_t{T}];
  TRIT_UNROLL
  for (int r = 0; r < R; ++r) {
    TRIT_UNROLL
    for (int t = 0; t < T; ++t) {
      acc[r][t] = acc_zero();
      part[r][t] = partial_zero();
    }
  }
  for (std::size_t g = 0; g < layout.groups; ++g) {
    const std::int8_t* act[std::size_t{T}];
    TRIT_UNROLL
    for (int t = 0; t < T; ++t) act[t] = g < layout.full_groups ? x[t] + g * two_bit::kGroupTrits : tail[t];
    if constexpr (kPrefetchAhead) {
      TRIT_UNROLL
      for (int r = 0; r < R; ++r) prefetch(rows[r] + next_stride + g * two_bit::kGroupBytes);
    }
    TRIT_UNROLL
    for (int c = 0; c < kChunks; ++c) {
      Vec w[std::size_t{R}];
      TRIT_UNROLL
      for (int r = 0; r < R; ++r) w[r] = load(rows[r] + g * two_bit::kGroupBytes + static_cast<std::size_t>(c) * kVecBytes);
      TRIT_UNROLL
      for (int i = 0; i < 4; ++i) {
        Vec a[std::size_t{T}];
        TRIT_UNROLL
        for (int t = 0; t < T; ++t) a[t] = load(act[t] + static_cast<std::size_t>(i) * two_bit::kGroupBytes + static_cast<std::size_t>(c) * kVecBytes);
        TRIT_UNROLL
        for (int r = 0; r < R; ++r) {
          const Vec cd = codes(w[r], i);
          TRIT_UNROLL
          for (int t = 0; t < T; ++t) part[r][t] = partial_add(part[r][t], cd, a[t]);
        }
      }
    }
    if constexpr (kFlushGroups != 0) {
      if ((g + 1) % (kFlushGroups != 0 ? kFlushGroups : 1) == 0 || g + 1 == layout.groups) {
        TRIT_UNROLL
        for (int r = 0; r < R; ++r) {
          TRIT_UNROLL
          for (int t = 0; t < T; ++t) {
            acc[r][t] = flush(acc[r][t], part[r][t]);
            part[r][t] = partial_zero();
          }
        }
      }
    }
  }
  TRIT_UNROLL
  for (int r = 0; r < R; ++r) {
    TRIT_UNROLL
    for (int t = 0; t < T; ++t) {
      if constexpr (kFlushGroups != 0) {
        out[t * R + r] = static_cast<std::uint32_t>(reduce_add(acc[r][t]));
      } else {
        out[t * R + r] = static_cast<std::uint32_t>(reduce_add(part[r][t]));
      }
    }
  }
}

// code_sums for T or fewer tokens: the token count picks the instantiation.
template <int R, int T>
inline void code_sums_upto(int tokens, const std::uint8_t* const* rows, const std::int8_t* const* x,
                           const std::int8_t* const* tail, const two_bit::RowLayout& layout, std::uint32_t* out) {
  if constexpr (T > 1) {
    if (tokens < T) return code_sums_upto<R, T - 1>(tokens, rows, x, tail, layout, out);
  }
  code_sums<R, T, false>(rows, x, tail, layout, 0, out);
}

// Scratch: every token's staged tail (256 bytes) and activation sum, and its int32 outputs
// for the rows of the range plus a vector of slack (outputs are read a vector at a time).
struct ScratchLayout {
  std::size_t tails = 0, act_sums = 0, outs = 0, out_stride = 0, bytes = 0;
};

inline constexpr std::size_t align64(std::size_t n) { return (n + 63) / 64 * 64; }

inline ScratchLayout scratch_layout(std::size_t tokens, std::size_t rows) {
  ScratchLayout at;
  at.act_sums = align64(tokens * two_bit::kGroupTrits);
  at.outs = at.act_sums + align64(tokens * sizeof(std::int32_t));
  at.out_stride = rows + 16;
  at.bytes = at.outs + align64(tokens * at.out_stride * sizeof(std::int32_t));
  return at;
}

inline std::size_t scratch_bytes(const detail::TwoBitProblem& p, std::size_t rows) {
  return scratch_layout(p.x.tokens, rows).bytes;
}

// Rows [m, m + R) for every token, T tokens per call of code_sums, into the range's outputs.
template <int R, int T>
inline void rows_block(const detail::TwoBitProblem& p, std::size_t m, std::size_t m0, std::size_t m1,
                       const std::int8_t* tails, const ScratchLayout& at, std::uint32_t* outs) {
  const TwoBitMatrixView& w = p.w;
  const std::size_t tokens = p.x.tokens;
  const std::uint8_t* rows[std::size_t{R}];
  TRIT_UNROLL
  for (int r = 0; r < R; ++r) rows[r] = w.row(m + static_cast<std::size_t>(r));
  std::uint32_t block[std::size_t{R * T}];
  for (std::size_t n0 = 0; n0 < tokens; n0 += T) {
    const int count = static_cast<int>(std::min<std::size_t>(T, tokens - n0));
    const std::int8_t* x[std::size_t{T}] = {};
    const std::int8_t* tail[std::size_t{T}] = {};
    for (int t = 0; t < count; ++t) {
      x[t] = p.x.row(n0 + static_cast<std::size_t>(t));
      tail[t] = tails + (n0 + static_cast<std::size_t>(t)) * two_bit::kGroupTrits;
    }
    if constexpr (T == 1) {
      // One token: every row is read once, so fetch the next block's while summing this one.
      const std::size_t ahead = m + 2 * R <= m1 ? R * w.row_stride() : 0;
      code_sums<R, 1, true>(rows, x, tail, w.layout(), ahead, block);
    } else {
      code_sums_upto<R, T>(count, rows, x, tail, w.layout(), block);
    }
    for (int t = 0; t < count; ++t) {
      for (int r = 0; r < R; ++r) {
        outs[(n0 + static_cast<std::size_t>(t)) * at.out_stride + (m - m0) + static_cast<std::size_t>(r)] =
            block[t * R + r];
      }
    }
  }
}

// Output rows [m0, m1) of every token: blocks of R rows (then single rows), rows outer, so a
// block of rows stays in L1 while every token passes over it.
template <int R, int T>
inline void rows_kernel(const detail::TwoBitProblem& p, std::size_t m0, std::size_t m1, std::uint8_t* scratch) noexcept {
  const two_bit::RowLayout& layout = p.w.layout();
  const std::size_t tokens = p.x.tokens;
  const ScratchLayout at = scratch_layout(tokens, m1 - m0);
  std::int8_t* tails = reinterpret_cast<std::int8_t*>(scratch + at.tails);
  std::int32_t* act_sums = reinterpret_cast<std::int32_t*>(scratch + at.act_sums);
  std::uint32_t* outs = reinterpret_cast<std::uint32_t*>(scratch + at.outs);
  for (std::size_t n = 0; n < tokens; ++n) {
    const std::int8_t* x = p.x.row(n);
    std::int8_t* tail = tails + n * two_bit::kGroupTrits;
    std::memset(tail, 0, two_bit::kGroupTrits);
    std::memcpy(tail, x + layout.full_groups * two_bit::kGroupTrits, layout.tail_trits);
    std::int32_t sum = 0;
    for (std::size_t k = 0; k < layout.cols; ++k) sum += x[k];
    act_sums[n] = sum;
  }
  std::size_t m = m0;
  for (; m + R <= m1; m += R) rows_block<R, T>(p, m, m0, m1, tails, at, outs);
  for (; m < m1; ++m) rows_block<1, T>(p, m, m0, m1, tails, at, outs);
  for (std::size_t n = 0; n < tokens; ++n) {
    store_outputs(p, n, m0, m1 - m0, outs + n * at.out_stride, static_cast<std::uint32_t>(act_sums[n]));
  }
}

inline void gemv_rows(const detail::TwoBitProblem& p, std::size_t m0, std::size_t m1, std::uint8_t* scratch) noexcept {
  rows_kernel<static_cast<int>(kGemvRows), 1>(p, m0, m1, scratch);
}

inline void gemm_rows(const detail::TwoBitProblem& p, std::size_t m0, std::size_t m1, std::uint8_t* scratch) noexcept {
  rows_kernel<static_cast<int>(kGemmRows), static_cast<int>(kGemmTokens)>(p, m0, m1, scratch);
}
