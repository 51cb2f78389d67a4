// trit/io without fixtures: the JSON parser, fp16 conversions, the ternary codecs against
// upstream's own worked example, the scale conventions, and the model file.
#include "io_test_util.hpp"

#include <cmath>
#include <filesystem>
#include <limits>

using namespace trit_io_test;

namespace {
// Each test process removes its own scratch directory when it ends.
struct RemoveTempDir : ::testing::Environment {
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(temp_dir(), ignored);
  }
};
::testing::Environment* const kRemoveTempDir = ::testing::AddGlobalTestEnvironment(new RemoveTempDir);
}  // namespace

TEST(Json, ParsesValuesExactly) {
  const trit::JsonValue v = trit::JsonParser::parse(
      R"( {"a": [1, -2.5e3, 18446744073709551615, true, false, null], "s": "x\u00e9\ud83d\ude00\n", "o": {}} )", "test");
  ASSERT_TRUE(v.is_object());
  const auto& a = v.find("a")->items();
  ASSERT_EQ(a.size(), 6u);
  EXPECT_TRUE(a[0].is_uint64());
  EXPECT_EQ(a[0].as_uint64(), 1u);
  EXPECT_EQ(a[1].as_double(), -2500.0);
  EXPECT_FALSE(a[1].is_uint64());
  EXPECT_EQ(a[2].as_uint64(), 18446744073709551615ull);
  EXPECT_TRUE(a[3].as_bool());
  EXPECT_TRUE(a[5].is_null());
  EXPECT_EQ(v.find("s")->as_string(), "x\xc3\xa9\xf0\x9f\x98\x80\n");
  EXPECT_TRUE(v.find("o")->is_object());
}

TEST(Json, RejectsWhatIsNotStrictJson) {
  const char* bad[] = {"{\"a\":1,}", "[1,]", "{\"a\":01}", "{\"a\":1,\"a\":2}", "\"\x01\"", "\"\\ud800\"", "\"\\udc00\"",
                       "[1] x", "{'a':1}", "{\"a\" 1}", "[-]", "1.", "1e", "tru", "\"abc", "/*c*/1", "[1 2]", "\"\\q\"", ""};
  for (const char* text : bad) {
    std::string message;
    EXPECT_TRUE(throws_clean_error([&] { trit::JsonParser::parse(text, "test"); }, &message)) << text;
    EXPECT_NE(message.find("at byte"), std::string::npos) << message;
  }
  std::string deep(trit::JsonParser::kMaxDepth + 2, '[');
  deep += std::string(trit::JsonParser::kMaxDepth + 2, ']');
  EXPECT_TRUE(throws_clean_error([&] { trit::JsonParser::parse(deep, "test"); }));
}

TEST(Half, ConversionsRoundTripAndRoundToNearestEven) {
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const float f = trit::detail::half_to_float(static_cast<std::uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(trit::detail::float_to_half(f), h) << h;
  }
  // docs/CHECKPOINTS.md: a float32 BitNet scale loses precision in a TQ block.
  EXPECT_EQ(trit::detail::half_to_float(trit::detail::float_to_half(0.0123456789f)), 0.01234436f);
  EXPECT_EQ(trit::detail::float_to_half(65520.0f), 0x7C00);  // rounds to infinity
  EXPECT_EQ(trit::detail::float_to_half(1.0f + 1.0f / 2048), 0x3C00);  // tie to even
  EXPECT_EQ(trit::detail::float_to_half(1.0f + 3.0f / 2048), 0x3C02);
  EXPECT_EQ(trit::detail::bf16_to_float(0x3F80), 1.0f);
}

