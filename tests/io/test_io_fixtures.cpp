// trit/io on fixtures written by the upstream writers (tests/fixtures/write_fixtures.py): exact
// trits and scales, byte-exact export, convert -> map -> GEMM, and malformed variants.
#include "io_test_util.hpp"

#include <algorithm>
#include <cmath>

using namespace trit_io_test;

namespace {

trit::PackedMatrix import_gguf_tensor(const trit::GgufTensor& t) {
  const std::size_t rows = static_cast<std::size_t>(t.dims[1]), cols = static_cast<std::size_t>(t.dims[0]);
  switch (t.type) {
    case trit::TensorType::tq1_0: return trit::import_tq1_0(t.data, t.bytes, rows, cols, t.name);
    case trit::TensorType::tq2_0: return trit::import_tq2_0(t.data, t.bytes, rows, cols, t.name);
    case trit::TensorType::i2_s: return trit::import_i2_s(t.data, t.bytes, rows, cols, t.name);
    default: throw std::invalid_argument("not ternary");
  }
}

// y from the mapped view through the dispatched kernels == the reference on the original trits.
void expect_gemm_matches_reference(const trit::PackedMatrixView& mapped, const Expected& e) {
  const std::size_t m = mapped.rows(), k = mapped.cols(), n = 3;
  const trit::PackedMatrix original =
      trit::pack_trits(trit::matrix(e.trits.data(), m, k), e.scales.data(), e.scales.size(),
                       e.scales.size() == 1 ? trit::ScaleGranularity::per_tensor : trit::ScaleGranularity::per_row);
  std::vector<float> x(n * k);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::cos(0.37f * static_cast<float>(i)) * 3.0f;
  const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix(static_cast<const float*>(x.data()), n, k));
  std::vector<float> y(n * m), y_ref(n * m);
  trit::gemm(mapped, q, trit::matrix(y.data(), n, m));
  trit::ref::gemm_rows(original.view(), q, trit::matrix(y_ref.data(), n, m), nullptr, 0, m);
  for (std::size_t i = 0; i < y.size(); ++i) ASSERT_EQ(bits(y[i]), bits(y_ref[i])) << "output " << i;
}

std::string converted(const std::string& source, const std::string& name) {
  const std::string out = temp_dir() + "/trit_io_" + name + ".trit";
  trit::convert_checkpoint(source, out);
  return out;
}

}  // namespace

TEST(GgufFixtures, TqAndI2sImportExactTritsAndScales) {
  TRIT_REQUIRE_FIXTURES();
  for (const std::string fixture : {"tq1_0", "tq2_0", "i2_s"}) {
    const trit::GgufFile file = trit::GgufFile::open(fx + "/" + fixture + ".gguf");
    std::size_t ternary = 0;
    for (const trit::GgufTensor& t : file.contents().tensors()) {
      if (!trit::is_ternary_type(t.type)) continue;
      ++ternary;
      const Expected e = expected(fx, fixture, t.name);
      const trit::PackedMatrix m = import_gguf_tensor(t);
      expect_matrix(m, e, fixture + ": " + t.name);
    }
    EXPECT_EQ(ternary, 2u) << fixture;
  }
  // The per-row tensor imports per row; the per-tensor one keeps fp16's rounding of 0.0123456789.
  const trit::GgufFile tq2 = trit::GgufFile::open(fx + "/tq2_0.gguf");
  EXPECT_EQ(import_gguf_tensor(*tq2.contents().find_tensor("blk.0.ffn_up.weight")).granularity(), trit::ScaleGranularity::per_row);
  const trit::PackedMatrix q = import_gguf_tensor(*tq2.contents().find_tensor("blk.0.attn_q.weight"));
  EXPECT_EQ(q.granularity(), trit::ScaleGranularity::per_tensor);
  EXPECT_EQ(q.scale(0), 0.01234436f);
}

