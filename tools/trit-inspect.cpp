// trit-inspect FILE: lists the metadata and tensors (type, shape, bytes, bits per weight) of a
// GGUF file, a safetensors file or a trit model file, after checking it.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include <trit/io.hpp>

namespace {

std::string shape_text(const std::vector<std::uint64_t>& dims) {
  std::string out = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) out += (i ? ", " : "") + std::to_string(dims[i]);
  return out + "]";
}

void tensor_line(const std::string& name, const std::string& type, const std::vector<std::uint64_t>& dims, std::size_t elements,
                 std::size_t bytes) {
  const double bits = elements == 0 ? 0.0 : 8.0 * static_cast<double>(bytes) / static_cast<double>(elements);
  std::printf("  %-48s %-12s %-20s %12zu bytes %7.3f bits/weight\n", name.c_str(), type.c_str(), shape_text(dims).c_str(), bytes, bits);
}

std::size_t count(const std::vector<std::uint64_t>& dims) {
  std::size_t n = 1;
  for (auto d : dims) n *= static_cast<std::size_t>(d);
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: trit-inspect FILE   (a GGUF, safetensors or trit model file)\n");
    return 2;
  }
  const std::string path = argv[1];
  try {
    trit::MappedFile probe = trit::MappedFile::open(path);
    if (trit::looks_like_gguf(probe.data(), probe.size())) {
      const trit::GgufFile file = trit::GgufFile::open(path);
      const auto& gguf = file.contents();
      std::printf("%s: GGUF v%u, %zu metadata entries, %zu tensors, alignment %u\n", path.c_str(), gguf.version(),
                  gguf.metadata().size(), gguf.tensors().size(), gguf.alignment());
      for (const auto& entry : gguf.metadata()) {
        std::printf("  %-48s %-8s %s\n", entry.key.c_str(), trit::metadata_type_name(entry.type), entry.describe().c_str());
      }
      std::printf("tensors (dims fastest first, as GGUF stores them):\n");
      for (const auto& t : gguf.tensors()) tensor_line(t.name, trit::tensor_type_name(t.type), t.dims, t.elements, t.bytes);
    } else if (probe.size() >= 8 && std::memcmp(probe.data(), trit::model_file::kMagic, 8) == 0) {
      const trit::ModelFile file = trit::ModelFile::open(path);
      std::printf("%s: trit model file v%u, %zu metadata entries, %zu tensors (all checksums verified)\n", path.c_str(),
                  trit::model_file::kVersion, file.metadata().size(), file.tensors().size());
      for (const auto& entry : file.metadata()) {
        std::printf("  %-48s %-8s %s\n", entry.key.c_str(), trit::metadata_type_name(entry.type), entry.describe().c_str());
      }
      std::printf("tensors (dims outermost first):\n");
      for (const auto& t : file.tensors()) {
        std::string type = trit::tensor_type_name(t.type);
        if (t.is_matrix()) {
          type = t.matrix.granularity() == trit::ScaleGranularity::per_row ? "D243/row" : "D243/tensor";
        } else if (t.is_two_bit_matrix()) {
          type = t.two_bit.granularity() == trit::ScaleGranularity::per_row ? "2BIT/row" : "2BIT/tensor";
        }
        tensor_line(t.name, type, t.dims, count(t.dims), t.bytes);
      }
    } else {
      const trit::SafetensorsFile file = trit::SafetensorsFile::open(path);
      const auto& st = file.contents();
      std::printf("%s: safetensors, %zu-byte header, %zu metadata entries, %zu tensors\n", path.c_str(), st.header_bytes(),
                  st.metadata().size(), st.tensors().size());
      for (const auto& entry : st.metadata()) std::printf("  %-48s %s\n", entry.first.c_str(), entry.second.c_str());
      std::printf("tensors (dims outermost first):\n");
      for (const auto& t : st.tensors()) {
        // A packed uint8 BitNet weight holds 4 weights per byte.
        const bool packed = t.type == trit::TensorType::u8 && st.find_tensor(t.name.substr(0, t.name.rfind('.')) + ".weight_scale");
        tensor_line(t.name + (packed ? " (2-bit packed)" : ""), t.dtype, t.shape, packed ? 4 * t.elements : t.elements, t.bytes);
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "trit-inspect: error: %s\n", e.what());
    return 1;
  }
}
