// trit-convert [--layout dense243|two_bit|auto] [--threads N] IN OUT: a GGUF file, a
// safetensors file or a Hugging Face directory (with model.safetensors or
// model.safetensors.index.json) -> one trit model file.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <trit/io.hpp>

namespace {

int usage(int status) {
  std::fprintf(status == 0 ? stdout : stderr,
               "usage: trit-convert [--layout dense243|two_bit|auto] [--threads N] IN OUT\n"
               "  IN:  a GGUF file (TQ1_0, TQ2_0, I2_S or float weights), a safetensors file, or a\n"
               "       Hugging Face directory (model.safetensors or model.safetensors.index.json)\n"
               "  OUT: the trit model file to write (atomically: no partial file on failure)\n"
               "  --layout: how ternary matrices are stored: dense243 (1.6 bits/weight, the default),\n"
               "       two_bit (2 bits/weight, faster while the weights fit in the caches), or auto\n"
               "       (trit::recommend_layout per matrix, for --threads threads on this machine's caches)\n"
               "  --threads N: the thread count auto assumes (default 1; 0: every hardware thread)\n");
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  trit::ConvertOptions options;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") return usage(0);
    if (arg == "--layout" || arg == "--threads") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "trit-convert: %s needs a value\n", arg.c_str());
        return usage(2);
      }
      const std::string value = argv[++i];
      if (arg == "--layout") {
        if (value == "dense243") {
          options.layout = trit::ConvertLayout::dense243;
        } else if (value == "two_bit") {
          options.layout = trit::ConvertLayout::two_bit;
        } else if (value == "auto") {
          options.layout = trit::ConvertLayout::automatic;
        } else {
          std::fprintf(stderr, "trit-convert: unknown layout '%s' (dense243, two_bit or auto)\n", value.c_str());
          return usage(2);
        }
      } else {
        char* end = nullptr;
        const unsigned long threads = std::strtoul(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0' || threads > 4096) {
          std::fprintf(stderr, "trit-convert: --threads takes a whole number from 0 to 4096, not '%s'\n", value.c_str());
          return usage(2);
        }
        options.layout_threads = static_cast<unsigned>(threads);
      }
      continue;
    }
    positional.push_back(arg);
  }
  if (positional.size() != 2) return usage(2);
  bool progress_shown = false;
  options.progress = [&](const std::string& line) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    progress_shown = true;
  };
  try {
    const trit::ConvertSummary summary = trit::convert_checkpoint(positional[0], positional[1], options);
    if (progress_shown) std::fprintf(stderr, "\n");
    std::printf("%s -> %s: %zu ternary tensors imported exactly, %zu float projections quantized (absmean), "
                "%zu tensors kept as they were, %zu metadata entries (%s); layout %s",
                positional[0].c_str(), positional[1].c_str(), summary.matrices_imported, summary.matrices_quantized,
                summary.tensors_kept, summary.metadata_entries, summary.source_format.c_str(),
                trit::convert_layout_name(options.layout));
    if (options.layout == trit::ConvertLayout::automatic) std::printf(" for %u threads", options.layout_threads);
    std::printf(": %zu matrices two_bit, %zu dense243\n", summary.matrices_two_bit,
                summary.matrices_imported + summary.matrices_quantized - summary.matrices_two_bit);
    return 0;
  } catch (const std::exception& e) {
    if (progress_shown) std::fprintf(stderr, "\n");
    std::fprintf(stderr, "trit-convert: error: %s\n", e.what());
    return 1;
  }
}
