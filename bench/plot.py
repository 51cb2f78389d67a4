#!/usr/bin/env python3
"""Draws trit_bench's JSON: for one shape (6912x2560 unless --shape says otherwise) and each
thread count, GOPS against N with hot weights and with cold weights (every path, the
baselines dotted and dashed), and beside them the whole-model rows in tokens/s.

    plot.py RESULTS.json OUTPUT.png [--shape MxK]

N = 1 is a GEMV and N >= 8 a GEMM: different kernels, so the GEMV is drawn as a lone marker and
only the GEMM points are joined. The y axes are logarithmic, so that fp32 and trit fit in one
panel and the distance between two curves is their speed ratio. Needs matplotlib; the table
(make_table.py) does not.
"""
import argparse
import json
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from make_table import KERNEL_ROW, load_rows  # noqa: E402

BASELINE_STYLE = {"fp32_openblas": dict(linestyle=":", marker="s"), "int8_vnni": dict(linestyle="--", marker="^")}
DEFAULT_SHAPE = (6912, 2560)


def collect(rows):
    """(M, K, threads, hot|cold) -> path -> {N: GOPS}."""
    series = {}
    for name, row in rows.items():
        match = KERNEL_ROW.match(name)
        gops = row.counter("GOPS")
        if not match or gops is None:
            continue
        m, k, n, path, t, temp = (int(match.group(2)), int(match.group(3)), int(match.group(4)), match.group(5),
                                  int(match.group(6)), match.group(7))
        series.setdefault((m, k, t, temp), {}).setdefault(path, {})[n] = gops
    return series


def probe_limits(rows, probe, key):
    limits = {}
    for name, row in rows.items():
        found = re.match(rf"^probe/{probe}/t(\d+)$", name)
        if not found:
            continue
        # The best pass, the limit frac_of_limit divides by.
        value = row.maxima.get(key, row.counter(key))
        if value is not None:
            limits[int(found.group(1))] = value
    return limits


