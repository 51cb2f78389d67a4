// bitnet_generate: runs a BitNet b1.58 model converted by trit-convert: the prompt as one batch,
// then one token at a time, and prints the tokens with prefill and decode speed and peak memory.
// Token ids only: this program has no tokenizer (use the model's own tokenizer to encode the
// prompt and decode the output ids).
//
//   bitnet_generate MODEL.trit --prompt 128000,9906,1917 [-n 32] [--temperature 0.7 --top-k 40 --seed 1]
//                   [--threads N] [--lm-head stored|f16|int8] [--layout dense243|two_bit]
//                   [--activations int8|int4|a4.8|topk]
//                   [--context N] [--isa NAME] [--profile]
//   bitnet_generate --random 2b4t|tiny [...]   random weights of that shape, built in memory:
//                                                speed and memory without a checkpoint
//   bitnet_generate --random 2b4t --save FILE   writes those weights as a trit model file (f16
//                                                embedding and LM head) and exits
#include <trit/io.hpp>
#include <trit/trit.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "model.hpp"
#include "sampling.hpp"

namespace {

struct Arguments {
  std::string model_path;
  std::string random_shape;
  std::string save_path;
  std::vector<std::int32_t> prompt;
  std::size_t new_tokens = 32;
  bitnet::SamplingOptions sampling;
  unsigned threads = 0;
  std::string lm_head;
  std::string layout;
  trit::ActivationConfig activations;
  std::size_t context = 0;
  trit::Isa isa = trit::Isa::automatic;
  bool profile = false;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "bitnet_generate: %s\n"
               "usage: bitnet_generate MODEL.trit --prompt ID,ID,... [-n N] [--temperature T] [--top-k K] [--seed S]\n"
               "                       [--threads N] [--lm-head stored|f16|int8] [--layout dense243|two_bit]\n"
               "                       [--activations int8|int4|a4.8|topk]\n"
               "                       [--context N] [--isa NAME] [--profile]\n"
               "       bitnet_generate --random 2b4t|tiny [same options] [--save FILE]\n",
               why);
  std::exit(2);
}

std::uint64_t parse_number(const std::string& text, const char* what) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || text[0] == '-' || *end != '\0' || errno != 0) usage((std::string("bad ") + what + ": " + text).c_str());
  return value;
}

std::vector<std::int32_t> parse_ids(const std::string& text) {
  std::vector<std::int32_t> ids;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const std::uint64_t id = parse_number(item, "token id");
    if (id > 0x7fffffff) usage(("token id too large: " + item).c_str());
    ids.push_back(static_cast<std::int32_t>(id));
  }
  if (ids.empty()) usage("--prompt needs at least one token id");
  return ids;
}

Arguments parse(int argc, char** argv) {
  Arguments a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage((arg + " needs a value").c_str());
      return argv[++i];
    };
    if (arg == "--prompt") {
      a.prompt = parse_ids(value());
    } else if (arg == "-n") {
      a.new_tokens = parse_number(value(), "-n");
    } else if (arg == "--temperature") {
      a.sampling.temperature = std::strtof(value().c_str(), nullptr);
    } else if (arg == "--top-k") {
      a.sampling.top_k = parse_number(value(), "--top-k");
    } else if (arg == "--seed") {
      a.sampling.seed = parse_number(value(), "--seed");
    } else if (arg == "--threads") {
      a.threads = static_cast<unsigned>(parse_number(value(), "--threads"));
    } else if (arg == "--lm-head") {
      a.lm_head = value();
    } else if (arg == "--layout") {
      a.layout = value();
    } else if (arg == "--context") {
      a.context = parse_number(value(), "--context");
    } else if (arg == "--isa") {
      a.isa = trit::parse_isa(value());
    } else if (arg == "--activations") {
      const std::string scheme = value();
      if (scheme == "int8") {
        a.activations.scheme = trit::ActivationScheme::int8_absmax;
      } else if (scheme == "int4") {
        a.activations.scheme = trit::ActivationScheme::int4_absmax;
      } else if (scheme == "a4.8") {
        a.activations.scheme = trit::ActivationScheme::int4_absmean;
      } else if (scheme == "topk") {
        a.activations.scheme = trit::ActivationScheme::int8_topk;
      } else {
        usage(("unknown activation scheme " + scheme).c_str());
      }
    } else if (arg == "--profile") {
      a.profile = true;
    } else if (arg == "--save") {
      a.save_path = value();
    } else if (arg == "--random") {
      a.random_shape = value();
    } else if (!arg.empty() && arg[0] == '-') {
      usage(("unknown option " + arg).c_str());
    } else if (a.model_path.empty()) {
      a.model_path = arg;
    } else {
      usage("more than one model file");
    }
  }
  if (a.model_path.empty() == a.random_shape.empty()) usage("give a model file or --random SHAPE");
  if (!a.save_path.empty() && a.random_shape.empty()) usage("--save needs --random SHAPE");
  if (a.prompt.empty()) a.prompt = {1, 2, 3, 4};
  return a;
}

