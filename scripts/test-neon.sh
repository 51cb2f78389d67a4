#!/usr/bin/env bash
# Cross-compiles trit's test suite for AArch64 and runs it under qemu-user, so that both NEON
# kernel paths are checked against the scalar reference on an x86-64 machine.
#
#   scripts/test-neon.sh [TEST_SOURCE...]     (default: every tests/test_*.cpp)
#
# Two builds, each holding both NEON paths; -march only moves the baseline:
#   armv8-a            under -cpu max (has dotprod: neon and neon-dotprod run) and under
#                      -cpu cortex-a53 (no dotprod: neon-dotprod is skipped, dispatch picks neon)
#   armv8.2-a+dotprod  under -cpu max and under -cpu cortex-a76, an armv8.2-a+dotprod core, so
#                      nothing beyond that baseline may slip in. It cannot run on cortex-a53:
#                      the compiler may use dotprod anywhere in a binary with that baseline.
#
# Environment: TRIT_NEON_BUILD_DIR (default build/neon), JOBS (default 2); gtest's own
# variables (GTEST_FILTER, ...) reach the tests through qemu. Installs what is missing on
# Debian 12 with apt-get.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
started=$(date +%s)
repo=$(trit_root)
build=${TRIT_NEON_BUILD_DIR:-$repo/build/neon}
jobs=${JOBS:-2}
cxx=aarch64-linux-gnu-g++
sysroot=/usr/aarch64-linux-gnu
gtest_src=/usr/src/googletest/googletest

ensure_packages g++-aarch64-linux-gnu qemu-user googletest libxsimd-dev

# xsimd is header-only and architecture-neutral, but adding /usr/include to the cross
# compiler's search path would shadow its own target headers: expose xsimd alone.
mkdir -p "$build/include-shim"
ln -sfn /usr/include/xsimd "$build/include-shim/xsimd"

common_flags=(-std=c++17 -O2 -pthread)
# With the int4 activation path on, so its NEON kernels are covered too.
feature_flags=(-DTRIT_ENABLE_INT4=1)
warning_flags=(-Wall -Wextra -Wpedantic -Werror=return-type)

# ---- GoogleTest, built once per cross compiler version -------------------------------------
gtest_dir=$build/gtest
gtest_stamp="$($cxx --version | head -n1) | $(stat -c %Y "$gtest_src/src/gtest-all.cc")"
if [[ ! -f $gtest_dir/stamp || $(cat "$gtest_dir/stamp") != "$gtest_stamp" ]]; then
  echo "building GoogleTest for aarch64"
  rm -rf "$gtest_dir" && mkdir -p "$gtest_dir"
  gtest_pids=()
  for unit in gtest-all gtest_main; do
    "$cxx" "${common_flags[@]}" -isystem "$gtest_src/include" -I "$gtest_src" \
      -c "$gtest_src/src/$unit.cc" -o "$gtest_dir/$unit.o" &
    gtest_pids+=($!)
  done
  for pid in "${gtest_pids[@]}"; do wait "$pid"; done
  aarch64-linux-gnu-ar rcs "$gtest_dir/libgtest.a" "$gtest_dir/gtest-all.o"
  aarch64-linux-gnu-ar rcs "$gtest_dir/libgtest_main.a" "$gtest_dir/gtest_main.o"
  echo "$gtest_stamp" >"$gtest_dir/stamp"
fi