TEST(GgufFixtures, ExportReproducesTheUpstreamBytes) {
  TRIT_REQUIRE_FIXTURES();
  const trit::GgufFile tq2 = trit::GgufFile::open(fx + "/tq2_0.gguf");
  for (const char* name : {"blk.0.attn_q.weight", "blk.0.ffn_up.weight"}) {
    const trit::GgufTensor& t = *tq2.contents().find_tensor(name);
    const std::vector<std::uint8_t> bytes = trit::export_tq2_0(import_gguf_tensor(t));
    EXPECT_TRUE(bytes == std::vector<std::uint8_t>(t.data, t.data + t.bytes)) << name;
  }
  const trit::GgufFile i2s = trit::GgufFile::open(fx + "/i2_s.gguf");
  for (const char* name : {"blk.0.attn_q.weight", "blk.0.ffn_down.weight"}) {
    const trit::GgufTensor& t = *i2s.contents().find_tensor(name);
    const std::vector<std::uint8_t> bytes = trit::export_i2_s(import_gguf_tensor(t));
    EXPECT_TRUE(bytes == std::vector<std::uint8_t>(t.data, t.data + t.bytes)) << name;
  }
  // TQ1_0 -> trit -> TQ2_0 -> trit: the same trits and scales.
  const trit::GgufFile tq1 = trit::GgufFile::open(fx + "/tq1_0.gguf");
  const trit::GgufTensor& t = *tq1.contents().find_tensor("blk.0.ffn_up.weight");
  const trit::PackedMatrix a = import_gguf_tensor(t);
  const std::vector<std::uint8_t> as_tq2 = trit::export_tq2_0(a);
  const trit::PackedMatrix b = trit::import_tq2_0(as_tq2.data(), as_tq2.size(), a.rows(), a.cols(), t.name);
  EXPECT_EQ(trits_of(a), trits_of(b));
  EXPECT_EQ(a.scales(), b.scales());
}

TEST(GgufFixtures, MetadataOfEveryTypeIsRead) {
  TRIT_REQUIRE_FIXTURES();
  const trit::GgufFile file = trit::GgufFile::open(fx + "/tq1_0.gguf");
  const auto& c = file.contents();
  EXPECT_EQ(c.version(), 3u);
  EXPECT_EQ(c.find_metadata("general.architecture")->as_string(), "bitnet-b1.58");
  EXPECT_EQ(c.find_metadata("bitnet-b1.58.context_length")->as_u64(), 4096u);
  EXPECT_EQ(c.find_metadata("bitnet-b1.58.attention.layer_norm_rms_epsilon")->as_double(), static_cast<double>(1e-5f));
  EXPECT_EQ(c.find_metadata("trit.fixture.i64")->as_double(), -1234567890123.0);
  EXPECT_EQ(c.find_metadata("trit.fixture.f64")->as_double(), 2.5);
  EXPECT_EQ(c.find_metadata("trit.fixture.flag")->as_double(), 1.0);
  const trit::MetadataEntry* tokens = c.find_metadata("tokenizer.ggml.tokens");
  EXPECT_EQ(tokens->array_type(), trit::MetadataType::string);
  EXPECT_EQ(tokens->array_size(), 5u);
  EXPECT_EQ(tokens->describe(), "[string x 5] {\"<s>\", \"</s>\", \"hello\", \"w??rld\", \"\"}");
  EXPECT_EQ(c.find_metadata("trit.fixture.i32s")->describe(), "[i32 x 3] {1, -2, 3}");
}

TEST(GgufFixtures, ConvertMapGemmEqualsReferenceWithNoCopy) {
  TRIT_REQUIRE_FIXTURES();
  for (const std::string fixture : {"tq1_0", "tq2_0", "i2_s"}) {
    SCOPED_TRACE(fixture);
    const trit::GgufFile source = trit::GgufFile::open(fx + "/" + fixture + ".gguf");
    const trit::ModelFile model = trit::ModelFile::open(converted(fx + "/" + fixture + ".gguf", fixture));
    ASSERT_EQ(model.tensors().size(), source.contents().tensors().size());
    for (const trit::GgufTensor& t : source.contents().tensors()) {
      const trit::ModelTensor* out = model.contents().find_tensor(t.name);
      ASSERT_NE(out, nullptr) << t.name;
      EXPECT_EQ(std::vector<std::uint64_t>(t.dims.rbegin(), t.dims.rend()), out->dims) << t.name;
      if (trit::is_ternary_type(t.type)) {
        ASSERT_TRUE(out->is_matrix());
        EXPECT_TRUE(model.mapping().contains(out->matrix.data()));
        EXPECT_TRUE(model.mapping().contains(out->matrix.scales()));
        const Expected e = expected(fx, fixture, t.name);
        expect_matrix(out->matrix, e, t.name);
        expect_gemm_matches_reference(out->matrix, e);
      } else {
        EXPECT_EQ(out->type, t.type);
        ASSERT_EQ(out->bytes, t.bytes);
        EXPECT_EQ(std::memcmp(out->data, t.data, t.bytes), 0) << t.name;
      }
    }
    // Every metadata entry, tokenizer included, carried byte for byte.
    for (const trit::MetadataEntry& entry : source.contents().metadata()) {
      const trit::MetadataEntry* carried = model.contents().find_metadata(entry.key);
      ASSERT_NE(carried, nullptr) << entry.key;
      EXPECT_EQ(carried->type, entry.type);
      ASSERT_EQ(carried->value_bytes, entry.value_bytes);
      EXPECT_EQ(std::memcmp(carried->value, entry.value, entry.value_bytes), 0) << entry.key;
    }
    EXPECT_EQ(model.contents().find_metadata("trit.source_format")->as_string(), "gguf");
  }
}

