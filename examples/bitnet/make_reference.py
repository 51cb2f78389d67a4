#!/usr/bin/env python3
"""Reference outputs of Hugging Face transformers' BitNet b1.58 model, for trit's BitNet test.

For each named config it builds a small random `BitNetForCausalLM`, saves it with
`save_pretrained` (safetensors) under transformers' own BitNet quantization config
(`linear_class="autobitlinear"`, `quantization_mode="online"`), loads it back with
`BitNetForCausalLM.from_pretrained(dir, local_files_only=True)` -- which swaps q/k/v/o/gate/up/down
for `AutoBitLinear` -- and records what that model computes on seeded random prompts:

    DIR/PREFIX+NAME/config.json, generation_config.json, model.safetensors   (save_pretrained)
    DIR/PREFIX+NAME/reference.safetensors
        input_ids            int32   [P, T]     seeded random prompts, ids in [0, vocab)
        logits               float32 [P, T, V]  one forward over each whole prompt, no cache
        continuation         int32   [P, C]     greedy continuation (C tokens, never cut short)
        continuation_logits  float32 [P, C, V]  the logits each continuation token was the argmax of
        sequence_logits      float32 [P, T+C-1, V]  one forward without cache over the prompt
                             followed by the continuation's first C-1 tokens (teacher-forced)
        activations.SITE     int8    [P, L, T+C-1, width]  the int8 values each projection's input
                             was quantized to (ActQuant), for SITE qkv (input of q, k, v), o,
                             gate_up (input of gate and up) and down, from one forward without
                             cache over the prompt followed by the continuation's first C-1 tokens
        __metadata__: config, transformers, torch, seed, attn_implementation, threads

Usage:
    python make_reference.py --out DIR [--config NAME ...] [--prompts P] [--prompt-length T]
                             [--continuation C] [--seed S] [--prefix STR] [--threads N]

Regenerating the committed fixture tests/fixtures/bitnet_tiny/ (from the repository root, with
the Python environment of scripts/test-python.sh, which pins torch, transformers, safetensors
and accelerate):

    python examples/bitnet/make_reference.py --out tests/fixtures --prefix bitnet_ --config tiny

With the pinned versions this writes the same tensor bytes again (1 thread, fixed seeds); only
the order of the `__metadata__` keys in reference.safetensors' JSON header may change, since
safetensors writes them from a hash map.

Needs: torch, transformers, safetensors, numpy, and accelerate -- transformers' BitNet quantizer
(`BitNetHfQuantizer.validate_environment`) refuses to load a BitNet-quantized checkpoint without
accelerate installed, although none of its code runs in the forward pass.

transformers wraps WeightQuant/ActQuant in torch.compile; TORCHDYNAMO_DISABLE=1 (set below,
before torch is imported) runs them eagerly, with the same arithmetic and no compiler.

Weight initialisation (all float32; one torch.Generator seeded with --seed, parameters drawn
in `model.named_parameters()` order; tied weights are one parameter and drawn once):
  * every RMSNorm weight (input_layernorm, post_attention_layernorm, attn_sub_norm,
    ffn_sub_norm, model.norm):                           1 + 0.1 * N(0, 1)
  * q/k/v/o/gate/up/down projection weights [out, in]:   N(0, 1) / sqrt(in)
  * model.embed_tokens.weight, untied head:              N(0, 1)
  * lm_head.weight (untied):                             N(0, 1) * 3 / sqrt(hidden)
  * model.embed_tokens.weight, tied head (it is lm_head): N(0, 1) * 3 / sqrt(hidden)
The final norm's output has an RMS near 1, so the logits have a standard deviation of about
3: clear winners, no flat distributions. The projections' scale does not matter to their
ternary trits (absmean is scale-free) but sets the dequantised scale mean|W|, so each block adds
to the residual stream an amount comparable to the embedding. Prompt ids are drawn with
`torch.randint(0, vocab, (P, T))` from a second generator seeded with --seed + 1.
"""

import argparse
import importlib.util
import os
import sys
import time

