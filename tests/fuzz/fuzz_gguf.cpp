// libFuzzer target: the GGUF reader and the ternary importers on arbitrary bytes. Anything
// malformed must be a trit::format_error (or std::invalid_argument from a shape the packer
// refuses), never a crash, a leak or a read outside the input.
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include <trit/io.hpp>
#include <trit/trit.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const trit::GgufContents gguf = trit::GgufContents::parse(data, size, "fuzz.gguf");
    for (const trit::MetadataEntry& entry : gguf.metadata()) (void)entry.describe();
    for (const trit::GgufTensor& t : gguf.tensors()) {
      if (!trit::is_ternary_type(t.type) || t.dims.size() != 2 || t.elements > (std::size_t{1} << 22)) continue;
      const std::size_t rows = static_cast<std::size_t>(t.dims[1]), cols = static_cast<std::size_t>(t.dims[0]);
      try {
        const trit::PackedMatrix m = t.type == trit::TensorType::tq1_0   ? trit::import_tq1_0(t.data, t.bytes, rows, cols, t.name)
                                     : t.type == trit::TensorType::tq2_0 ? trit::import_tq2_0(t.data, t.bytes, rows, cols, t.name)
                                                                         : trit::import_i2_s(t.data, t.bytes, rows, cols, t.name);
        if (cols % 256 == 0) (void)trit::export_tq2_0(m);
        if (m.granularity() == trit::ScaleGranularity::per_tensor && (rows * cols) % 128 == 0) (void)trit::export_i2_s(m);
      } catch (const trit::format_error&) {
      } catch (const std::invalid_argument&) {
      }
    }
  } catch (const trit::format_error&) {
  }
  return 0;
}
