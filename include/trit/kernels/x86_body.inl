// trit: the x86 GEMV/GEMM kernels, written once and compiled once per instruction set.
//
// Included by x86.hpp inside each path's namespace and target region (avx2, avxvnni,
// avx512bw, avx512vnni). Before including it, the namespace defines:
//   Vec                        the vector register type (__m256i or __m512i)
//   kVecBytes                  its width in bytes
//   load(p), xor80(v)          unaligned load; flip the top bit of every byte
//   digits(s)                  Dense243 digits {0,1,2} from chain bytes in signed form
//   triple(s)                  s * 3 mod 256 per byte (the next chain step)
//   broadcast4(p)              the 4 bytes at p in every 32-bit lane
//   Partial, partial_zero(), partial_add(part, d, a), flush(acc32, part)
//                              d (u8 digits) x a (s8) summed into int32 lanes
//   reduce_add(v)              sum of the int32 lanes
//   kGemvRawChain              whether GEMV multiplies raw chain bytes (vpdpbusd paths)
//   digit_dot_from_chain(P, Q) (3P - Q) >> 8 per int32 lane (raw-chain paths)
// This file includes nothing: everything it needs is declared by x86.hpp first.

// ---- Shared per-call preparation ----------------------------------------------------------

// What a kernel needs of one token besides its row: the activations of the tail group laid
// out like a full group (digit i of byte j at 64*i + j, zeros elsewhere) and the sum of all
// K activations, since kernels multiply digits d = t + 1 and subtract sum(a) once.
struct TokenPrep {
  alignas(64) std::int8_t tail[dense243::kGroupTrits];
  std::int32_t sum;
};

// sum(x[0..cols)) as int32: ones (u8) x activations (s8) through the path's dot product.
inline std::int32_t activation_sum(const std::int8_t* x, std::size_t cols) {
  const std::uint32_t ones_bytes = 0x01010101u;
  const Vec ones = broadcast4(&ones_bytes);
  Vec acc = zero();
  std::size_t k = 0;
  for (; k + kVecBytes <= cols; k += kVecBytes) acc = dot32(acc, ones, load(x + k));
  std::int32_t sum = reduce_add(acc);
  for (; k < cols; ++k) sum += x[k];
  return sum;
}

inline void prepare_token(const std::int8_t* x, const dense243::RowLayout& layout, TokenPrep& prep) {
  prep.sum = activation_sum(x, layout.cols);
  std::memset(prep.tail, 0, sizeof prep.tail);
  const std::int8_t* tail = x + layout.full_groups * dense243::kGroupTrits;
  for (std::size_t pos = 0; pos < layout.tail_trits; ++pos) {
    prep.tail[(pos / layout.tail_bytes) * 64 + pos % layout.tail_bytes] = tail[pos];
  }
}

inline void store_output(const detail::GemmProblem& p, std::size_t n, std::size_t m, std::int32_t acc) {
  if (p.acc.data != nullptr) {
    p.acc(n, m) = acc;
  } else {
    p.y(n, m) = detail::epilogue(acc, p.x.scales[n], p.w->scale(m), p.bias, m);
  }
}

// Digit products minus the activation sum, in wrapping uint32 arithmetic: the true value
// fits in int32 (|acc| <= 128 K), so the wrapped difference is exact.
inline std::int32_t ternary_from_digits(std::int32_t digit_dot, std::int32_t act_sum) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(digit_dot) - static_cast<std::uint32_t>(act_sum));
}

// ---- GEMV: one token, R rows at a time sharing every activation load ----------------------

inline constexpr int kChunks = static_cast<int>(dense243::kGroupBytes / kVecBytes);

// Two ways to multiply a row by its activations, chosen per path by kGemvRawChain:
// - digits: extract d_i in {0,1,2} and multiply (any dot instruction can take it);
// - raw chain (needs vpdpbusd, whose u8 x s8 products cannot saturate): multiply the chain
//   bytes x_i themselves, P = sum x_i a_i and Q = sum x_{i+1} a_i, and use
//   256 d_i = 3 x_i - x_{i+1} (FORMAT.md), so (3P - Q) / 256 = sum d_i a_i exactly, lane by
//   lane. Two dot products and one tripling per digit, no compares.

