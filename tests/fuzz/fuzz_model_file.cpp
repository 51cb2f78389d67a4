// libFuzzer target: the trit model file loader on arbitrary bytes. A file that loads must
// serve its matrices: each view is decoded and multiplied (reads up to the kernels' tail slack),
// so a view that points outside the input would show under AddressSanitizer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

#include <trit/io.hpp>
#include <trit/trit.hpp>

namespace {

// Checksums stop almost every mutation at the door. For inputs whose last byte is odd, recompute
// them (matrix blobs, then the table's tensor checksums, then the index checksum) so that the
// fuzzer also reaches the table, metadata and matrix checks. Best effort: stops at anything
// out of bounds, and the loader still checks everything.
void reseal(std::uint8_t* file, std::size_t size) {
  namespace d = trit::detail;
  if (size < 64) return;
  const std::uint64_t tensor_count = d::get_le(file + 24, 8);
  const std::uint64_t table_offset = d::get_le(file + 32, 8);
  const std::uint64_t data_offset = d::get_le(file + 40, 8);
  if (data_offset > size || table_offset > data_offset || table_offset < 64) return;
  std::size_t at = static_cast<std::size_t>(table_offset);
  const std::size_t end = static_cast<std::size_t>(data_offset);
  for (std::uint64_t i = 0; i < tensor_count && i < 1024; ++i) {
    if (end - at < 16) break;
    const std::uint64_t name_length = d::get_le(file + at, 8);
    if (name_length > end - at - 16) break;
    at += 8 + static_cast<std::size_t>(name_length);
    const std::uint32_t type = static_cast<std::uint32_t>(d::get_le(file + at, 4));
    const std::uint64_t n_dims = d::get_le(file + at + 4, 4);
    at += 8;
    if (n_dims > 8 || 8 * n_dims + 24 > end - at) break;
    at += static_cast<std::size_t>(8 * n_dims);
    const std::uint64_t offset = d::get_le(file + at, 8);
    const std::uint64_t bytes = d::get_le(file + at + 8, 8);
    if (offset <= size && bytes <= size - offset) {
      std::uint8_t* tensor = file + offset;
      if (type == static_cast<std::uint32_t>(trit::TensorType::trit_matrix) && bytes >= 64) {
        const std::uint64_t sum = d::blob_checksum(tensor, static_cast<std::size_t>(bytes));
        for (int b = 0; b < 8; ++b) tensor[56 + b] = static_cast<std::uint8_t>(sum >> (8 * b));
      }
      const std::uint64_t sum = d::fnv1a64(tensor, static_cast<std::size_t>(bytes));
      for (int b = 0; b < 8; ++b) file[at + 16 + static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(sum >> (8 * b));
    }
    at += 24;
  }
  const std::uint64_t sum = d::blob_checksum(file, end);
  for (int b = 0; b < 8; ++b) file[56 + b] = static_cast<std::uint8_t>(sum >> (8 * b));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The loader wants a 64-byte aligned buffer, as a mapping is.
  struct Free {
    void operator()(std::uint8_t* p) const { std::free(p); }
  };
  // posix_memalign keeps the exact size, so AddressSanitizer sees a read one byte past it.
  void* raw = nullptr;
  if (posix_memalign(&raw, 64, size == 0 ? 1 : size) != 0) return 0;
  std::unique_ptr<std::uint8_t, Free> buffer(static_cast<std::uint8_t*>(raw));
  if (size != 0) std::memcpy(buffer.get(), data, size);
  if (size != 0 && (data[size - 1] & 1) != 0) reseal(buffer.get(), size);
  try {
    const trit::ModelContents model = trit::ModelContents::parse(buffer.get(), size, "fuzz.trit");
    for (const trit::MetadataEntry& entry : model.metadata()) (void)entry.describe();
    for (const trit::ModelTensor& t : model.tensors()) {
      if (!t.is_matrix() || t.matrix.cols() > 4096 || t.matrix.rows() > 4096) continue;
      std::vector<std::int8_t> trits(t.matrix.rows() * t.matrix.cols());
      trit::unpack_trits(t.matrix, trit::matrix(trits.data(), t.matrix.rows(), t.matrix.cols()));
      std::vector<float> x(t.matrix.cols(), 1.0f);
      const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix(static_cast<const float*>(x.data()), 1, x.size()));
      std::vector<float> y(t.matrix.rows());
      trit::gemm(t.matrix, q, trit::matrix(y.data(), 1, y.size()));
    }
  } catch (const trit::format_error&) {
  }
  return 0;
}
