"""PyTorch front end of trit: a ``BitLinear`` module on CPU tensors, and ``convert`` for the
BitNet models of Hugging Face transformers.

Tensors reach the kernels through DLPack without a copy (a float32, CPU, row-contiguous input
is read in place and the output tensor is written in place); other dtypes are converted to
float32 first and the result back. The kernels release the GIL.

How transformers' BitNet layers map onto trit (transformers/integrations/bitnet.py):

* ``AutoBitLinear`` with online quantization ternarizes its float weight at every call:
  ``s_hf = 1 / clamp(mean|W|, 1e-5)`` (float32, torch's own mean), ``Wq = clamp(round(W * s_hf),
  -1, 1)``, dequantized ``Wq / s_hf``. ``convert`` computes ``Wq`` with exactly those torch
  operations, so the trits are identical, and stores the scale ``1 / s_hf`` (trit multiplies by
  its scale; transformers divides by its own: the two scales are inverses).
* ``AutoBitLinear`` offline holds trits and multiplies by ``weight_scale`` *after* adding the
  bias: ``y = (x W^T + b) * weight_scale``. trit adds the bias last, so the bias becomes
  ``b * weight_scale``.
* ``BitLinear`` (2-bit packed checkpoints) divides by ``weight_scale``: the trit scale is
  ``1 / weight_scale``; its 2-bit rows are unpacked here.
* Activations: transformers' ``ActQuant`` is per-token absmax int8 with round-half-to-even
  and clamp to [-128, 127], trit's ``int8_absmax``, with one difference: torch evaluates
  ``127 / amax`` as ``reciprocal(amax) * 127``, trit as one division, so the two scales can
  differ by one ulp (and an integer by one where ``x * s`` lies within an ulp of a rounding
  boundary). ``activations="trit"`` (the default) quantizes inside trit, fused with the
  product; ``activations="transformers"`` quantizes with transformers' torch expression and
  hands trit the same integers and scales. Either way the outputs then differ only by float
  rounding: transformers multiplies dequantized floats in float32, trit sums exact int32 and
  scales once.
* An optional ``rms_norm`` of the layer runs in torch before the trit product.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch
import torch.nn as nn

from . import _trit

__all__ = ["BitLinear", "convert"]


def _as_numpy_f32(t: Optional[torch.Tensor]) -> Optional[np.ndarray]:
    if t is None:
        return None
    return t.detach().to(device="cpu", dtype=torch.float32).contiguous().numpy()


class BitLinear(nn.Module):
    """A ternary linear layer on trit's kernels: ``y = layer(x)`` for CPU tensors ``(..., K)``.

    Build it with ``from_float`` (BitNet absmean), ``from_trits`` (checkpoint trits and
    scales) or from a ``trit.BitLinear``. ``threads=None`` uses ``torch.get_num_threads()``.
    Inference only: no gradient flows through it, and the weights are not parameters (a
    converted model's ``state_dict`` lacks them: save the original model, convert after loading).
    """

    def __init__(self, layer: _trit.BitLinear, *, prenorm: Optional[nn.Module] = None,
                 threads: Optional[int] = None, isa: str = "auto", activations: str = "trit"):
        super().__init__()
        if not isinstance(layer, _trit.BitLinear):
            raise TypeError(f"trit.torch.BitLinear: layer must be a trit.BitLinear, got {type(layer).__name__}")
        if activations not in ("trit", "transformers"):
            raise ValueError(f"trit.torch.BitLinear: activations must be 'trit' or 'transformers', got {activations!r}")
        if activations == "transformers" and layer.scheme != "int8_absmax":
            raise ValueError("trit.torch.BitLinear: activations='transformers' is int8 absmax; the layer's scheme is "
                             f"{layer.scheme}")
        self.activations = activations
        self.scheme = layer.scheme
        self.memory_bytes = layer.memory_bytes
        self.has_bias = layer.bias is not None
        # The transformers-exact path quantizes in torch and calls trit.gemm, which takes the
        # packed matrix itself; it keeps that instead of the layer, so weights are held once.
        self.layer = layer if activations == "trit" else None
        self._packed = layer.packed_weights() if activations == "transformers" else None
        self._bias = layer.bias if activations == "transformers" else None
        self.in_features = layer.in_features
        self.out_features = layer.out_features
        self.prenorm = prenorm
        self.threads = threads
        self.isa = isa

    @classmethod
    def from_float(cls, weight: torch.Tensor, bias: Optional[torch.Tensor] = None, *,
                   granularity: str = "per_tensor", scheme: str = "int8_absmax", topk_ratio: float = 0.5,
                   **kwargs) -> "BitLinear":
        layer = _trit.BitLinear.from_float(_as_numpy_f32(weight), granularity=granularity,
                                           bias=_as_numpy_f32(bias), scheme=scheme, topk_ratio=topk_ratio)
        return cls(layer, **kwargs)

    @classmethod
    def from_trits(cls, trits: torch.Tensor, scales, bias: Optional[torch.Tensor] = None, *,
                   granularity: str = "per_tensor", scheme: str = "int8_absmax", topk_ratio: float = 0.5,
                   **kwargs) -> "BitLinear":
        t = trits.detach().to(device="cpu", dtype=torch.int8).contiguous().numpy()
        s = _as_numpy_f32(scales) if isinstance(scales, torch.Tensor) else np.asarray(scales, dtype=np.float32)
        layer = _trit.BitLinear.from_trits(t, s.reshape(-1), granularity=granularity, bias=_as_numpy_f32(bias),
                                           scheme=scheme, topk_ratio=topk_ratio)
        return cls(layer, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.prenorm is not None:
            x = self.prenorm(x)
        if x.device.type != "cpu":
            raise ValueError(f"trit.torch.BitLinear: x must be on the CPU, got {x.device}")
        if x.shape[-1] != self.in_features:
            raise ValueError(f"trit.torch.BitLinear: x has {x.shape[-1]} features, the layer takes {self.in_features}")
        lead = x.shape[:-1]
        x2 = x.detach().reshape(-1, self.in_features)
        if x2.dtype != torch.float32:
            x2 = x2.to(torch.float32)
        y = torch.empty((x2.shape[0], self.out_features), dtype=torch.float32)
        threads = torch.get_num_threads() if self.threads is None else self.threads
        if self._packed is None:
            self.layer.forward(x2, out=y, threads=threads, isa=self.isa)
        elif x2.shape[0] > 0:
            # transformers' ActQuant expression, integers and scales only.
            s = 127 / x2.abs().max(dim=-1, keepdim=True).values.clamp(min=1e-5)
            q = (x2 * s).round().clamp(-128, 127).to(torch.int8)
            _trit.gemm(self._packed, q, s.reshape(-1), bias=self._bias, out=y, threads=threads, isa=self.isa)
        y = y.reshape(*lead, self.out_features)
        return y if x.dtype == torch.float32 else y.to(x.dtype)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, scheme={self.scheme}, "
                f"activations={self.activations}, bias={self.has_bias}, memory_bytes={self.memory_bytes}")


def _unpack_2bit_rows(packed: torch.Tensor, out_features: int) -> torch.Tensor:
    # transformers' packed BitLinear: stored row r holds, in bit pair i, ternary row
    # i * R + r (R = stored rows) as value + 1.
    p = packed.to(torch.uint8)
    parts = [((p >> (2 * i)) & 3).to(torch.int8) - 1 for i in range(4)]
    return torch.cat(parts, dim=0)[:out_features]


def _check_trits(trits: torch.Tensor, name: str) -> None:
    if trits.numel() and (trits.min() < -1 or trits.max() > 1):
        raise ValueError(f"trit.torch.convert: {name} holds values outside -1, 0, +1; not a ternary layer")


def _convert_module(name: str, module: nn.Module, threads: Optional[int], activations: str) -> Optional[BitLinear]:
    try:
        from transformers.integrations.bitnet import AutoBitLinear, BitLinear as HFBitLinear
    except ImportError as e:  # pragma: no cover - only without transformers
        raise ImportError("trit.torch.convert needs transformers") from e

    prenorm = getattr(module, "rms_norm", None)
    bias = module.bias.detach().float() if getattr(module, "bias", None) is not None else None
    if isinstance(module, AutoBitLinear):
        w = module.weight.detach().float()
        if module.online_quant:
            # The same float32 torch operations as transformers' WeightQuant, so the trits match.
            s_hf = 1.0 / w.abs().mean().clamp_(min=1e-5)
            trits = (w * s_hf).round().clamp(-1, 1).to(torch.int8)
            scale = np.float32(1.0 / np.float64(s_hf.item()))
        else:
            trits = w.round().to(torch.int8)
            if not torch.equal(trits.float(), w):
                raise ValueError(f"trit.torch.convert: {name}.weight is not ternary (offline AutoBitLinear)")
            ws = float(module.weight_scale.detach().float().reshape(-1)[0].item())
            scale = np.float32(ws)
            if bias is not None:
                bias = bias * ws
        _check_trits(trits, name + ".weight")
    elif isinstance(module, HFBitLinear):
        trits = _unpack_2bit_rows(module.weight.detach(), module.out_features)
        _check_trits(trits, name + ".weight")
        ws = float(module.weight_scale.detach().float().reshape(-1)[0].item())
        scale = np.float32(1.0 / ws)
    else:
        return None
    layer = _trit.BitLinear.from_trits(trits.contiguous().numpy(), np.array([scale], dtype=np.float32),
                                       bias=None if bias is None else bias.contiguous().numpy())
    return BitLinear(layer, prenorm=prenorm, threads=threads, activations=activations)


def convert(model: nn.Module, *, threads: Optional[int] = None, activations: str = "trit") -> nn.Module:
    """Replaces, in place, every transformers ``AutoBitLinear`` and ``BitLinear`` of ``model``
    with a ``trit.torch.BitLinear`` holding the same trits; returns ``model``.

    Other modules (embeddings, norms, attention, ``lm_head``) stay in torch, so
    ``model.generate()`` runs as before with the ternary products on trit's kernels.
    ``activations`` is ``"trit"`` (fused, fastest) or ``"transformers"`` (transformers' own
    activation integers and scales); see the module's docstring.
    """
    targets = []
    for name, module in model.named_modules():
        for child_name, child in module.named_children():
            full = f"{name}.{child_name}" if name else child_name
            new = _convert_module(full, child, threads, activations)
            if new is not None:
                targets.append((module, child_name, new))
    if not targets:
        raise ValueError("trit.torch.convert: the model has no transformers BitNet linear layers "
                         "(AutoBitLinear or BitLinear) to convert")
    for parent, child_name, new in targets:
        setattr(parent, child_name, new)
    return model