template <int R>
inline void gemv_block_digits(const std::uint8_t* const* rows, const std::int8_t* x, const TokenPrep& prep,
                              const dense243::RowLayout& layout, std::int32_t* out) {
  Vec acc[R][kChunks];
  TRIT_UNROLL
  for (int r = 0; r < R; ++r)
    TRIT_UNROLL
    for (int c = 0; c < kChunks; ++c) acc[r][c] = zero();
  const std::size_t groups = layout.full_groups + (layout.tail_bytes != 0 ? 1 : 0);
  for (std::size_t g = 0; g < groups; ++g) {
    const std::int8_t* act = g < layout.full_groups ? x + g * dense243::kGroupTrits : prep.tail;
    Vec chain[R][kChunks];
    Partial part[R][kChunks];
    TRIT_UNROLL
    for (int r = 0; r < R; ++r) {
      TRIT_UNROLL
      for (int c = 0; c < kChunks; ++c) {
        chain[r][c] = xor80(load(rows[r] + g * dense243::kGroupBytes + c * kVecBytes));
        part[r][c] = partial_zero();
      }
    }
    TRIT_UNROLL
    for (int i = 0; i < 5; ++i) {
      TRIT_UNROLL
      for (int c = 0; c < kChunks; ++c) {
        const Vec a = load(act + i * 64 + c * kVecBytes);
        TRIT_UNROLL
        for (int r = 0; r < R; ++r) {
          part[r][c] = partial_add(part[r][c], digits(chain[r][c]), a);
          chain[r][c] = triple(chain[r][c]);
        }
      }
    }
    TRIT_UNROLL
    for (int r = 0; r < R; ++r)
      TRIT_UNROLL
      for (int c = 0; c < kChunks; ++c) acc[r][c] = flush(acc[r][c], part[r][c]);
  }
  TRIT_UNROLL
  for (int r = 0; r < R; ++r) {
    Vec total = acc[r][0];
    TRIT_UNROLL
    for (int c = 1; c < kChunks; ++c) total = add32(total, acc[r][c]);
    out[r] = ternary_from_digits(reduce_add(total), prep.sum);
  }
}

// P and Q wrap in int32, but 3P - Q per lane is 256 times a digit dot product over at most
// kRawChainFlushGroups groups (|.| < 2^31), so the wrapped difference is exact.
inline constexpr std::size_t kRawChainFlushGroups = 128;

template <int R>
inline void gemv_block_raw(const std::uint8_t* const* rows, const std::int8_t* x, const TokenPrep& prep,
                           const dense243::RowLayout& layout, std::int32_t* out) {
  Vec acc[R][kChunks], p_acc[R][kChunks], q_acc[R][kChunks];
  TRIT_UNROLL
  for (int r = 0; r < R; ++r)
    TRIT_UNROLL
    for (int c = 0; c < kChunks; ++c) acc[r][c] = p_acc[r][c] = q_acc[r][c] = zero();
  const std::size_t groups = layout.full_groups + (layout.tail_bytes != 0 ? 1 : 0);
  for (std::size_t g = 0; g < groups; ++g) {
    const std::int8_t* act = g < layout.full_groups ? x + g * dense243::kGroupTrits : prep.tail;
    Vec chain[R][kChunks];
    TRIT_UNROLL
    for (int r = 0; r < R; ++r)
      TRIT_UNROLL
      for (int c = 0; c < kChunks; ++c) chain[r][c] = load(rows[r] + g * dense243::kGroupBytes + c * kVecBytes);
    TRIT_UNROLL
    for (int i = 0; i < 5; ++i) {
      TRIT_UNROLL
      for (int c = 0; c < kChunks; ++c) {
        const Vec a = load(act + i * 64 + c * kVecBytes);
        TRIT_UNROLL
        for (int r = 0; r < R; ++r) {
          p_acc[r][c] = dot32(p_acc[r][c], chain[r][c], a);
          chain[r][c] = triple(chain[r][c]);
          q_acc[r][c] = dot32(q_acc[r][c], chain[r][c], a);
        }
      }
    }
    if ((g + 1) % kRawChainFlushGroups == 0 || g + 1 == groups) {
      TRIT_UNROLL
      for (int r = 0; r < R; ++r) {
        TRIT_UNROLL
        for (int c = 0; c < kChunks; ++c) {
          acc[r][c] = add32(acc[r][c], digit_dot_from_chain(p_acc[r][c], q_acc[r][c]));
          p_acc[r][c] = q_acc[r][c] = zero();
        }
      }
    }
  }
  TRIT_UNROLL
  for (int r = 0; r < R; ++r) {
    Vec total = acc[r][0];
    TRIT_UNROLL
    for (int c = 1; c < kChunks; ++c) total = add32(total, acc[r][c]);
    out[r] = ternary_from_digits(reduce_add(total), prep.sum);
  }
}

