#!/usr/bin/env bash
# Reproduces the numbers in bench/README.md: builds trit_bench (Release), runs the default set
# (or the whole sweep with --full), writes the JSON results, draws the plot and rewrites the
# README's results section. Extra arguments go to trit_bench, e.g. --benchmark_filter=REGEX.
#
#   bench/run.sh [--full] [trit_bench flags...]
#
# Environment: TRIT_BENCH_BUILD_DIR (default build-bench), TRIT_BENCH_REPETITIONS (default 5).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TRIT_BENCH_BUILD_DIR:-$root/build-bench}
repetitions=${TRIT_BENCH_REPETITIONS:-5}
results=$root/bench/results

configure=(-DCMAKE_BUILD_TYPE=Release -DTRIT_BUILD_EXAMPLES=OFF -DTRIT_BUILD_BENCHMARKS=ON)
# A fresh build directory skips the tests, which need GoogleTest; an existing one keeps its choice.
[ -f "$build/CMakeCache.txt" ] || configure+=(-DTRIT_BUILD_TESTS=OFF)
cmake -S "$root" -B "$build" "${configure[@]}" >/dev/null
cmake --build "$build" --target trit_bench -j "$(nproc 2>/dev/null || echo 2)"

mkdir -p "$results"
json=$results/trit_bench.json
command=(bench/run.sh "$@")
start=$(date +%s)
"$build/bench/trit_bench" "$@" \
  --benchmark_repetitions="$repetitions" \
  --benchmark_report_aggregates_only=true \
  --benchmark_format=console \
  --benchmark_out="$json" --benchmark_out_format=json
seconds=$(( $(date +%s) - start ))
echo "trit_bench took ${seconds} s"

# The plot needs matplotlib (Debian: python3-matplotlib), which a python3 from pyenv or a
# virtual environment ahead in PATH may lack.
python=${PYTHON:-python3}
if ! "$python" -c "import matplotlib" 2>/dev/null && /usr/bin/python3 -c "import matplotlib" 2>/dev/null; then
  python=/usr/bin/python3
fi
"$python" "$root/bench/plot.py" "$json" "$results/trit_bench.png"
"$python" "$root/bench/make_table.py" "$json" --command "${command[*]}" --seconds "$seconds" \
  --update-readme "$root/bench/README.md"
echo "wrote $json, $results/trit_bench.png and the results section of bench/README.md"
