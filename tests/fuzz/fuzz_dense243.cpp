// libFuzzer target: trit::validate_packed_rows on untrusted Dense243 bytes. Input: rows - 1
// (byte 0, mod 8), K - 1 (bytes 1..2, little-endian, mod 1400: up to four full 320-trit groups
// and a tail), stride padding (byte 3, mod 8), then the row bytes (fewer rows when the input
// runs out). The validator's verdict must equal an independent one (the 243 bytes encode()
// makes, zero padding trits, zero stride bytes); valid rows must unpack to -1/0/+1 trits that
// pack back to exactly the input bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_support.hpp"
#include "trit/format/dense243.hpp"
#include "trit/format/pack.hpp"

namespace {

namespace d243 = trit::dense243;

// The independent verdict: built from encode() over all 3^5 trit patterns and from the row
// layout's definition (docs/FORMAT.md), not from validate_packed_rows' code.
bool valid_rows(const std::uint8_t* bytes, std::size_t rows, std::size_t cols, std::size_t stride) {
  static const std::vector<bool> valid = [] {
    std::vector<bool> v(256, false);
    for (int a = -1; a <= 1; ++a)
      for (int b = -1; b <= 1; ++b)
        for (int c = -1; c <= 1; ++c)
          for (int d = -1; d <= 1; ++d)
            for (int e = -1; e <= 1; ++e) v[d243::encode(a, b, c, d, e)] = true;
    return v;
  }();
  const d243::RowLayout layout = d243::row_layout(cols);
  std::vector<bool> is_trit(layout.bytes * 5, false);  // which (byte, digit) slots hold a real trit
  for (std::size_t k = 0; k < cols; ++k) {
    const d243::TritPosition at = d243::locate(layout, k);
    TRIT_FUZZ_CHECK(at.byte < layout.bytes && at.digit >= 0 && at.digit < 5);
    TRIT_FUZZ_CHECK(!is_trit[at.byte * 5 + static_cast<std::size_t>(at.digit)]);  // locate is one-to-one
    is_trit[at.byte * 5 + static_cast<std::size_t>(at.digit)] = true;
  }
  for (std::size_t m = 0; m < rows; ++m) {
    const std::uint8_t* row = bytes + m * stride;
    for (std::size_t j = 0; j < layout.bytes; ++j) {
      if (!valid[row[j]]) return false;
      for (int i = 0; i < 5; ++i) {
        if (!is_trit[j * 5 + static_cast<std::size_t>(i)] && d243::decode_trit(row[j], i) != 0) return false;
      }
    }
    for (std::size_t j = layout.bytes; j < stride; ++j) {
      if (row[j] != 0) return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  const std::size_t cols = 1 + static_cast<std::size_t>(trit_fuzz::le(data + 1, 2)) % 1400;
  const std::size_t stride = d243::row_layout(cols).bytes + data[3] % 8;
  const std::size_t available = size - 4;
  const std::size_t rows = std::min<std::size_t>(1 + data[0] % 8, available / stride);
  if (rows == 0) return 0;
  // The bytes in a buffer of their own with the slack the format asks for after the last row.
  std::vector<std::uint8_t> bytes(rows * stride + d243::kTailSlackBytes, 0);
  std::memcpy(bytes.data(), data + 4, rows * stride);

  const bool accepted = trit_fuzz::documented([&] { trit::validate_packed_rows(bytes.data(), rows, cols, stride); });
  const bool expected = valid_rows(bytes.data(), rows, cols, stride);
  if (accepted != expected) {
    std::fprintf(stderr, "validate_packed_rows says %s, the independent check %s (%zux%zu, stride %zu)\n",
                 accepted ? "valid" : "invalid", expected ? "valid" : "invalid", rows, cols, stride);
    std::abort();
  }
  if (!accepted) return 0;

  const float scale = 1.0f;
  trit::PackedMatrixView view;
  trit_fuzz::must_not_throw(
      [&] { view = trit::PackedMatrixView(bytes.data(), rows, cols, stride, trit::ScaleGranularity::per_tensor, &scale); },
      "PackedMatrixView over valid rows");
  // unpack -> pack gives the input bytes exactly (pack_trits makes tight rows).
  trit_fuzz::check_unpack_pack(view);
  // Each trit the view reports is the digit the format puts there.
  for (std::size_t m = 0; m < rows; ++m) {
    for (std::size_t k = 0; k < cols; ++k) {
      const d243::TritPosition at = d243::locate(view.layout(), k);
      TRIT_FUZZ_CHECK(view.trit(m, k) == d243::decode_trit(bytes[m * stride + at.byte], at.digit));
    }
  }
  return 0;
}