// transformers' unpack_weights docstring (integrations/bitnet.py) works this example by hand.
TEST(HfPacked, MatchesTransformersWorkedExample) {
  const std::uint8_t packed[] = {0b10100001, 0b00011000, 0b10010000, 0b00001010};
  const float weight_scale = 4.0f;
  const trit::PackedMatrix m = trit::import_hf_packed(packed, 2, 2, trit::TensorType::f32,
                                                      reinterpret_cast<const std::uint8_t*>(&weight_scale), 1, "example");
  const std::vector<std::int8_t> expected = {0, -1, -1, 1, -1, 1, -1, 1, 1, 0, 0, -1, 1, -1, 1, -1};
  EXPECT_EQ(trits_of(m), expected);
  // BitLinear divides by weight_scale: trit's scale is its inverse.
  EXPECT_EQ(m.scale(0), 0.25f);
  const trit::PackedMatrix multiplied = trit::import_hf_packed(packed, 2, 2, trit::TensorType::f32,
                                                               reinterpret_cast<const std::uint8_t*>(&weight_scale), 1, "example",
                                                               trit::HfWeightScale::multiplies);
  EXPECT_EQ(multiplied.scale(0), 4.0f);
}

TEST(HfPacked, RejectsCodeThreeAndBadScales) {
  const std::uint8_t packed[] = {0b11000000};
  const float one = 1.0f;
  expect_error<trit::format_error>(
      [&] { trit::import_hf_packed(packed, 1, 1, trit::TensorType::f32, reinterpret_cast<const std::uint8_t*>(&one), 1, "w"); },
      {"tensor \"w\"", "code 3", "row 3"});
  const std::uint8_t ok[] = {0b01010101};
  const float zero = 0.0f;
  expect_error<trit::format_error>(
      [&] { trit::import_hf_packed(ok, 1, 1, trit::TensorType::f32, reinterpret_cast<const std::uint8_t*>(&zero), 1, "w"); },
      {"weight_scale[0] = 0"});
  const std::uint8_t int_scale[4] = {1, 0, 0, 0};
  expect_error<trit::format_error>([&] { trit::import_hf_packed(ok, 1, 1, trit::TensorType::i32, int_scale, 1, "w"); },
                                   {"weight_scale is I32, expected F32, F16 or BF16"});
}

namespace {
std::vector<std::int8_t> random_trits(std::size_t n, unsigned seed) {
  std::vector<std::int8_t> t(n);
  for (std::size_t i = 0; i < n; ++i) {
    seed = seed * 1103515245u + 12345u;
    t[i] = static_cast<std::int8_t>(static_cast<int>((seed >> 16) % 3) - 1);
  }
  return t;
}
}  // namespace

TEST(TernaryCodecs, Tq2AndI2sRoundTripExactly) {
  const std::size_t m = 6, k = 512;
  std::vector<std::int8_t> t = random_trits(m * k, 7);
  for (std::size_t i = 0; i < k; ++i) t[2 * k + i] = 0;  // a zero row
  const float scale = 0.5f;
  const trit::PackedMatrix w = trit::pack_trits(trit::matrix(t.data(), m, k), &scale, 1);
  const std::vector<std::uint8_t> tq2 = trit::export_tq2_0(w);
  ASSERT_EQ(tq2.size(), m * 2 * 66);
  const trit::PackedMatrix back = trit::import_tq2_0(tq2.data(), tq2.size(), m, k, "w");
  EXPECT_EQ(trits_of(back), t);
  EXPECT_EQ(back.granularity(), trit::ScaleGranularity::per_tensor);
  EXPECT_EQ(back.scale(0), 0.5f);
  EXPECT_EQ(trit::export_tq2_0(back), tq2);
  // The zero row's blocks carry d = 0, as gguf's quantizer writes them.
  EXPECT_EQ(tq2[2 * 2 * 66 + 64], 0);
  EXPECT_EQ(tq2[2 * 2 * 66 + 65], 0);

  const std::vector<std::uint8_t> i2s = trit::export_i2_s(w);
  ASSERT_EQ(i2s.size(), m * k / 4 + 32);
  const trit::PackedMatrix back2 = trit::import_i2_s(i2s.data(), i2s.size(), m, k, "w");
  EXPECT_EQ(trits_of(back2), t);
  EXPECT_EQ(back2.scale(0), 0.5f);
  EXPECT_EQ(trit::export_i2_s(back2), i2s);
}

