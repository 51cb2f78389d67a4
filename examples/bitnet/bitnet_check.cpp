// bitnet_check: runs a converted BitNet model on the prompts recorded by make_reference.py and
// compares with what Hugging Face transformers computed for them:
//   - the logits of every prompt position (one batched prefill) and of every greedy decode
//     step (one token at a time through the KV cache): cosine similarity per position, against
//     transformers' forward without cache over the same tokens (sequence_logits);
//   - the arg-max at every position;
//   - the greedy continuation, token for token. Where it departs from transformers', the
//     report gives transformers' own margin between the two tokens at that step;
//   - the int8 values every projection input is quantized to, against the ones transformers
//     recorded (activations.*). The two sum floats in different orders, so an input that sits
//     within float noise of a rounding boundary (x * s = k + 0.5) can round to k in one and
//     to k + 1 in the other, and that one step spreads through every later layer and position.
//     The first position where any quantized input differs must be such a tie (within
//     --tie-distance of a half), else the check fails as a real error. Positions before it
//     are held to --min-cosine and --min-argmax; it and later positions ("after a tie") to
//     --min-cosine-after-tie, and the report prints the tie. A greedy continuation may depart
//     from transformers' only at or after such a tie; --min-identical of them must not depart.
//
//   bitnet_check MODEL.trit REFERENCE.safetensors [--min-cosine 0.9999] [--min-argmax 0.99]
//                [--min-identical 0.5] [--min-cosine-after-tie 0.999] [--tie-distance 0.001]
//                [--threads N] [--isa NAME] [--lm-head stored|f16|int8] [--layout dense243|two_bit]
// Exit status 0 when every bound holds, 1 when one does not, 2 for bad arguments.
#include <trit/io.hpp>
#include <trit/trit.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
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
  const float* sequence_logits = nullptr;      // [prompts][prompt_length + continuation - 1][vocab], or null
  // Per site (bitnet::InputSite order): int8 [prompts][layers][positions][width], or null.
  const std::int8_t* activations[4] = {nullptr, nullptr, nullptr, nullptr};
  std::size_t activation_positions = 0;
  std::size_t activation_width[4] = {0, 0, 0, 0};
};

const char* const kSiteNames[4] = {"qkv", "o", "gate_up", "down"};

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
  if (r.file.contents().find_tensor("sequence_logits") != nullptr) {
    const auto& sequence = tensor(r.file, "sequence_logits", trit::TensorType::f32, 3);
    if (sequence.shape[0] != r.prompts || sequence.shape[1] + 1 != r.prompt_length + r.continuation || sequence.shape[2] != r.vocab) {
      throw std::invalid_argument("reference tensor sequence_logits has the wrong shape");
    }
    r.sequence_logits = reinterpret_cast<const float*>(sequence.data);
  }
  for (int site = 0; site < 4; ++site) {
    const std::string name = std::string("activations.") + kSiteNames[site];
    if (r.file.contents().find_tensor(name) == nullptr) continue;
    const auto& a = tensor(r.file, name.c_str(), trit::TensorType::i8, 4);
    if (a.shape[0] != r.prompts || (r.activation_positions != 0 && a.shape[2] != r.activation_positions)) {
      throw std::invalid_argument("reference tensor " + name + " has the wrong shape");
    }
    r.activation_positions = static_cast<std::size_t>(a.shape[2]);
    r.activation_width[site] = static_cast<std::size_t>(a.shape[3]);
    r.activations[site] = reinterpret_cast<const std::int8_t*>(a.data);
  }
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

// Compares trit's quantized projection inputs with transformers' for one prompt.
struct ActivationTracker {
  const Reference* ref = nullptr;
  std::size_t layers = 0;
  std::size_t prompt = 0;
  std::size_t base = 0;  // position of the first row of the current forward
  double tie_distance = 0.001;
  // Earliest position with any differing value, and its differences in compute order.
  std::size_t root_position = SIZE_MAX;
  std::size_t root_layer = 0, root_site = 0;
  std::size_t root_values = 0, root_ties = 0;
  std::string root_example;
  std::size_t differing = 0;  // all differing values of the prompt

  void reset(std::size_t p) {
    prompt = p;
    base = 0;
    root_position = SIZE_MAX;
    root_values = root_ties = differing = 0;
    root_example.clear();
  }

