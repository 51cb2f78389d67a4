import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="PyTorch is not installed: the tensor-parallel example needs torch.distributed")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "tp_ffn.py"


def run(*args):
    return subprocess.run([sys.executable, str(EXAMPLE), *args], capture_output=True, text=True, timeout=240,
                          env=dict(os.environ))


def test_two_ranks_equal_one_process_bit_for_bit():
    # K slices of 688 and 688: neither a multiple of 5 nor of the 320-trit group.
    done = run("--hidden", "384", "--intermediate", "1376", "--tokens", "6", "--timeout", "180")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "bit for bit" in done.stdout


def test_float_partial_sums_do_not_and_the_example_says_so():
    done = run("--reduce", "float", "--timeout", "180")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "MISMATCH" in done.stderr
