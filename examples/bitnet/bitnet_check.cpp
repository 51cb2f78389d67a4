// bitnet_check: runs a converted BitNet model on the prompts recorded by make_reference.py and
// compares with what Hugging Face transformers computed for them:
//   - the logits of every prompt position (one batched prefill) and of every greedy decode
//     step (one token at a time through the KV cache): cosine similarity per position;
//   - the arg-max at every position;
//   - the greedy continuation, token for token. Where it departs from transformers', the
//     report gives transformers' own margin between the two tokens at that step, so a
//     near-tie (float summation order, an activation rounding tie) is told from a real error.
//
//   bitnet_check MODEL.trit REFERENCE.safetensors [--min-cosine 0.9999] [--min-argmax 0.99]
//                [--min-identical 0.5] [--threads N] [--isa NAME] [--lm-head stored|f16|int8]
// Exit status 0 when every bound holds, 1 when one does not, 2 for bad arguments.
#include <trit/io.hpp>
#include <trit/trit.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "model.hpp"
#include "sampling.hpp"

namespace {

struct Reference {
  trit::SafetensorsFile file;
  std::size_t prompts = 0, prompt_length = 0, continuation = 0, vocab = 0;
  const std::int32_t* input_ids = nullptr;
  const float* logits = nullptr;               // [prompts][prompt_length][vocab]
  const std::int32_t* continuation_ids = nullptr;  // [prompts][continuation]
  const float* continuation_logits = nullptr;  // [prompts][continuation][vocab]
};

const trit::SafetensorsTensor& tensor(const trit::SafetensorsFile& file, const char* name, trit::TensorType type, std::size_t dims) {
  const trit::SafetensorsTensor* t = file.contents().find_tensor(name);
  if (t == nullptr) throw std::invalid_argument(std::string("reference has no tensor ") + name);
  if (t->type != type || t->shape.size() != dims) throw std::invalid_argument(std::string("reference tensor ") + name + " has the wrong type or rank");
  return *t;
}

Reference read_reference(const std::string& path) {
  Reference r{trit::SafetensorsFile::open(path)};
  const auto& ids = tensor(r.file, "input_ids", trit::TensorType::i32, 2);
  const auto& logits = tensor(r.file, "logits", trit::TensorType::f32, 3);
  const auto& cont = tensor(r.file, "continuation", trit::TensorType::i32, 2);
  const auto& cont_logits = tensor(r.file, "continuation_logits", trit::TensorType::f32, 3);
  r.prompts = static_cast<std::size_t>(ids.shape[0]);
  r.prompt_length = static_cast<std::size_t>(ids.shape[1]);
  r.vocab = static_cast<std::size_t>(logits.shape[2]);
  r.continuation = static_cast<std::size_t>(cont.shape[1]);
  if (logits.shape[0] != r.prompts || logits.shape[1] != r.prompt_length || cont.shape[0] != r.prompts ||
      cont_logits.shape[0] != r.prompts || cont_logits.shape[1] != r.continuation || cont_logits.shape[2] != r.vocab) {
    throw std::invalid_argument("reference tensors disagree on their shapes");
  }
  // safetensors data is little-endian and this program runs on little-endian CPUs only.
  r.input_ids = reinterpret_cast<const std::int32_t*>(ids.data);
  r.logits = reinterpret_cast<const float*>(logits.data);
  r.continuation_ids = reinterpret_cast<const std::int32_t*>(cont.data);
  r.continuation_logits = reinterpret_cast<const float*>(cont_logits.data);
  return r;
}

double cosine(const float* a, const float* b, std::size_t n) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < n; ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

double parse_fraction(const char* text) {
  char* end = nullptr;
  const double value = std::strtod(text, &end);
  if (*end != '\0' || !(value >= 0.0 && value <= 1.0)) {
    std::fprintf(stderr, "bitnet_check: %s is not a number in [0, 1]\n", text);
    std::exit(2);
  }
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bitnet_check MODEL.trit REFERENCE.safetensors [--min-cosine C] [--min-argmax F] [--min-identical F]\n"
                         "                    [--threads N] [--isa NAME] [--lm-head stored|f16|int8]\n");
    return 2;
  }
  double min_cosine = 0.9999, min_argmax = 0.99, min_identical = 0.5;
  bitnet::ModelOptions options;
  bitnet::WeightOptions weight_options;
  for (int i = 3; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "bitnet_check: %s needs a value\n", arg.c_str());
      return 2;
    }
    const char* value = argv[++i];
    if (arg == "--min-cosine") {
      min_cosine = parse_fraction(value);
    } else if (arg == "--min-argmax") {
      min_argmax = parse_fraction(value);
    } else if (arg == "--min-identical") {
      min_identical = parse_fraction(value);
    } else if (arg == "--threads") {
      options.threads = static_cast<unsigned>(std::strtoul(value, nullptr, 10));
    } else if (arg == "--isa") {
      options.isa = trit::parse_isa(value);
    } else if (arg == "--lm-head") {
      weight_options.lm_head_format = value;
    } else {
      std::fprintf(stderr, "bitnet_check: unknown option %s\n", arg.c_str());
      return 2;
    }
  }
  try {
    const trit::ModelFile file = trit::ModelFile::open(argv[1]);
    const bitnet::Config config = bitnet::read_config(file.contents());
    const Reference ref = read_reference(argv[2]);
    if (ref.vocab != config.vocab) throw std::invalid_argument("the reference's vocabulary differs from the model's");
    options.max_context = ref.prompt_length + ref.continuation;
    bitnet::Model model(config, bitnet::load_weights(file.contents(), config, weight_options), options);
    std::printf("model %s: %zu layers, hidden %zu, intermediate %zu, heads %zu/%zu, vocab %zu, path %s, LM head %s\n", argv[1],
                config.layers, config.hidden, config.intermediate, config.heads, config.kv_heads, config.vocab,
                trit::isa_name(trit::gemm_path(options.isa)), bitnet::format_name(model.weights().lm_head.format()));

    const std::size_t vocab = config.vocab;
    std::vector<float> logits(ref.prompt_length * vocab);
    double worst_prefill = 1.0, worst_decode = 1.0;
    std::size_t positions = 0, argmax_agree = 0, identical = 0, decode_positions = 0;
    for (std::size_t p = 0; p < ref.prompts; ++p) {
      model.reset();
      model.forward(ref.input_ids + p * ref.prompt_length, ref.prompt_length, logits.data(), true);
      double prompt_worst = 1.0;
      for (std::size_t t = 0; t < ref.prompt_length; ++t) {
        const float* expected = ref.logits + (p * ref.prompt_length + t) * vocab;
        const float* got = logits.data() + t * vocab;
        prompt_worst = std::min(prompt_worst, cosine(got, expected, vocab));
        argmax_agree += bitnet::argmax(got, vocab) == bitnet::argmax(expected, vocab) ? 1 : 0;
        ++positions;
      }
      worst_prefill = std::min(worst_prefill, prompt_worst);

      // Greedy decode; compare step logits while the two continuations agree (same inputs).
      const std::int32_t* expected_ids = ref.continuation_ids + p * ref.continuation;
      const float* last = logits.data() + (ref.prompt_length - 1) * vocab;
      std::vector<float> step(last, last + vocab);
      std::size_t agree = 0;
      double decode_worst = 1.0;
      std::string departure;
      for (std::size_t s = 0; s < ref.continuation; ++s) {
        const float* expected = ref.continuation_logits + (p * ref.continuation + s) * vocab;
        if (s > 0) {
          decode_worst = std::min(decode_worst, cosine(step.data(), expected, vocab));
          ++decode_positions;
          argmax_agree += bitnet::argmax(step.data(), vocab) == bitnet::argmax(expected, vocab) ? 1 : 0;
          ++positions;
        }
        const std::int32_t token = bitnet::argmax(step.data(), vocab);
        if (token != expected_ids[s]) {
          char text[200];
          std::snprintf(text, sizeof text, "departs at step %zu: trit %d, transformers %d (transformers' margin %.3g, trit's %.3g)", s,
                        token, expected_ids[s], static_cast<double>(expected[expected_ids[s]] - expected[token]),
                        static_cast<double>(step[static_cast<std::size_t>(token)] - step[static_cast<std::size_t>(expected_ids[s])]));
          departure = text;
          break;
        }
        ++agree;
        if (s + 1 < ref.continuation) model.forward(&token, 1, step.data());
      }
      worst_decode = std::min(worst_decode, decode_worst);
      if (agree == ref.continuation) ++identical;
      std::printf("prompt %zu: prefill min cosine %.7f, decode min cosine %.7f, %zu/%zu continuation tokens identical%s%s\n", p,
                  prompt_worst, decode_worst, agree, ref.continuation, departure.empty() ? "" : "; ", departure.c_str());
    }
    const double argmax_fraction = static_cast<double>(argmax_agree) / static_cast<double>(positions);
    const double identical_fraction = static_cast<double>(identical) / static_cast<double>(ref.prompts);
    const bool pass = worst_prefill >= min_cosine && worst_decode >= min_cosine && argmax_fraction >= min_argmax &&
                      identical_fraction >= min_identical;
    std::printf("summary: %zu positions (%zu decode steps); min cosine prefill %.7f decode %.7f (bound %.4f); argmax agrees on %.2f%% "
                "(bound %.0f%%); %zu/%zu continuations identical (bound %.0f%%): %s\n",
                positions, decode_positions, worst_prefill, worst_decode, min_cosine, 100 * argmax_fraction, 100 * min_argmax, identical,
                ref.prompts, 100 * min_identical, pass ? "PASS" : "FAIL");
    return pass ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bitnet_check: %s\n", e.what());
    return 1;
  }
}