// --layout two_bit and auto: the same trits and scales, stored as TwoBit (auto: where
// recommend_layout says so, every fixture matrix being small), products equal to the reference.
TEST(GgufFixtures, ConvertToTwoBitKeepsTritsAndScales) {
  TRIT_REQUIRE_FIXTURES();
  for (const trit::ConvertLayout layout : {trit::ConvertLayout::two_bit, trit::ConvertLayout::automatic}) {
    for (const std::string fixture : {"tq1_0", "tq2_0", "i2_s"}) {
      SCOPED_TRACE(fixture + " " + trit::convert_layout_name(layout));
      const trit::GgufFile source = trit::GgufFile::open(fx + "/" + fixture + ".gguf");
      const std::string out = temp_dir() + "/trit_io_" + fixture + "_" + trit::convert_layout_name(layout) + ".trit";
      trit::ConvertOptions options;
      options.layout = layout;
      options.layout_threads = 2;
      const trit::ConvertSummary summary = trit::convert_checkpoint(fx + "/" + fixture + ".gguf", out, options);
      const trit::ModelFile model = trit::ModelFile::open(out);
      std::size_t ternary = 0;
      for (const trit::GgufTensor& t : source.contents().tensors()) {
        if (!trit::is_ternary_type(t.type)) continue;
        ++ternary;
        const trit::ModelTensor* tensor = model.contents().find_tensor(t.name);
        ASSERT_NE(tensor, nullptr) << t.name;
        const bool expect_two_bit = layout == trit::ConvertLayout::two_bit ||
                                    trit::recommend_layout(static_cast<std::size_t>(t.dims[1]),
                                                           static_cast<std::size_t>(t.dims[0]), 2) == trit::WeightLayout::two_bit;
        ASSERT_EQ(tensor->is_two_bit_matrix(), expect_two_bit) << t.name;
        if (!expect_two_bit) continue;
        EXPECT_TRUE(model.mapping().contains(tensor->two_bit.data()));
        const Expected e = expected(fx, fixture, t.name);
        const trit::PackedMatrix dense = trit::to_dense243(tensor->two_bit);
        expect_matrix(dense, e, t.name);
        expect_gemm_matches_reference(dense, e);
        // The mapped TwoBit view itself through the dispatched TwoBit kernels.
        const std::size_t m = dense.rows(), k = dense.cols();
        std::vector<float> x(2 * k);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::cos(0.37f * static_cast<float>(i)) * 3.0f;
        const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix(static_cast<const float*>(x.data()), 2, k));
        std::vector<float> y(2 * m), y_ref(2 * m);
        trit::gemm(tensor->two_bit, q, trit::matrix(y.data(), 2, m));
        trit::ref::gemm_rows(dense.view(), q, trit::matrix(y_ref.data(), 2, m), nullptr, 0, m);
        for (std::size_t i = 0; i < y.size(); ++i) ASSERT_EQ(bits(y[i]), bits(y_ref[i])) << "output " << i;
      }
      EXPECT_GT(ternary, 0u);
      EXPECT_EQ(summary.matrices_imported, ternary);
      if (layout == trit::ConvertLayout::two_bit) {
        EXPECT_EQ(summary.matrices_two_bit, ternary);
      }
      EXPECT_NE(model.contents().find_metadata("trit.weight_layout"), nullptr);
    }
  }
}

