#!/usr/bin/env bash
# Sets up (Debian packages) and runs every trit test:
#   1. Release build: unit, kernel, dispatch, packaging, header and example tests (INT4 off);
#   2. the same with TRIT_ENABLE_INT4=ON;
#   3. the suite again under AddressSanitizer + UndefinedBehaviorSanitizer;
#   4. the NEON paths, cross-compiled for AArch64 and run under qemu;
#   5. the CUDA path built with nvcc (its GPU tests skip without a GPU);
#   6. io: checkpoint readers and tools on fixtures from the upstream writers (scripts/test-io.sh);
#   7. the Python package (python/) in a virtual environment, with its pytest suite;
#   8. every libFuzzer target (tests/fuzz/) for 50 s under ASan + UBSan (clang);
#   9. the concurrency tests under ThreadSanitizer.
# Set TRIT_TEST_STAGES to a subset (e.g. "release asan") to run fewer.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
root=$(trit_root)
ensure_packages "${TRIT_BUILD_PACKAGES[@]}"
jobs=$(trit_jobs)
stages=${TRIT_TEST_STAGES:-"release int4 asan neon cuda io python fuzz tsan"}

run_ctest_build() {  # name, extra cmake args...  (CTEST_EXCLUDE: a ctest -E regex)
  local name=$1; shift
  local build="$root/build/$name"
  echo "=== $name: configure and build"
  cmake -S "$root" -B "$build" "$@" >/dev/null
  cmake --build "$build" -j "$jobs"
  echo "=== $name: ctest"
  (cd "$build" && ctest --output-on-failure -j "$jobs" ${CTEST_EXCLUDE:+-E "$CTEST_EXCLUDE"})
}

# The packaging, consumer and header-compile checks build programs of their own with their own
# flags, the same whatever this build's configuration: the release stage runs them once (the
# strict-flags consumer covers TRIT_ENABLE_INT4 on and off), the int4 and asan stages skip them.
compile_checks='^(consumer|packaging|headers)\.'


for stage in $stages; do
  case $stage in
    release) run_ctest_build release -DCMAKE_BUILD_TYPE=Release ;;
    # The examples and tools run in release, and with TRIT_ENABLE_INT4 again under asan.
    int4) CTEST_EXCLUDE=$compile_checks run_ctest_build int4 -DCMAKE_BUILD_TYPE=Release -DTRIT_ENABLE_INT4=ON -DTRIT_BUILD_BENCHMARKS=OFF \
            -DTRIT_BUILD_EXAMPLES=OFF -DTRIT_BUILD_TOOLS=OFF ;;
    asan) CTEST_EXCLUDE=$compile_checks run_ctest_build asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRIT_SANITIZE=ON -DTRIT_ENABLE_INT4=ON \
            -DTRIT_BUILD_BENCHMARKS=OFF ;;
    neon) bash "$root/scripts/test-neon.sh" ;;
    cuda) bash "$root/scripts/test-cuda.sh" ;;
    io) bash "$root/scripts/test-io.sh" ;;
    python) bash "$root/scripts/test-python.sh" ;;
    fuzz) bash "$root/scripts/test-fuzz.sh" ;;
    tsan) bash "$root/scripts/test-tsan.sh" ;;
    *) echo "unknown stage '$stage'" >&2; exit 2 ;;
  esac
done
echo "=== all stages passed: $stages"