TEST(TernaryCodecs, NonTernaryCodesAndMixedScalesAreRefused) {
  std::vector<std::uint8_t> tq2(66, 0x55);  // every weight 0
  tq2[64] = 0x00;
  tq2[65] = 0x3C;  // d = 1
  tq2[10] = 0xFF;
  expect_error<trit::format_error>([&] { trit::import_tq2_0(tq2.data(), tq2.size(), 1, 256, "blk.3.ffn_up.weight"); },
                                   {"tensor \"blk.3.ffn_up.weight\"", "code 3", "weight (0, 10)"});
  std::vector<std::uint8_t> i2s(64 / 4 * 2 + 32, 0x55);
  i2s[3] = 0xC0;
  expect_error<trit::format_error>([&] { trit::import_i2_s(i2s.data(), i2s.size(), 1, 128, "w"); }, {"code 3", "weight (0, 3)"});

  // Two blocks of one row with different d.
  std::vector<std::uint8_t> two(2 * 66, 0x55);
  two[0] = 0x56;  // weight 0 = +1
  two[66] = 0x56;
  two[64] = 0x00; two[65] = 0x3C;            // 1.0
  two[66 + 64] = 0x00; two[66 + 65] = 0x40;  // 2.0
  expect_error<trit::format_error>([&] { trit::import_tq2_0(two.data(), two.size(), 1, 512, "blk.0.attn_k.weight"); },
                                   {"tensor \"blk.0.attn_k.weight\"", "row 0", "different scales", "refusing to guess"});
  // Rows that differ but are each consistent: per-row.
  two[66 + 65] = 0x3C;
  const trit::PackedMatrix rows = trit::import_tq2_0(two.data(), two.size(), 2, 256, "w");
  EXPECT_EQ(rows.granularity(), trit::ScaleGranularity::per_tensor);
  two[66 + 65] = 0x40;
  const trit::PackedMatrix per_row = trit::import_tq2_0(two.data(), two.size(), 2, 256, "w");
  EXPECT_EQ(per_row.granularity(), trit::ScaleGranularity::per_row);
  EXPECT_EQ(per_row.scale(0), 1.0f);
  EXPECT_EQ(per_row.scale(1), 2.0f);
  // Non-zero trits under d = 0: not ternary with a positive scale.
  two[66 + 65] = 0x00;
  expect_error<trit::format_error>([&] { trit::import_tq2_0(two.data(), two.size(), 2, 256, "w"); }, {"row 1 block 0", "scale 0"});
}

TEST(TernaryCodecs, Tq1DecodesTheDigitPositionsOfGgml) {
  // One block: weight i = the trit (i % 3) - 1, packed as quantize_row_tq1_0_ref does.
  std::vector<std::int8_t> w(256);
  for (int i = 0; i < 256; ++i) w[static_cast<std::size_t>(i)] = static_cast<std::int8_t>(i % 3 - 1);
  std::vector<std::uint8_t> block(54, 0);
  const auto byte = [&](std::initializer_list<int> positions) {
    int v = 0;
    for (int p : positions) v = v * 3 + (p < 0 ? 0 : w[static_cast<std::size_t>(p)] + 1);
    return static_cast<std::uint8_t>((v * 256 + 242) / 243);
  };
  for (int j = 0; j < 32; ++j) block[static_cast<std::size_t>(j)] = byte({j, j + 32, j + 64, j + 96, j + 128});
  for (int j = 0; j < 16; ++j) block[static_cast<std::size_t>(32 + j)] = byte({160 + j, 176 + j, 192 + j, 208 + j, 224 + j});
  for (int j = 0; j < 4; ++j) block[static_cast<std::size_t>(48 + j)] = byte({240 + j, 244 + j, 248 + j, 252 + j, -1});
  block[52] = 0x00;
  block[53] = 0x38;  // 0.5
  const trit::PackedMatrix m = trit::import_tq1_0(block.data(), block.size(), 1, 256, "w");
  EXPECT_EQ(trits_of(m), w);
  EXPECT_EQ(m.scale(0), 0.5f);
}