# ---- The test suite ------------------------------------------------------------------------
if (($# > 0)); then
  sources=("$@")
else
  shopt -s nullglob
  sources=("$repo"/tests/test_*.cpp)
  shopt -u nullglob
fi
if ((${#sources[@]} == 0)); then
  echo "error: no test sources (expected $repo/tests/test_*.cpp)" >&2
  exit 1
fi
for i in "${!sources[@]}"; do sources[i]=$(realpath "${sources[i]}"); done

# A dispatch check that does not depend on any test file: what this CPU has and which path
# trit picks for it.
probe_src=$build/dispatch_probe.cpp
cat >"$probe_src.new" <<'EOF'
#include <cstdio>
#include <trit/trit.hpp>
int main() {
  std::printf("dispatch: neon=%d neon-dotprod=%d best=%s\n", trit::isa_supported(trit::Isa::neon) ? 1 : 0,
              trit::isa_supported(trit::Isa::neon_dotprod) ? 1 : 0, trit::isa_name(trit::best_isa()));
}
EOF
if cmp -s "$probe_src.new" "$probe_src"; then rm "$probe_src.new"; else mv "$probe_src.new" "$probe_src"; fi

# An object is current when it is newer than this script (its flags) and than everything
# its last compile read.
object_is_current() {
  local object=$1 deps=$2
  [[ -f $object && -f $deps && ${BASH_SOURCE[0]} -ot $object ]] || return 1
  local dep
  while read -r dep; do
    [[ -z $dep || $dep -ot $object ]] || return 1
  done < <(sed -e 's/^[^:]*://' -e 's/\\$//' "$deps" | tr ' ' '\n')
}

# compile_all MARCH: objects under $build/MARCH/obj, JOBS at a time.
compile_all() {
  local variant=$1 march=$1
  local obj_dir=$build/$variant/obj
  mkdir -p "$obj_dir"
  local flags=("${common_flags[@]}" "${feature_flags[@]}" "${warning_flags[@]}" "-march=$march" -I "$repo/include"
               -isystem "$build/include-shim" -isystem "$gtest_src/include")
  local pids=() failed=0 src object
  for src in "${sources[@]}" "$probe_src"; do
    object=$obj_dir/$(basename "${src%.cpp}").o
    object_is_current "$object" "${object%.o}.d" && continue
    echo "  compiling $variant/$(basename "$src")"
    "$cxx" "${flags[@]}" -MMD -MF "${object%.o}.d" -c "$src" -o "$object" &
    pids+=($!)
    if ((${#pids[@]} >= jobs)); then
      wait "${pids[0]}" || failed=1
      pids=("${pids[@]:1}")
    fi
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  return $failed
}

link_all() {
  local variant=$1
  local dir=$build/$variant objects=() src
  for src in "${sources[@]}"; do objects+=("$dir/obj/$(basename "${src%.cpp}").o"); done
  "$cxx" -pthread "${objects[@]}" "$gtest_dir/libgtest_main.a" "$gtest_dir/libgtest.a" -o "$dir/trit_tests"
  "$cxx" -pthread "$dir/obj/dispatch_probe.o" -o "$dir/dispatch_probe"
}

# Each build is named after its -march.
for variant in armv8-a armv8.2-a+dotprod; do
  echo "== build $variant"
  compile_all "$variant"
  link_all "$variant"
done

# ---- Runs ----------------------------------------------------------------------------------
# variant, qemu cpu, the path dispatch must pick there
runs=(
  "armv8-a max neon-dotprod"
  "armv8-a cortex-a53 neon"
  "armv8.2-a+dotprod max neon-dotprod"
  "armv8.2-a+dotprod cortex-a76 neon-dotprod"
)

# Runs one configuration into its log; the exit status goes to LOG.status. Each run gets its
# own gtest TempDir(), since runs overlap and tests may use fixed file names there.
run_one() {
  local variant=$1 cpu=$2 log=$3
  local qemu=(qemu-aarch64 -L "$sysroot" -cpu "$cpu")
  local tmp=$build/$variant/tmp-$cpu
  local run_status=0
  rm -rf "$tmp" && mkdir -p "$tmp"
  {
    "${qemu[@]}" "$build/$variant/dispatch_probe" || true
    TEST_TMPDIR=$tmp "${qemu[@]}" "$build/$variant/trit_tests" || run_status=$?
  } >"$log" 2>&1
  echo "$run_status" >"$log.status"
}

# A configuration keeps about one core busy, so JOBS of them run at a time.
pids=()
for run in "${runs[@]}"; do
  read -r variant cpu expected <<<"$run"
  run_one "$variant" "$cpu" "$build/$variant/test-$cpu.log" &
  pids+=($!)
  if ((${#pids[@]} >= jobs)); then
    wait "${pids[0]}"
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid"; done

status=0
for run in "${runs[@]}"; do
  read -r variant cpu expected <<<"$run"
  log=$build/$variant/test-$cpu.log
  echo "== $variant on qemu -cpu $cpu"
  probe=$(grep -m1 '^dispatch:' "$log" || echo "dispatch: probe printed nothing")
  echo "  $probe"
  if [[ $probe != *"best=$expected"* ]]; then
    echo "  FAILED: expected dispatch to pick $expected"
    status=1
  fi
  # gtest's summary, how each NEON path fared, each distinct reason a test gave for skipping,
  # and the output of every failed test.
  grep -E '^\[==========\] .* ran|^\[  PASSED  \]|^\[ +(SKIPPED|FAILED) +\] [0-9]+ tests?,' "$log" | sed 's/^/  /' || true
  grep -E '^\[ +(OK|SKIPPED|FAILED) +\] [^ ]+/neon(_dotprod)? \(' "$log" |
    sed -E 's/^\[ *([A-Z]+) *\] [^ ]+\/(neon[a-z_]*) .*/\2 \1/' | sort | uniq -c |
    awk '{ print "  " $2 " tests: " $1 " " ($3 == "OK" ? "passed" : tolower($3)) }' || true
  awk '/: Skipped$/ { getline reason; if (reason != "" && !seen[reason]++) print "  skipped: " reason }' "$log"
  awk '/^\[ RUN      \]/ { body = ""; lines = 0; inside = 1; next }
       inside && /^\[  FAILED  \] .* ms\)$/ { print "  failed: " $4; printf "%s", body; inside = 0; next }
       inside && /^\[ +(OK|SKIPPED) +\]/ { inside = 0; next }
       inside && lines++ < 30 { body = body "      " $0 "\n" }' "$log"
  run_status=$(cat "$log.status")
  if ((run_status != 0)); then
    echo "  FAILED (exit status $run_status); log: $log"
    grep -q '^\[==========\] .* ran' "$log" || tail -n 20 "$log" | sed 's/^/    /'
    status=1
  fi
done

echo "test-neon: $( ((status == 0)) && echo passed || echo FAILED ) in $(($(date +%s) - started)) s"
exit $status