TEST(GgufFixtures, FloatProjectionsGoThroughAbsmean) {
  TRIT_REQUIRE_FIXTURES();
  const trit::GgufFile source = trit::GgufFile::open(fx + "/f32.gguf");
  const trit::ModelFile model = trit::ModelFile::open(converted(fx + "/f32.gguf", "f32"));
  for (const char* name : {"blk.0.attn_v.weight", "blk.0.ffn_gate.weight"}) {
    const trit::GgufTensor& t = *source.contents().find_tensor(name);
    const std::size_t rows = static_cast<std::size_t>(t.dims[1]), cols = static_cast<std::size_t>(t.dims[0]);
    std::vector<float> w(rows * cols);
    for (std::size_t i = 0; i < w.size(); ++i) trit::detail::read_float_element(t.type, t.data, i, &w[i]);
    const trit::PackedMatrix expected_matrix = trit::pack_weights(trit::matrix(static_cast<const float*>(w.data()), rows, cols));
    const trit::PackedMatrixView mapped = model.matrix(name);
    EXPECT_EQ(trits_of(mapped), trits_of(expected_matrix)) << name;
    EXPECT_EQ(mapped.scales()[0], expected_matrix.scale(0)) << name;
  }
  EXPECT_FALSE(model.contents().find_tensor("output.weight")->is_matrix());
}

TEST(GgufFixtures, MixedBlockScalesAreRefusedNamingTheTensor) {
  TRIT_REQUIRE_FIXTURES();
  const std::string out = temp_dir() + "/trit_io_mixed.trit";
  std::remove(out.c_str());
  expect_error<trit::format_error>([&] { trit::convert_checkpoint(fx + "/tq2_0_mixed.gguf", out); },
                                   {"tq2_0_mixed.gguf", "tensor \"blk.0.attn_k.weight\"", "file offset", "different scales"});
  // Atomic output: nothing written.
  std::ifstream probe(out);
  EXPECT_FALSE(static_cast<bool>(probe));
}

TEST(GgufFixtures, MalformedVariantsAreClearErrors) {
  TRIT_REQUIRE_FIXTURES();
  const std::string path = fx + "/tq2_0.gguf";
  const std::vector<std::uint8_t> good = read_bytes(path);
  const trit::GgufFile file = trit::GgufFile::open(path);
  const std::string bad = temp_dir() + "/trit_io_bad.gguf";
  const std::string out = temp_dir() + "/trit_io_bad.trit";
  const auto convert_fails_with = [&](const std::vector<std::uint8_t>& bytes, const std::vector<std::string>& parts) {
    write_bytes(bad, bytes);
    std::vector<std::string> with_file = parts;
    with_file.push_back(bad);
    expect_error<trit::format_error>([&] { trit::convert_checkpoint(bad, out); }, with_file);
  };
  // Truncated at many lengths: always a format_error, never a crash.
  for (std::size_t cut = 0; cut + 32 < good.size(); cut += cut < 2048 ? 7 : 331) {  // (the last 32 bytes may be padding)
    write_bytes(bad, std::vector<std::uint8_t>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut)));
    std::string message;
    ASSERT_TRUE(throws_clean_error([&] { trit::convert_checkpoint(bad, out); }, &message)) << cut;
  }
  // Find tensor info fields by the name that precedes them.
  const auto info_of = [&](const std::string& name) {
    const std::string needle = name;
    auto it = std::search(good.begin(), good.end(), needle.begin(), needle.end());
    return static_cast<std::size_t>(it - good.begin()) + needle.size();  // -> n_dims
  };
  const auto patched = [&](std::size_t at, std::uint64_t value, int bytes) {
    std::vector<std::uint8_t> copy = good;
    for (int b = 0; b < bytes; ++b) copy[at + static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(value >> (8 * b));
    return copy;
  };
  const std::size_t q = info_of("blk.0.attn_q.weight");  // n_dims(4) dims(2x8) type(4) offset(8)
  convert_fails_with(patched(q + 20, 99, 4), {"tensor \"blk.0.attn_q.weight\"", "unknown tensor type 99"});
  convert_fails_with(patched(q + 24, good.size(), 8), {"blk.0.attn_q.weight", "runs past the end"});
  convert_fails_with(patched(q + 4, std::uint64_t{1} << 50, 8), {"blk.0.attn_q.weight", "implausible dimension"});
  convert_fails_with(patched(8, std::uint64_t{1} << 61, 8), {"tensor count"});
  convert_fails_with(patched(16, ~std::uint64_t{0}, 8), {"metadata count"});
  // A lying string length inside the tokenizer array.
  const std::string token = "hello";
  const std::size_t token_at = static_cast<std::size_t>(std::search(good.begin(), good.end(), token.begin(), token.end()) - good.begin());
  convert_fails_with(patched(token_at - 8, std::uint64_t{1} << 40, 8), {"string", "runs past the end"});
  // A non-ternary code in a TQ2_0 tensor's data.
  const trit::GgufTensor& t = *file.contents().find_tensor("blk.0.attn_q.weight");
  std::vector<std::uint8_t> code3 = good;
  code3[static_cast<std::size_t>(t.data - file.mapping().data()) + 5] = 0xFF;
  convert_fails_with(code3, {"tensor \"blk.0.attn_q.weight\"", "file offset", "code 3"});
  // A ternary type on a 1-D tensor.
  std::vector<std::uint8_t> one_dim = patched(info_of("blk.0.attn_norm.weight") + 4 + 8, 35, 4);
  convert_fails_with(one_dim, {"blk.0.attn_norm.weight"});
}

