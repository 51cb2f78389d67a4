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