def draw_kernel_panel(ax, paths, colours, title, peak, peak_label, best=None):
    for path, points in sorted(paths.items()):
        style = dict(BASELINE_STYLE.get(path, dict(linestyle="-", marker="o")))
        colour = colours[path]
        gemm = sorted(n for n in points if n > 1)
        if gemm:
            ax.plot(gemm, [points[n] for n in gemm], color=colour, label=path, **style)
        if 1 in points:
            ax.plot([1], [points[1]], color=colour, marker=style["marker"], linestyle="none",
                    label=None if gemm else path)
    if peak is not None:
        ax.axhline(peak, color="black", linewidth=1.2)
        ax.annotate(peak_label, xy=(1, peak), xytext=(0, 3), textcoords="offset points", fontsize=8, va="bottom")
    # The headline of a cold panel: how many times faster than fp32 the best path reads its weights.
    if best in paths and "fp32_openblas" in paths:
        speedups = [f"N={n}: {paths[best][n] / paths['fp32_openblas'][n]:.1f}x"
                    for n in sorted(paths[best]) if n in paths["fp32_openblas"] and paths["fp32_openblas"][n]]
        if speedups:
            ax.text(0.98, 0.03, f"{best} vs fp32_openblas\n" + ", ".join(speedups), transform=ax.transAxes,
                    ha="right", va="bottom", fontsize=8)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks([1, 8, 32, 128])
    ax.set_xlim(0.7, 180)
    ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.set_xlabel("N (tokens): 1 = GEMV, 8+ = GEMM")
    ax.set_ylabel("GOPS (2·M·K·N / s)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)


def draw_model_panel(ax, rows, dram_limits):
    names = [n for n in ("decode_step/bitnet_2b4t", "prefill/bitnet_2b4t_n128") if n in rows]
    values = [rows[n].counter("tokens_per_s") or 0.0 for n in names]
    bars = ax.bar(range(len(names)), values, color=["tab:blue", "tab:orange"][: len(names)])
    for bar, value in zip(bars, values):
        ax.annotate(f"{value:.1f}", xy=(bar.get_x() + bar.get_width() / 2, value), xytext=(0, 3),
                    textcoords="offset points", ha="center", fontsize=8)
    # The decode step reads every weight once per token: DRAM bandwidth / model bytes is the
    # most tokens/s any kernel can reach with these weights.
    decode = rows.get("decode_step/bitnet_2b4t")
    if decode is not None and 2 in dram_limits and decode.counter("weight_GBps") and decode.counter("tokens_per_s"):
        bytes_per_token = decode.counter("weight_GBps") * 1e9 / decode.counter("tokens_per_s")
        ceiling = dram_limits[2] * 1e9 / bytes_per_token
        ax.axhline(ceiling, color="black", linewidth=1.2, linestyle="--")
        ax.annotate(f"DRAM ceiling for decode (t2): {ceiling:.1f}", xy=(len(names) - 0.6, ceiling), xytext=(0, 3),
                    textcoords="offset points", fontsize=8, ha="right")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([n.replace("/", "\n") for n in names], fontsize=8)
    ax.set_ylabel("tokens/s")
    ax.set_title("BitNet 2B4T-shaped model, " + (decode.label if decode is not None and decode.label else "best path"),
                 fontsize=10)
    ax.grid(True, axis="y", alpha=0.3)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results")
    parser.add_argument("output")
    parser.add_argument("--shape", default=None, help="MxK of the kernel panels (default 6912x2560)")
    args = parser.parse_args()
    with open(args.results) as f:
        data = json.load(f)
    rows = load_rows(data.get("benchmarks", []))
    series = collect(rows)

    shape = tuple(int(x) for x in args.shape.split("x")) if args.shape else DEFAULT_SHAPE
    if not any(key[:2] == shape for key in series):
        shapes = sorted({key[:2] for key in series})
        if not shapes:
            raise SystemExit("no kernel rows: nothing to plot")
        shape = shapes[0]
    threads = sorted({key[2] for key in series if key[:2] == shape})
    temps = [temp for temp in ("hot", "cold") if any(key[:2] == shape and key[3] == temp for key in series)]
    has_model = any(n.startswith(("decode_step/", "prefill/")) for n in rows)

    peaks = probe_limits(rows, "int8_dot_peak", "best_pass_GOPS")
    dram = probe_limits(rows, "dram_read_bw", "best_pass_GBps")

    all_paths = sorted({path for key, paths in series.items() if key[:2] == shape for path in paths})
    colours = {path: plt.get_cmap("tab10")(i % 10) for i, path in enumerate(all_paths)}

    context = data.get("context", {})
    columns = len(temps) + (1 if has_model else 0)
    fig, axes = plt.subplots(len(threads), columns, figsize=(5.2 * columns, 4.0 * len(threads) + 0.8), squeeze=False)
    for i, t in enumerate(threads):
        for j, temp in enumerate(temps):
            paths = series.get((shape[0], shape[1], t, temp), {})
            peak = peaks.get(t) if temp == "hot" else None
            title = f"{shape[0]}x{shape[1]}, {t} thread{'s' if t > 1 else ''}, {temp} weights"
            if temp == "cold":
                title += " (from DRAM)"
            draw_kernel_panel(axes[i][j], paths, colours, title, peak, f"int8 dot peak t{t}: {peak:.0f} GOPS"
                              if peak else "", context.get("trit_best_path"))
        if has_model:
            if i == 0:
                draw_model_panel(axes[0][columns - 1], rows, dram)
            else:
                axes[i][columns - 1].axis("off")

    # One legend for every panel, below them, where it covers no curve and no label.
    handles, labels = {}, []
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in handles:
                handles[label] = handle
                labels.append(label)
    fig.suptitle(f"trit_bench on {context.get('cpu_model', context.get('host_name', '?'))}", fontsize=10)
    fig.legend([handles[label] for label in labels], labels, loc="lower center", ncol=min(len(labels), 6), fontsize=8)
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    fig.savefig(args.output, dpi=110)


if __name__ == "__main__":
    main()
