#!/usr/bin/env bash
# The GPU check of issue 18 in one run: the GPU tests, the same tests under compute-sanitizer
# (memcheck, racecheck, synccheck), and the bench, with one table of every target and its
# measured ratio. Sized to finish in under 8 minutes on an H100/H200 (16 cores).
#
# The GPU machine lent to this project has nvcc 13, CMake and compute-sanitizer but none of
# trit's Debian build dependencies (xsimd, GoogleTest, Google Benchmark), and no network.
# So the binaries are built here, on the CPU machine, for sm_90, and carried there:
#
#   here:   scripts/gpu-check.sh --prepare
#           builds build-gpu/ (CMAKE_CUDA_ARCHITECTURES=90, Release; 3 to 5 minutes on
#           2 cores) and gathers the two binaries and the shared libraries the GPU machine
#           lacks (Google Benchmark, the CUDA runtime they were linked with) in
#           build-gpu/bundle/ (a few MiB).
#   there:  the device tool's run, with carry ["build-gpu/bundle"] and timeout_s 540:
#             bash scripts/gpu-check.sh
#           With no bundle it tries to build in build-gpu/ itself (16 jobs), which works
#           only where the build dependencies are installed.
#
# Results: $OUT/summary.md (also printed at the end) and the logs beside it (tests.log,
# memcheck.log, racecheck.log, synccheck.log, bench.log, bench.json, bench-extra.log);
# without $OUT, in build-gpu/out/. Every step has a time limit taken from one budget
# (GPU_CHECK_BUDGET_S, default 450 s); a step that runs out is reported as such.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${TRIT_GPU_BUILD_DIR:-$root/build-gpu}"
bundle="$build/bundle"

find_nvcc() {
  local candidate
  if [[ -n "${CUDACXX:-}" ]]; then echo "$CUDACXX"; return; fi
  if command -v nvcc >/dev/null 2>&1; then command -v nvcc; return; fi
  for candidate in "${CUDA_HOME:-}" "${CUDA_PATH:-}" /usr/local/cuda /usr/local/cuda-* /opt/cuda; do
    if [[ -n "$candidate" && -x "$candidate/bin/nvcc" ]]; then echo "$candidate/bin/nvcc"; return; fi
  done
  return 1
}

configure_and_build() {  # jobs
  local nvcc
  if ! nvcc="$(find_nvcc)"; then
    echo "gpu-check: nvcc not found" >&2
    return 1
  fi
  local generator=()
  command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
  cmake -S "$root" -B "$build" "${generator[@]}" -DTRIT_ENABLE_CUDA=ON -DTRIT_BUILD_TESTS=ON \
    -DTRIT_BUILD_BENCHMARKS=OFF -DTRIT_BUILD_EXAMPLES=OFF -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_CUDA_COMPILER="$nvcc" >/dev/null &&
    cmake --build "$build" --target trit_cuda_tests trit_cuda_bench -j "$1"
}

# The binaries, and the libraries they need that are neither the C/C++ runtime nor the
# CUDA toolkit's big libraries (cuBLAS is on the GPU machine; it is far too big to carry).
make_bundle() {
  rm -rf "$bundle"
  mkdir -p "$bundle/bin" "$bundle/lib"
  cp "$build/tests/cuda/trit_cuda_tests" "$build/bench/cuda/trit_cuda_bench" "$bundle/bin/" || return 1
  local lib
  for lib in $(ldd "$bundle/bin/trit_cuda_tests" "$bundle/bin/trit_cuda_bench" |
               awk '/=>/ && $3 ~ /^\// {print $3}' | grep -E 'libbenchmark|libgtest|libgmock|libcudart' | sort -u); do
    cp -L "$lib" "$bundle/lib/"
  done
  echo "gpu-check: bundle in $bundle ($(du -sh "$bundle" | cut -f1)):"
  ls -l "$bundle/bin" "$bundle/lib"
}

