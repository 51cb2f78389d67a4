#!/usr/bin/env bash
# Builds the Python package (python/) into a virtual environment and runs its pytest suite:
# the NumPy API, trit.torch against Hugging Face transformers' BitNet layers, and the
# torch.distributed example (python/examples/tp_ffn.py).
#
# Environment: TRIT_PYTHON_VENV (default build/python-venv; reused between runs),
# TRIT_PYTHON_TORCH=0 to skip installing torch and transformers (their tests then skip),
# PYTEST_ADDOPTS for pytest. Installs what is missing on Debian 12 with apt-get.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
root=$(trit_root)
started=$(date +%s)

ensure_packages python3 python3-venv python3-dev cmake make g++ libxsimd-dev

venv=${TRIT_PYTHON_VENV:-$root/build/python-venv}
if [ ! -x "$venv/bin/python" ]; then
  echo "=== python: creating $venv"
  python3 -m venv "$venv"
fi
py="$venv/bin/python"
pip=("$py" -m pip --disable-pip-version-check -q)

# Pinned versions: the ones this package was built and tested with. PyPI's Linux torch wheel
# carries CUDA libraries (a few GB once); it runs on the CPU all the same.
"${pip[@]}" install numpy==2.4.6 pytest==9.2.0 nanobind==3.1.0 scikit-build-core==1.1.2
if [ "${TRIT_PYTHON_TORCH:-1}" != 0 ]; then
  # accelerate: transformers' BitNet quantizer refuses to load a BitNet checkpoint without it
  # (examples/bitnet/make_reference.py loads one with from_pretrained).
  "${pip[@]}" install torch==2.15.0 transformers==5.24.0 safetensors==0.8.0 accelerate==1.15.0
fi

echo "=== python: pip install ./python"
# An isolated build, as a user's `pip install ./python` does it (build requirements from pyproject.toml).
(cd "$root" && "${pip[@]}" install --force-reinstall --no-deps ./python)

echo "=== python: pytest"
# Run from outside the source tree so that the installed package, not python/src, is imported.
cd "$venv"
"$py" -c "import trit, pprint; pprint.pprint(trit.cpu_info())"
"$py" -m pytest -q -rs -p no:cacheprovider "$root/python/tests"
if [ "${TRIT_PYTHON_TORCH:-1}" != 0 ]; then
  # The whole BitNet model of examples/bitnet against Hugging Face transformers' BitNet on
  # several random configs (make_reference.py), each converted by trit-convert.
  echo "=== python: BitNet model against transformers (examples/bitnet)"
  # The release stage's build when it is there (test.sh runs that stage first), else a small one.
  model_build=${TRIT_MODEL_BUILD_DIR:-$root/build/release}
  if [ ! -f "$model_build/CMakeCache.txt" ]; then
    model_build=$root/build/bitnet-model
    cmake -S "$root" -B "$model_build" -DCMAKE_BUILD_TYPE=Release -DTRIT_BUILD_TESTS=OFF -DTRIT_BUILD_BENCHMARKS=OFF \
      -DTRIT_BUILD_EXAMPLES=ON -DTRIT_BUILD_TOOLS=ON >/dev/null
  fi
  cmake --build "$model_build" --target trit-convert bitnet_check -j "$(trit_jobs)" >/dev/null
  references=$(mktemp -d)
  trap 'rm -rf "$references"' EXIT
  configs=(tiny gqa4 odd344 wide512)
  "$py" "$root/examples/bitnet/make_reference.py" --out "$references" --config "${configs[@]}"
  # The committed fixture is what the script makes: same tensors, byte for byte.
  "$py" - "$references/tiny" "$root/tests/fixtures/bitnet_tiny" <<'PY'
import sys
from safetensors.numpy import load_file
made, committed = sys.argv[1], sys.argv[2]
for name in ("model.safetensors", "reference.safetensors"):
    a, b = load_file(f"{made}/{name}"), load_file(f"{committed}/{name}")
    assert a.keys() == b.keys(), f"{name}: tensor names differ"
    for key in a:
        assert a[key].dtype == b[key].dtype and a[key].shape == b[key].shape and (a[key] == b[key]).all(), f"{name}: {key} differs"
print("tests/fixtures/bitnet_tiny is what make_reference.py makes")
PY
  # Each config must pass bitnet_check's bounds; "the identical greedy continuation on most
  # prompts" is counted over all configs together (one config has only 4 to 8 prompts, and a
  # continuation may depart after an activation rounding tie, which bitnet_check explains).
  identical=0
  prompts=0
  for config in "${configs[@]}"; do
    "$model_build/tools/trit-convert" "$references/$config" "$references/$config.trit" >/dev/null
    report=$("$model_build/examples/bitnet_check" "$references/$config.trit" "$references/$config/reference.safetensors" \
             --min-identical 0) || { echo "$report"; exit 1; }
    echo "$report"
    counts=$(echo "$report" | sed -n 's/.* \([0-9]*\)\/\([0-9]*\) continuations identical.*/\1 \2/p')
    identical=$(( identical + ${counts% *} ))
    prompts=$(( prompts + ${counts#* } ))
  done
  echo "=== python: $identical of $prompts greedy continuations identical to transformers' over ${configs[*]}"
  if [ $(( 2 * identical )) -le "$prompts" ]; then
    echo "fewer than most continuations are identical" >&2
    exit 1
  fi
fi
echo "=== python: done in $(( $(date +%s) - started )) s"
