#!/usr/bin/env bash
# The io stage: checkpoint readers, importers, the trit model file and the tools, tested on
# fixtures that the upstream Python writers produce at test time (gguf, safetensors, numpy;
# pinned below, installed into a virtual environment under build/).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
root=$(trit_root)
ensure_packages "${TRIT_BUILD_PACKAGES[@]}" python3 python3-venv
jobs=$(trit_jobs)
build="$root/build/io"
venv="$root/build/io-venv"

# Versions the fixtures were checked with; the gguf package carries ggml's TQ1_0/TQ2_0 quantizer.
pins=(numpy==2.4.6 gguf==0.19.0 safetensors==0.8.0)
if ! "$venv/bin/python" -c 'import gguf, safetensors, numpy' 2>/dev/null; then
  echo "=== io: python venv with ${pins[*]}"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${pins[@]}"
fi

echo "=== io: configure and build"
# The release stage's build when it is there (test.sh runs that stage first: its io tests and
# tools are built already and only the fixture Python is added), else a build of its own.
if [ -z "${TRIT_IO_BUILD_DIR:-}" ] && [ -f "$root/build/release/CMakeCache.txt" ]; then
  build="$root/build/release"
  cmake -S "$root" -B "$build" -DTRIT_IO_PYTHON="$venv/bin/python" >/dev/null
else
  build=${TRIT_IO_BUILD_DIR:-$build}
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTRIT_BUILD_TESTS=ON -DTRIT_BUILD_TOOLS=ON \
    -DTRIT_BUILD_BENCHMARKS=OFF -DTRIT_BUILD_EXAMPLES=OFF -DTRIT_IO_PYTHON="$venv/bin/python" >/dev/null
fi
cmake --build "$build" -j "$jobs" --target trit_io_tests trit-convert trit-inspect
echo "=== io: ctest"
(cd "$build" && ctest --output-on-failure -j "$jobs" -R '^io\.')