TEST(TernaryCodecs, ShapeAndSizeChecks) {
  std::vector<std::uint8_t> bytes(66, 0x55);
  expect_error<trit::format_error>([&] { trit::import_tq2_0(bytes.data(), bytes.size(), 1, 200, "w"); }, {"multiple of 256"});
  expect_error<trit::format_error>([&] { trit::import_tq2_0(bytes.data(), 65, 1, 256, "w"); }, {"65 bytes do not hold"});
  expect_error<trit::format_error>([&] { trit::import_i2_s(bytes.data(), bytes.size(), 1, 100, "w"); }, {"multiple of 128"});
  const float s = 1.0f;
  std::vector<std::int8_t> t(2 * 256, 1);
  const trit::PackedMatrix per_row = trit::pack_trits(trit::matrix(t.data(), 2, 256), std::vector<float>{1.0f, 2.0f}.data(), 2,
                                                      trit::ScaleGranularity::per_row);
  EXPECT_THROW(trit::export_i2_s(per_row), std::invalid_argument);
  const trit::PackedMatrix odd = trit::pack_trits(trit::matrix(t.data(), 1, 100), &s, 1);
  EXPECT_THROW(trit::export_tq2_0(odd), std::invalid_argument);
}

namespace {
trit::PackedMatrix sample_matrix(std::size_t m, std::size_t k, unsigned seed, trit::ScaleGranularity g) {
  const std::vector<std::int8_t> t = random_trits(m * k, seed);
  std::vector<float> scales(g == trit::ScaleGranularity::per_row ? m : 1);
  for (std::size_t i = 0; i < scales.size(); ++i) scales[i] = 0.01f * static_cast<float>(i + 1);
  return trit::pack_trits(trit::matrix(t.data(), m, k), scales.data(), scales.size(), g);
}

std::string write_sample_model(const std::string& path) {
  trit::ModelWriter writer;
  writer.add_string("general.architecture", "bitnet-b1.58");
  std::vector<std::uint8_t> u32 = {7, 0, 0, 0};
  writer.add_metadata("block_count", trit::MetadataType::u32, u32);
  const trit::PackedMatrix a = sample_matrix(33, 700, 1, trit::ScaleGranularity::per_tensor);
  const trit::PackedMatrix b = sample_matrix(5, 64, 2, trit::ScaleGranularity::per_row);
  writer.add_matrix("a.weight", a);
  writer.add_matrix("b.weight", b);
  static const float norm[3] = {1.0f, 2.0f, 3.0f};
  writer.add_raw("norm.weight", trit::TensorType::f32, {3}, reinterpret_cast<const std::uint8_t*>(norm), sizeof norm);
  writer.write(path);
  return path;
}
}  // namespace

TEST(ModelFile, MapsMatricesInPlaceAndServesGemm) {
  const std::string path = write_sample_model(temp_dir() + "/trit_io_sample.trit");
  const trit::ModelFile model = trit::ModelFile::open(path);
  ASSERT_EQ(model.tensors().size(), 3u);
  const trit::PackedMatrixView a = model.matrix("a.weight");
  // No copy: the packed bytes and the scales lie inside the mapping.
  EXPECT_TRUE(model.mapping().contains(a.data()));
  EXPECT_TRUE(model.mapping().contains(a.scales()));
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.data()) % 64, 0u);
  const trit::PackedMatrix original = sample_matrix(33, 700, 1, trit::ScaleGranularity::per_tensor);
  EXPECT_EQ(trits_of(a), trits_of(original));
  const trit::PackedMatrixView b = model.matrix("b.weight");
  EXPECT_EQ(b.granularity(), trit::ScaleGranularity::per_row);
  EXPECT_EQ(b.scale(4), 0.01f * 5.0f);

  std::vector<float> x(3 * 700);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i));
  const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix(static_cast<const float*>(x.data()), 3, 700));
  std::vector<float> y(3 * 33), y_ref(3 * 33);
  trit::gemm(a, q, trit::matrix(y.data(), 3, 33));
  trit::ref::gemm_rows(original.view(), q, trit::matrix(y_ref.data(), 3, 33), nullptr, 0, 33);
  for (std::size_t i = 0; i < y.size(); ++i) EXPECT_EQ(bits(y[i]), bits(y_ref[i])) << i;

  EXPECT_EQ(model.contents().find_metadata("general.architecture")->as_string(), "bitnet-b1.58");
  EXPECT_EQ(model.contents().find_metadata("block_count")->as_u64(), 7u);
  const trit::ModelTensor* norm = model.contents().find_tensor("norm.weight");
  ASSERT_NE(norm, nullptr);
  float values[3];
  std::memcpy(values, norm->data, sizeof values);
  EXPECT_EQ(values[2], 3.0f);
  EXPECT_THROW(model.matrix("norm.weight"), std::invalid_argument);
  EXPECT_THROW(model.matrix("missing"), std::invalid_argument);
}

