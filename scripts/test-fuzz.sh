#!/usr/bin/env bash
# Builds trit's libFuzzer targets (tests/fuzz/fuzz_*.cpp) with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs each for TRIT_FUZZ_SECONDS (default 50) seconds on a
# copy of its seed corpus (tests/fuzz/seeds/<target>, left unchanged), TRIT_FUZZ_JOBS (default
# 2) targets at a time. Prints the executions and coverage of every target; fails on any
# crash, sanitizer report, invariant violation or timeout, whose input it keeps in
# build/fuzz/artifacts/ (replay: build/fuzz/tests/fuzz/<target> <file>).
#   TRIT_FUZZ_TARGETS="fuzz_blob fuzz_layer"  runs only those; TRIT_FUZZ_MAX_LEN (4096) bounds
#   inputs; TRIT_FUZZ_BUILD_DIR moves the build.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
root=$(trit_root)
ensure_packages cmake make clang libxsimd-dev
# libFuzzer's runtime ships in libclang-rt-<major>-dev, which clang only recommends.
clang_major=$(clang++ -dumpversion | cut -d. -f1)
ensure_packages "libclang-rt-${clang_major}-dev"

seconds=${TRIT_FUZZ_SECONDS:-50}
max_len=${TRIT_FUZZ_MAX_LEN:-4096}
parallel=${TRIT_FUZZ_JOBS:-2}
build=${TRIT_FUZZ_BUILD_DIR:-"$root/build/fuzz"}
artifacts="$build/artifacts"

echo "=== fuzz: configure and build (clang $(clang++ -dumpversion), libFuzzer + ASan + UBSan)"
cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O1 \
  -DTRIT_BUILD_FUZZERS=ON -DTRIT_ENABLE_INT4=ON -DTRIT_BUILD_TESTS=OFF -DTRIT_BUILD_BENCHMARKS=OFF \
  -DTRIT_BUILD_EXAMPLES=OFF -DTRIT_INSTALL=OFF >/dev/null
cmake --build "$build" -j "$(trit_jobs)" --target trit_fuzzers
targets=${TRIT_FUZZ_TARGETS:-$(cat "$build/trit-fuzz-targets.txt")}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$artifacts"
mkdir -p "$artifacts"

run_target() {  # target: fuzzes a copy of its seeds; writes $work/<target>.log and .rc
  local target=$1 corpus="$work/$1.corpus"
  mkdir -p "$corpus"
  if [ -d "$root/tests/fuzz/seeds/$target" ]; then cp "$root/tests/fuzz/seeds/$target"/* "$corpus"/ 2>/dev/null || true; fi
  local rc=0
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/tests/fuzz/$target" -max_total_time="$seconds" -max_len="$max_len" -timeout=60 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$target-" "$corpus" >"$work/$target.log" 2>&1 || rc=$?
  echo "$rc" >"$work/$target.rc"
}

echo "=== fuzz: $seconds s per target, $parallel at a time, inputs up to $max_len bytes"
start=$SECONDS
for target in $targets; do
  [ -x "$build/tests/fuzz/$target" ] || { echo "no fuzz target '$target'" >&2; exit 2; }
  run_target "$target" &
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n || true; done
done
wait

failed=()
printf '%-22s %12s %8s %8s %8s %10s  %s\n' target executions exec/s cov ft corpus result
for target in $targets; do
  log="$work/$target.log"
  rc=$(cat "$work/$target.rc")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  final=$(grep -E '^#[0-9]+[[:space:]]+(DONE|NEW|REDUCE|pulse|INITED)' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$final")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$final")
  corp=$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<<"$final")
  result=ok
  if [ "$rc" != 0 ]; then result="FAILED (exit $rc)"; failed+=("$target"); fi
  printf '%-22s %12s %8s %8s %8s %10s  %s\n' "$target" "${execs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
done
echo "=== fuzz: $(( SECONDS - start )) s of fuzzing"
if [ ${#failed[@]} -gt 0 ]; then
  for target in "${failed[@]}"; do
    echo "=== fuzz: $target failed; the end of its log:"
    tail -n 60 "$work/$target.log"
  done
  echo "=== fuzz: crashing inputs kept in $artifacts:"
  ls -l "$artifacts"
  exit 1
fi
echo "=== fuzz: no crash in $(wc -w <<<"$targets") targets"