TEST(SafetensorsFixtures, HfPackedImportsExactlyWithTheInverseScale) {
  TRIT_REQUIRE_FIXTURES();
  const trit::SafetensorsFile file = trit::SafetensorsFile::open(fx + "/hf_packed/model.safetensors");
  for (const char* prefix : {"model.layers.0.self_attn.q_proj", "model.layers.0.mlp.down_proj"}) {
    const std::string name = std::string(prefix) + ".weight";
    const trit::SafetensorsTensor& w = *file.contents().find_tensor(name);
    const trit::SafetensorsTensor& s = *file.contents().find_tensor(std::string(prefix) + ".weight_scale");
    const trit::PackedMatrix m = trit::import_hf_packed(w.data, static_cast<std::size_t>(w.shape[0]), static_cast<std::size_t>(w.shape[1]),
                                                        s.type, s.data, s.elements, name);
    expect_matrix(m, expected(fx, "hf_packed", name), name);
  }
  // weight_scale 2.5 (F32) -> trit scale 1/2.5.
  const trit::SafetensorsTensor& s = *file.contents().find_tensor("model.layers.0.self_attn.q_proj.weight_scale");
  float ws;
  std::memcpy(&ws, s.data, 4);
  EXPECT_EQ(ws, 2.5f);
  EXPECT_EQ(expected(fx, "hf_packed", "model.layers.0.self_attn.q_proj.weight").scales[0], 1.0f / 2.5f);
}