TEST(ModelFile, EveryDamagedByteOrCutIsAClearError) {
  const std::string path = write_sample_model(temp_dir() + "/trit_io_damaged.trit");
  const std::vector<std::uint8_t> good = read_bytes(path);
  const std::string bad = temp_dir() + "/trit_io_damaged_copy.trit";
  // Cut at every length up to the data, then a stride through the data.
  for (std::size_t cut = 0; cut < good.size(); cut += cut < 1024 ? 1 : 97) {
    write_bytes(bad, std::vector<std::uint8_t>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut)));
    ASSERT_TRUE(throws_clean_error([&] { trit::ModelFile::open(bad); })) << "cut at " << cut;
  }
  // Flip one bit in the index or in a tensor: a checksum catches it. (Zero padding between
  // tensors is covered by none, and is never read.)
  const trit::ModelFile model = trit::ModelFile::open(path);
  const auto covered = [&](std::size_t at) {
    if (at < model.tensors().front().offset) return true;
    for (const auto& t : model.tensors()) {
      if (at >= t.offset && at < t.offset + t.bytes) return true;
    }
    return false;
  };
  std::size_t checked = 0;
  for (std::size_t at = 0; at < good.size(); at += at < 1024 ? 1 : 61) {
    if (!covered(at)) continue;
    std::vector<std::uint8_t> damaged = good;
    damaged[at] ^= 0x10;
    write_bytes(bad, damaged);
    std::string message;
    ASSERT_TRUE(throws_clean_error([&] { trit::ModelFile::open(bad); }, &message)) << "bit flipped at " << at;
    EXPECT_NE(message.find(bad), std::string::npos) << message;
    ++checked;
  }
  EXPECT_GT(checked, 1000u);
}