os.environ["TORCHDYNAMO_DISABLE"] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors import safe_open  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402
from transformers import BitNetConfig, BitNetForCausalLM  # noqa: E402
from transformers.integrations.bitnet import AutoBitLinear, WeightQuant  # noqa: E402

QUANTIZATION_CONFIG = {"quant_method": "bitnet", "linear_class": "autobitlinear",
                       "quantization_mode": "online"}
PROJECTIONS = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
               "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")

# Model hyper-parameters and, per config, the default prompt count P, prompt length T and
# continuation length C (the command line overrides them). head_dim is hidden / heads in
# transformers' BitNet (attn_sub_norm has hidden_size weights), so it is not set separately.
CONFIGS = {
    # Committed to the repository (tests/fixtures/bitnet_tiny): kept small. head_dim 16.
    "tiny": dict(model=dict(num_hidden_layers=2, hidden_size=64, intermediate_size=172,
                            num_attention_heads=4, num_key_value_heads=4, vocab_size=256,
                            tie_word_embeddings=False, rms_norm_eps=1e-5, rope_theta=10000.0),
                 prompts=4, prompt_length=8, continuation=16),
    # GQA ratio 4 (8 query heads, 2 key/value heads), head_dim 32, Llama-3 RoPE base.
    "gqa4": dict(model=dict(num_hidden_layers=3, hidden_size=256, intermediate_size=688,
                            num_attention_heads=8, num_key_value_heads=2, vocab_size=1000,
                            tie_word_embeddings=False, rms_norm_eps=1e-5, rope_theta=500000.0),
                 prompts=8, prompt_length=16, continuation=32),
    # Odd FFN width 344 (not a multiple of 16 or 64), one key/value head, tied LM head.
    "odd344": dict(model=dict(num_hidden_layers=2, hidden_size=128, intermediate_size=344,
                              num_attention_heads=4, num_key_value_heads=1, vocab_size=512,
                              tie_word_embeddings=True, rms_norm_eps=1e-6, rope_theta=500000.0),
                   prompts=8, prompt_length=16, continuation=32),
    # Four layers, hidden 512, head_dim 64, eps 1e-6.
    "wide512": dict(model=dict(num_hidden_layers=4, hidden_size=512, intermediate_size=1376,
                               num_attention_heads=8, num_key_value_heads=8, vocab_size=2048,
                               tie_word_embeddings=False, rms_norm_eps=1e-6, rope_theta=10000.0),
                    prompts=8, prompt_length=16, continuation=32),
}


def make_config(spec, max_positions):
    m = dict(spec)
    theta = m.pop("rope_theta")
    return BitNetConfig(
        **m,
        hidden_act="relu2",
        max_position_embeddings=max_positions,
        rope_parameters={"rope_type": "default", "rope_theta": theta},
        # No special tokens: no EOS can end a continuation, no padding row in the embedding.
        bos_token_id=None, eos_token_id=None, pad_token_id=None,
        attention_bias=False,
        dtype="float32",
    )


def randomize(model, seed):
    """Fills every parameter as the module docstring says."""
    gen = torch.Generator().manual_seed(seed)
    hidden = model.config.hidden_size
    tied = model.config.tie_word_embeddings
    with torch.no_grad():
        for name, p in model.named_parameters():
            z = torch.randn(p.shape, generator=gen, dtype=torch.float32)
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.1 * z)
            elif name == "model.embed_tokens.weight":
                p.copy_(z * (3.0 / hidden ** 0.5) if tied else z)
            elif name == "lm_head.weight":
                p.copy_(z * (3.0 / hidden ** 0.5))
            elif name.endswith("_proj.weight"):
                p.copy_(z / p.shape[1] ** 0.5)
            else:
                raise RuntimeError(f"no initialisation rule for parameter {name}")