template <int R>
inline void gemv_block(const std::uint8_t* const* rows, const std::int8_t* x, const TokenPrep& prep,
                       const dense243::RowLayout& layout, std::int32_t* out) {
  if constexpr (kGemvRawChain) {
    gemv_block_raw<R>(rows, x, prep, layout, out);
  } else {
    gemv_block_digits<R>(rows, x, prep, layout, out);
  }
}

inline constexpr int kGemvRows = static_cast<int>(kGemvRowsPerBlock);

inline void gemv_rows(const detail::GemmProblem& p, std::size_t m0, std::size_t m1) {
  const PackedMatrix& w = *p.w;
  const dense243::RowLayout& layout = w.layout();
  TokenPrep prep;
  const std::int8_t* x = p.x.row(0);
  prepare_token(x, layout, prep);
  std::int32_t out[kGemvRows];
  const std::uint8_t* rows[kGemvRows];
  std::size_t m = m0;
  for (; m + kGemvRows <= m1; m += kGemvRows) {
    TRIT_UNROLL
    for (int r = 0; r < kGemvRows; ++r) rows[r] = w.row(m + r);
    gemv_block<kGemvRows>(rows, x, prep, layout, out);
    TRIT_UNROLL
    for (int r = 0; r < kGemvRows; ++r) store_output(p, 0, m + r, out[r]);
  }
  for (; m < m1; ++m) {
    rows[0] = w.row(m);
    gemv_block<1>(rows, x, prep, layout, out);
    store_output(p, 0, m, out[0]);
  }
}

// ---- GEMM: decode a panel of rows once, reuse it for every token --------------------------
// The panel holds kPanelRows rows of digits interleaved as [K/4][kPanelRows][4]: one vector
// load gives 4 consecutive k of kVecBytes/4 rows, which multiplies a broadcast of 4
// activations of one token. Each int32 lane then accumulates one (row, token) dot product.

inline constexpr std::size_t kRowsPerVec = kVecBytes / 4;
inline constexpr std::size_t kPanelRows = 2 * kRowsPerVec;

// Digits of rows [m, m + count) (count <= kPanelRows) into panel; missing rows and k >= K
// get digits whose activations are zero, so they add nothing.
inline void decode_panel(const PackedMatrix& w, std::size_t m, std::size_t count, std::size_t k_padded,
                         std::uint8_t* row_major, std::size_t row_major_stride, std::uint8_t* panel) {
  const dense243::RowLayout& layout = w.layout();
  const std::size_t groups = layout.full_groups + (layout.tail_bytes != 0 ? 1 : 0);
  for (std::size_t r = 0; r < count; ++r) {
    const std::uint8_t* row = w.row(m + r);
    std::uint8_t* out = row_major + r * row_major_stride;
    for (std::size_t g = 0; g < groups; ++g) {
      const bool full = g < layout.full_groups;
      const std::size_t digit_stride = full ? 64 : layout.tail_bytes;
      std::uint8_t* group_out = out + g * dense243::kGroupTrits;
      Vec s[kChunks];
      TRIT_UNROLL
      for (int c = 0; c < kChunks; ++c) s[c] = xor80(load(row + g * dense243::kGroupBytes + c * kVecBytes));
      // Ascending digits, chunks inner: in a tail group the lanes a store writes past the
      // digit's g bytes land where the next digit's stores write, so the result is exact.
      TRIT_UNROLL
      for (int i = 0; i < 5; ++i) {
        TRIT_UNROLL
        for (int c = 0; c < kChunks; ++c) {
          store(group_out + i * digit_stride + c * kVecBytes, digits(s[c]));
          s[c] = triple(s[c]);
        }
      }
    }
  }
  for (std::size_t r = count; r < kPanelRows; ++r) std::memset(row_major + r * row_major_stride, 0, k_padded);
  for (std::size_t kq = 0; kq < k_padded / 4; ++kq) {
    for (std::size_t r = 0; r < kPanelRows; ++r) {
      std::memcpy(panel + (kq * kPanelRows + r) * 4, row_major + r * row_major_stride + kq * 4, 4);
    }
  }
}