TEST(SafetensorsFixtures, ConvertDirectoriesAndShardsMapGemmEqualsReference) {
  TRIT_REQUIRE_FIXTURES();
  struct Case {
    const char* fixture;
    std::vector<std::string> weights;
  };
  const Case cases[] = {
      {"hf_packed", {"model.layers.0.self_attn.q_proj.weight", "model.layers.0.mlp.down_proj.weight"}},
      {"hf_sharded", {"model.layers.0.self_attn.k_proj.weight", "model.layers.1.self_attn.v_proj.weight"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.fixture);
    const trit::ModelFile model = trit::ModelFile::open(converted(fx + "/" + c.fixture, c.fixture));
    for (const std::string& name : c.weights) {
      const trit::PackedMatrixView view = model.matrix(name);
      EXPECT_TRUE(model.mapping().contains(view.data()));
      const Expected e = expected(fx, c.fixture, name);
      expect_matrix(view, e, name);
      expect_gemm_matches_reference(view, e);
      // The scales were consumed into the matrix.
      EXPECT_EQ(model.contents().find_tensor(name.substr(0, name.size() - 7) + ".weight_scale"), nullptr);
    }
    EXPECT_NE(model.contents().find_tensor("model.norm.weight"), nullptr);
    EXPECT_NE(model.contents().find_metadata("hf.config_json")->as_string().find("bitlinear"), std::string::npos);
    EXPECT_EQ(model.contents().find_metadata("trit.hf_weight_scale")->as_string(), "divides");
  }
  const trit::ModelFile packed = trit::ModelFile::open(temp_dir() + "/trit_io_hf_packed.trit");
  EXPECT_NE(packed.contents().find_metadata("hf.tokenizer_json"), nullptr);
  EXPECT_EQ(packed.contents().find_metadata("safetensors.format")->as_string(), "pt");
  EXPECT_EQ(packed.contents().find_tensor("model.embed_tokens.weight")->type, trit::TensorType::f16);
}

TEST(SafetensorsFixtures, FloatCheckpointGoesThroughAbsmean) {
  TRIT_REQUIRE_FIXTURES();
  const trit::SafetensorsFile source = trit::SafetensorsFile::open(fx + "/hf_float/model.safetensors");
  const trit::ModelFile model = trit::ModelFile::open(converted(fx + "/hf_float", "hf_float"));
  for (const char* name : {"model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight"}) {
    const trit::SafetensorsTensor& t = *source.contents().find_tensor(name);
    const std::size_t rows = static_cast<std::size_t>(t.shape[0]), cols = static_cast<std::size_t>(t.shape[1]);
    std::vector<float> w(rows * cols);
    for (std::size_t i = 0; i < w.size(); ++i) trit::detail::read_float_element(t.type, t.data, i, &w[i]);
    const trit::PackedMatrix ref = trit::pack_weights(trit::matrix(static_cast<const float*>(w.data()), rows, cols));
    EXPECT_EQ(trits_of(model.matrix(name)), trits_of(ref)) << name;
    EXPECT_EQ(model.matrix(name).scales()[0], ref.scale(0)) << name;
  }
  EXPECT_FALSE(model.contents().find_tensor("lm_head.weight")->is_matrix());
}

TEST(SafetensorsFixtures, MalformedVariantsAreClearErrors) {
  TRIT_REQUIRE_FIXTURES();
  const std::string path = fx + "/hf_packed/model.safetensors";
  const std::vector<std::uint8_t> good = read_bytes(path);
  const std::string bad = temp_dir() + "/trit_io_bad.safetensors";
  const std::string out = temp_dir() + "/trit_io_bad_st.trit";
  for (std::size_t cut = 0; cut < good.size(); cut += cut < 700 ? 1 : 37) {
    write_bytes(bad, std::vector<std::uint8_t>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut)));
    ASSERT_TRUE(throws_clean_error([&] { trit::convert_checkpoint(bad, out); })) << cut;
  }
  const auto replaced = [&](const std::string& from, const std::string& to) {
    std::vector<std::uint8_t> copy = good;
    auto it = std::search(copy.begin(), copy.end(), from.begin(), from.end());
    EXPECT_NE(it, copy.end()) << from;
    if (it != copy.end()) std::copy(to.begin(), to.end(), it);
    return copy;
  };
  const auto fails_with = [&](const std::vector<std::uint8_t>& bytes, const std::vector<std::string>& parts) {
    write_bytes(bad, bytes);
    std::vector<std::string> with_file = parts;
    with_file.push_back(bad);
    expect_error<trit::format_error>([&] { trit::convert_checkpoint(bad, out); }, with_file);
  };
  // Wrong dtype for a weight_scale (same size, so only the dtype lies).
  fails_with(replaced("\"dtype\":\"F32\",\"shape\":[1]", "\"dtype\":\"I32\",\"shape\":[1]"),
             {"q_proj.weight", "weight_scale is I32, expected F32, F16 or BF16"});
  // A non-ternary 2-bit code in a packed weight.
  const trit::SafetensorsFile file = trit::SafetensorsFile::open(path);
  const trit::SafetensorsTensor& w = *file.contents().find_tensor("model.layers.0.self_attn.q_proj.weight");
  std::vector<std::uint8_t> code3 = good;
  code3[w.file_offset + 3] = 0xFF;
  fails_with(code3, {"tensor \"model.layers.0.self_attn.q_proj.weight\"", "file offset", "code 3"});
  // Header length that lies.
  std::vector<std::uint8_t> long_header = good;
  long_header[0] = 0xFF;
  long_header[1] = 0xFF;
  long_header[2] = 0xFF;
  fails_with(long_header, {"header length"});
}
