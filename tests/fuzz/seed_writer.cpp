// Writes the seed corpora of the fuzz targets: tests/fuzz/seeds/<target>/<name>, small valid
// inputs of every kind each target parses (matrix blobs of both versions, tight and padded
// rows, both granularities; layer blobs of every scheme, with and without bias, both
// versions). Run it from the build tree to regenerate them:
//   trit_fuzz_seed_writer tests/fuzz/seeds
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "trit/format/pack.hpp"
#include "trit/format/serialize.hpp"
#include "trit/layers/bitlinear.hpp"

namespace {

using Bytes = std::vector<std::uint8_t>;
namespace fs = std::filesystem;

void write(const fs::path& dir, const std::string& target, const std::string& name, const Bytes& bytes) {
  fs::create_directories(dir / target);
  std::ofstream out(dir / target / name, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s/%s\n", target.c_str(), name.c_str());
    std::exit(1);
  }
}

Bytes prefixed(std::uint8_t mode, const Bytes& blob) {
  Bytes out{mode};
  out.insert(out.end(), blob.begin(), blob.end());
  return out;
}

// A rows x cols matrix with trits and scales from a small generator; stride_pad extra bytes
// per row.
trit::PackedMatrix some_matrix(std::size_t rows, std::size_t cols, trit::ScaleGranularity g, std::size_t stride_pad,
                               std::uint32_t seed) {
  std::vector<std::int8_t> trits(rows * cols);
  std::uint32_t s = seed;
  for (auto& t : trits) {
    s = s * 1664525u + 1013904223u;
    t = static_cast<std::int8_t>(static_cast<int>(s >> 29) % 3 - 1);
  }
  std::vector<float> scales(g == trit::ScaleGranularity::per_row ? rows : 1);
  for (std::size_t i = 0; i < scales.size(); ++i) scales[i] = 0.125f * static_cast<float>(i + 1);
  const trit::PackedMatrix tight =
      trit::pack_trits(trit::matrix<const std::int8_t>(trits.data(), rows, cols), scales.data(), scales.size(), g);
  if (stride_pad == 0) return tight;
  trit::PackedMatrix padded(rows, cols, g, tight.row_bytes() + stride_pad);
  padded.set_scales(scales.data(), scales.size());
  for (std::size_t m = 0; m < rows; ++m) std::memcpy(padded.row(m), tight.row(m), tight.row_bytes());
  return padded;
}

// The version-1 form of a matrix blob (docs/FORMAT.md): the same header fields, the rows
// right after the scales, no tail slack, the checksum over bytes 64..end.
Bytes matrix_v1(const trit::PackedMatrix& m) {
  Bytes blob(trit_fuzz::kHeader, 0);
  std::memcpy(blob.data(), trit::serialized::kMagic, 8);
  trit_fuzz::put(blob.data() + 8, 1, 4);
  trit_fuzz::put(blob.data() + 12, trit::serialized::kLayoutRowMajorGroups64, 4);
  trit_fuzz::put(blob.data() + 16, m.rows(), 8);
  trit_fuzz::put(blob.data() + 24, m.cols(), 8);
  trit_fuzz::put(blob.data() + 32, m.row_stride(), 8);
  trit_fuzz::put(blob.data() + 40, static_cast<std::uint32_t>(m.granularity()), 4);
  trit_fuzz::put(blob.data() + 44, trit_fuzz::kHeader, 4);
  for (float f : m.scales()) {
    std::uint8_t b[4];
    std::memcpy(b, &f, 4);
    blob.insert(blob.end(), b, b + 4);
  }
  blob.insert(blob.end(), m.data(), m.data() + m.weight_bytes());
  trit_fuzz::put(blob.data() + 48, blob.size() - trit_fuzz::kHeader, 8);
  trit_fuzz::reseal_matrix(blob.data(), blob.size(), false);
  return blob;
}

// The version-1 form of a layer blob: checksum at 40 over bytes 64..end, header size at 48,
// the weights (a version-1 matrix blob) right after the bias.
Bytes layer_v1(const trit::BitLinear& layer) {
  const Bytes matrix = matrix_v1(layer.packed_weights());
  Bytes blob(trit_fuzz::kHeader, 0);
  std::memcpy(blob.data(), trit::detail::layer_blob::kMagic, 8);
  trit_fuzz::put(blob.data() + 8, 1, 4);
  trit_fuzz::put(blob.data() + 12, static_cast<std::uint32_t>(layer.scheme()), 4);
  std::uint64_t ratio_bits;
  std::memcpy(&ratio_bits, &layer.activations().topk_ratio, 8);
  trit_fuzz::put(blob.data() + 16, ratio_bits, 8);
  trit_fuzz::put(blob.data() + 24, layer.bias().size(), 8);
  trit_fuzz::put(blob.data() + 32, matrix.size(), 8);
  trit_fuzz::put(blob.data() + 48, trit_fuzz::kHeader, 4);
  for (float f : layer.bias()) {
    std::uint8_t b[4];
    std::memcpy(b, &f, 4);
    blob.insert(blob.end(), b, b + 4);
  }
  blob.insert(blob.end(), matrix.begin(), matrix.end());
  trit_fuzz::reseal_layer(blob.data(), blob.size(), false);
  return blob;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s SEEDS_DIR\n", argv[0]);
    return 2;
  }
  const fs::path dir = argv[1];
  using G = trit::ScaleGranularity;