def check_loaded(model, path, n_layers):
    """Asserts that from_pretrained built transformers' online AutoBitLinear for every projection,
    left lm_head a plain Linear, and that the checkpoint holds float (not ternary) weights."""
    n_auto = 0
    for name, module in model.named_modules():
        if isinstance(module, AutoBitLinear):
            assert module.online_quant, f"{name}: AutoBitLinear not in online mode"
            assert module.bias is None, name
            n_auto += 1
    assert n_auto == 7 * n_layers, f"{n_auto} AutoBitLinear modules, expected {7 * n_layers}"
    for i in range(n_layers):
        layer = model.model.layers[i]
        for proj in PROJECTIONS:
            mod = layer.get_submodule(proj)
            assert isinstance(mod, AutoBitLinear), f"layer {i} {proj} is {type(mod).__name__}"
    assert type(model.lm_head) is torch.nn.Linear, f"lm_head is {type(model.lm_head).__name__}"
    assert model.dtype == torch.float32 and not model.training

    with safe_open(os.path.join(path, "model.safetensors"), "pt") as f:
        for i in range(n_layers):
            for proj in PROJECTIONS:
                key = f"model.layers.{i}.{proj}.weight"
                w = f.get_tensor(key)
                assert w.dtype == torch.float32, f"{key} stored as {w.dtype}"
                assert torch.unique(w.abs()).numel() > 3, f"{key} is stored already quantised"
                live = model.model.layers[i].get_submodule(proj).weight
                assert torch.equal(w, live), f"{key} reloaded differently"
                # What the forward pass multiplies by: ternary trits times one scale.
                levels = torch.unique(WeightQuant.apply(live.detach()))
                assert levels.numel() <= 3, f"{key}: {levels.numel()} quantised levels"
        if model.config.tie_word_embeddings:
            assert "lm_head.weight" not in f.keys()
            assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()


# The projections whose input each site records: q, k and v share one input, gate and up another.
ACTIVATION_SITES = {"qkv": "self_attn.q_proj", "o": "self_attn.o_proj", "gate_up": "mlp.gate_proj", "down": "mlp.down_proj"}


def record_activations(model, sequence):
    """The logits of one forward without cache over `sequence` (float32 [P, S, V]) and the int8
    values (as ActQuant rounds them) of every projection input in it, per site: int8
    [P, L, S, width]. Lets a checker tell an activation rounding tie from a real error."""
    records = {site: [] for site in ACTIVATION_SITES}
    hooks = []
    for layer in model.model.layers:
        for site, module_name in ACTIVATION_SITES.items():
            module = layer.get_submodule(module_name)

            def hook(module, inputs, site=site):
                x = inputs[0].float()
                scale = 127 / x.abs().max(dim=-1, keepdim=True).values.clamp_(min=1e-5)
                records[site].append((x * scale).round().clamp(-128, 127).to(torch.int8))

            hooks.append(module.register_forward_pre_hook(hook))
    try:
        with torch.no_grad():
            logits = model(input_ids=sequence, use_cache=False).logits.float()
    finally:
        for handle in hooks:
            handle.remove()
    return logits, {site: np.ascontiguousarray(torch.stack(values, dim=1).numpy()) for site, values in records.items()}


