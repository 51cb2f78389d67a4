#!/usr/bin/env bash
# Sets up (Debian packages), builds and runs trit's main demo. Extra arguments go to the demo
# (e.g. --threads 2).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
root=$(trit_root)
ensure_packages "${TRIT_BUILD_PACKAGES[@]}"
build="$root/build/demo"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTRIT_BUILD_TESTS=OFF -DTRIT_BUILD_BENCHMARKS=OFF \
  -DTRIT_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$build" --target demo -j "$(trit_jobs)"
"$build/examples/demo" "$@"
