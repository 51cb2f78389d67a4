// The Dense243 byte codec and row layout, checked against docs/FORMAT.md: every byte value,
// every trit 5-tuple, and the layout of every K up to 700 plus the worked sizes.
#include <trit/format/dense243.hpp>
#include <trit/format/pack.hpp>
#include <trit/format/packed_matrix.hpp>
#include <trit/format/serialize.hpp>

#include <gtest/gtest.h>

#include "test_support.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

using trit_test::throws_with;
using trit_test::fnv1a64;
using trit_test::reseal;

namespace d243 = trit::dense243;

// The 13 byte values FORMAT.md lists as invalid: the ones ceil(v * 256 / 243) never produces.
constexpr std::array<int, 13> kInvalidBytes = {1, 20, 40, 60, 79, 99, 119, 138, 158, 178, 197, 217, 237};

bool listed_invalid(int b) {
  for (int invalid : kInvalidBytes) {
    if (invalid == b) return true;
  }
  return false;
}

// FORMAT.md section 1, written out independently of dense243.hpp: digits d_i = t_i + 1, base-3
// value with d0 most significant, stored as ceil(v * 256 / 243).
int format_byte(const std::array<int, 5>& trits) {
  int v = 0;
  for (int t : trits) v = v * 3 + (t + 1);
  return (v * 256 + 242) / 243;
}

// FORMAT.md's decoding chain: x_0 = b, x_{i+1} = 3 x_i mod 256, d_i = (3 x_i) >> 8.
std::array<int, 5> format_digits(int b) {
  std::array<int, 5> digits{};
  unsigned x = static_cast<unsigned>(b);
  for (int i = 0; i < 5; ++i) {
    digits[i] = static_cast<int>((3 * x) >> 8);
    x = (3 * x) & 0xFF;
  }
  return digits;
}




// The constants are usable at compile time, which kernels and tables rely on.
static_assert(d243::kZeroByte == 128, "five zero trits are byte 128");
static_assert(d243::encode(-1, -1, -1, -1, -1) == 0, "five -1 trits are byte 0");
static_assert(d243::encode(1, 1, 1, 1, 1) == 255, "five +1 trits are byte 255");
static_assert(d243::decode_trit(255, 4) == 1, "decode_trit is constexpr");
static_assert(d243::row_layout(6912).bytes == 1383, "row_layout is constexpr");

TEST(Dense243Byte, ExactlyTheListedThirteenBytesAreInvalid) {
  int valid = 0;
  for (int b = 0; b < 256; ++b) {
    const bool is_valid = d243::is_valid_byte(static_cast<std::uint8_t>(b));
    valid += is_valid ? 1 : 0;
    EXPECT_EQ(is_valid, !listed_invalid(b)) << "byte " << b;
  }
  EXPECT_EQ(valid, 243);
  EXPECT_EQ(d243::kValidByteCount, 243);
}

TEST(Dense243Byte, ValidBytesAreExactlyTheImagesOfBase3Values) {
  std::set<int> images;
  for (int v = 0; v < 243; ++v) images.insert((v * 256 + 242) / 243);
  ASSERT_EQ(images.size(), 243u) << "the fixed-point image must be injective";
  for (int b = 0; b < 256; ++b) {
    EXPECT_EQ(d243::is_valid_byte(static_cast<std::uint8_t>(b)), images.count(b) == 1) << "byte " << b;
  }
}

TEST(Dense243Byte, EveryTritTupleRoundTripsThroughEncodeAndDecode) {
  std::set<int> produced;
  for (int code = 0; code < 243; ++code) {
    std::array<int, 5> t{};
    int rest = code;
    for (int i = 4; i >= 0; --i) {
      t[i] = rest % 3 - 1;
      rest /= 3;
    }
    const std::uint8_t b = d243::encode(t[0], t[1], t[2], t[3], t[4]);
    EXPECT_EQ(int{b}, format_byte(t)) << "tuple " << code;
    EXPECT_TRUE(d243::is_valid_byte(b)) << "tuple " << code;
    for (int i = 0; i < 5; ++i) EXPECT_EQ(d243::decode_trit(b, i), t[i]) << "tuple " << code << " digit " << i;
    produced.insert(b);
  }
  EXPECT_EQ(produced.size(), 243u);
}