// TwoBit matrices (TRIT_TWO_BIT tensors) beside Dense243 ones: served in place as
// TwoBitMatrixViews, the same trits and scales, the same products, each accessor refusing
// the other layout.
TEST(ModelFile, TwoBitMatricesRoundTripInPlace) {
  const trit::PackedMatrix a = sample_matrix(33, 700, 1, trit::ScaleGranularity::per_tensor);
  const trit::PackedMatrix b = sample_matrix(70, 257, 3, trit::ScaleGranularity::per_row);
  const trit::TwoBitMatrix b2 = trit::to_two_bit(b);
  const trit::TwoBitMatrix c2 = trit::to_two_bit(sample_matrix(1, 1, 4, trit::ScaleGranularity::per_tensor));
  trit::ModelWriter writer;
  writer.add_matrix("a.weight", a);
  writer.add_matrix("b.weight", b2);
  writer.add_matrix("c.weight", c2);
  const std::string path = temp_dir() + "/trit_io_two_bit.trit";
  writer.write(path);

  const trit::ModelFile model = trit::ModelFile::open(path);
  ASSERT_EQ(model.tensors().size(), 3u);
  const trit::ModelTensor* tb = model.contents().find_tensor("b.weight");
  ASSERT_NE(tb, nullptr);
  EXPECT_EQ(tb->type, trit::TensorType::trit_two_bit_matrix);
  EXPECT_TRUE(tb->is_two_bit_matrix());
  EXPECT_TRUE(tb->is_ternary_matrix());
  EXPECT_FALSE(tb->is_matrix());
  EXPECT_EQ(tb->layout(), trit::WeightLayout::two_bit);
  EXPECT_EQ(model.contents().find_tensor("a.weight")->layout(), trit::WeightLayout::dense243);
  EXPECT_EQ((std::vector<std::uint64_t>{70, 257}), tb->dims);
  EXPECT_EQ(trit::tensor_type_name(tb->type), "TRIT_TWO_BIT");

  const trit::TwoBitMatrixView v = model.two_bit_matrix("b.weight");
  EXPECT_TRUE(model.mapping().contains(v.data()));
  EXPECT_TRUE(model.mapping().contains(v.scales()));
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(v.data()) % 64, 0u);
  EXPECT_EQ(v.granularity(), trit::ScaleGranularity::per_row);
  ASSERT_EQ(v.weight_bytes(), b2.weight_bytes());
  EXPECT_EQ(std::memcmp(v.data(), b2.data(), v.weight_bytes()), 0);
  for (std::size_t m = 0; m < v.rows(); ++m) EXPECT_EQ(bits(v.scale(m)), bits(b.scale(m))) << m;
  EXPECT_EQ(trits_of(trit::to_dense243(v)), trits_of(b));
  EXPECT_EQ(model.two_bit_matrix("c.weight").cols(), 1u);

  std::vector<float> x(3 * 257);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i));
  const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix(static_cast<const float*>(x.data()), 3, 257));
  std::vector<float> y(3 * 70), y_ref(3 * 70);
  trit::gemm(v, q, trit::matrix(y.data(), 3, 70));
  trit::ref::gemm_rows(b.view(), q, trit::matrix(y_ref.data(), 3, 70), nullptr, 0, 70);
  for (std::size_t i = 0; i < y.size(); ++i) EXPECT_EQ(bits(y[i]), bits(y_ref[i])) << i;
  // A layer can borrow the mapped TwoBit weights.
  const trit::BitLinear layer(v);
  EXPECT_TRUE(layer.borrows_weights());
  EXPECT_EQ(layer.layout(), trit::WeightLayout::two_bit);
  EXPECT_EQ(layer.forward(x), trit::BitLinear(b).forward(x));

  expect_error<std::invalid_argument>([&] { model.matrix("b.weight"); }, {"TRIT_TWO_BIT", "not a TRIT_MATRIX"});
  expect_error<std::invalid_argument>([&] { model.two_bit_matrix("a.weight"); }, {"TRIT_MATRIX", "not a TRIT_TWO_BIT"});
  EXPECT_THROW(model.two_bit_matrix("missing"), std::invalid_argument);
}

// A TRIT_TWO_BIT tensor is checked as deserialize_two_bit checks a blob, even when its table
// checksum is right (the writer computes it over the damaged bytes): each error names the
// tensor and what is wrong.
TEST(ModelFile, DamagedTwoBitTensorsAreRejected) {
  const trit::TwoBitMatrix w = trit::to_two_bit(sample_matrix(9, 300, 5, trit::ScaleGranularity::per_row));
  const std::vector<std::uint8_t> good = trit::serialize(w.view());
  const auto reseal = [](std::vector<std::uint8_t> blob) {  // the blob's own checksum, brought up to date
    const std::uint64_t sum = trit::detail::blob_checksum(blob.data(), blob.size());
    for (std::size_t i = 0; i < 8; ++i) blob[56 + i] = static_cast<std::uint8_t>(sum >> (8 * i));
    return blob;
  };
  const std::string path = temp_dir() + "/trit_io_two_bit_damaged.trit";
  const auto expect_rejected = [&](const std::vector<std::uint8_t>& blob, std::vector<std::uint64_t> dims,
                                   const std::string& what, trit::TensorType type = trit::TensorType::trit_two_bit_matrix) {
    trit::ModelWriter writer;
    writer.add_raw("w", type, std::move(dims), blob.data(), blob.size());
    writer.write(path);
    expect_error<trit::format_error>([&] { trit::ModelFile::open(path); }, {path, "tensor \"w\"", what});
  };
  const std::size_t rows_offset = 64 + 64;  // 9 scales pad to one 64-byte line
  std::vector<std::uint8_t> blob = good;
  blob[rows_offset + 3] = 0xFF;
  expect_rejected(reseal(blob), {9, 300}, "invalid code 3");
  blob = good;
  blob[rows_offset + 127] = 0x15;  // group 1 byte 63: k = 319, 383, 447, 511, all padding (K = 300): code 1 only
  expect_rejected(reseal(blob), {9, 300}, "padding trit");
  blob = good;
  blob[64] ^= 0x01;  // a scale, checksum left stale
  expect_rejected(blob, {9, 300}, "checksum mismatch");
  blob = good;
  blob[64 + 3] = 0xFF;  // scale 0 becomes NaN
  expect_rejected(reseal(blob), {9, 300}, "scale 0");
  expect_rejected(good, {9, 301}, "table shape disagrees with its 9x300 matrix blob");
  expect_rejected(good, {300}, "table shape disagrees");
  expect_rejected(std::vector<std::uint8_t>(good.begin(), good.end() - 1), {9, 300}, "truncated");
  // Each layout's blob under the other's type.
  expect_rejected(good, {9, 300}, "bad magic", trit::TensorType::trit_matrix);
  const std::vector<std::uint8_t> dense = trit::serialize(sample_matrix(9, 300, 5, trit::ScaleGranularity::per_row).view());
  expect_rejected(dense, {9, 300}, "bad magic: not a trit TwoBit matrix blob");
  // The untouched blob loads.
  trit::ModelWriter writer;
  writer.add_raw("w", trit::TensorType::trit_two_bit_matrix, {9, 300}, good.data(), good.size());
  writer.write(path);
  EXPECT_EQ(trit::ModelFile::open(path).two_bit_matrix("w").rows(), 9u);
}

