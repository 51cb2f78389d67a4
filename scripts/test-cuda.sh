#!/usr/bin/env bash
# Builds the CUDA path (tests and bench, nothing else) with nvcc and runs its ctest entries.
# Works without a GPU: the GPU tests then skip and say why, and the rest must pass.
#
#   scripts/test-cuda.sh              build dir build-cuda/, 2 jobs, Release
#   TRIT_CUDA_BUILD_DIR=... TRIT_JOBS=8 TRIT_CUDA_BUILD_TYPE=Debug scripts/test-cuda.sh
#   CUDACXX=/path/to/nvcc scripts/test-cuda.sh
#
# Only the default architectures (80 and 90) are compiled, to keep the build short; set
# CMAKE_CUDA_ARCHITECTURES in the environment to override.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${TRIT_CUDA_BUILD_DIR:-$root/build-cuda}"
jobs="${TRIT_JOBS:-2}"
build_type="${TRIT_CUDA_BUILD_TYPE:-Release}"

find_nvcc() {
  if [[ -n "${CUDACXX:-}" ]]; then
    echo "$CUDACXX"
    return
  fi
  if command -v nvcc >/dev/null 2>&1; then
    command -v nvcc
    return
  fi
  # A toolkit installed but not on PATH, as CI images and distribution packages leave it.
  local candidate
  for candidate in "${CUDA_HOME:-}" "${CUDA_PATH:-}" /usr/local/cuda /usr/local/cuda-* /opt/cuda /usr/lib/cuda; do
    if [[ -n "$candidate" && -x "$candidate/bin/nvcc" ]]; then
      echo "$candidate/bin/nvcc"
      return
    fi
  done
  return 1
}

if ! nvcc="$(find_nvcc)"; then
  echo "test-cuda.sh: nvcc not found; put the CUDA toolkit's bin/ on PATH or set CUDACXX" >&2
  exit 1
fi
echo "test-cuda.sh: using $nvcc ($("$nvcc" --version | tail -n 1))"

configure_args=(-S "$root" -B "$build" -DTRIT_ENABLE_CUDA=ON -DTRIT_BUILD_TESTS=ON -DTRIT_BUILD_BENCHMARKS=OFF
                -DTRIT_BUILD_EXAMPLES=OFF -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_BUILD_TYPE="$build_type")
if [[ -n "${CMAKE_CUDA_ARCHITECTURES:-}" ]]; then
  configure_args+=(-DCMAKE_CUDA_ARCHITECTURES="$CMAKE_CUDA_ARCHITECTURES")
fi
cmake "${configure_args[@]}"

targets=(trit_cuda_tests)
target_list="$(cmake --build "$build" --target help 2>/dev/null || true)"
if [[ "$target_list" == *trit_cuda_bench* ]]; then
  targets+=(trit_cuda_bench)
else
  echo "test-cuda.sh: trit_cuda_bench is not configured (Google Benchmark missing?); building the tests only"
fi

start=$(date +%s)
cmake --build "$build" --target "${targets[@]}" -j "$jobs"
echo "test-cuda.sh: built ${targets[*]} in $(( $(date +%s) - start )) s"

ctest --test-dir "$build" -L cuda --output-on-failure -j "$jobs"
