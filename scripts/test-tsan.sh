#!/usr/bin/env bash
# Builds the tests that run threads (tests/test_concurrency.cpp and every test file that
# starts std::threads or asks for worker threads) with ThreadSanitizer, in build/tsan, and
# runs the thread tests among them. Any data race TSan reports fails the stage.
#
# TSan maps its shadow memory at fixed addresses; kernels that randomize mmap with more than
# 28 bits (vm.mmap_rnd_bits, e.g. 32 on recent Ubuntu) make it die with "unexpected memory
# mapping". When that happens this script lowers vm.mmap_rnd_bits to 28 if it may (root; the
# old value is restored on exit), and otherwise runs the tests with address randomization
# off (setarch -R).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
root=$(trit_root)
ensure_packages make g++ libxsimd-dev libgtest-dev
cxx=${TRIT_TSAN_CXX:-g++}
build="$root/build/tsan"
mkdir -p "$build"

# The sources: the concurrency suite and the test files with thread tests.
sources=("$root/tests/test_concurrency.cpp")
for f in "$root"/tests/test_*.cpp; do
  [ "$f" = "$root/tests/test_concurrency.cpp" ] && continue
  grep -qE 'std::thread|threads' "$f" && sources+=("$f")
done
# The tests that use threads: the concurrency suite, and those named for threads or
# concurrent callers.
filter=${TRIT_TSAN_FILTER:-"Concurrency.*:*Thread*:*Concurrent*"}

cat >"$build/Makefile" <<MAKE
CXX := $cxx
CXXFLAGS := -std=c++17 -O1 -g -fsanitize=thread -fno-omit-frame-pointer -I$root/include -I$root/tests -DTRIT_ENABLE_INT4=1
OBJS := $(for f in "${sources[@]}"; do printf '%s ' "$(basename "${f%.cpp}").o"; done)
vpath %.cpp $root/tests
trit_tests_tsan: \$(OBJS)
	\$(CXX) \$(CXXFLAGS) \$^ -o \$@ -lgtest_main -lgtest -pthread
%.o: %.cpp
	\$(CXX) \$(CXXFLAGS) -MMD -MP -c \$< -o \$@
-include \$(OBJS:.o=.d)
MAKE
echo "=== tsan: build ($cxx -fsanitize=thread: ${sources[*]##*/})"
make -C "$build" -j "$(trit_jobs)" --no-print-directory trit_tests_tsan
bin="$build/trit_tests_tsan"

launcher=()
probe() { "${launcher[@]}" "$bin" --gtest_list_tests >/dev/null 2>"$build/probe.log"; }
if ! probe; then
  if ! grep -q "ThreadSanitizer" "$build/probe.log"; then cat "$build/probe.log"; exit 1; fi
  bits_file=/proc/sys/vm/mmap_rnd_bits
  bits=$(cat "$bits_file" 2>/dev/null || echo 0)
  if [ "$bits" -gt 28 ] && [ -w "$bits_file" ]; then
    echo "=== tsan: TSan cannot start with vm.mmap_rnd_bits=$bits; setting it to 28 for this run"
    trap 'echo "$bits" > "$bits_file"' EXIT
    echo 28 >"$bits_file"
  fi
  if ! probe; then
    echo "=== tsan: TSan still cannot start; running with address randomization off (setarch -R)"
    launcher=(setarch "$(uname -m)" -R)
    probe || { cat "$build/probe.log"; exit 1; }
  fi
fi

echo "=== tsan: run (--gtest_filter=$filter)"
start=$SECONDS
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" \
  "${launcher[@]}" "$bin" --gtest_filter="$filter" --gtest_brief=1
echo "=== tsan: no data race ($(( SECONDS - start )) s)"