TEST(Dense243Byte, DecodeMatchesTheFormatChainForAllBytes) {
  for (int b = 0; b < 256; ++b) {
    const std::array<int, 5> digits = format_digits(b);
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(d243::decode_trit(static_cast<std::uint8_t>(b), i), digits[i] - 1) << "byte " << b << " digit " << i;
    }
  }
}

TEST(Dense243Byte, ValidBytesEncodeTheirOwnDigits) {
  for (int b = 0; b < 256; ++b) {
    if (!d243::is_valid_byte(static_cast<std::uint8_t>(b))) continue;
    const std::array<int, 5> d = format_digits(b);
    const std::array<int, 5> t = {d[0] - 1, d[1] - 1, d[2] - 1, d[3] - 1, d[4] - 1};
    EXPECT_EQ(format_byte(t), b);
    EXPECT_EQ(int{d243::encode(t[0], t[1], t[2], t[3], t[4])}, b);
  }
}

// Kernels rely on these identities to multiply chain bytes without extracting digits, so
// they must agree with what decode_trit says each digit is.
TEST(Dense243Byte, ChainIdentitiesHoldForAllBytes) {
  for (int b = 0; b < 256; ++b) {
    unsigned x = static_cast<unsigned>(b);
    for (int i = 0; i < 5; ++i) {
      const unsigned next = (3 * x) & 0xFF;
      const int digit = static_cast<int>((3 * x) >> 8);
      EXPECT_EQ(256 * digit, 3 * static_cast<int>(x) - static_cast<int>(next)) << "byte " << b << " digit " << i;
      EXPECT_EQ(digit, (x >= 86 ? 1 : 0) + (x >= 171 ? 1 : 0)) << "byte " << b << " digit " << i;
      EXPECT_EQ(d243::decode_trit(static_cast<std::uint8_t>(b), i), digit - 1) << "byte " << b << " digit " << i;
      const int s = static_cast<int>(x) - 128;  // x XOR 0x80 read as int8
      const int s_next = static_cast<int>(next) - 128;
      EXPECT_EQ(static_cast<std::int8_t>(3 * s), static_cast<std::int8_t>(s_next)) << "byte " << b << " digit " << i;
      EXPECT_EQ(256 * (digit - 1), 3 * s - s_next) << "byte " << b << " digit " << i;
      x = next;
    }
  }
}

TEST(Dense243Byte, SpecialBytes) {
  EXPECT_EQ(d243::kZeroByte, 128);
  EXPECT_EQ(d243::byte_from_value(0), 0);
  EXPECT_EQ(d243::byte_from_value(121), 128);
  EXPECT_EQ(d243::byte_from_value(242), 255);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(d243::decode_trit(0, i), -1);
    EXPECT_EQ(d243::decode_trit(128, i), 0);
    EXPECT_EQ(d243::decode_trit(255, i), 1);
  }
}

TEST(Dense243Byte, ValidatorRejectsEachInvalidByteAnywhereInARow) {
  // K = 700: two full groups and a 60-trit tail of 12 bytes, 140 bytes in all.
  const std::size_t cols = 700;
  const std::size_t row_bytes = d243::row_layout(cols).bytes;
  ASSERT_EQ(row_bytes, 140u);
  for (int bad : kInvalidBytes) {
    for (std::size_t at : {std::size_t{0}, std::size_t{63}, std::size_t{64}, std::size_t{130}, row_bytes - 1}) {
      std::vector<std::uint8_t> rows(2 * row_bytes, d243::kZeroByte);
      rows[row_bytes + at] = static_cast<std::uint8_t>(bad);
      EXPECT_TRUE(throws_with<trit::format_error>([&] { trit::validate_packed_rows(rows.data(), 2, cols, row_bytes); },
                                                  "row 1 byte " + std::to_string(at) + " = " + std::to_string(bad) +
                                                      " is not a valid Dense243 byte"));
    }
  }
}