// The peak resident set (VmHWM) in bytes, or 0 where /proc does not say.
std::size_t peak_resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.compare(0, 6, "VmHWM:") == 0) return static_cast<std::size_t>(std::strtoull(line.c_str() + 6, nullptr, 10)) * 1024;
  }
  return 0;
}

bitnet::Config random_config(const std::string& shape) {
  constexpr std::size_t kMaxPositions = 4096;
  if (shape == "2b4t") return bitnet::bitnet_2b4t_shape(kMaxPositions);
  if (shape != "tiny") usage(("unknown --random shape " + shape).c_str());
  bitnet::Config c;
  c.vocab = 512, c.hidden = 128, c.intermediate = 344, c.layers = 2, c.heads = 4, c.kv_heads = 1, c.head_dim = 32;
  c.max_positions = kMaxPositions;
  c.rms_norm_eps = 1e-5f;
  c.rope_theta = 500000.0f;
  return c;
}

double mib(std::size_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

}  // namespace

int main(int argc, char** argv) {
  const Arguments args = parse(argc, argv);
  try {
    using clock = std::chrono::steady_clock;
    std::unique_ptr<trit::ModelFile> file;
    bitnet::Config config;
    bitnet::WeightOptions weight_options{args.activations, args.lm_head, args.layout};
    std::unique_ptr<bitnet::Model> model;
    bitnet::ModelOptions model_options;
    model_options.threads = args.threads;
    model_options.isa = args.isa;
    model_options.max_context = args.context != 0 ? args.context : args.prompt.size() + args.new_tokens;
    model_options.profile = args.profile;
    if (!args.random_shape.empty()) {
      config = random_config(args.random_shape);
      if (weight_options.lm_head_format.empty()) weight_options.lm_head_format = "f16";
      bitnet::Weights weights = bitnet::random_weights(config, 1, weight_options);
      if (!args.save_path.empty()) {
        bitnet::write_model_file(weights, config, args.save_path);
        std::printf("wrote %s\n", args.save_path.c_str());
        return 0;
      }
      model = std::make_unique<bitnet::Model>(config, std::move(weights), model_options);
    } else {
      file = std::make_unique<trit::ModelFile>(trit::ModelFile::open(args.model_path));
      config = bitnet::read_config(file->contents());
      model = std::make_unique<bitnet::Model>(config, bitnet::load_weights(*file, config, weight_options), model_options);
    }
    const bitnet::Weights& w = model->weights();
    std::printf("model: %s: %zu layers, hidden %zu, intermediate %zu, %zu heads (%zu KV, dim %zu), vocab %zu\n",
                args.random_shape.empty() ? args.model_path.c_str() : ("random " + args.random_shape).c_str(), config.layers,
                config.hidden, config.intermediate, config.heads, config.kv_heads, config.head_dim, config.vocab);
    const trit::WeightLayout layout = w.layers.front().q.layout();
    std::printf("run: kernel path %s, %u threads, weights %s, activations %s, LM head %s, context %zu\n",
                trit::isa_name(w.layers.front().q.uses_int4_kernels() ? trit::gemm_int4_path(args.isa)
                               : layout == trit::WeightLayout::two_bit ? trit::two_bit_path(args.isa)
                                                                       : trit::gemm_path(args.isa)),
                args.threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : args.threads, trit::layout_name(layout), trit::scheme_name(args.activations.scheme), bitnet::format_name(w.lm_head.format()),
                model->context());

    std::vector<float> logits(config.vocab);
    bitnet::Sampler sampler(args.sampling);
    std::vector<std::int32_t> output;
    const auto prefill_start = clock::now();
    model->forward(args.prompt.data(), args.prompt.size(), logits.data());
    const double prefill_s = std::chrono::duration<double>(clock::now() - prefill_start).count();
    const bitnet::Profile prefill_profile = model->profile();
    const auto decode_start = clock::now();
    for (std::size_t i = 0; i < args.new_tokens; ++i) {
      const std::int32_t token = sampler.next(logits.data(), config.vocab);
      output.push_back(token);
      if (i + 1 == args.new_tokens || (config.eos_token >= 0 && token == config.eos_token)) break;
      model->forward(&token, 1, logits.data());
    }
    const double decode_s = std::chrono::duration<double>(clock::now() - decode_start).count();
    bitnet::Profile decode_profile = model->profile();
    const std::size_t decoded = output.empty() ? 0 : output.size() - 1;  // the first token came from the prefill

    std::printf("prompt:");
    for (std::int32_t id : args.prompt) std::printf(" %d", id);
    std::printf("\noutput:");
    for (std::int32_t id : output) std::printf(" %d", id);
    std::printf("\nprefill: %zu tokens in %.1f ms (%.1f tokens/s)\n", args.prompt.size(), 1e3 * prefill_s,
                static_cast<double>(args.prompt.size()) / prefill_s);
    if (decoded > 0) {
      std::printf("decode: %zu tokens in %.1f ms (%.2f tokens/s, %.1f ms/token, %.1f MB read per token)\n", decoded, 1e3 * decode_s,
                  static_cast<double>(decoded) / decode_s, 1e3 * decode_s / static_cast<double>(decoded), static_cast<double>(w.bytes_per_token()) / 1e6);
    }
    if (args.profile) {
      decode_profile.projections -= prefill_profile.projections;
      decode_profile.attention -= prefill_profile.attention;
      decode_profile.lm_head -= prefill_profile.lm_head;
      decode_profile.other -= prefill_profile.other;
      for (const auto& part : {std::make_pair("prefill", prefill_profile), std::make_pair("decode", decode_profile)}) {
        const bitnet::Profile& p = part.second;
        std::printf("profile %s: projections %.1f ms, attention %.1f ms, LM head %.1f ms, other %.1f ms\n", part.first,
                    1e3 * p.projections, 1e3 * p.attention, 1e3 * p.lm_head, 1e3 * p.other);
      }
    }
    // A model in memory holds all its weights; a mapped one only the pages it reads (the
    // embedding's rows in use, the LM head and projections it runs on), so compare with both.
    const std::size_t all_weights = w.total_bytes(), read_weights = w.bytes_per_token(), kv = model->kv_cache_bytes();
    const std::size_t peak = peak_resident_bytes();
    std::printf("peak memory: %.1f MiB resident; weights %.1f MiB (%.1f MiB read per token) + KV cache %.1f MiB: "
                "peak / (all weights + KV) %.3f, peak / (weights read + KV) %.3f\n",
                mib(peak), mib(all_weights), mib(read_weights), mib(kv), static_cast<double>(peak) / static_cast<double>(all_weights + kv),
                static_cast<double>(peak) / static_cast<double>(read_weights + kv));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bitnet_generate: %s\n", e.what());
    return 1;
  }
}
