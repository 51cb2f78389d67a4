"""trit: ternary (1.58-bit) weights x int8 activations on CPU, for NumPy and PyTorch.

Weights in {-1, 0, +1} are packed five to a byte (Dense243); products run on the best kernel
path of the CPU (``cpu_info()`` says which and why) and release the GIL. Every path returns
the same int32 accumulators and bit-identical floats as trit's scalar reference.

``trit.torch`` (imported on demand, needs PyTorch) adds ``BitLinear`` as an ``nn.Module`` and
``convert(model)`` for Hugging Face transformers BitNet models.
"""

from ._trit import (
    BitLinear,
    FormatError,
    PackedMatrix,
    QuantizedActivations,
    UnsupportedIsaError,
    cpu_info,
    gemm,
    gemm_int32,
    gemv,
    pack_trits,
    pack_weights,
    quantize_activations,
)

__version__ = "0.1.0"

SCHEMES = ("int8_absmax", "int4_absmax", "int4_absmean", "int8_topk")
ISAS = ("auto", "scalar", "avx2", "avxvnni", "avx512bw", "avx512vnni", "neon", "neon-dotprod")


def save(obj, path):
    """Writes a PackedMatrix or a BitLinear to ``path`` (str or os.PathLike)."""
    obj.save(path)


def load(path):
    """Reads what ``save`` wrote, telling a layer from a weight matrix by the blob's magic."""
    with open(path, "rb") as f:
        blob = f.read()
    if blob[:8] == b"TRITBLIN":
        return BitLinear.deserialize(blob)
    return PackedMatrix.deserialize(blob)


__all__ = [
    "BitLinear",
    "FormatError",
    "ISAS",
    "PackedMatrix",
    "QuantizedActivations",
    "SCHEMES",
    "UnsupportedIsaError",
    "cpu_info",
    "gemm",
    "gemm_int32",
    "gemv",
    "load",
    "pack_trits",
    "pack_weights",
    "quantize_activations",
    "save",
]