def generate_one(name, out_dir, prefix, seed, prompts, prompt_length, continuation):
    spec = CONFIGS[name]
    P = prompts or spec["prompts"]
    T = prompt_length or spec["prompt_length"]
    C = continuation or spec["continuation"]
    path = os.path.join(out_dir, prefix + name)
    os.makedirs(path, exist_ok=True)
    started = time.perf_counter()

    cfg = make_config(spec["model"], max_positions=max(128, T + C))
    model = BitNetForCausalLM(cfg)
    randomize(model, seed)
    model.config.quantization_config = dict(QUANTIZATION_CONFIG)
    model.save_pretrained(path)
    del model

    model = BitNetForCausalLM.from_pretrained(path, local_files_only=True, dtype=torch.float32)
    model.eval()
    check_loaded(model, path, cfg.num_hidden_layers)
    V = model.config.vocab_size

    ids = torch.randint(0, V, (P, T), generator=torch.Generator().manual_seed(seed + 1))
    with torch.no_grad():
        logits = model(input_ids=ids, use_cache=False).logits.float()
        # Greedy continuation with transformers' own generate() (KV cache, DynamicCache).
        # eos_token_id and pad_token_id are None in the config and generation config, so nothing
        # stops it before C tokens; min_new_tokens says so once more. output_logits returns the
        # raw logits of each step (greedy search applies no logits processor here).
        gen = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                             max_new_tokens=C, min_new_tokens=C, eos_token_id=None,
                             pad_token_id=None, output_logits=True, return_dict_in_generate=True)
    cont = gen.sequences[:, T:]
    cont_logits = torch.stack(gen.logits, dim=1).float()
    assert torch.equal(gen.sequences[:, :T], ids)
    assert cont.shape == (P, C) and cont_logits.shape == (P, C, V), (cont.shape, cont_logits.shape)
    assert logits.shape == (P, T, V)
    assert torch.equal(cont, cont_logits.argmax(-1)), "continuation is not the argmax of its logits"
    # The first step's logits (cached prefill) are the no-cache forward's last position.
    first_gap = (cont_logits[:, 0] - logits[:, -1]).abs().max().item()
    assert first_gap < 1e-3, f"prefill logits differ from the plain forward by {first_gap}"

    sequence_logits, activations = record_activations(model, torch.cat([ids, cont[:, :-1]], dim=1))
    # transformers against itself: generate()'s cached steps and the teacher-forced forward
    # without cache sum in different orders, and can land on different sides of a rounding tie.
    self_gap = (cont_logits[:, 1:] - sequence_logits[:, T:]).abs().max().item() if C > 1 else 0.0

    metadata = {
        "config": name,
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "seed": str(seed),
        "attn_implementation": str(model.config._attn_implementation),
        "threads": str(torch.get_num_threads()),
    }
    save_file({
        "input_ids": ids.to(torch.int32).numpy(),
        "logits": np.ascontiguousarray(logits.numpy(), dtype=np.float32),
        "continuation": cont.to(torch.int32).numpy(),
        "continuation_logits": np.ascontiguousarray(cont_logits.numpy(), dtype=np.float32),
        "sequence_logits": np.ascontiguousarray(sequence_logits.numpy(), dtype=np.float32),
        **{f"activations.{site}": values for site, values in activations.items()},
    }, os.path.join(path, "reference.safetensors"), metadata=metadata)

    seconds = time.perf_counter() - started
    size = sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))
    top2 = cont_logits.topk(2, dim=-1).values
    print(f"{name}: {path}  P={P} T={T} C={C} V={V}  logits std {logits.std().item():.2f}, "
          f"smallest top-1/top-2 gap in the continuation {(top2[..., 0] - top2[..., 1]).min().item():.4f}, "
          f"generate() vs forward without cache: max |logit difference| {self_gap:.3g}, "
          f"{size / 1024:.0f} KiB, {seconds:.1f} s", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output directory (one subdirectory per config)")
    ap.add_argument("--config", nargs="+", choices=sorted(CONFIGS), default=None,
                    help="configs to write (default: all)")
    ap.add_argument("--prompts", type=int, default=None, help="P (default: per config)")
    ap.add_argument("--prompt-length", type=int, default=None, help="T (default: per config)")
    ap.add_argument("--continuation", type=int, default=None, help="C (default: per config)")
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--prefix", default="", help="prefix of each config's subdirectory name")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = ap.parse_args()

    if importlib.util.find_spec("accelerate") is None:
        sys.exit("make_reference.py: transformers' BitNet quantizer needs the `accelerate` package "
                 "to load a BitNet checkpoint (pip install accelerate==1.15.0)")
    for flag in ("prompts", "prompt_length", "continuation"):
        v = getattr(args, flag)
        if v is not None and v < 1:
            sys.exit(f"make_reference.py: --{flag.replace('_', '-')} must be at least 1")
    torch.set_num_threads(args.threads)
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()

    for name in args.config or list(CONFIGS):
        generate_one(name, args.out, args.prefix, args.seed, args.prompts, args.prompt_length,
                     args.continuation)


if __name__ == "__main__":
    main()
