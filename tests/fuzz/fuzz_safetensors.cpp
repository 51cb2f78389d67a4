// libFuzzer target: the safetensors reader (with its JSON parser) and the Hugging Face packed
// importer on arbitrary bytes: format_error for anything malformed, never a crash.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include <trit/io.hpp>
#include <trit/trit.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const trit::SafetensorsContents st = trit::SafetensorsContents::parse(data, size, "fuzz.safetensors");
    for (const trit::SafetensorsTensor& t : st.tensors()) {
      if (t.type != trit::TensorType::u8 || t.shape.size() != 2 || t.elements > (std::size_t{1} << 20)) continue;
      const std::string base = t.name.size() > 7 ? t.name.substr(0, t.name.size() - 7) : t.name;
      const trit::SafetensorsTensor* scale = st.find_tensor(base + ".weight_scale");
      if (scale == nullptr) continue;
      try {
        (void)trit::import_hf_packed(t.data, static_cast<std::size_t>(t.shape[0]), static_cast<std::size_t>(t.shape[1]), scale->type,
                                     scale->data, scale->elements, t.name);
      } catch (const trit::format_error&) {
      } catch (const std::invalid_argument&) {
      }
    }
  } catch (const trit::format_error&) {
  }
  // The JSON parser alone, on the same bytes.
  try {
    (void)trit::JsonParser::parse(reinterpret_cast<const char*>(data), size, "fuzz.json");
  } catch (const trit::format_error&) {
  }
  return 0;
}