TEST(Gguf, RejectsTruncatedAndLyingHeaders) {
  // A minimal GGUF v3: one u32 key, one F32 tensor of 4 elements.
  std::vector<std::uint8_t> g;
  const auto u32 = [&](std::uint64_t v) { trit::detail::put_le(g, v, 4); };
  const auto u64 = [&](std::uint64_t v) { trit::detail::put_le(g, v, 8); };
  const auto str = [&](const std::string& s) { u64(s.size()); g.insert(g.end(), s.begin(), s.end()); };
  u32(0x46554747); u32(3); u64(1); u64(1);
  str("general.alignment"); u32(4); u32(32);
  const std::size_t name_at = g.size();
  str("t"); u32(1); u64(4); u32(0); u64(0);
  g.resize(96, 0);  // the data section, at the next multiple of 32
  for (int i = 0; i < 16; ++i) g.push_back(static_cast<std::uint8_t>(i));
  const trit::GgufContents ok = trit::GgufContents::parse(g.data(), g.size(), "mem.gguf");
  ASSERT_EQ(ok.tensors().size(), 1u);
  EXPECT_EQ(ok.tensors()[0].data, g.data() + 96);
  EXPECT_EQ(ok.tensors()[0].bytes, 16u);

  for (std::size_t cut = 0; cut < g.size(); ++cut) {
    EXPECT_TRUE(throws_clean_error([&] { trit::GgufContents::parse(g.data(), cut, "mem.gguf"); })) << cut;
  }
  // Version 2 has the same layout (64-bit counts and lengths).
  std::vector<std::uint8_t> v2 = g;
  v2[4] = 2;
  EXPECT_EQ(trit::GgufContents::parse(v2.data(), v2.size(), "mem.gguf").version(), 2u);
  const auto patched = [&](std::size_t at, std::uint64_t value, int bytes) {
    std::vector<std::uint8_t> copy = g;
    for (int b = 0; b < bytes; ++b) copy[at + static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(value >> (8 * b));
    return copy;
  };
  const auto fails_with = [&](const std::vector<std::uint8_t>& bytes, const std::string& part) {
    expect_error<trit::format_error>([&] { trit::GgufContents::parse(bytes.data(), bytes.size(), "mem.gguf"); }, {"mem.gguf", part});
  };
  fails_with(patched(0, 0x46554748, 4), "bad magic");
  fails_with(patched(4, 1, 4), "unsupported GGUF version 1");
  fails_with(patched(8, std::uint64_t{1} << 60, 8), "tensor count");
  fails_with(patched(16, std::uint64_t{1} << 60, 8), "metadata count");
  fails_with(patched(24, std::uint64_t{1} << 40, 8), "metadata key length");
  fails_with(patched(24 + 8 + 17, 13, 4), "unknown value type 13");
  fails_with(patched(24 + 8 + 17 + 4, 48, 4), "not a power of two");
  const std::size_t dims_at = name_at + 8 + 1;
  fails_with(patched(dims_at, 5, 4), "5 dimensions");
  fails_with(patched(dims_at + 4, std::uint64_t{1} << 62, 8), "implausible dimension");
  fails_with(patched(dims_at + 12, 99, 4), "unknown tensor type 99");
  fails_with(patched(dims_at + 12, 35, 4), "multiple of 256");
  fails_with(patched(dims_at + 16, 32, 8), "runs past the end");
  fails_with(patched(dims_at + 16, 3, 8), "not a multiple of the alignment");
  fails_with(patched(dims_at + 16, ~std::uint64_t{0} - 31, 8), "runs past the end");
}

TEST(Safetensors, RejectsLyingHeaders) {
  const auto make = [](const std::string& header, std::size_t data_bytes) {
    std::vector<std::uint8_t> f;
    trit::detail::put_le(f, header.size(), 8);
    f.insert(f.end(), header.begin(), header.end());
    f.resize(f.size() + data_bytes, 0);
    return f;
  };
  const auto parse = [](const std::vector<std::uint8_t>& f) { return trit::SafetensorsContents::parse(f.data(), f.size(), "mem.st"); };
  const auto ok = make(R"({"__metadata__":{"format":"pt"},"b":{"dtype":"F16","shape":[2],"data_offsets":[8,12]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 12);
  const trit::SafetensorsContents contents = parse(ok);
  ASSERT_EQ(contents.tensors().size(), 2u);
  EXPECT_EQ(contents.find_tensor("b")->file_offset, ok.size() - 4);
  EXPECT_EQ(contents.metadata()[0].second, "pt");
  const auto fails_with = [&](const std::vector<std::uint8_t>& f, const std::string& part) {
    expect_error<trit::format_error>([&] { parse(f); }, {"mem.st", part});
  };
  fails_with(make(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 7), "outside");
  fails_with(make(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "need 12");
  fails_with(make(R"({"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", 8), "unknown dtype");
  fails_with(make(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8), "outside");
  fails_with(make(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8), "not a non-negative integer");
  fails_with(make(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}})", 8), "overflows");
  fails_with(make(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", 8), "exactly the fields");
  fails_with(make(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}})", 3), "overlaps");
  fails_with(make(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", 3), "cover 2 data bytes");
  fails_with(make(R"({"a":1,})", 0), "at byte");
  std::vector<std::uint8_t> huge = ok;
  trit::detail::get_le(huge.data(), 8);
  huge[7] = 0x7F;
  fails_with(huge, "exceeds the 100 MB limit");
  huge[7] = 0;
  huge[0] = static_cast<std::uint8_t>(huge[0] + 100);
  fails_with(huge, "runs past the end");
  for (std::size_t cut = 0; cut < ok.size(); ++cut) {
    EXPECT_TRUE(throws_clean_error([&] { trit::SafetensorsContents::parse(ok.data(), cut, "mem.st"); })) << cut;
  }
}

TEST(Convert, ProjectionNamesAreRecognised) {
  using trit::detail::is_gguf_projection;
  using trit::detail::is_hf_projection;
  EXPECT_TRUE(is_gguf_projection("blk.12.ffn_down.weight"));
  EXPECT_TRUE(is_gguf_projection("blk.0.attn_output.weight"));
  EXPECT_FALSE(is_gguf_projection("blk.x.ffn_down.weight"));
  EXPECT_FALSE(is_gguf_projection("blk..ffn_down.weight"));
  EXPECT_FALSE(is_gguf_projection("blk.0.ffn_down.weight.scale"));
  EXPECT_FALSE(is_gguf_projection("token_embd.weight"));
  EXPECT_TRUE(is_hf_projection("model.layers.0.mlp.down_proj.weight"));
  EXPECT_TRUE(is_hf_projection("model.layers.3.self_attn.o_proj.weight"));
  EXPECT_FALSE(is_hf_projection("lm_head.weight"));
  EXPECT_FALSE(is_hf_projection("model.layers.0.mlp.down_proj.weight_scale"));
}