TEST(Dense243Byte, ValidatorAcceptsEveryValidByteInAFullGroup) {
  const std::size_t cols = 320;
  for (int b = 0; b < 256; ++b) {
    if (listed_invalid(b)) continue;
    std::vector<std::uint8_t> row(64, d243::kZeroByte);
    row[17] = static_cast<std::uint8_t>(b);
    EXPECT_NO_THROW(trit::validate_packed_rows(row.data(), 1, cols, 64)) << "byte " << b;
  }
}

TEST(Dense243Byte, DeserializeRejectsEachInvalidByte) {
  const trit::PackedMatrix packed(2, 9, trit::ScaleGranularity::per_tensor);
  const std::vector<std::uint8_t> good = trit::serialize(packed);
  // Version 2: the one scale is padded to byte 128, where the rows start; 64 bytes of tail
  // slack follow the two 2-byte rows.
  const std::size_t first_row_byte = 128;
  ASSERT_EQ(good.size(), first_row_byte + 2 * 2 + trit::dense243::kTailSlackBytes);
  ASSERT_NO_THROW(trit::deserialize(good));
  for (int bad : kInvalidBytes) {
    std::vector<std::uint8_t> blob = good;
    blob[first_row_byte + 3] = static_cast<std::uint8_t>(bad);
    reseal(blob);
    EXPECT_TRUE(throws_with<trit::format_error>([&] { trit::deserialize(blob); },
                                                "row 1 byte 1 = " + std::to_string(bad)));
  }
}

// ---- Row layout ------------------------------------------------------------------------------

TEST(Dense243Layout, RowLayoutForEveryKUpTo700) {
  for (std::size_t k = 1; k <= 700; ++k) {
    const d243::RowLayout layout = d243::row_layout(k);
    EXPECT_EQ(layout.cols, k);
    EXPECT_EQ(layout.full_groups, k / 320) << "K = " << k;
    EXPECT_EQ(layout.tail_trits, k % 320) << "K = " << k;
    EXPECT_EQ(layout.tail_bytes, (k % 320 + 4) / 5) << "K = " << k;
    // 320 is a multiple of 5, so a row is always ceil(K / 5) bytes.
    EXPECT_EQ(layout.bytes, (k + 4) / 5) << "K = " << k;
    EXPECT_EQ(layout.bytes, 64 * layout.full_groups + layout.tail_bytes) << "K = " << k;
  }
}

// Walks the groups as FORMAT.md describes them ("byte j digit i holds trit j + g*i of the
// group") and checks that locate() is the inverse, and that exactly the tail's excess
// positions are left over as padding.
void expect_locate_matches_format(std::size_t cols) {
  const d243::RowLayout layout = d243::row_layout(cols);
  std::vector<std::pair<std::size_t, int>> owner(cols, {~std::size_t{0}, -1});
  std::size_t padding = 0;
  std::size_t group_start_trit = 0;
  std::size_t group_start_byte = 0;
  while (group_start_trit < cols) {
    const std::size_t remaining = cols - group_start_trit;
    const std::size_t group_trits = remaining >= 320 ? 320 : remaining;
    const std::size_t g = remaining >= 320 ? 64 : (remaining + 4) / 5;
    for (std::size_t j = 0; j < g; ++j) {
      for (int i = 0; i < 5; ++i) {
        const std::size_t t = j + g * static_cast<std::size_t>(i);
        if (t < group_trits) {
          owner[group_start_trit + t] = {group_start_byte + j, i};
        } else {
          ++padding;
        }
      }
    }
    group_start_trit += group_trits;
    group_start_byte += g;
  }
  ASSERT_EQ(group_start_byte, layout.bytes) << "K = " << cols;
  EXPECT_EQ(padding, 5 * layout.bytes - cols) << "K = " << cols;
  for (std::size_t k = 0; k < cols; ++k) {
    const d243::TritPosition at = d243::locate(layout, k);
    ASSERT_EQ(at.byte, owner[k].first) << "K = " << cols << ", trit " << k;
    ASSERT_EQ(at.digit, owner[k].second) << "K = " << cols << ", trit " << k;
  }
}