if [[ "${1:-}" == "--prepare" ]]; then
  start=$(date +%s)
  configure_and_build "${TRIT_JOBS:-2}" || { echo "gpu-check: build failed" >&2; exit 1; }
  make_bundle || { echo "gpu-check: bundling failed" >&2; exit 1; }
  echo "gpu-check: prepared in $(( $(date +%s) - start )) s; on the GPU machine run"
  echo "  bash scripts/gpu-check.sh      (device tool: carry [\"build-gpu/bundle\"], timeout_s 540)"
  exit 0
fi

# ---- On the GPU machine --------------------------------------------------------------------

out="${OUT:-$build/out}"
mkdir -p "$out"
budget="${GPU_CHECK_BUDGET_S:-450}"
t0=$(date +%s)
summary="$out/summary.md"
: >"$summary"
note() { echo "$*" | tee -a "$summary"; }
left() { echo $(( budget - ($(date +%s) - t0) )); }
# A step's limit: its own cap, or what the budget has left (keeping `reserve` seconds for
# the steps after it), whichever is less; at least 10 s.
limit() {  # cap reserve
  local l=$(( $(left) - $2 ))
  (( l > $1 )) && l=$1
  (( l < 10 )) && l=10
  echo "$l"
}
status_of() {  # exit code -> word
  case $1 in
    0) echo "pass" ;;
    124|137) echo "TIMEOUT" ;;
    86) echo "ERRORS FOUND" ;;
    *) echo "FAILED (exit $1)" ;;
  esac
}

note "# trit GPU check (issue 18)"
note ""
note "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
note "- GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo 'nvidia-smi failed')"

tests_bin="$bundle/bin/trit_cuda_tests"
bench_bin="$bundle/bin/trit_cuda_bench"
if [[ -x "$tests_bin" ]]; then
  note "- binaries: carried bundle (built for sm_90 on the CPU machine)"
  export LD_LIBRARY_PATH="$bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
else
  start=$(date +%s)
  if timeout "$(limit 240 200)" bash -c "$(declare -f find_nvcc configure_and_build); root='$root' build='$build' configure_and_build 16" \
      >"$out/tests.log" 2>&1; then
    tests_bin="$build/tests/cuda/trit_cuda_tests"
    bench_bin="$build/bench/cuda/trit_cuda_bench"
    note "- binaries: built here in $(( $(date +%s) - start )) s (sm_90)"
  else
    note "- binaries: NO BUNDLE and the build here failed (see tests.log); run scripts/gpu-check.sh --prepare on the CPU machine and carry build-gpu/bundle"
    exit 1
  fi
fi
# cuBLAS comes from the toolkit here; look in the usual places when the loader cannot find it.
if ldd "$bench_bin" | grep -q "not found"; then
  for dir in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda-*/lib64 \
             /opt/torch/.venv/lib/python3*/site-packages/nvidia/cublas/lib \
             /opt/torch/.venv/lib/python3*/site-packages/nvidia/cu13/lib; do
    [[ -e "$dir/libcublas.so.13" ]] && export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$dir"
  done
fi
missing="$(ldd "$tests_bin" "$bench_bin" | grep "not found" | sort -u | tr '\n' ' ')"
[[ -n "$missing" ]] && note "- MISSING LIBRARIES: $missing"

# ---- 1. The GPU tests, all of them -----------------------------------------------------------
start=$(date +%s)
timeout "$(limit 120 300)" "$tests_bin" >"$out/tests.log" 2>&1
rc=$?
counts="$(grep -E '^\[ +(PASSED|FAILED|SKIPPED) +\] [0-9]+ tests?' "$out/tests.log" | sed -E 's/, listed below:?//' | tr '\n' ' ')"
note "- GPU tests: $(status_of $rc) in $(( $(date +%s) - start )) s: ${counts:-no summary (see tests.log)}"
tests_status="$(status_of $rc)"
grep -E '^\[  FAILED  \] [A-Za-z]' "$out/tests.log" | sed 's/^/  - /' | tee -a "$summary"
reason="$(grep -m 1 -o 'no CUDA device: .*' "$out/tests.log")"
[[ -n "$reason" ]] && note "  - GPU tests SKIPPED: $reason"

