"""NumPy versions of trit's semantics (docs/SEMANTICS.md), written independently of the
extension so that the tests compare two implementations."""

import numpy as np

F32 = np.float32


def seq_sum_f64(v):
    # Sequential (k order) double sum, the order the semantics fix; cumsum is sequential.
    v = np.asarray(v, dtype=np.float64)
    return float(np.cumsum(v)[-1]) if v.size else 0.0


def absmean_trits(w, granularity="per_tensor"):
    w = np.asarray(w, dtype=F32)
    row_sums = [seq_sum_f64(np.abs(r.astype(np.float64))) for r in w]
    if granularity == "per_tensor":
        total = seq_sum_f64(row_sums)
        scales = np.array([max(F32(total / w.size), F32(1e-5))], dtype=F32)
        per_row = np.repeat(scales, w.shape[0])
    else:
        scales = np.array([max(F32(s / w.shape[1]), F32(1e-5)) for s in row_sums], dtype=F32)
        per_row = scales
    inv = (F32(1.0) / per_row).astype(F32)
    trits = np.clip(np.rint(w * inv[:, None]), -1, 1).astype(np.int8)
    return trits, scales


def quantize(x, scheme="int8_absmax", topk_ratio=0.5):
    x = np.asarray(x, dtype=F32)
    n, k = x.shape
    q = np.zeros((n, k), dtype=np.int8)
    s = np.zeros(n, dtype=F32)
    for i in range(n):
        row = x[i]
        amax = max(F32(np.abs(row).max()), F32(1e-5))
        if scheme in ("int8_absmax", "int8_topk"):
            s[i] = F32(127.0) / amax
            lo, hi = -128, 127
        elif scheme == "int4_absmax":
            s[i] = F32(7.0) / amax
            lo, hi = -8, 7
        elif scheme == "int4_absmean":
            beta = max(F32(seq_sum_f64(np.abs(row.astype(np.float64))) / k), F32(1e-5))
            s[i] = F32(np.sqrt(F32(7.0))) / beta
            lo, hi = -8, 7
        else:
            raise ValueError(scheme)
        qi = np.clip(np.rint(row * s[i]), lo, hi).astype(np.int8)
        if scheme == "int8_topk":
            kept = min(max(int(np.ceil(topk_ratio * k)), 1), k)
            order = np.lexsort((np.arange(k), -np.abs(row)))  # largest |x| first, ties: lower index
            mask = np.zeros(k, dtype=bool)
            mask[order[:kept]] = True
            qi[~mask] = 0
        q[i] = qi
    return q, s


def epilogue(acc, x_scales, w_scales, bias=None):
    # y = ((float)acc / s[n]) * w_scale[m] + bias[m], each step rounded to float32.
    y = (acc.astype(F32) / x_scales.astype(F32)[:, None]).astype(F32) * np.broadcast_to(w_scales.astype(F32), (acc.shape[1],))
    y = y.astype(F32)
    if bias is not None:
        y = (y + bias.astype(F32)).astype(F32)
    return y
