#!/usr/bin/env bash
# Reproduces the numbers in bench/README.md: builds trit_bench (Release), runs the default set
# (or the whole sweep with --full) and prints the results table on stdout. Extra arguments go
# to trit_bench, e.g. --benchmark_filter=REGEX.
#
#   bench/run.sh [--full] [trit_bench flags...]
#
# Only a complete run (the default set or --full, no --benchmark_filter) rewrites the tracked
# results: bench/results/trit_bench.json, the plot (when matplotlib is there) and the results
# section of bench/README.md. A filtered run keeps its JSON in the build directory and leaves
# the tracked files alone. Progress and the per-row lines go to stderr, the table to stdout.
#
# Environment: TRIT_BENCH_BUILD_DIR (default build-bench), TRIT_BENCH_REPETITIONS (default 5),
# PYTHON (default python3).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TRIT_BENCH_BUILD_DIR:-$root/build-bench}
repetitions=${TRIT_BENCH_REPETITIONS:-5}
results=$root/bench/results

complete=yes
listing=no
for arg in "$@"; do
  case $arg in
    --benchmark_filter=*|--benchmark_filter) complete=no ;;
    --benchmark_list_tests|--benchmark_list_tests=true) listing=yes ;;
  esac
done

configure=(-DCMAKE_BUILD_TYPE=Release -DTRIT_BUILD_EXAMPLES=OFF -DTRIT_BUILD_BENCHMARKS=ON)
# A fresh build directory skips the tests, which need GoogleTest; an existing one keeps its choice.
[ -f "$build/CMakeCache.txt" ] || configure+=(-DTRIT_BUILD_TESTS=OFF)
cmake -S "$root" -B "$build" "${configure[@]}" >&2
cmake --build "$build" --target trit_bench -j "$(nproc 2>/dev/null || echo 2)" >&2

if [ "$listing" = yes ]; then
  exec "$build/bench/trit_bench" "$@"
fi

if [ "$complete" = yes ]; then
  mkdir -p "$results"
  json=$results/trit_bench.json
else
  json=$build/trit_bench-filtered.json
fi
command=(bench/run.sh "$@")
start=$(date +%s)
# The binary's own lines ([i/N] row  time  figures) are progress here: stderr.
"$build/bench/trit_bench" "$@" \
  --benchmark_repetitions="$repetitions" \
  --benchmark_report_aggregates_only=true \
  --benchmark_out="$json" --benchmark_out_format=json >&2
seconds=$(( $(date +%s) - start ))
echo "trit_bench took ${seconds} s" >&2

python=${PYTHON:-python3}
table=(--command "${command[*]}" --seconds "$seconds")
if [ "$complete" = no ]; then
  "$python" "$root/bench/make_table.py" "$json" "${table[@]}"
  echo "filtered run: results in $json; bench/results and bench/README.md left as they were" >&2
  exit 0
fi

"$python" "$root/bench/make_table.py" "$json" "${table[@]}"
"$python" "$root/bench/make_table.py" "$json" "${table[@]}" --update-readme "$root/bench/README.md"
# Only the plot needs matplotlib (Debian: python3-matplotlib), which a python3 from pyenv or a
# virtual environment ahead in PATH may lack while the system one has it.
plot_python=
for candidate in "$python" /usr/bin/python3; do
  if "$candidate" -c "import matplotlib" 2>/dev/null; then
    plot_python=$candidate
    break
  fi
done
if [ -n "$plot_python" ]; then
  "$plot_python" "$root/bench/plot.py" "$json" "$results/trit_bench.png"
  echo "wrote $json, $results/trit_bench.png and the results section of bench/README.md" >&2
else
  echo "matplotlib not found (Debian: python3-matplotlib): $results/trit_bench.png not redrawn" >&2
  echo "wrote $json and the results section of bench/README.md" >&2
fi
