"""Forward speed of transformers' BitNet on trit (trit.torch.convert) against transformers'
own CPU path, and the parallel speed-up of two Python threads (the GIL is released).

    python bench_forward.py [--layers 2] [--repeats 5] [--quick]

Random weights, no download. Two linear classes of transformers are measured: `bitlinear`
(offline 2-bit packed weights, what the released BitNet b1.58 2B4T checkpoint loads as) and
`autobitlinear` online (float weights ternarized at every call). transformers wraps its
quantizers in torch.compile; this bench runs them eagerly (TORCHDYNAMO_DISABLE=1), as the
tests do, because compiling on a small machine takes minutes per shape. lm_head and the
embeddings are shrunk (vocabulary 1024), since they stay in torch either way.
"""

import argparse
import copy
import os
import threading
import time

os.environ.setdefault("TORCHDYNAMO_DISABLE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import BitNetConfig, BitNetForCausalLM, BitNetQuantConfig  # noqa: E402
from transformers.integrations import bitnet as hf_bitnet  # noqa: E402

import trit  # noqa: E402
import trit.torch as tt  # noqa: E402


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def build(hidden, intermediate, layers, heads, kv_heads, linear_class):
    torch.manual_seed(0)
    cfg = BitNetConfig(vocab_size=1024, hidden_size=hidden, intermediate_size=intermediate, num_hidden_layers=layers,
                       num_attention_heads=heads, num_key_value_heads=kv_heads, max_position_embeddings=512,
                       bos_token_id=0, eos_token_id=1, pad_token_id=1)
    model = BitNetForCausalLM(cfg).eval()
    state = model.state_dict()
    mode = "online" if linear_class == "autobitlinear" else "offline"
    hf_bitnet.replace_with_bitnet_linear(
        model, modules_to_not_convert=["lm_head"],
        quantization_config=BitNetQuantConfig(linear_class=linear_class, quantization_mode=mode))
    if linear_class == "bitlinear":
        for name, module in model.named_modules():
            if isinstance(module, hf_bitnet.BitLinear):
                packed = trit.pack_weights(state[name + ".weight"].numpy())
                trits = torch.from_numpy(packed.trits()).to(torch.int32)
                state[name + ".weight"] = hf_bitnet.pack_weights(trits)
                # transformers divides by weight_scale; trit multiplies by its scale.
                state[name + ".weight_scale"] = torch.tensor([1.0 / float(packed.scales[0])])
    model.load_state_dict(state, assign=True)
    return model


def seconds(fn, repeats):
    # The fastest of the repeats: on a shared machine the others measure the neighbours too.
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def load_average():
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "unknown"


def bench_model(label, dims, linear_class, tokens_list, repeats):
    hf = build(*dims, linear_class)
    ours = tt.convert(copy.deepcopy(hf))  # kernel threads = torch.get_num_threads()
    ours1 = tt.convert(copy.deepcopy(hf), threads=1)
    rows = []
    for tokens in tokens_list:
        ids = torch.randint(2, 1024, (1, tokens), generator=torch.Generator().manual_seed(tokens))
        with torch.no_grad():
            t_hf = seconds(lambda: hf(ids), repeats)
            t_trit = seconds(lambda: ours(ids), repeats)
            t_trit1 = seconds(lambda: ours1(ids), repeats)
            cos = torch.nn.functional.cosine_similarity(hf(ids).logits, ours(ids).logits, dim=-1).min().item()
        rows.append((label, linear_class, tokens, t_hf, t_trit, t_trit1, cos))
        print(f"{label:>24} {linear_class:>13} {tokens:>6} {t_hf * 1e3:>10.2f} {t_trit * 1e3:>10.2f} "
              f"{t_hf / t_trit:>8.2f}x {t_trit1 * 1e3:>10.2f} {t_hf / t_trit1:>8.2f}x  cos>={cos:.6f}", flush=True)
    del hf, ours, ours1
    return rows


def bench_threads(repeats):
    # One 6912 x 2560 projection (2B4T's gate), 8 tokens, one kernel thread per call: two
    # Python threads should take about half the time of one doing the same calls.
    rng = np.random.default_rng(0)
    layer = trit.BitLinear.from_float(rng.standard_normal((6912, 2560)).astype(np.float32))
    x = rng.standard_normal((8, 2560)).astype(np.float32)
    calls = 40

    def work(n):
        for _ in range(n):
            layer.forward(x, threads=1)

    def one():
        work(2 * calls)

    def two():
        ts = [threading.Thread(target=work, args=(calls,)) for _ in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

    t1 = seconds(one, repeats)
    t2 = seconds(two, repeats)

    # Whether the calls overlap does not depend on how busy the machine is: with the GIL
    # held, two threads could never be inside forward at the same time.
    spans = [[], []]

    def timed(i):
        for _ in range(calls):
            start = time.perf_counter()
            layer.forward(x, threads=1)
            spans[i].append((start, time.perf_counter()))

    ts = [threading.Thread(target=timed, args=(i,)) for i in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    inside = sum(b - a for a, b in spans[0])
    both = sum(max(0.0, min(b0, b1) - max(a0, a1)) for a0, b0 in spans[0] for a1, b1 in spans[1])
    return t1, t2, both / inside


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", type=int, default=2, help="decoder layers of the 2B4T-sized model")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="the small model only")
    parser.add_argument("--threads-only", action="store_true", help="only the two-Python-threads measurement")
    args = parser.parse_args()

    print(f"CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; torch {torch.__version__} with "
          f"{torch.get_num_threads()} threads; trit path {trit.cpu_info()['path']}; load average {load_average()}")
    print(f"{'model':>24} {'linear class':>13} {'tokens':>6} {'hf ms':>10} {'trit ms':>10} {'speed-up':>9} "
          f"{'trit/1 ms':>10} {'speed-up':>9}   (trit/1: one kernel thread a product)")
    if args.threads_only:
        linear_classes = ()
    else:
        linear_classes = ("bitlinear", "autobitlinear")
    small = (512, 1376, 4, 8, 4)
    big = (2560, 6912, args.layers, 20, 5)
    for linear_class in linear_classes:
        bench_model("small 512/1376 x4", small, linear_class, (1, 64), args.repeats)
        if not args.quick:
            bench_model(f"2B4T 2560/6912 x{args.layers}", big, linear_class, (1, 64), args.repeats)
    t1, t2, overlap = bench_threads(args.repeats)
    print(f"GIL release: 80 forwards of a 6912x2560 BitLinear (8 tokens, threads=1 each): one Python thread "
          f"{t1 * 1e3:.1f} ms, two Python threads {t2 * 1e3:.1f} ms, speed-up {t1 / t2:.2f}x; "
          f"thread 0 spent {overlap:.0%} of its time in forward while thread 1 was in forward too")
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
