// trit-convert IN OUT: a GGUF file, a safetensors file or a Hugging Face directory (with
// model.safetensors or model.safetensors.index.json) -> one trit model file.
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include <trit/io.hpp>

int main(int argc, char** argv) {
  if (argc != 3 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::fprintf(stderr,
                 "usage: trit-convert IN OUT\n"
                 "  IN:  a GGUF file (TQ1_0, TQ2_0, I2_S or float weights), a safetensors file, or a\n"
                 "       Hugging Face directory (model.safetensors or model.safetensors.index.json)\n"
                 "  OUT: the trit model file to write (atomically: no partial file on failure)\n");
    return argc == 2 ? 0 : 2;
  }
  trit::ConvertOptions options;
  bool progress_shown = false;
  options.progress = [&](const std::string& line) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    progress_shown = true;
  };
  try {
    const trit::ConvertSummary summary = trit::convert_checkpoint(argv[1], argv[2], options);
    if (progress_shown) std::fprintf(stderr, "\n");
    std::printf("%s -> %s: %zu ternary tensors imported exactly, %zu float projections quantized (absmean), "
                "%zu tensors kept as they were, %zu metadata entries (%s)\n",
                argv[1], argv[2], summary.matrices_imported, summary.matrices_quantized, summary.tensors_kept,
                summary.metadata_entries, summary.source_format.c_str());
    return 0;
  } catch (const std::exception& e) {
    if (progress_shown) std::fprintf(stderr, "\n");
    std::fprintf(stderr, "trit-convert: error: %s\n", e.what());
    return 1;
  }
}
