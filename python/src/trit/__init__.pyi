from os import PathLike
from typing import Tuple, Union

from ._trit import (
    BitLinear as BitLinear,
    FormatError as FormatError,
    PackedMatrix as PackedMatrix,
    QuantizedActivations as QuantizedActivations,
    UnsupportedIsaError as UnsupportedIsaError,
    cpu_info as cpu_info,
    gemm as gemm,
    gemm_int32 as gemm_int32,
    gemv as gemv,
    pack_trits as pack_trits,
    pack_weights as pack_weights,
    quantize_activations as quantize_activations,
)

__version__: str
SCHEMES: Tuple[str, ...]
ISAS: Tuple[str, ...]

def save(obj: Union[PackedMatrix, BitLinear], path: Union[str, "PathLike[str]"]) -> None: ...
def load(path: Union[str, "PathLike[str]"]) -> Union[PackedMatrix, BitLinear]: ...
