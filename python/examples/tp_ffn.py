"""A BitNet FFN block split over processes with torch.distributed, equal bit for bit to the
block computed in one process.

    y = down(sub_norm(relu(gate(x))^2 * up(x)))        (BitNet b1.58's FFN, all BitLinear)

Megatron-style split over R ranks (gloo backend, CPU, localhost):

* gate and up are column-parallel: rank r keeps output rows [r*I/R, (r+1)*I/R) of each weight
  matrix. Those rows are whole packed rows, so each rank packs its rows from the original trits
  with the tensor's own scale, and its outputs are exactly the single-process outputs of those
  rows (every output row is computed on its own). x is replicated: every rank quantizes the
  whole x, and gets the same integers and per-token scales.
* The sub-norm (an RMSNorm over all I features) and the activation scale of down's input (per
  token, absmax over all I) need the whole of h, so the ranks all-gather h (N x I float32).
  Every rank then normalizes and quantizes the whole h exactly as one process would: per-token
  scales computed once, on the full activations.
* down is row-parallel over its K = I inputs: rank r keeps the columns [r*I/R, (r+1)*I/R) of
  W_down. A column cut of Dense243 rows does not fall on byte boundaries in general (5 trits a
  byte, 320-trit groups), so each rank packs its K slice afresh from the original trits
  (trit.pack_trits on the int8 slice, same scale; a one-time cost at load, O(M*K/R)). Each
  rank computes int32 partial sums over its K slice (trit.gemm_int32), and the ranks all-reduce
  those int32 sums. Integer addition is exact and associative, so the reduced sums are the
  single-process accumulators, and the float epilogue ((float)acc / s[n]) * w_scale runs once,
  after the all-reduce, with the full-token scales: the output is the single-process output bit
  for bit. (All-reducing float partial outputs instead would round differently.)

Cheaper alternative for the sub-norm: all-reduce each token's partial sum of squares and max|h|
(2 floats a token instead of I/R); the float sum order then depends on R, so the output agrees
with one process to float rounding, not bit for bit. This example keeps the exact version.

Runs R processes (default 2) on localhost, every step bounded by a timeout; exits 0 when the
distributed output equals the single-process output bit for bit, non-zero otherwise.

    python tp_ffn.py [--hidden 2560 --intermediate 6912 --tokens 8] [--reduce float]

(--reduce float all-reduces float partial outputs instead, and shows the mismatch that avoids.)
"""

import argparse
import datetime
import multiprocessing
import socket
import sys
import time

import numpy as np

EPS = np.float32(1e-5)


def make_block(hidden, intermediate, tokens, seed):
    import trit

    rng = np.random.default_rng(seed)

    def ternary(rows, cols):
        p = trit.pack_weights(rng.standard_normal((rows, cols)).astype(np.float32))
        return p.trits(), p.scales

    block = {}
    block["gate"] = ternary(intermediate, hidden)
    block["up"] = ternary(intermediate, hidden)
    block["down"] = ternary(hidden, intermediate)
    block["norm"] = (1.0 + 0.1 * rng.standard_normal(intermediate)).astype(np.float32)
    x = rng.standard_normal((tokens, hidden)).astype(np.float32)
    return block, x


def relu2_mul(g, u):
    r = np.maximum(g, np.float32(0))
    return (r * r) * u


def sub_norm(h, weight):
    var = np.mean(h * h, axis=-1, keepdims=True, dtype=np.float32)
    return (h / np.sqrt(var + EPS)) * weight


def ffn_single(block, x):
    import trit

    gate, up, down = (trit.pack_trits(*block[k]) for k in ("gate", "up", "down"))
    q = trit.quantize_activations(x)
    h = relu2_mul(trit.gemm(gate, q, threads=1), trit.gemm(up, q, threads=1))
    qh = trit.quantize_activations(sub_norm(h, block["norm"]))
    return trit.gemm(down, qh, threads=1)


