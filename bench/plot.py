#!/usr/bin/env python3
"""Plots GOPS against N (tokens) for every kernel path in trit_bench's JSON, one panel per
shape and thread count (hot weights), with the measured int8 dot-product peak of that
thread count (its best pass, the limit frac_of_limit uses) drawn as a line.

    plot.py RESULTS.json OUTPUT.png
"""
import argparse
import json
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from make_table import KERNEL_ROW, load_rows  # noqa: E402

BASELINE_STYLE = {"fp32_openblas": dict(linestyle=":", marker="s"), "int8_vnni": dict(linestyle="--", marker="^")}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results")
    parser.add_argument("output")
    args = parser.parse_args()
    with open(args.results) as f:
        data = json.load(f)
    rows = load_rows(data.get("benchmarks", []))

    # (M, K, threads) -> path -> {N: GOPS}, hot rows only.
    series = {}
    for name, row in rows.items():
        match = KERNEL_ROW.match(name)
        gops = row.counter("GOPS")
        if not match or match.group(7) != "hot" or gops is None:
            continue
        m, k, n, path, t = int(match.group(2)), int(match.group(3)), int(match.group(4)), match.group(5), int(match.group(6))
        series.setdefault((m, k, t), {}).setdefault(path, {})[n] = gops
    # A panel is worth drawing when some path has a curve: three N or more.
    panels = sorted(key for key, paths in series.items() if any(len(points) >= 3 for points in paths.values()))
    if not panels:
        raise SystemExit("no shape has rows for three or more N: nothing to plot")

    peaks = {}
    for name, row in rows.items():
        found = re.match(r"^probe/int8_dot_peak/t(\d+)$", name)
        # The best pass, the limit frac_of_limit divides by.
        peak = row.maxima.get("best_pass_GOPS", row.counter("best_pass_GOPS") or row.counter("GOPS"))
        if found and peak is not None:
            peaks[int(found.group(1))] = peak

    # One colour per path in every panel.
    all_paths = sorted({path for paths in series.values() for path in paths})
    colours = {path: plt.get_cmap("tab10")(i % 10) for i, path in enumerate(all_paths)}

    shapes = sorted({(m, k) for m, k, _ in panels})
    threads = sorted({t for _, _, t in panels})
    fig, axes = plt.subplots(len(shapes), len(threads), figsize=(6.5 * len(threads), 4.2 * len(shapes)),
                             squeeze=False, sharey=True)
    context = data.get("context", {})
    for i, (m, k) in enumerate(shapes):
        for j, t in enumerate(threads):
            ax = axes[i][j]
            for path, points in sorted(series.get((m, k, t), {}).items()):
                ns = sorted(points)
                style = BASELINE_STYLE.get(path, dict(linestyle="-", marker="o"))
                ax.plot(ns, [points[n] for n in ns], label=path, color=colours[path], **style)
            if t in peaks:
                ax.axhline(peaks[t], color="black", linewidth=1.2)
                ax.text(1, peaks[t], f" int8 dot peak t{t}: {peaks[t]:.0f} GOPS", va="bottom", fontsize=8)
            ax.set_xscale("log", base=2)
            ax.set_xticks([1, 8, 32, 128])
            ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
            ax.set_xlabel("N (tokens)")
            ax.set_ylabel("GOPS (2·M·K·N / s)")
            ax.set_title(f"{m}x{k}, {t} thread{'s' if t > 1 else ''}, hot weights")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=8, loc="best")
    fig.suptitle(f"trit_bench on {context.get('cpu_model', context.get('host_name', '?'))}", fontsize=10)
    fig.tight_layout()
    fig.savefig(args.output, dpi=110)


if __name__ == "__main__":
    main()