  struct Shape {
    const char* name;
    std::size_t rows, cols;
    G g;
    std::size_t pad;
  };
  const Shape shapes[] = {{"1x1", 1, 1, G::per_tensor, 0},        {"3x7_per_row", 3, 7, G::per_row, 0},
                          {"2x321_padded", 2, 321, G::per_tensor, 3}, {"4x640_per_row", 4, 640, G::per_row, 0},
                          {"5x700", 5, 700, G::per_tensor, 0},    {"9x5_padded_per_row", 9, 5, G::per_row, 7}};
  std::uint32_t seed = 1;
  for (const Shape& s : shapes) {
    const trit::PackedMatrix m = some_matrix(s.rows, s.cols, s.g, s.pad, seed++);
    const Bytes v2 = trit::serialize(m), v1 = matrix_v1(m);
    if (!trit_fuzz::same_matrix(trit::deserialize(v1), m, true)) {
      std::fprintf(stderr, "version-1 seed %s does not load as its matrix\n", s.name);
      return 1;
    }
    write(dir, "fuzz_blob", std::string("v2_") + s.name, v2);
    write(dir, "fuzz_blob", std::string("v1_") + s.name, v1);
    write(dir, "fuzz_blob_resealed", std::string("v2_") + s.name, prefixed(0, v2));
    write(dir, "fuzz_blob_resealed", std::string("v1_") + s.name, prefixed(1, v1));
    // fuzz_dense243: rows - 1, K - 1 (2 bytes), stride padding, then the rows.
    Bytes d{static_cast<std::uint8_t>(s.rows - 1), static_cast<std::uint8_t>((s.cols - 1) & 0xFF),
            static_cast<std::uint8_t>((s.cols - 1) >> 8), static_cast<std::uint8_t>(m.row_stride() - m.row_bytes())};
    d.insert(d.end(), m.data(), m.data() + m.weight_bytes());
    write(dir, "fuzz_dense243", s.name, d);
  }

  // fuzz_int4_layouts: rows - 1, K - 1 (2 bytes), flags, then bytes reused cyclically.
  const Bytes int4_seeds[] = {
      {0, 0, 0, 0, 1},
      {63, 63, 1, 0x01, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
      {64, 0x3f, 0x01, 0x06, 200, 17, 93, 4, 250, 31, 77, 128},
      {129, 0x70, 0x01, 0x37, 255, 0, 128, 64, 32, 16, 8, 4, 2, 1},
  };
  for (std::size_t i = 0; i < sizeof int4_seeds / sizeof int4_seeds[0]; ++i) {
    write(dir, "fuzz_int4_layouts", "shape" + std::to_string(i), int4_seeds[i]);
  }

  // fuzz_layer: every scheme, with and without bias, tight and padded rows, both versions.
  struct LayerSeed {
    const char* name;
    trit::ActivationScheme scheme;
    double ratio;
    bool bias;
    std::size_t rows, cols, pad;
  };
  const LayerSeed layers[] = {
      {"int8_absmax", trit::ActivationScheme::int8_absmax, 1.0, false, 3, 10, 0},
      {"int8_absmax_bias_padded", trit::ActivationScheme::int8_absmax, 1.0, true, 4, 330, 2},
      {"int4_absmax_bias", trit::ActivationScheme::int4_absmax, 1.0, true, 2, 64, 0},
      {"int4_absmean", trit::ActivationScheme::int4_absmean, 1.0, false, 65, 9, 0},
      {"int8_topk_bias", trit::ActivationScheme::int8_topk, 0.25, true, 5, 700, 0},
  };
  for (const LayerSeed& l : layers) {
    trit::PackedMatrix m = some_matrix(l.rows, l.cols, G::per_row, l.pad, seed++);
    std::vector<float> bias;
    if (l.bias) {
      for (std::size_t i = 0; i < l.rows; ++i) bias.push_back(0.5f - static_cast<float>(i));
    }
    trit::ActivationConfig config;
    config.scheme = l.scheme;
    config.topk_ratio = l.ratio;
    const trit::BitLinear layer(std::move(m), bias, config);
    const Bytes v2 = layer.serialize(), v1 = layer_v1(layer);
    if (trit::BitLinear::deserialize(v1).packed_weights().rows() != l.rows) {
      std::fprintf(stderr, "version-1 layer seed %s does not load\n", l.name);
      return 1;
    }
    write(dir, "fuzz_layer", std::string("raw_v2_") + l.name, prefixed(0, v2));
    write(dir, "fuzz_layer", std::string("sealed_v2_") + l.name, prefixed(1, v2));
    write(dir, "fuzz_layer", std::string("sealed_v1_") + l.name, prefixed(3, v1));
  }
  std::printf("seeds written under %s\n", dir.string().c_str());
  return 0;
}
