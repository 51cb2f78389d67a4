// libFuzzer target: the int4 layouts. Input: rows - 1 (byte 0, mod 130: one to three 64-row
// tiles, partial ones included), K - 1 (bytes 1..2, mod 400: a full
// 320-trit group and a tail), flags (byte 3), then bytes that
// become trits (b % 3 - 1) and int4 values (b % 16 - 8), reused cyclically.
//   - LutWeights of a valid matrix (tight or padded rows) holds the code of every byte,
//     kZeroCode in padding rows, and to_packed() gives back exactly the matrix;
//   - int4::pack_row / unpack_row and pack_int4 round-trip values in [-8, 7], leave the
//     nibbles and bytes past a row's values zero, and pack_int4 rejects a value outside;
//   - every int4 kernel path this CPU runs equals the reference's exact accumulators.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_support.hpp"
#include "trit/driver/gemm_int4.hpp"
#include "trit/format/lut_weights.hpp"
#include "trit/format/pack.hpp"
#include "trit/paths/cpu_features.hpp"
#include "trit/paths/path_table.hpp"
#include "trit/reference/int4.hpp"
#include "trit/quantize/int4_activations.hpp"
#include "trit/views/int4_activations.hpp"

namespace {

namespace d243 = trit::dense243;

void check_lut(const trit::PackedMatrixView& w) {
  trit::LutWeights lut;
  trit_fuzz::must_not_throw([&] { lut = trit::LutWeights(w); }, "LutWeights of a valid matrix");
  TRIT_FUZZ_CHECK(lut.rows() == w.rows() && lut.cols() == w.cols() && lut.granularity() == w.granularity());
  TRIT_FUZZ_CHECK(lut.positions() == w.row_bytes());
  TRIT_FUZZ_CHECK(lut.tiles() == (w.rows() + trit::lut::kTileRows - 1) / trit::lut::kTileRows);
  for (std::size_t m = 0; m < lut.tiles() * trit::lut::kTileRows; ++m) {
    for (std::size_t p = 0; p < lut.positions(); ++p) {
      const std::uint8_t code = lut.code(m, p);
      if (m >= w.rows()) {
        TRIT_FUZZ_CHECK(code == trit::lut::kZeroCode);
        continue;
      }
      const std::uint8_t byte = w.row(m)[p];
      TRIT_FUZZ_CHECK((code & 0x7F) < trit::lut::kTableEntries);
      TRIT_FUZZ_CHECK(trit::lut::byte_from_code(code) == byte);
      if (m % 61 == 0) {  // the trits a code stands for (a sample of rows: the byte check covers the rest)
        for (int i = 0; i < 5; ++i) TRIT_FUZZ_CHECK(trit::lut::code_trit(code, i) == d243::decode_trit(byte, i));
      }
    }
  }
  trit::PackedMatrix back;
  trit_fuzz::must_not_throw([&] { back = lut.to_packed(); }, "LutWeights::to_packed");
  TRIT_FUZZ_CHECK(back.row_stride() == back.row_bytes());
  TRIT_FUZZ_CHECK(trit_fuzz::same_matrix(w, back, false));
}

void check_int4_rows(const std::vector<std::int8_t>& values, std::size_t cols) {
  std::vector<std::uint8_t> packed((cols + 1) / 2 + 1, 0xEE);
  trit::int4::pack_row(values.data(), cols, packed.data());
  TRIT_FUZZ_CHECK(packed[(cols + 1) / 2] == 0xEE);  // nothing written past the row
  if (cols % 2 == 1) TRIT_FUZZ_CHECK((packed[cols / 2] >> 4) == 0);
  std::vector<std::int8_t> back(cols + 1, 99);
  trit::int4::unpack_row(packed.data(), cols, back.data());
  TRIT_FUZZ_CHECK(back[cols] == 99);
  for (std::size_t k = 0; k < cols; ++k) {
    TRIT_FUZZ_CHECK(back[k] == values[k]);
    TRIT_FUZZ_CHECK(trit::int4::value_at(packed.data(), k) == values[k]);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 5) return 0;
  const std::size_t rows = 1 + data[0] % 130;
  const std::size_t cols = 1 + static_cast<std::size_t>(trit_fuzz::le(data + 1, 2)) % 400;
  const std::uint8_t flags = data[3];
  const std::uint8_t* body = data + 4;
  const std::size_t body_size = size - 4;
  auto byte_at = [&](std::size_t i) { return body[i % body_size]; };

  // The weights: trits from the input, scales 0.5 + byte (per tensor or per row), tight or
  // padded rows.
  const trit::ScaleGranularity granularity =
      (flags & 1) != 0 ? trit::ScaleGranularity::per_row : trit::ScaleGranularity::per_tensor;
  std::vector<std::int8_t> trits(rows * cols);
  for (std::size_t i = 0; i < trits.size(); ++i) trits[i] = static_cast<std::int8_t>(byte_at(i) % 3 - 1);
  std::vector<float> scales(granularity == trit::ScaleGranularity::per_row ? rows : 1);
  for (std::size_t i = 0; i < scales.size(); ++i) scales[i] = 0.5f + static_cast<float>(byte_at(3 * i + 1));
  trit::PackedMatrix tight;
  trit_fuzz::must_not_throw(
      [&] {
        tight = trit::pack_trits(trit::matrix<const std::int8_t>(trits.data(), rows, cols), scales.data(), scales.size(),
                                 granularity);
      },
      "pack_trits of valid trits");
  trit::PackedMatrix w = tight;
  if ((flags & 2) != 0) {
    const std::size_t stride = tight.row_bytes() + 1 + (flags >> 5);
    w = trit::PackedMatrix(rows, cols, granularity, stride);
    w.set_scales(scales.data(), scales.size());
    for (std::size_t m = 0; m < rows; ++m) std::memcpy(w.row(m), tight.row(m), tight.row_bytes());
  }
  check_lut(w);

  // int4 activations: tokens x K values in [-8, 7].
  const std::size_t tokens = 1 + (flags >> 2) % 2;
  std::vector<std::int8_t> values(tokens * cols);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<std::int8_t>(byte_at(i + 7) % 16 - 8);
  for (std::size_t n = 0; n < tokens; ++n) {
    check_int4_rows(std::vector<std::int8_t>(values.begin() + static_cast<std::ptrdiff_t>(n * cols),
                                             values.begin() + static_cast<std::ptrdiff_t>((n + 1) * cols)),
                    cols);
  }
  std::vector<float> token_scales(tokens);
  for (std::size_t n = 0; n < tokens; ++n) token_scales[n] = 1.0f + static_cast<float>(n);
  const trit::ActivationsView q{values.data(), tokens, cols, cols, token_scales.data()};
  trit::PackedInt4Activations x;
  trit_fuzz::must_not_throw([&] { x = trit::pack_int4(q); }, "pack_int4 of values in [-8, 7]");
  TRIT_FUZZ_CHECK(x.tokens() == tokens && x.cols() == cols && x.stride() >= (cols + 1) / 2);
  for (std::size_t n = 0; n < tokens; ++n) {
    TRIT_FUZZ_CHECK(x.scale(n) == token_scales[n]);
    for (std::size_t k = 0; k < cols; ++k) TRIT_FUZZ_CHECK(x.value(n, k) == values[n * cols + k]);
    if (cols % 2 == 1) TRIT_FUZZ_CHECK((x.row(n)[cols / 2] >> 4) == 0);
    for (std::size_t j = (cols + 1) / 2; j < x.stride(); ++j) TRIT_FUZZ_CHECK(x.row(n)[j] == 0);
  }
  if ((flags & 0x10) != 0) {  // one value outside [-8, 7] must be refused
    std::vector<std::int8_t> bad = values;
    bad[byte_at(5) % bad.size()] = static_cast<std::int8_t>((flags & 0x20) != 0 ? 8 + byte_at(6) % 120 : -9 - byte_at(6) % 120);
    bool threw = false;
    try {
      (void)trit::pack_int4(trit::ActivationsView{bad.data(), tokens, cols, cols, token_scales.data()});
    } catch (const std::invalid_argument&) {
      threw = true;
    }
    TRIT_FUZZ_CHECK(threw);
  }

  // Every int4 path against the reference, on the LUT layout of the (maybe padded) matrix.
  const trit::LutWeights lut(w);
  std::vector<std::int32_t> want(tokens * rows), got(tokens * rows);
  trit::ref::gemm_int4_int32_rows(w, x, trit::matrix(want.data(), tokens, rows), 0, rows);
  for (trit::Isa isa : trit::paths_with_product(trit::kProductLutInt4)) {
    if (!trit::isa_supported(isa)) continue;
    std::fill(got.begin(), got.end(), 0x5a5a5a5a);
    trit_fuzz::must_not_throw(
        [&] { trit::gemm_int4_int32(lut, x, trit::matrix(got.data(), tokens, rows), trit::GemmOptions{isa, 1}); },
        "gemm_int4_int32");
    if (got != want) {
      std::fprintf(stderr, "trit fuzz: int4 path %s disagrees with the reference (%zux%zu, %zu tokens)\n",
                   trit::isa_name(isa), rows, cols, tokens);
      std::abort();
    }
  }
  return 0;
}