def ffn_rank(rank, world, block, x, reduce="int32"):
    import torch
    import torch.distributed as dist
    import trit

    intermediate = block["norm"].shape[0]
    cut = [intermediate * r // world for r in range(world + 1)]
    mine = slice(cut[rank], cut[rank + 1])

    # Column-parallel gate/up: whole rows. Row-parallel down: a K slice, packed afresh.
    gate = trit.pack_trits(np.ascontiguousarray(block["gate"][0][mine]), block["gate"][1])
    up = trit.pack_trits(np.ascontiguousarray(block["up"][0][mine]), block["up"][1])
    down_trits, down_scale = block["down"]
    down = trit.pack_trits(np.ascontiguousarray(down_trits[:, mine]), down_scale)

    q = trit.quantize_activations(x)
    h_mine = relu2_mul(trit.gemm(gate, q, threads=1), trit.gemm(up, q, threads=1))

    parts = [torch.empty((x.shape[0], cut[r + 1] - cut[r]), dtype=torch.float32) for r in range(world)]
    dist.all_gather(parts, torch.from_numpy(np.ascontiguousarray(h_mine)))
    h = np.concatenate([p.numpy() for p in parts], axis=1)
    qh = trit.quantize_activations(sub_norm(h, block["norm"]))

    if reduce == "float":
        # The inexact way, for comparison: each rank finishes its own floats, then they are summed.
        partial = torch.from_numpy(trit.gemm(down, qh.values[:, mine], qh.scales, threads=1))
        dist.all_reduce(partial, op=dist.ReduceOp.SUM)
        return partial.numpy()
    # Partial int32 sums over this rank's K slice; the activations are a strided view, no copy.
    acc = torch.from_numpy(trit.gemm_int32(down, qh.values[:, mine], threads=1))
    dist.all_reduce(acc, op=dist.ReduceOp.SUM)
    # The epilogue of trit.gemm, once, on the exact sums and the full-token scales.
    return (acc.numpy().astype(np.float32) / qh.scales[:, None]) * down_scale[0]


def worker(rank, world, port, args, results):
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=args.timeout))
    try:
        block, x = make_block(args.hidden, args.intermediate, args.tokens, args.seed)
        start = time.perf_counter()
        y = ffn_rank(rank, world, block, x, args.reduce)
        elapsed = time.perf_counter() - start
        if rank == 0:
            expected = ffn_single(block, x)
            same = y.shape == expected.shape and y.tobytes() == expected.tobytes()
            results.put((same, elapsed, float(np.abs(y - expected).max())))
    finally:
        dist.destroy_process_group()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--intermediate", type=int, default=1376)
    parser.add_argument("--tokens", type=int, default=5)
    parser.add_argument("--world", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reduce", choices=["int32", "float"], default="int32",
                        help="all-reduce int32 sums before the epilogue (exact) or float partial outputs (inexact)")
    parser.add_argument("--timeout", type=int, default=120, help="seconds for the whole run and each collective")
    args = parser.parse_args()

    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    port = free_port()
    procs = [ctx.Process(target=worker, args=(r, args.world, port, args, results)) for r in range(args.world)]
    for p in procs:
        p.start()
    deadline = time.monotonic() + args.timeout
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
    hung = [p for p in procs if p.is_alive()]
    for p in hung:
        p.terminate()
        p.join(5)
    if hung:
        print(f"tp_ffn: {len(hung)} rank(s) still running after {args.timeout} s; stopped them", file=sys.stderr)
        return 2
    failed = [r for r, p in enumerate(procs) if p.exitcode != 0]
    if failed:
        print(f"tp_ffn: rank(s) {failed} failed", file=sys.stderr)
        return 1
    same, elapsed, max_diff = results.get(timeout=5)
    shape = f"hidden {args.hidden}, intermediate {args.intermediate}, {args.tokens} tokens, {args.world} ranks"
    if not same:
        print(f"tp_ffn: MISMATCH ({shape}): max |difference| {max_diff}", file=sys.stderr)
        return 1
    print(f"tp_ffn: distributed FFN equals the single-process FFN bit for bit ({shape}; rank 0 took {elapsed:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