  void observe(std::size_t layer, bitnet::InputSite site_enum, const float* input, std::size_t count, std::size_t width) {
    const std::size_t site = static_cast<std::size_t>(site_enum);
    if (ref->activations[site] == nullptr || ref->activation_width[site] != width) return;
    const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix<const float>(input, count, width));
    for (std::size_t r = 0; r < count; ++r) {
      const std::size_t position = base + r;
      if (position >= ref->activation_positions) continue;
      const std::int8_t* expected =
          ref->activations[site] + ((prompt * layers + layer) * ref->activation_positions + position) * width;
      for (std::size_t k = 0; k < width; ++k) {
        if (q.row(r)[k] == expected[k]) continue;
        ++differing;
        // The first difference at a new earliest position starts the root over; at the root
        // position, only the first (layer, site) that differs counts as the root.
        if (position < root_position) {
          root_position = position;
          root_layer = layer;
          root_site = site;
          root_values = root_ties = 0;
          root_example.clear();
        }
        if (position != root_position || layer != root_layer || site != root_site) continue;
        const float product = input[r * width + k] * q.scale(r);
        const double distance = std::fabs(static_cast<double>(product) - std::floor(static_cast<double>(product)) - 0.5);
        ++root_values;
        if (distance <= tie_distance) ++root_ties;
        if (root_example.empty()) {
          char text[240];
          std::snprintf(text, sizeof text,
                        "layer %zu, %s input, position %zu, element %zu: x * s = %.7f, trit rounds it to %d, transformers to %d "
                        "(%.2g from the half)",
                        layer, kSiteNames[site], position, k, static_cast<double>(product), q.row(r)[k], expected[k], distance);
          root_example = text;
        }
      }
    }
  }
};

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
                         "                    [--threads N] [--isa NAME] [--lm-head stored|f16|int8] [--layout dense243|two_bit]\n");
    return 2;
  }
  double min_cosine = 0.9999, min_argmax = 0.99, min_identical = 0.5, min_cosine_after_tie = 0.999, tie_distance = 0.001;
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
    } else if (arg == "--min-cosine-after-tie") {
      min_cosine_after_tie = parse_fraction(value);
    } else if (arg == "--tie-distance") {
      tie_distance = parse_fraction(value);
    } else if (arg == "--threads") {
      options.threads = static_cast<unsigned>(std::strtoul(value, nullptr, 10));
    } else if (arg == "--isa") {
      options.isa = trit::parse_isa(value);
    } else if (arg == "--lm-head") {
      weight_options.lm_head_format = value;
    } else if (arg == "--layout") {
      weight_options.layout = value;
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
    ActivationTracker tracker;
    tracker.ref = &ref;
    tracker.layers = config.layers;
    tracker.tie_distance = tie_distance;
    if (ref.activation_positions != 0) {
      options.observe_input = [&tracker](std::size_t layer, bitnet::InputSite site, const float* input, std::size_t count, std::size_t width) {
        tracker.observe(layer, site, input, count, width);
      };
    }
    bitnet::Model model(config, bitnet::load_weights(file, config, weight_options), options);
    const trit::WeightLayout layout = model.weights().layers.front().q.layout();
    std::printf("model %s: %zu layers, hidden %zu, intermediate %zu, heads %zu/%zu, vocab %zu, path %s, weights %s, LM head %s\n",
                argv[1], config.layers, config.hidden, config.intermediate, config.heads, config.kv_heads, config.vocab,
                trit::isa_name(layout == trit::WeightLayout::two_bit ? trit::two_bit_path(options.isa) : trit::gemm_path(options.isa)),
                trit::layout_name(layout), bitnet::format_name(model.weights().lm_head.format()));

    const std::size_t vocab = config.vocab;
    std::vector<float> logits(ref.prompt_length * vocab);
    // Cosines of positions with identical quantized inputs so far ("clean") and after a tie.
    double worst_clean = 1.0, worst_after_tie = 1.0;
    std::size_t positions = 0, after_tie = 0, argmax_agree = 0, identical = 0, decode_positions = 0, untied_roots = 0;
    std::size_t clean_positions = 0, clean_argmax_agree = 0, explained_departures = 0, unexplained_departures = 0;
    const auto score = [&](const float* got, const float* expected, std::size_t position, double& prompt_worst) {
      const double c = cosine(got, expected, vocab);
      prompt_worst = std::min(prompt_worst, c);
      if (position < tracker.root_position) {
        if (c < min_cosine) std::printf("  clean position %zu: cosine %.7f\n", position, c);
        worst_clean = std::min(worst_clean, c);
      } else {
        worst_after_tie = std::min(worst_after_tie, c);
        ++after_tie;
      }
      const bool same = bitnet::argmax(got, vocab) == bitnet::argmax(expected, vocab);
      argmax_agree += same ? 1 : 0;
      ++positions;
      if (position < tracker.root_position) {
        clean_argmax_agree += same ? 1 : 0;
        ++clean_positions;
      }
    };
    for (std::size_t p = 0; p < ref.prompts; ++p) {
      model.reset();
      tracker.reset(p);
      model.forward(ref.input_ids + p * ref.prompt_length, ref.prompt_length, logits.data(), true);
      double prompt_worst = 1.0;
      for (std::size_t t = 0; t < ref.prompt_length; ++t) {
        score(logits.data() + t * vocab, ref.logits + (p * ref.prompt_length + t) * vocab, t, prompt_worst);
      }

      // Greedy decode; compare step logits while the two continuations agree (same inputs).
      const std::int32_t* expected_ids = ref.continuation_ids + p * ref.continuation;
      const float* last = logits.data() + (ref.prompt_length - 1) * vocab;
      std::vector<float> step(last, last + vocab);
      std::size_t agree = 0;
      std::string departure;
      bool explained = false;
      for (std::size_t s = 0; s < ref.continuation; ++s) {
        const float* expected = ref.continuation_logits + (p * ref.continuation + s) * vocab;
        if (s > 0) {
          // The teacher-forced forward's logits, whose quantized inputs the tracker compares
          // against, where recorded; else generate()'s own.
          const std::size_t position = ref.prompt_length + s - 1;
          const std::size_t sequence_length = ref.prompt_length + ref.continuation - 1;
          score(step.data(), ref.sequence_logits != nullptr ? ref.sequence_logits + (p * sequence_length + position) * vocab : expected,
                position, prompt_worst);
          ++decode_positions;
        }
        const std::int32_t token = bitnet::argmax(step.data(), vocab);
        if (token != expected_ids[s]) {
          char text[240];
          std::snprintf(text, sizeof text, "departs at step %zu: trit %d, transformers %d (transformers' margin %.3g, trit's %.3g)", s,
                        token, expected_ids[s], static_cast<double>(expected[expected_ids[s]] - expected[token]),
                        static_cast<double>(step[static_cast<std::size_t>(token)] - step[static_cast<std::size_t>(expected_ids[s])]));
          departure = text;
          // Step s chooses from the logits of position prompt_length - 1 + s: a tie at or
          // before it explains a different choice; none means a real error.
          explained = tracker.root_position <= ref.prompt_length - 1 + s && tracker.root_ties == tracker.root_values;
          departure += explained ? ", after the rounding tie below" : "  <- NOT AFTER A TIE: a real difference";
          break;
        }
        ++agree;
        if (s + 1 < ref.continuation) {
          tracker.base = ref.prompt_length + s;
          model.forward(&token, 1, step.data());
        }
      }
      if (agree == ref.continuation) {
        ++identical;
      } else if (explained) {
        ++explained_departures;
      } else {
        ++unexplained_departures;
      }
      std::printf("prompt %zu: min cosine %.7f, %zu/%zu continuation tokens identical%s%s\n", p, prompt_worst, agree, ref.continuation,
                  departure.empty() ? "" : "; ", departure.c_str());
      if (tracker.root_position != SIZE_MAX) {
        const bool tie = tracker.root_ties == tracker.root_values;
        untied_roots += tie ? 0 : 1;
        std::printf("  quantized inputs first differ at position %zu (%zu of %zu differing values there are ties; %zu differ in all): %s%s\n",
                    tracker.root_position, tracker.root_ties, tracker.root_values, tracker.differing, tracker.root_example.c_str(),
                    tie ? "" : "  <- NOT A TIE: a real difference");
      }
    }
    const double argmax_fraction = static_cast<double>(argmax_agree) / static_cast<double>(positions);
    const double clean_argmax_fraction =
        clean_positions == 0 ? 1.0 : static_cast<double>(clean_argmax_agree) / static_cast<double>(clean_positions);
    const double identical_fraction = static_cast<double>(identical) / static_cast<double>(ref.prompts);
    const bool pass = worst_clean >= min_cosine && worst_after_tie >= min_cosine_after_tie && untied_roots == 0 &&
                      clean_argmax_fraction >= min_argmax && unexplained_departures == 0 && identical_fraction >= min_identical;
    std::printf("summary: %zu positions (%zu decode steps), %zu with every quantized input equal to transformers'; there: min cosine "
                "%.7f (bound %.4f), argmax agrees on %.2f%% (bound %.0f%%); on the %zu positions at or after an activation rounding "
                "tie: min cosine %.7f (bound %.4f); argmax agrees on %.2f%% of all positions%s; %zu/%zu continuations identical "
                "(bound %.0f%%), %zu depart after a tie, %zu without one (bound 0): %s\n",
                positions, decode_positions, clean_positions, worst_clean, min_cosine, 100 * clean_argmax_fraction, 100 * min_argmax,
                after_tie, worst_after_tie, min_cosine_after_tie, 100 * argmax_fraction,
                ref.activation_positions == 0 ? " [no recorded activations: every position counts as matched]" : "", identical,
                ref.prompts, 100 * min_identical, explained_departures, unexplained_departures, pass ? "PASS" : "FAIL");
    return pass ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bitnet_check: %s\n", e.what());
    return 1;
  }
}