TEST(Dense243Layout, LocateForEveryKUpTo700) {
  for (std::size_t k = 1; k <= 700; ++k) expect_locate_matches_format(k);
}

TEST(Dense243Layout, LocateForTheWorkedSizes) {
  for (std::size_t k : {2560u, 6912u, 3200u, 11008u}) expect_locate_matches_format(k);
}

TEST(Dense243Layout, WorkedSizesFromFormatDoc) {
  const d243::RowLayout k2560 = d243::row_layout(2560);
  EXPECT_EQ(k2560.full_groups, 8u);
  EXPECT_EQ(k2560.tail_trits, 0u);
  EXPECT_EQ(k2560.tail_bytes, 0u);
  EXPECT_EQ(k2560.bytes, 512u);
  EXPECT_EQ(trit::PackedMatrix(3, 2560, trit::ScaleGranularity::per_tensor).bits_per_weight(), 1.6);

  const d243::RowLayout k6912 = d243::row_layout(6912);
  EXPECT_EQ(k6912.full_groups, 21u);
  EXPECT_EQ(k6912.tail_trits, 192u);
  EXPECT_EQ(k6912.tail_bytes, 39u);
  EXPECT_EQ(k6912.bytes, 1383u);
  EXPECT_NEAR(trit::PackedMatrix(3, 6912, trit::ScaleGranularity::per_tensor).bits_per_weight(), 1.6007, 5e-5);

  const d243::RowLayout k3200 = d243::row_layout(3200);
  EXPECT_EQ(k3200.full_groups, 10u);
  EXPECT_EQ(k3200.tail_trits, 0u);
  EXPECT_EQ(k3200.tail_bytes, 0u);
  EXPECT_EQ(k3200.bytes, 640u);
  EXPECT_EQ(trit::PackedMatrix(3, 3200, trit::ScaleGranularity::per_tensor).bits_per_weight(), 1.6);

  const d243::RowLayout k11008 = d243::row_layout(11008);
  EXPECT_EQ(k11008.full_groups, 34u);
  EXPECT_EQ(k11008.tail_trits, 128u);
  EXPECT_EQ(k11008.tail_bytes, 26u);
  EXPECT_EQ(k11008.bytes, 2202u);
  EXPECT_NEAR(trit::PackedMatrix(3, 11008, trit::ScaleGranularity::per_tensor).bits_per_weight(), 1.6003, 5e-5);
}

TEST(Dense243Layout, TailPositionsOfK6912) {
  const d243::RowLayout layout = d243::row_layout(6912);
  // First tail trit: byte 0 of the tail group (which starts at 21 * 64), digit 0.
  const d243::TritPosition first_tail = d243::locate(layout, 6720);
  EXPECT_EQ(first_tail.byte, 1344u);
  EXPECT_EQ(first_tail.digit, 0);
  // Tail trit 39 is byte 0 digit 1: the tail's stride between digits is g = 39 bytes.
  const d243::TritPosition second_digit = d243::locate(layout, 6720 + 39);
  EXPECT_EQ(second_digit.byte, 1344u);
  EXPECT_EQ(second_digit.digit, 1);
  // Last trit: 191 = 35 + 39 * 4.
  const d243::TritPosition last = d243::locate(layout, 6911);
  EXPECT_EQ(last.byte, 1344u + 35u);
  EXPECT_EQ(last.digit, 4);
  // In a full group the digit stride is 64 bytes.
  const d243::TritPosition in_full = d243::locate(layout, 320 * 5 + 64 * 3 + 7);
  EXPECT_EQ(in_full.byte, 64u * 5 + 7);
  EXPECT_EQ(in_full.digit, 3);
}

}  // namespace
