#!/usr/bin/env python3
"""Turns trit_bench's Google Benchmark JSON into the markdown of bench/README.md: the machine,
the probes, every row (median and spread), the speed-ups over the baselines, and which
targets of the benchmark issue are met.

    make_table.py RESULTS.json [--command CMD] [--seconds S] [--update-readme README.md]

Without --update-readme the markdown goes to stdout; with it, the part of README.md between
the results markers is replaced.
"""
import argparse
import json
import re
import statistics
import sys

BASELINE_PATHS = ("fp32_openblas", "int8_vnni")
BEGIN_MARK = "<!-- results:begin (written by bench/make_table.py) -->"
END_MARK = "<!-- results:end -->"
KERNEL_ROW = re.compile(r"^(gemv|gemm)/(\d+)x(\d+)/n(\d+)/([^/]+)/t(\d+)/(hot|cold)$")
BITNET_SHAPES = ((2560, 2560), (640, 2560), (6912, 2560), (2560, 6912))
STRATEGY_COUNTER = re.compile(r"^GBps_(\d+)s(_pf)?$")
SHAPE_ORDER = BITNET_SHAPES + ((4096, 4096), (11008, 4096), (4096, 11008))


class Row:
    """One benchmark: the median of its repetitions and the spread of its time."""

    def __init__(self, name):
        self.name = name
        self.time_ns = None
        self.cv = None
        self.counters = {}
        self.label = ""
        self.repetitions = 1
        self.maxima = {}

    def counter(self, key):
        return self.counters.get(key)


def load_rows(benchmarks):
    rows = {}
    singles = {}
    counter_keys = ("GOPS", "GBps", "weight_GBps", "bits_per_weight", "frac_of_limit", "tokens_per_s",
                    "ms_per_token", "best_pass_GBps", "best_pass_GOPS", "G_instructions_per_s",
                    # The whole-model rows (model_rows.cpp).
                    "MB_per_token", "projections_ms", "attention_ms", "lm_head_ms", "other_ms",
                    "int8_head_min_cosine", "int8_head_top1_agreement")
    for entry in benchmarks:
        # The DRAM probe's read strategies, one counter each (GBps_8s_pf: 8 streams, prefetch).
        counter_keys += tuple(k for k in entry if STRATEGY_COUNTER.match(k) and k not in counter_keys)
        name = entry.get("run_name", entry["name"])
        row = rows.setdefault(name, Row(name))
        row.label = entry.get("label", row.label)
        if entry.get("run_type") == "aggregate":
            kind = entry.get("aggregate_name")
            row.repetitions = entry.get("repetitions", row.repetitions)
            if kind == "median":
                row.time_ns = to_ns(entry)
                row.counters = {k: entry[k] for k in counter_keys if k in entry}
            elif kind == "cv":
                row.cv = entry.get("real_time")
            elif kind == "max":
                row.maxima = {k: entry[k] for k in counter_keys if k in entry}
        else:
            singles.setdefault(name, []).append(entry)
    # Without --benchmark_report_aggregates_only the repetitions are here; take their median.
    for name, entries in singles.items():
        row = rows[name]
        if row.time_ns is not None:
            continue
        times = [to_ns(e) for e in entries]
        row.time_ns = statistics.median(times)
        row.repetitions = len(entries)
        if len(times) > 1 and statistics.mean(times) > 0:
            row.cv = statistics.stdev(times) / statistics.mean(times)
        for key in counter_keys:
            values = [e[key] for e in entries if key in e]
            if values:
                row.counters[key] = statistics.median(values)
    return rows


def to_ns(entry):
    scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[entry.get("time_unit", "ns")]
    return entry["real_time"] * scale


def fmt_time(ns):
    if ns is None:
        return "-"
    for unit, div in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= div:
            return f"{ns / div:.3g} {unit}"
    return f"{ns:.3g} ns"


def fmt(value, digits=3):
    return "-" if value is None else f"{value:.{digits}g}"


def fmt_cv(cv):
    return "-" if cv is None else f"±{100 * cv:.1f}%"


def kernel_key(match):
    op, m, k, n, path, t, temp = match.groups()
    return (op, int(m), int(k), int(n), int(t), temp), path