# ---- 2. compute-sanitizer --------------------------------------------------------------------
sanitizer=""
for candidate in "$(command -v compute-sanitizer 2>/dev/null)" /usr/local/cuda/bin/compute-sanitizer \
                 /usr/local/cuda/compute-sanitizer/compute-sanitizer /usr/local/cuda-*/bin/compute-sanitizer \
                 /opt/nvidia/*/compute-sanitizer/compute-sanitizer; do
  if [[ -n "$candidate" && -x "$candidate" ]]; then sanitizer="$candidate"; break; fi
done
# The tests that need a GPU, on the quick ragged sweep; not the model and square shapes (their CPU
# references take most of the time) nor the 4-million-token grid-y test.
device_filter='CudaDevice.*:-CudaDevice.ModelShapesMatchTheReference:CudaDevice.Int4ModelShapesMatchTheReference:CudaDevice.SquareShapeMatchesTheReference:CudaDevice.TokensBeyondTheGridYLimit'
# racecheck and synccheck watch the shared memory and barriers, which the ragged sweep (both
# kernels, every staging path, split-K) and the graph test cover.
barrier_filter='CudaDevice.BothKernelsMatchTheReferenceOnRaggedShapes:CudaDevice.EntryPointsCaptureIntoACudaGraph'
note "- compute-sanitizer: ${sanitizer:-NOT FOUND}"
for tool in memcheck racecheck synccheck; do
  [[ -z "$sanitizer" ]] && break
  case $tool in
    memcheck) filter=$device_filter; cap=100 ;;
    racecheck) filter=$barrier_filter; cap=80 ;;
    synccheck) filter=$barrier_filter; cap=60 ;;
  esac
  start=$(date +%s)
  TRIT_CUDA_QUICK=1 timeout "$(limit $cap 150)" "$sanitizer" --tool "$tool" --error-exitcode 86 --print-limit 50 \
    "$tests_bin" --gtest_filter="$filter" >"$out/$tool.log" 2>&1
  rc=$?
  result="$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY|Device not supported' "$out/$tool.log" | tail -n 1)"
  gtest="$(grep -E '^\[ +(PASSED|FAILED|SKIPPED) +\] [0-9]+ tests?' "$out/$tool.log" | sed -E 's/, listed below:?//' | tr '\n' ' ')"
  note "  - $tool: $(status_of $rc) in $(( $(date +%s) - start )) s; ${result:-no summary line} ${gtest}"
done

# ---- 3. The bench: the targets first, then the rest if time is left --------------------------
table="$build/bench-table.md"
rm -f "$table"
start=$(date +%s)
timeout "$(limit 150 20)" "$bench_bin" --benchmark_filter='^(copy|trit|trit_split1|trit_mma3|cublas_fp16)/' \
  --benchmark_out="$out/bench.json" --benchmark_out_format=json --trit_table="$table" >"$out/bench.log" 2>&1
rc=$?
note "- bench (trit int8, split_k=1, 3 mma stages, cuBLAS fp16, copy): $(status_of $rc) in $(( $(date +%s) - start )) s"
if (( $(left) > 60 )); then
  start=$(date +%s)
  timeout "$(limit 120 5)" "$bench_bin" --benchmark_filter='^(trit_int4|cublas_int8)/' >"$out/bench-extra.log" 2>&1
  rc=$?
  note "- bench extras (trit int4, cuBLAS int8; bench-extra.log): $(status_of $rc) in $(( $(date +%s) - start )) s"
else
  note "- bench extras: skipped, the time budget is spent"
fi
if [[ -s "$table" ]]; then
  cat "$table" | tee -a "$summary"
else
  note ""
  note "No targets table: the bench did not finish. bench.log ends:"
  tail -n 5 "$out/bench.log" | sed 's/^/    /' | tee -a "$summary"
fi
note ""
note "Bit-identical to the CPU reference (the GPU tests compare every int32 exactly and every float bit for bit): ${tests_status}, ${counts:-no summary}"
note ""
note "Total: $(( $(date +%s) - t0 )) s of a ${budget} s budget."
