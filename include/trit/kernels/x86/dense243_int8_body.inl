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
//   transpose_dwords(v)        v[kVecBytes / 4] as a square of dwords, transposed in place
//   sub32(a, b), store_int32(dst, v, count), store_epilogue(dst, acc, ...)
//                              wrapping int32 lanes; the first count lanes as int32, or
//                              through detail::epilogue's float operations
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

// int32 lanes per vector: the rows of outputs one vector holds.
inline constexpr std::size_t kRowsPerVec = kVecBytes / 4;

// Outputs of token n for rows [m, m + count) from digit sums less act_sum (0 when the sums
// are already ternary), a vector of rows at a time: ternary_from_digits and the epilogue,
// lane by lane.
inline void store_outputs(const detail::GemmProblem& p, std::size_t n, std::size_t m, std::size_t count,
                          const std::int32_t* digit_sums, std::int32_t act_sum) {
  const Vec sum = broadcast4(&act_sum);
  const PackedMatrixView& w = p.w;
  const bool per_row = w.granularity() == ScaleGranularity::per_row;
  for (std::size_t r = 0; r < count; r += kRowsPerVec) {
    const Vec acc = sub32(load(digit_sums + r), sum);
    const std::size_t lanes = std::min(kRowsPerVec, count - r);
    if (p.acc.data != nullptr) {
      store_int32(&p.acc(n, m + r), acc, lanes);
    } else {
      store_epilogue(&p.y(n, m + r), acc, p.x.scales[n], per_row ? w.scales() + m + r : nullptr,
                     w.scales()[0], p.bias != nullptr ? p.bias + m + r : nullptr, lanes);
    }
  }
}

// Into L2: a core has more outstanding L2 misses than L1 fill buffers, and DRAM needs many
// in flight.
inline void prefetch_l2(const void* p) { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T1); }

// Digit products minus the activation sum, in wrapping uint32 arithmetic: the true value
// fits in int32 (|acc| <= 128 K), so the wrapped difference is exact.
inline std::int32_t ternary_from_digits(std::int32_t digit_dot, std::int32_t act_sum) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(digit_dot) - static_cast<std::uint32_t>(act_sum));
}

// ---- GEMV: one token, R rows at a time sharing every activation load ----------------------
// Each block also prefetches, group by group, the rows ahead[r] it will need a few blocks on.

inline constexpr int kChunks = static_cast<int>(dense243::kGroupBytes / kVecBytes);

// Two ways to multiply a row by its activations, chosen per path by kGemvRawChain:
// - digits: extract d_i in {0,1,2} and multiply (any dot instruction can take it);
// - raw chain (needs vpdpbusd, whose u8 x s8 products cannot saturate): multiply the chain
//   bytes x_i themselves, P = sum x_i a_i and Q = sum x_{i+1} a_i, and use
//   256 d_i = 3 x_i - x_{i+1} (FORMAT.md), so (3P - Q) / 256 = sum d_i a_i exactly, lane by
//   lane. Two dot products and one tripling per digit, no compares.