template <int NR>
inline void gemm_micro(const std::uint8_t* panel, const std::int8_t* acts, std::size_t act_stride,
                       std::size_t k_quads, std::int32_t* out /* [NR][kPanelRows] */) {
  Vec acc[NR][2];
  TRIT_UNROLL
  for (int n = 0; n < NR; ++n) acc[n][0] = acc[n][1] = zero();
  for (std::size_t kq = 0; kq < k_quads; ++kq) {
    const Vec w0 = load(panel + kq * kPanelRows * 4);
    const Vec w1 = load(panel + kq * kPanelRows * 4 + kVecBytes);
    TRIT_UNROLL
    for (int n = 0; n < NR; ++n) {
      const Vec a = broadcast4(acts + n * act_stride + kq * 4);
      acc[n][0] = dot32(acc[n][0], w0, a);
      acc[n][1] = dot32(acc[n][1], w1, a);
    }
  }
  TRIT_UNROLL
  for (int n = 0; n < NR; ++n) {
    store(out + n * kPanelRows, acc[n][0]);
    store(out + n * kPanelRows + kRowsPerVec, acc[n][1]);
  }
}

template <int NR>
inline void gemm_micro_upto(int nr, const std::uint8_t* panel, const std::int8_t* acts, std::size_t act_stride,
                            std::size_t k_quads, std::int32_t* out) {
  if constexpr (NR > 1) {
    if (nr < NR) return gemm_micro_upto<NR - 1>(nr, panel, acts, act_stride, k_quads, out);
  }
  gemm_micro<NR>(panel, acts, act_stride, k_quads, out);
}

inline void gemm_rows(const detail::GemmProblem& p, std::size_t m0, std::size_t m1) {
  const PackedMatrix& w = *p.w;
  const std::size_t tokens = p.x.tokens;
  const std::size_t k_padded = (w.cols() + 63) / 64 * 64;
  // Tokens copied into zero-padded rows so broadcasts past K read zeros, plus their sums.
  detail::AlignedBuffer<std::int8_t> acts(tokens * k_padded);
  std::vector<std::int32_t> act_sums(tokens);
  for (std::size_t n = 0; n < tokens; ++n) {
    std::memcpy(acts.data() + n * k_padded, p.x.row(n), w.cols());
    act_sums[n] = activation_sum(p.x.row(n), w.cols());
  }
  const std::size_t groups = w.layout().full_groups + 1;
  const std::size_t row_major_stride = groups * dense243::kGroupTrits + 64;
  detail::AlignedBuffer<std::uint8_t> row_major(kPanelRows * row_major_stride);
  detail::AlignedBuffer<std::uint8_t> panel(kPanelRows * k_padded);
  alignas(64) std::int32_t out[kGemmTokens * kPanelRows];
  for (std::size_t m = m0; m < m1; m += kPanelRows) {
    const std::size_t count = std::min(kPanelRows, m1 - m);
    decode_panel(w, m, count, k_padded, row_major.data(), row_major_stride, panel.data());
    for (std::size_t n0 = 0; n0 < tokens; n0 += kGemmTokens) {
      const int nr = static_cast<int>(std::min<std::size_t>(kGemmTokens, tokens - n0));
      gemm_micro_upto<kGemmTokens>(nr, panel.data(), acts.data() + n0 * k_padded, k_padded, k_padded / 4, out);
      TRIT_UNROLL
      for (int n = 0; n < nr; ++n) {
        for (std::size_t r = 0; r < count; ++r) {
          store_output(p, n0 + n, m + r, ternary_from_digits(out[n * kPanelRows + r], act_sums[n0 + n]));
        }
      }
    }
  }
}