def build_markdown(data, command, seconds):
    context = data.get("context", {})
    rows = load_rows(data.get("benchmarks", []))
    best = context.get("trit_best_path", "")
    lines = []
    reps = max((r.repetitions for r in rows.values()), default=1)

    lines.append(f"Measured {context.get('date', '?')} on `{context.get('cpu_model', context.get('host_name', '?'))}` "
                 f"({context.get('num_cpus', '?')} CPUs, load average at start "
                 f"{', '.join(f'{x:.2f}' for x in context.get('load_avg', [])) or '?'}), trit {context.get('trit_version', '?')}, "
                 f"best path `{best}`, paths `{context.get('trit_paths', '?')}`, sweep `{context.get('trit_sweep', '?')}`, "
                 f"{reps} repetitions per row.")
    lines.append(f"OpenBLAS: core `{context.get('openblas_corename', '?')}`, AVX-512 kernels: "
                 f"{context.get('openblas_avx512_kernels', '?')} (`{context.get('openblas_config', '?')}`). "
                 f"int8 dot peak instruction: {context.get('int8_dot_peak_instruction', '?')}.")
    if command:
        lines.append("")
        lines.append(f"Command: `{command}`" + (f" (took {seconds:.0f} s)" if seconds else ""))
    lines.append("")
    lines.append("Every value is the median over the repetitions; the spread is the coefficient of variation of "
                 "the wall time. GOPS = 2·M·K·N / time, weight GB/s = packed weight bytes / time, frac of limit = "
                 "weight GB/s ÷ probe/dram_read_bw for cold GEMV and the decode step, GOPS ÷ probe/int8_dot_peak "
                 "otherwise (same thread count). × fp32 and × int8 are the baselines' time ÷ trit's time on the "
                 "same shape, N, threads and hot/cold.")
    lines.append("")

    # Probes: the typical pass, and the best pass, which is the limit the rows divide by.
    lines.append("| probe | time | spread | median | limit (best pass) |")
    lines.append("|---|---:|---:|---:|---:|")
    for name in sorted(n for n in rows if n.startswith("probe/")):
        row = rows[name]
        if row.counter("G_instructions_per_s") is not None:
            lines.append(f"| {name} | {fmt_time(row.time_ns)} | {fmt_cv(row.cv)} | "
                         f"{fmt(row.counter('G_instructions_per_s'), 3)} G instructions/s | - |")
            continue
        unit = "GB/s" if row.counter("GBps") is not None else "GOPS"
        value = row.counter("GBps") if unit == "GB/s" else row.counter("GOPS")
        key = "best_pass_GBps" if unit == "GB/s" else "best_pass_GOPS"
        best_pass = row.maxima.get(key, row.counter(key))
        lines.append(f"| {name} | {fmt_time(row.time_ns)} | {fmt_cv(row.cv)} | {fmt(value, 4)} {unit} | "
                     f"{fmt(best_pass, 4)} {unit} |")
    lines.append("")
    lines.extend(strategies_markdown(rows))

    # Whole-model rows.
    model = [rows[n] for n in rows if n.startswith(("decode_step/", "prefill/", "model/"))]
    if model:
        lines.append("| model row | time | spread | ms/token | tokens/s | weight GB/s | GOPS | frac of limit |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for row in model:
            lines.append(f"| {row.name} ({row.label}) | {fmt_time(row.time_ns)} | {fmt_cv(row.cv)} | "
                         f"{fmt(row.counter('ms_per_token'))} | {fmt(row.counter('tokens_per_s'))} | "
                         f"{fmt(row.counter('weight_GBps'))} | {fmt(row.counter('GOPS'))} | "
                         f"{fmt(row.counter('frac_of_limit'))} |")
        lines.append("")
        whole = [row for row in model if row.name.startswith("model/")]
        if whole:
            lines.append("| whole-model row | MB read/token | projections ms/token | attention ms/token | LM head ms/token | "
                         "other ms/token | int8 head vs fp16: min cosine, top-1 agreement |")
            lines.append("|---|---:|---:|---:|---:|---:|---:|")
            for row in whole:
                agreement = (f"{row.counter('int8_head_min_cosine'):.6f}, {row.counter('int8_head_top1_agreement'):.3f}"
                             if row.counter("int8_head_min_cosine") is not None else "-")
                lines.append(f"| {row.name} | {fmt(row.counter('MB_per_token'))} | {fmt(row.counter('projections_ms'))} | "
                             f"{fmt(row.counter('attention_ms'))} | {fmt(row.counter('lm_head_ms'))} | {fmt(row.counter('other_ms'))} | "
                             f"{agreement} |")
            lines.append("")

    # Kernel rows, baselines beside trit's.
    kernels = {}
    for name, row in rows.items():
        match = KERNEL_ROW.match(name)
        if match:
            key, path = kernel_key(match)
            kernels.setdefault(key, {})[path] = row
    if kernels:
        lines.append("| row | time | spread | GOPS | weight GB/s | bits/weight | frac of limit | × fp32 | × int8 |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    def shape_rank(key):
        shape = (key[1], key[2])
        return SHAPE_ORDER.index(shape) if shape in SHAPE_ORDER else len(SHAPE_ORDER)

    # Shapes in the order, then N, hot before cold, then threads.
    for key in sorted(kernels, key=lambda k: (shape_rank(k), k[1], k[2], k[3], k[5] == "cold", k[4])):
        by_path = kernels[key]
        for path in sorted(by_path, key=lambda p: (p in BASELINE_PATHS, p != best, p)):
            row = by_path[path]
            speedups = []
            for baseline in BASELINE_PATHS:
                other = by_path.get(baseline)
                if path in BASELINE_PATHS or other is None or not row.time_ns:
                    speedups.append("-")
                else:
                    speedups.append(f"{other.time_ns / row.time_ns:.2f}")
            lines.append(f"| {row.name} | {fmt_time(row.time_ns)} | {fmt_cv(row.cv)} | {fmt(row.counter('GOPS'))} | "
                         f"{fmt(row.counter('weight_GBps'))} | {fmt(row.counter('bits_per_weight'))} | "
                         f"{fmt(row.counter('frac_of_limit'))} | {speedups[0]} | {speedups[1]} |")
    if kernels:
        lines.append("")

    lines.extend(targets_markdown(rows, kernels, best, context.get("trit_best_int4_path")))
    return "\n".join(lines) + "\n"


def strategy_name(key):
    streams, prefetch = STRATEGY_COUNTER.match(key).groups()
    return f"{streams} stream{'s' if streams != '1' else ''}{' + prefetch' if prefetch else ''}"


def strategies_markdown(rows):
    """The DRAM probe's read strategies (median GB/s of each) and which one won: the probe is
    the fastest of them, so that no kernel that reads in streams can beat its own limit."""
    probes = sorted(n for n in rows if n.startswith("probe/dram_read_bw/"))
    keys = sorted({k for n in probes for k in rows[n].counters if STRATEGY_COUNTER.match(k)},
                  key=lambda k: (int(STRATEGY_COUNTER.match(k).group(1)), k.endswith("_pf")))
    if not keys:
        return []
    out = ["| DRAM read strategy | " + " | ".join(p.rsplit("/", 1)[1] for p in probes) + " |",
           "|---|" + "---:|" * len(probes)]
    winners = {p: max(keys, key=lambda k: rows[p].counter(k) or 0) for p in probes}
    for key in keys:
        cells = []
        for p in probes:
            value = rows[p].counter(key)
            cell = "-" if value is None else f"{value:.2f} GB/s"
            cells.append(f"**{cell}**" if key == winners[p] else cell)
        out.append(f"| {strategy_name(key)} | " + " | ".join(cells) + " |")
    out.append("")
    out.append("Winning strategy (bold): " +
               ", ".join(f"{p.rsplit('/', 1)[1]}: {strategy_name(winners[p])}" for p in probes) + ".")
    out.append("")
    return out


def best_int4_row(paths, best_int4):
    """The int4 row to set against the int8 one. A --full run has an int4 row for every path
    (int4-avx2 before int4-avx512bw in the JSON), so taking the first int4 row compared the
    int8 kernel with a slower int4 one; the best int4 path is named in the context, and JSON
    from before that context key falls back to the fastest int4 row."""
    if best_int4 and best_int4 in paths:
        return paths[best_int4]
    candidates = [row for path, row in paths.items() if path.startswith("int4-") and row.time_ns]
    return min(candidates, key=lambda row: row.time_ns, default=None)


def targets_markdown(rows, kernels, best, best_int4=None):
    """The targets of the issue, each with the measured ratio."""
    out = ["| target | measured | met |", "|---|---:|:---:|"]
    missing = []

    def add(text, value, goal):
        if value is None:
            missing.append(text)
        else:
            out.append(f"| {text} | {value:.3f} | {'yes' if value >= goal else 'no'} |")

    def kernel(op, m, k, n, t, temp, path=None):
        return kernels.get((op, m, k, n, t, temp), {}).get(path or best)

    decode = rows.get("decode_step/bitnet_2b4t")
    add("decode_step/bitnet_2b4t weight traffic ≥ 0.85 × probe/dram_read_bw/t2",
        decode.counter("frac_of_limit") if decode else None, 0.85)
    # The whole model (examples/bitnet): decode against DRAM, prefill against its GEMM rows.
    whole_decode = rows.get("model/bitnet_2b4t/decode/lm_int8")
    add("model/bitnet_2b4t/decode/lm_int8 bytes per token ÷ time ≥ 0.85 × probe/dram_read_bw/t2",
        whole_decode.counter("frac_of_limit") if whole_decode else None, 0.85)
    prefill = rows.get("model/bitnet_2b4t/prefill128")
    # 30 layers of q, o (2560x2560), k, v (640x2560), gate, up (6912x2560) and down (2560x6912).
    projections = ((2560, 2560, 2), (640, 2560, 2), (6912, 2560, 2), (2560, 6912, 1))
    kernel_rows = [(kernel("gemm", m, k, 128, 2, "hot"), count) for m, k, count in projections]
    if prefill and all(row for row, _ in kernel_rows) and prefill.time_ns:
        ratio = 30 * sum(row.time_ns * count for row, count in kernel_rows) / prefill.time_ns
    else:
        ratio = None
    add("model/bitnet_2b4t/prefill128 GOPS ≥ 0.70 × its projections' GEMM rows (N=128, t2, hot)", ratio, 0.70)
    for t in (1, 2):
        row = kernel("gemv", 6912, 2560, 1, t, "hot")
        add(f"hot GEMV 6912x2560 t{t} ≥ 0.35 × probe/int8_dot_peak/t{t}",
            row.counter("frac_of_limit") if row else None, 0.35)
    for m, k in BITNET_SHAPES:
        row = kernel("gemm", m, k, 128, 2, "hot")
        add(f"GEMM {m}x{k} N=128 t2 ≥ 0.70 × probe/int8_dot_peak/t2", row.counter("frac_of_limit") if row else None, 0.70)
    for m, k in BITNET_SHAPES:
        one, two = kernel("gemm", m, k, 128, 1, "hot"), kernel("gemm", m, k, 128, 2, "hot")
        ratio = one.time_ns / two.time_ns if one and two and two.time_ns else None
        add(f"hot GEMM {m}x{k} N=128: t2 speed ÷ t1 speed ≥ 1.8", ratio, 1.8)
    for t in (1, 2):
        trit_row = kernel("gemv", 6912, 2560, 1, t, "cold")
        blas_row = kernel("gemv", 6912, 2560, 1, t, "cold", "fp32_openblas")
        ratio = blas_row.time_ns / trit_row.time_ns if trit_row and blas_row and trit_row.time_ns else None
        add(f"cold GEMV 6912x2560 t{t}: OpenBLAS fp32 time ÷ trit time ≥ 12", ratio, 12.0)
    # BitNet a4.8's int4 activations against b1.58's int8 on the same shape (the layers issue).
    for m, k in ((6912, 2560), (2560, 6912)):
        for t in (1, 2):
            paths = kernels.get(("gemv", m, k, 1, t, "hot"), {})
            int4 = best_int4_row(paths, best_int4)
            int8 = paths.get(best)
            ratio = int8.time_ns / int4.time_ns if int4 and int8 and int4.time_ns else None
            add(f"hot GEMV {m}x{k} t{t}: int8 time ÷ int4 time ≥ 1.5", ratio, 1.5)
    # The TwoBit layout (two_bit_rows.cpp): hot GEMV against the int8 peak, hot GEMM against
    # Dense243's rows of the same run.
    def layout_row(layout, op, m, k, n, t, temp):
        return rows.get(f"layout/{layout}/{op}/{m}x{k}/n{n}/{best}/t{t}/{temp}")
    for m, k in ((6912, 2560), (2560, 2560)):
        for t in (1, 2):
            row = layout_row("two_bit", "gemv", m, k, 1, t, "hot")
            add(f"TwoBit hot GEMV {m}x{k} t{t} ≥ 0.28 × probe/int8_dot_peak/t{t}", row.counter("frac_of_limit") if row else None, 0.28)
    for n in (8, 32):
        for t in (1, 2):
            two, dense = layout_row("two_bit", "gemm", 6912, 2560, n, t, "hot"), layout_row("dense243", "gemm", 6912, 2560, n, t, "hot")
            ratio = dense.time_ns / two.time_ns if two and dense and two.time_ns else None
            add(f"TwoBit hot GEMM 6912x2560 N={n} t{t}: Dense243 time ÷ TwoBit time ≥ 1.2", ratio, 1.2)
    # A filtered run measures few of the targets: one line for the rest, not a row each.
    measured = len(out) - 2
    if measured == 0:
        out = []
    if missing:
        if out:
            out.append("")  # a line of text right below a table would be read as one more row
        out.append(f"{len(missing)} of the {len(missing) + measured} targets need rows that are not in this run.")
    out.append("")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results")
    parser.add_argument("--command", default="")
    parser.add_argument("--seconds", type=float, default=0.0)
    parser.add_argument("--update-readme")
    args = parser.parse_args()
    with open(args.results) as f:
        data = json.load(f)
    markdown = build_markdown(data, args.command, args.seconds)
    if not args.update_readme:
        sys.stdout.write(markdown)
        return
    with open(args.update_readme) as f:
        readme = f.read()
    if BEGIN_MARK not in readme or END_MARK not in readme:
        sys.exit(f"{args.update_readme} has no results markers ({BEGIN_MARK} ... {END_MARK})")
    head, rest = readme.split(BEGIN_MARK, 1)
    _, tail = rest.split(END_MARK, 1)
    with open(args.update_readme, "w") as f:
        f.write(head + BEGIN_MARK + "\n" + markdown + END_MARK + tail)


if __name__ == "__main__":
    main()