template <int R>
inline void gemv_block_digits(const std::uint8_t* const* rows, const std::uint8_t* const* ahead, const std::int8_t* x,
                              const TokenPrep& prep, const dense243::RowLayout& layout, std::int32_t* out) {
  Vec acc[std::size_t{R}][kChunks];
  TRIT_UNROLL
  for (int r = 0; r < R; ++r)
    TRIT_UNROLL
    for (int c = 0; c < kChunks; ++c) acc[r][c] = zero();
  const std::size_t groups = layout.full_groups + (layout.tail_bytes != 0 ? 1 : 0);
  for (std::size_t g = 0; g < groups; ++g) {
    const std::int8_t* act = g < layout.full_groups ? x + g * dense243::kGroupTrits : prep.tail;
    TRIT_UNROLL
    for (int r = 0; r < R; ++r) prefetch_l2(ahead[r] + g * dense243::kGroupBytes);
    Vec chain[std::size_t{R}][kChunks];
    Partial part[std::size_t{R}][kChunks];
    TRIT_UNROLL
    for (int r = 0; r < R; ++r) {
      TRIT_UNROLL
      for (int c = 0; c < kChunks; ++c) {
        chain[r][c] = xor80(load(rows[r] + g * dense243::kGroupBytes + static_cast<std::size_t>(c) * kVecBytes));
        part[r][c] = partial_zero();
      }
    }
    TRIT_UNROLL
    for (int i = 0; i < 5; ++i) {
      TRIT_UNROLL
      for (int c = 0; c < kChunks; ++c) {
        const Vec a = load(act + i * 64 + static_cast<std::size_t>(c) * kVecBytes);
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
inline void gemv_block_raw(const std::uint8_t* const* rows, const std::uint8_t* const* ahead, const std::int8_t* x,
                           const TokenPrep& prep, const dense243::RowLayout& layout, std::int32_t* out) {
  Vec acc[std::size_t{R}][kChunks], p_acc[std::size_t{R}][kChunks], q_acc[std::size_t{R}][kChunks];
  TRIT_UNROLL
  for (int r = 0; r < R; ++r)
    TRIT_UNROLL
    for (int c = 0; c < kChunks; ++c) acc[r][c] = p_acc[r][c] = q_acc[r][c] = zero();
  const std::size_t groups = layout.full_groups + (layout.tail_bytes != 0 ? 1 : 0);
  for (std::size_t g = 0; g < groups; ++g) {
    const std::int8_t* act = g < layout.full_groups ? x + g * dense243::kGroupTrits : prep.tail;
    TRIT_UNROLL
    for (int r = 0; r < R; ++r) prefetch_l2(ahead[r] + g * dense243::kGroupBytes);
    Vec chain[std::size_t{R}][kChunks];
    TRIT_UNROLL
    for (int r = 0; r < R; ++r)
      TRIT_UNROLL
      for (int c = 0; c < kChunks; ++c) chain[r][c] = load(rows[r] + g * dense243::kGroupBytes + static_cast<std::size_t>(c) * kVecBytes);
    TRIT_UNROLL
    for (int i = 0; i < 5; ++i) {
      TRIT_UNROLL
      for (int c = 0; c < kChunks; ++c) {
        const Vec a = load(act + i * 64 + static_cast<std::size_t>(c) * kVecBytes);
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
inline void gemv_block(const std::uint8_t* const* rows, const std::uint8_t* const* ahead, const std::int8_t* x,
                       const TokenPrep& prep, const dense243::RowLayout& layout, std::int32_t* out) {
  if constexpr (kGemvRawChain) {
    gemv_block_raw<R>(rows, ahead, x, prep, layout, out);
  } else {
    gemv_block_digits<R>(rows, ahead, x, prep, layout, out);
  }
}

inline constexpr int kGemvRows = static_cast<int>(kGemvRowsPerBlock);

// Rows are short (512 bytes at K = 2560), so a block of adjacent rows read group by group
// jumps around a page, no hardware prefetcher follows it, and software prefetches alone are
// held back by the core's few L1 fill buffers: cold weights then arrive at two thirds of the
// DRAM bandwidth. So the kGemvRows rows of a block come from kGemvRows separate stretches of
// the range, block b taking row b of every stretch: each stretch is read front to back, long
// sequential streams that the L2 streamer runs ahead of, helped by a prefetch of the row
// kGemvPrefetchRows further on in each. Each row's int32 sum is exact whichever block
// computes it, so the order changes no result.
inline constexpr std::size_t kGemvPrefetchRows = 2;

// The int32 sums of `rows` rows, with a vector of slack: the epilogue reads whole vectors.
inline std::size_t gemv_scratch_bytes(const detail::GemmProblem&, std::size_t rows) {
  return (rows + kRowsPerVec) * sizeof(std::int32_t);
}

inline void gemv_rows(const detail::GemmProblem& p, std::size_t m0, std::size_t m1, std::uint8_t* scratch) noexcept {
  const PackedMatrixView& w = p.w;
  const dense243::RowLayout& layout = w.layout();
  TokenPrep prep;
  const std::int8_t* x = p.x.row(0);
  prepare_token(x, layout, prep);
  // Sums in row order, stored through the vector epilogue at the end; whole vectors are
  // read from it, hence the slack.
  std::int32_t* sums = reinterpret_cast<std::int32_t*>(scratch);
  std::int32_t out[kGemvRows];
  const std::uint8_t* rows[kGemvRows];
  const std::uint8_t* ahead[kGemvRows];
  const std::size_t stretch = (m1 - m0) / kGemvRows;
  for (std::size_t b = 0; b < stretch; ++b) {
    const std::size_t b_ahead = b + kGemvPrefetchRows < stretch ? b + kGemvPrefetchRows : b;
    TRIT_UNROLL
    for (int r = 0; r < kGemvRows; ++r) {
      rows[r] = w.row(m0 + static_cast<std::size_t>(r) * stretch + b);
      ahead[r] = w.row(m0 + static_cast<std::size_t>(r) * stretch + b_ahead);
    }
    gemv_block<kGemvRows>(rows, ahead, x, prep, layout, out);
    TRIT_UNROLL
    for (int r = 0; r < kGemvRows; ++r) sums[static_cast<std::size_t>(r) * stretch + b] = out[r];
  }
  for (std::size_t m = m0 + kGemvRows * stretch; m < m1; ++m) {
    rows[0] = w.row(m);
    gemv_block<1>(rows, rows, x, prep, layout, out);
    sums[m - m0] = out[0];
  }
  store_outputs(p, 0, m0, m1 - m0, sums, 0);
}

// ---- GEMM: decode a panel of rows once, reuse it for every token --------------------------
// The panel holds kPanelRows rows of digits interleaved as [K/4][kPanelRows][4]: one vector
// load gives 4 consecutive k of kRowsPerVec rows, which multiplies a broadcast of 4
// activations of one token. Each int32 lane then accumulates one (row, token) dot product.
//
// Tokens are packed the same way, kGemmTokens at a time as [K/4][kGemmTokens][4], so the
// micro-kernel walks one panel stream and one activation stream with fixed offsets.

inline constexpr std::size_t kPanelRows = 2 * kRowsPerVec;
// K is walked in slices of this many groups (about 20 KB of panel): a slice is decoded and
// then multiplied by every token block while it is still in L1, and the decode's stores hit
// L1 instead of evicting the previous slice to L2.
inline constexpr std::size_t kSliceGroups = 64 / kPanelRows;
inline constexpr std::size_t kQuadsPerGroup = dense243::kGroupTrits / 4;
inline constexpr std::size_t kQuadsPerDigit = dense243::kGroupBytes / 4;

// Where each buffer of gemm_rows lives in its scratch: activations packed in token blocks,
// the decoded panel of one K slice, the tail group's staging, the int32 tiles and the
// per-token activation sums, each 64-byte aligned.
struct GemmScratchLayout {
  std::size_t acts = 0, panel = 0, staging = 0, tiles = 0, act_sums = 0, bytes = 0;
};

inline constexpr std::size_t align64(std::size_t n) { return (n + 63) / 64 * 64; }

inline GemmScratchLayout gemm_scratch_layout(const detail::GemmProblem& p) {
  const std::size_t tokens = p.x.tokens;
  const std::size_t k_quads = (p.w.cols() + 63) / 64 * 64 / 4;
  const std::size_t blocks = (tokens + kGemmTokens - 1) / kGemmTokens;
  GemmScratchLayout at;
  at.panel = align64(blocks * k_quads * kGemmTokens * 4);
  at.staging = at.panel + align64(kPanelRows * kSliceGroups * dense243::kGroupTrits);
  at.tiles = at.staging + align64(kPanelRows * (dense243::kGroupTrits + dense243::kGroupBytes));
  at.act_sums = at.tiles + align64(blocks * kGemmTokens * kPanelRows * sizeof(std::int32_t));
  at.bytes = at.act_sums + align64(tokens * sizeof(std::int32_t));
  return at;
}

inline std::size_t gemm_scratch_bytes(const detail::GemmProblem& p, std::size_t) { return gemm_scratch_layout(p).bytes; }

// Tokens [n0, n0 + kGemmTokens) as [k_quads][kGemmTokens][4], zero past K and past the last
// token, so that padding digits meet zero activations. A vector of each token is a row of a
// square of dwords (missing tokens are zero rows); transposed, each vector is one quad of
// every token, of which the first kGemmTokens lanes are stored.
inline void pack_token_block(const ActivationsView& x, std::size_t n0, std::size_t k_quads, std::int8_t* out) {
  static_assert(kGemmTokens <= kRowsPerVec, "a token block must fit the transposed square");
  constexpr std::size_t kQuadBytes = kGemmTokens * 4;
  const std::size_t count = std::min(kGemmTokens, x.tokens - n0);
  const std::size_t full_vectors = x.cols / kVecBytes;
  for (std::size_t c = 0; c < full_vectors; ++c) {
    Vec v[kRowsPerVec];
    TRIT_UNROLL
    for (std::size_t n = 0; n < kRowsPerVec; ++n) v[n] = n < count ? load(x.row(n0 + n) + c * kVecBytes) : zero();
    transpose_dwords(v);
    TRIT_UNROLL
    for (std::size_t q = 0; q < kRowsPerVec; ++q) {
      store_int32(reinterpret_cast<std::int32_t*>(out + (c * kRowsPerVec + q) * kQuadBytes), v[q], kGemmTokens);
    }
  }
  for (std::size_t kq = full_vectors * kRowsPerVec; kq < k_quads; ++kq) {
    for (std::size_t n = 0; n < kGemmTokens; ++n) {
      std::int8_t quad[4] = {0, 0, 0, 0};
      for (std::size_t k = kq * 4; n < count && k < x.cols && k < kq * 4 + 4; ++k) quad[k - kq * 4] = x.row(n0 + n)[k];
      std::memcpy(out + kq * kQuadBytes + n * 4, quad, 4);
    }
  }
}

// Digits of full groups [g0, g1) of kPanelRows rows straight into panel order, group g0 at
// the panel's start. The chain is byte-wise, so it commutes with moving bytes: transpose the
// packed bytes first (4-byte quads, kRowsPerVec rows per vector), then every digit vector is
// already one quad of kRowsPerVec rows and is stored as it comes. rows[r] points at row r.
inline void decode_full_groups(const std::uint8_t* const* rows, std::size_t g0, std::size_t g1,
                               std::uint8_t* panel) {
  constexpr std::size_t kDigitStride = kQuadsPerDigit * kPanelRows * 4;
  for (std::size_t g = g0; g < g1; ++g) {
    TRIT_UNROLL
    for (std::size_t half = 0; half < 2; ++half) {
      TRIT_UNROLL
      for (int c = 0; c < kChunks; ++c) {
        Vec v[kRowsPerVec];
        TRIT_UNROLL
        for (std::size_t r = 0; r < kRowsPerVec; ++r) {
          v[r] = load(rows[half * kRowsPerVec + r] + g * dense243::kGroupBytes + static_cast<std::size_t>(c) * kVecBytes);
        }
        transpose_dwords(v);
        TRIT_UNROLL
        for (std::size_t q = 0; q < kRowsPerVec; ++q) {
          const std::size_t kq = (g - g0) * kQuadsPerGroup + static_cast<std::size_t>(c) * kRowsPerVec + q;
          std::uint8_t* out = panel + (kq * kPanelRows + half * kRowsPerVec) * 4;
          Vec s = xor80(v[q]);
          TRIT_UNROLL
          for (int i = 0; i < 5; ++i) {
            store(out + static_cast<std::size_t>(i) * kDigitStride, digits(s));
            s = triple(s);
          }
        }
      }
    }
  }
}

// The tail group's digits (k from 320 * full_groups to k_padded, the first at the panel's
// start), through a row-major staging buffer: its digit i of byte j is k = g * i + j, which
// does not fall on quads.
inline void decode_tail_group(const std::uint8_t* const* rows, const dense243::RowLayout& layout,
                              std::size_t k_padded, std::uint8_t* staging, std::uint8_t* panel) {
  constexpr std::size_t kStagingStride = dense243::kGroupTrits + dense243::kGroupBytes;
  const std::size_t offset = layout.full_groups * dense243::kGroupBytes;
  for (std::size_t r = 0; r < kPanelRows; ++r) {
    std::uint8_t* out = staging + r * kStagingStride;
    Vec s[kChunks];
    TRIT_UNROLL
    for (int c = 0; c < kChunks; ++c) s[c] = xor80(load(rows[r] + offset + static_cast<std::size_t>(c) * kVecBytes));
    // Ascending digits, chunks inner: the lanes a store writes past the digit's g bytes land
    // where the next digit's stores write, so the staged digits are exact.
    TRIT_UNROLL
    for (int i = 0; i < 5; ++i) {
      TRIT_UNROLL
      for (int c = 0; c < kChunks; ++c) {
        store(out + static_cast<std::size_t>(i) * layout.tail_bytes + static_cast<std::size_t>(c) * kVecBytes, digits(s[c]));
        s[c] = triple(s[c]);
      }
    }
  }
  // Into panel order a vector of kRowsPerVec rows at a time, as the full groups are; staged
  // bytes past the tail's digits are stale but meet zero activations.
  const std::size_t first_quad = layout.full_groups * kQuadsPerGroup;
  for (std::size_t c = 0; c * kVecBytes < k_padded - first_quad * 4; ++c) {
    TRIT_UNROLL
    for (std::size_t half = 0; half < 2; ++half) {
      Vec v[kRowsPerVec];
      TRIT_UNROLL
      for (std::size_t r = 0; r < kRowsPerVec; ++r) {
        v[r] = load(staging + (half * kRowsPerVec + r) * kStagingStride + c * kVecBytes);
      }
      transpose_dwords(v);
      TRIT_UNROLL
      for (std::size_t q = 0; q < kRowsPerVec; ++q) {
        store(panel + ((c * kRowsPerVec + q) * kPanelRows + half * kRowsPerVec) * 4, v[q]);
      }
    }
  }
}

// out (int32 [NR][kPanelRows]) = its old value when `accumulate`, else 0, plus the digit
// products of k_quads quads of the panel and the packed tokens.
template <int NR>
inline void gemm_micro(const std::uint8_t* panel, const std::int8_t* acts, std::size_t k_quads, bool accumulate,
                       std::int32_t* out) {
  Vec acc[std::size_t{NR}][2];
  TRIT_UNROLL
  for (int n = 0; n < NR; ++n) {
    acc[n][0] = accumulate ? load(out + static_cast<std::size_t>(n) * kPanelRows) : zero();
    acc[n][1] = accumulate ? load(out + static_cast<std::size_t>(n) * kPanelRows + kRowsPerVec) : zero();
  }
  for (std::size_t kq = 0; kq < k_quads; ++kq) {
    const Vec w0 = load(panel + kq * kPanelRows * 4);
    const Vec w1 = load(panel + kq * kPanelRows * 4 + kVecBytes);
    const std::int8_t* quad = acts + kq * kGemmTokens * 4;
    TRIT_UNROLL
    for (int n = 0; n < NR; ++n) {
      const Vec a = broadcast4(quad + n * 4);
      acc[n][0] = dot32(acc[n][0], w0, a);
      acc[n][1] = dot32(acc[n][1], w1, a);
    }
  }
  TRIT_UNROLL
  for (int n = 0; n < NR; ++n) {
    store(out + static_cast<std::size_t>(n) * kPanelRows, acc[n][0]);
    store(out + static_cast<std::size_t>(n) * kPanelRows + kRowsPerVec, acc[n][1]);
  }
}

template <int NR>
inline void gemm_micro_upto(int nr, const std::uint8_t* panel, const std::int8_t* acts, std::size_t k_quads,
                            bool accumulate, std::int32_t* out) {
  if constexpr (NR > 1) {
    if (nr < NR) return gemm_micro_upto<NR - 1>(nr, panel, acts, k_quads, accumulate, out);
  }
  gemm_micro<NR>(panel, acts, k_quads, accumulate, out);
}

inline void gemm_rows(const detail::GemmProblem& p, std::size_t m0, std::size_t m1, std::uint8_t* scratch) noexcept {
  const PackedMatrixView& w = p.w;
  const dense243::RowLayout& layout = w.layout();
  const std::size_t tokens = p.x.tokens;
  const std::size_t k_padded = (w.cols() + 63) / 64 * 64;
  const std::size_t k_quads = k_padded / 4;
  const std::size_t blocks = (tokens + kGemmTokens - 1) / kGemmTokens;
  const std::size_t block_bytes = k_quads * kGemmTokens * 4;
  const std::size_t groups = layout.full_groups + (layout.tail_bytes != 0 ? 1 : 0);
  constexpr std::size_t kTileInts = kGemmTokens * kPanelRows;

  const GemmScratchLayout at = gemm_scratch_layout(p);
  std::int8_t* acts = reinterpret_cast<std::int8_t*>(scratch + at.acts);
  std::uint8_t* panel = scratch + at.panel;
  std::uint8_t* staging = scratch + at.staging;
  std::int32_t* tiles = reinterpret_cast<std::int32_t*>(scratch + at.tiles);
  std::int32_t* act_sums = reinterpret_cast<std::int32_t*>(scratch + at.act_sums);
  for (std::size_t b = 0; b < blocks; ++b) pack_token_block(p.x, b * kGemmTokens, k_quads, acts + b * block_bytes);
  for (std::size_t n = 0; n < tokens; ++n) act_sums[n] = activation_sum(p.x.row(n), w.cols());

  for (std::size_t m = m0; m < m1; m += kPanelRows) {
    // Missing rows repeat the last one; their sums are never stored.
    const std::size_t count = std::min(kPanelRows, m1 - m);
    const std::uint8_t* rows[kPanelRows];
    for (std::size_t r = 0; r < kPanelRows; ++r) rows[r] = w.row(m + std::min(r, count - 1));
    // The next panel's bytes come from L3 or DRAM: fetch each slice's share a panel ahead.
    const std::size_t next = m + kPanelRows < m1 ? m + kPanelRows : m;
    for (std::size_t g0 = 0; g0 < groups; g0 += kSliceGroups) {
      const std::size_t full_end = std::min(g0 + kSliceGroups, layout.full_groups);
      for (std::size_t r = 0; r < kPanelRows && next + r < m1; ++r) {
        for (std::size_t g = g0; g < std::min(g0 + kSliceGroups, groups); ++g) {
          prefetch_l2(w.row(next + r) + g * dense243::kGroupBytes);
        }
      }
      decode_full_groups(rows, g0, full_end, panel);
      std::size_t quads = (full_end - g0) * kQuadsPerGroup;
      if (g0 + kSliceGroups > layout.full_groups && layout.tail_bytes != 0) {
        decode_tail_group(rows, layout, k_padded, staging, panel + quads * kPanelRows * 4);
        quads += k_quads - layout.full_groups * kQuadsPerGroup;
      }
      const std::size_t first_quad = g0 * kQuadsPerGroup;
      for (std::size_t b = 0; b < blocks; ++b) {
        const int nr = static_cast<int>(std::min(kGemmTokens, tokens - b * kGemmTokens));
        gemm_micro_upto<kGemmTokens>(nr, panel, acts + b * block_bytes + first_quad * kGemmTokens * 4, quads, g0 != 0,
                                     tiles + b * kTileInts);
      }
    }
    for (std::size_t b = 0; b < blocks; ++b) {
      const std::size_t n0 = b * kGemmTokens;
      for (std::size_t n = n0; n < std::min(tokens, n0 + kGemmTokens); ++n) {
        store_outputs(p, n, m, count, tiles + b * kTileInts + (n - n0) * kPanelRows, act_sums[n]);
      }
    }
  }
}
