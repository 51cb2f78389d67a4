import json
import os
import pickle
import subprocess
import sys
import threading

import numpy as np
import pytest

import trit
from reference import absmean_trits, epilogue, quantize

SCHEMES = ["int8_absmax", "int4_absmax", "int4_absmean", "int8_topk"]


def rng(seed=0):
    return np.random.default_rng(seed)


def floats(shape, seed=0):
    return rng(seed).standard_normal(shape).astype(np.float32)


def random_trits(shape, seed=0):
    return rng(seed).integers(-1, 2, size=shape).astype(np.int8)


# ---- cpu_info --------------------------------------------------------------------------------

def test_cpu_info_names_a_supported_path_and_why():
    info = trit.cpu_info()
    assert info["path"] in info["supported"]
    assert "scalar" in info["supported"]
    assert isinstance(info["reason"], str) and info["reason"]
    assert set(info["features"]) >= {"avx2", "avx512bw", "avx512vnni", "avxvnni", "neon", "dotprod"}
    for name, why in info["unsupported"].items():
        assert name not in info["supported"] and why


def cpu_info_with(trit_isa):
    # TRIT_ISA is read once per process, so each setting gets a fresh interpreter.
    env = dict(os.environ, TRIT_ISA=trit_isa)
    code = "import json, trit; print(json.dumps(trit.cpu_info()))"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def test_cpu_info_reports_a_trit_isa_override():
    info = cpu_info_with("scalar")
    assert info["path"] == "scalar" and info["trit_isa"] == "scalar"
    assert "TRIT_ISA=scalar" in info["reason"]
    bad = cpu_info_with("sse9")
    assert bad["path"] is None and "sse9" in bad["reason"]


# ---- packing ---------------------------------------------------------------------------------

@pytest.mark.parametrize("granularity", ["per_tensor", "per_row"])
@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (17, 319), (8, 321), (5, 1000)])
def test_pack_weights_matches_absmean_reference(shape, granularity):
    w = floats(shape, seed=shape[1])
    p = trit.pack_weights(w, granularity=granularity)
    trits, scales = absmean_trits(w, granularity)
    assert p.shape == shape and p.rows == shape[0] and p.cols == shape[1]
    assert p.granularity == granularity
    np.testing.assert_array_equal(p.trits(), trits)
    np.testing.assert_array_equal(p.scales, scales)
    assert p.scales.dtype == np.float32


def test_packed_matrix_attributes():
    p = trit.pack_trits(random_trits((64, 3200)), 0.5)
    assert p.shape == (64, 3200)
    # 3200 = 10 groups of 320 trits in 64 bytes each: exactly 1.6 bits per weight.
    assert p.bits_per_weight == 1.6
    assert p.nbytes == 64 * 640 == p.rows * p.row_stride
    assert "PackedMatrix(shape=(64, 3200)" in repr(p)


@pytest.mark.parametrize("granularity", ["per_tensor", "per_row"])
def test_pack_trits_round_trip(granularity):
    t = random_trits((9, 333), seed=3)
    scales = np.linspace(0.5, 2.0, 9 if granularity == "per_row" else 1).astype(np.float32)
    p = trit.pack_trits(t, scales, granularity=granularity)
    np.testing.assert_array_equal(p.trits(), t)
    np.testing.assert_array_equal(p.scales, scales)
    deq = p.dequantize()
    np.testing.assert_array_equal(deq, t.astype(np.float32) * np.broadcast_to(scales, (9,))[:, None])


@pytest.mark.parametrize("scale", [0.25, np.float32(0.25), np.float64(0.25), np.array(0.25, np.float32)])
def test_pack_trits_accepts_a_number_as_the_scale(scale):
    p = trit.pack_trits(random_trits((2, 7)), scale)
    np.testing.assert_array_equal(p.scales, np.array([0.25], dtype=np.float32))


@pytest.mark.parametrize(
    "trits, scales, kwargs, error",
    [
        (np.full((2, 3), 2, np.int8), 1.0, {}, ValueError),  # not a trit
        (np.zeros((2, 3), np.float32), 1.0, {}, TypeError),  # wrong dtype
        (np.zeros((2, 3), np.int16), 1.0, {}, TypeError),
        (np.zeros(3, np.int8), 1.0, {}, ValueError),  # wrong ndim
        (np.zeros((1, 2, 3), np.int8), 1.0, {}, ValueError),
        (np.zeros((0, 3), np.int8), 1.0, {}, ValueError),  # empty
        (np.zeros((2, 3), np.int8), -1.0, {}, ValueError),  # scale not positive
        (np.zeros((2, 3), np.int8), float("nan"), {}, ValueError),
        (np.zeros((2, 3), np.int8), np.ones(3, np.float32), {"granularity": "per_row"}, ValueError),  # count
        (np.zeros((2, 3), np.int8), np.ones(2, np.float64), {"granularity": "per_row"}, TypeError),
        (np.zeros((2, 3), np.int8), 1.0, {"granularity": "per_column"}, ValueError),
        ([[0, 1, -1]], 1.0, {}, TypeError),  # not an array
    ],
)
def test_pack_trits_rejects_bad_inputs(trits, scales, kwargs, error):
    with pytest.raises(error):
        trit.pack_trits(trits, scales, **kwargs)


def test_pack_weights_rejects_non_finite_and_wrong_dtype():
    w = floats((3, 4))
    w[1, 2] = np.inf
    with pytest.raises(ValueError, match="non-finite"):
        trit.pack_weights(w)
    with pytest.raises(TypeError, match="float32"):
        trit.pack_weights(floats((3, 4)).astype(np.float64))


# ---- activations -----------------------------------------------------------------------------

@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("shape", [(1, 1), (3, 17), (4, 320), (2, 1001)])
def test_quantize_activations_matches_reference(scheme, shape):
    x = floats(shape, seed=7) * 3
    q = trit.quantize_activations(x, scheme=scheme)
    ref_q, ref_s = quantize(x, scheme)
    assert q.shape == shape and q.scheme == scheme
    np.testing.assert_array_equal(q.values, ref_q)
    np.testing.assert_array_equal(q.scales, ref_s)


def test_quantize_rounds_ties_to_even():
    # max 127 gives s = 1, so x * s is exactly the tie and rne decides.
    x = np.array([[127.0, 0.5, 1.5, 2.5, -0.5, -2.5]], dtype=np.float32)
    q = trit.quantize_activations(x)
    np.testing.assert_array_equal(q.values, [[127, 0, 2, 2, 0, -2]])


def test_topk_keeps_the_largest_and_breaks_ties_by_index():
    x = np.array([[1.0, -4.0, 2.0, 2.0, -2.0, 0.5]], dtype=np.float32)
    q = trit.quantize_activations(x, scheme="int8_topk", topk_ratio=0.5)  # keeps 3 of 6
    np.testing.assert_array_equal(q.values, [[0, -127, 64, 64, 0, 0]])


def test_quantized_values_are_a_read_only_view_that_outlives_its_object():
    q = trit.quantize_activations(floats((3, 70)))
    v = q.values
    assert v.dtype == np.int8 and not v.flags.writeable
    assert v.strides == (128, 1)  # rows padded to 64 values: a view, not a copy
    expected = v.copy()
    del q
    np.testing.assert_array_equal(v, expected)


@pytest.mark.parametrize("kwargs", [{"scheme": "int2"}, {"scheme": "int8_topk", "topk_ratio": 0.0},
                                    {"scheme": "int8_topk", "topk_ratio": 1.5}])
def test_quantize_rejects_bad_options(kwargs):
    with pytest.raises(ValueError):
        trit.quantize_activations(floats((2, 8)), **kwargs)


# ---- products --------------------------------------------------------------------------------

SHAPES = [(1, 1, 1), (1, 5, 4), (3, 63, 2), (17, 64, 5), (8, 319, 1), (16, 320, 7), (33, 321, 9), (40, 1000, 33)]


@pytest.mark.parametrize("m,k,n", SHAPES)
def test_gemm_int32_is_exact(m, k, n):
    t = random_trits((m, k), seed=m * k)
    p = trit.pack_trits(t, 1.0)
    x = rng(n).integers(-128, 128, size=(n, k)).astype(np.int8)
    acc = trit.gemm_int32(p, x)
    assert acc.dtype == np.int32 and acc.shape == (n, m)
    np.testing.assert_array_equal(acc, x.astype(np.int64) @ t.astype(np.int64).T)


@pytest.mark.parametrize("m,k,n", SHAPES)
@pytest.mark.parametrize("with_bias", [False, True])
def test_gemm_floats_are_the_reference_epilogue_bit_for_bit(m, k, n, with_bias):
    t = random_trits((m, k), seed=k)
    w_scales = (rng(1).random(m) + 0.5).astype(np.float32)
    p = trit.pack_trits(t, w_scales, granularity="per_row")
    x = floats((n, k), seed=n)
    q = trit.quantize_activations(x)
    bias = floats(m, seed=99) if with_bias else None
    y = trit.gemm(p, q, bias=bias)
    acc = q.values.astype(np.int64) @ t.astype(np.int64).T
    np.testing.assert_array_equal(y, epilogue(acc, q.scales, w_scales, bias))
    # The same product from a plain int8 array and its scales.
    np.testing.assert_array_equal(trit.gemm(p, np.ascontiguousarray(q.values), q.scales, bias=bias), y)


def test_gemv_is_gemm_of_one_token():
    p = trit.pack_weights(floats((29, 650)))
    q = trit.quantize_activations(floats((1, 650), seed=5))
    y = trit.gemv(p, q.values[0], float(q.scales[0]))
    assert y.shape == (29,)
    np.testing.assert_array_equal(y, trit.gemm(p, q)[0])
    with pytest.raises(ValueError, match="1 dimension"):
        trit.gemv(p, np.zeros((1, 650), np.int8), 1.0)


def test_strided_inputs_give_the_contiguous_result():
    p = trit.pack_weights(floats((21, 400)))
    big = rng(2).integers(-128, 128, size=(6, 900)).astype(np.int8)
    x = np.ascontiguousarray(big[:, 100:500])
    expected = trit.gemm_int32(p, x)
    views = {
        "row stride > cols (zero copy)": big[:, 100:500],
        "every other row": np.ascontiguousarray(np.repeat(x, 2, axis=0))[::2],
        "column step 2 (copied)": np.repeat(x, 2, axis=1)[:, ::2],
        "Fortran order (copied)": np.asfortranarray(x),
        "transposed twice": np.ascontiguousarray(x.T).T,
        "negative row stride": np.ascontiguousarray(x[::-1])[::-1],
    }
    for name, view in views.items():
        np.testing.assert_array_equal(trit.gemm_int32(p, view), expected, err_msg=name)
    xf = floats((6, 400))
    layer = trit.BitLinear.from_float(floats((21, 400), seed=4))
    y = layer.forward(xf)
    np.testing.assert_array_equal(layer.forward(np.asfortranarray(xf)), y)
    np.testing.assert_array_equal(layer.forward(np.repeat(xf, 3, axis=1)[:, ::3]), y)
    strided_scales = np.repeat(np.full(6, 2.0, np.float32), 2)[::2]
    np.testing.assert_array_equal(trit.gemm(p, x, strided_scales), trit.gemm(p, x, 2.0))


def test_out_arguments_are_written_in_place():
    p = trit.pack_weights(floats((12, 90)))
    q = trit.quantize_activations(floats((4, 90)))
    out = np.empty((4, 12), np.float32)
    assert trit.gemm(p, q, out=out) is out
    np.testing.assert_array_equal(out, trit.gemm(p, q))
    # A row-strided output is fine; it is written in place.
    wide = np.zeros((4, 20), np.float32)
    trit.gemm(p, q, out=wide[:, 4:16])
    np.testing.assert_array_equal(wide[:, 4:16], out)
    assert not wide[:, :4].any() and not wide[:, 16:].any()
    acc = np.empty((4, 12), np.int32)
    assert trit.gemm_int32(p, q, out=acc) is acc
    with pytest.raises(ValueError, match="shape"):
        trit.gemm(p, q, out=np.empty((4, 13), np.float32))
    with pytest.raises(TypeError, match="float32"):
        trit.gemm(p, q, out=np.empty((4, 12), np.float64))
    with pytest.raises(ValueError, match="contiguous rows"):
        trit.gemm(p, q, out=np.empty((4, 24), np.float32)[:, ::2])
    read_only = np.empty((4, 12), np.float32)
    read_only.flags.writeable = False
    with pytest.raises(TypeError):
        trit.gemm(p, q, out=read_only)


def test_product_argument_errors():
    p = trit.pack_weights(floats((6, 50)))
    x = np.zeros((3, 50), np.int8)
    with pytest.raises(TypeError, match="x_scales"):
        trit.gemm(p, x)  # int8 values need their scales
    with pytest.raises(TypeError, match="int8"):
        trit.gemm(p, floats((3, 50)), 1.0)
    with pytest.raises(ValueError, match="K = 50"):
        trit.gemm_int32(p, np.zeros((3, 49), np.int8))
    with pytest.raises(ValueError, match="3 values"):
        trit.gemm(p, x, np.ones(2, np.float32))
    with pytest.raises(ValueError, match="not a finite positive"):
        trit.gemm(p, x, 0.0)
    with pytest.raises(ValueError, match="6 values"):
        trit.gemm(p, x, 1.0, bias=np.ones(5, np.float32))
    with pytest.raises(ValueError, match="carries its own scales"):
        trit.gemm(p, trit.quantize_activations(floats((3, 50))), 1.0)
    with pytest.raises(ValueError, match="unknown kernel path"):
        trit.gemm_int32(p, x, isa="sse9")
    with pytest.raises(TypeError):
        trit.gemm_int32("not packed", x)
    with pytest.raises(TypeError):
        trit.gemm_int32(p, x, threads=-1)


@pytest.mark.parametrize("isa", ["scalar", "avx2", "avxvnni", "avx512bw", "avx512vnni", "neon", "neon-dotprod"])
def test_every_path_gives_the_same_int32_or_says_why_not(isa):
    p = trit.pack_trits(random_trits((70, 1300), seed=11), 1.0)
    x = rng(4).integers(-128, 128, size=(9, 1300)).astype(np.int8)
    expected = x.astype(np.int64) @ p.trits().astype(np.int64).T
    if isa not in trit.cpu_info()["supported"]:
        with pytest.raises(trit.UnsupportedIsaError):
            trit.gemm_int32(p, x, isa=isa)
        pytest.skip(f"{isa}: {trit.cpu_info()['unsupported'][isa]}")
    np.testing.assert_array_equal(trit.gemm_int32(p, x, isa=isa), expected)
    np.testing.assert_array_equal(trit.gemm_int32(p, x[:1], isa=isa), expected[:1])  # the GEMV kernel


def test_results_do_not_depend_on_the_thread_count():
    p = trit.pack_weights(floats((300, 700)))
    q = trit.quantize_activations(floats((5, 700)))
    y1 = trit.gemm(p, q, threads=1)
    for threads in (2, 3, 0):
        np.testing.assert_array_equal(trit.gemm(p, q, threads=threads), y1)


def test_concurrent_python_threads_get_correct_results():
    # The GIL is released during products, so these calls really overlap.
    layer = trit.BitLinear.from_float(floats((256, 640)))
    xs = [floats((3, 640), seed=s) for s in range(8)]
    expected = [layer.forward(x, threads=1) for x in xs]
    results = [None] * len(xs)

    def work(i):
        for _ in range(20):
            results[i] = layer.forward(xs[i], threads=1)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(got, want)


# ---- BitLinear -------------------------------------------------------------------------------

@pytest.mark.parametrize("scheme", SCHEMES)
def test_bitlinear_forward_is_gemm_on_quantized_activations(scheme):
    w, x, b = floats((40, 333), 1), floats((6, 333), 2) * 4, floats(40, 3)
    layer = trit.BitLinear.from_float(w, bias=b, scheme=scheme)
    assert layer.scheme == scheme and layer.shape == (40, 333)
    y = layer.forward(x)
    q = trit.quantize_activations(x, scheme=scheme)
    np.testing.assert_array_equal(y, trit.gemm(trit.pack_weights(w), q, bias=b))
    lq = layer.quantize(x)
    np.testing.assert_array_equal(lq.values, q.values)
    np.testing.assert_array_equal(lq.scales, q.scales)


@pytest.mark.parametrize("granularity", ["per_tensor", "per_row"])
def test_bitlinear_matches_the_float_reference(granularity):
    w, x, b = floats((64, 500), 5), floats((7, 500), 6), floats(64, 7)
    layer = trit.BitLinear.from_float(w, granularity=granularity, bias=b)
    trits, scales = absmean_trits(w, granularity)
    q, s = quantize(x)
    w_deq = trits.astype(np.float64) * np.broadcast_to(scales, (64,))[:, None].astype(np.float64)
    x_deq = q.astype(np.float64) / s[:, None].astype(np.float64)
    ref = x_deq @ w_deq.T + b
    y = layer.forward(x)
    rel = np.abs(y - ref).max(axis=1) / np.abs(ref).max(axis=1)
    assert rel.max() < 1e-5
    np.testing.assert_array_equal(layer.weight_scales, scales)
    np.testing.assert_array_equal(layer.bias, b)


def test_bitlinear_from_trits_and_shapes():
    t = random_trits((10, 90), 8)
    layer = trit.BitLinear.from_trits(t, 0.5)
    assert layer.in_features == 90 and layer.out_features == 10 and layer.bias is None
    np.testing.assert_array_equal(layer.packed_weights().trits(), t)
    x = floats((3, 90))
    y = layer.forward(x)
    np.testing.assert_array_equal(layer.forward(x[1]), y[1])  # 1-D in, 1-D out
    np.testing.assert_array_equal(layer(x), y)
    with pytest.raises(ValueError, match="no tokens"):  # as gemm and quantize_activations refuse it
        layer.forward(np.zeros((0, 90), np.float32))
    layer2 = trit.BitLinear(trit.pack_trits(t, 0.5))
    np.testing.assert_array_equal(layer2.forward(x), y)
    with pytest.raises(ValueError, match="takes 90"):
        layer.forward(floats((3, 91)))
    with pytest.raises(ValueError, match="dimensions"):
        layer.forward(floats((1, 3, 90)))
    with pytest.raises(TypeError, match="float32"):
        layer.forward(x.astype(np.float16))
    bad = x.copy()
    bad[2, 7] = np.nan
    with pytest.raises(ValueError, match="row 2, column 7"):
        layer.forward(bad)
    with pytest.raises(ValueError, match="bias"):
        trit.BitLinear.from_trits(t, 0.5, bias=np.ones(9, np.float32))


# ---- saving and loading ----------------------------------------------------------------------

def test_save_load_round_trip(tmp_path):
    w, b, x = floats((30, 700)), floats(30, 1), floats((4, 700), 2)
    layer = trit.BitLinear.from_float(w, bias=b, scheme="int8_topk", topk_ratio=0.25)
    layer.save(tmp_path / "layer.trit")
    loaded = trit.BitLinear.load(str(tmp_path / "layer.trit"))
    assert loaded.scheme == "int8_topk" and loaded.topk_ratio == 0.25
    np.testing.assert_array_equal(loaded.forward(x), layer.forward(x))
    assert trit.load(tmp_path / "layer.trit").serialize() == layer.serialize()

    p = trit.pack_weights(w, granularity="per_row")
    trit.save(p, tmp_path / "w.trit")
    p2 = trit.load(tmp_path / "w.trit")
    assert isinstance(p2, trit.PackedMatrix)
    np.testing.assert_array_equal(p2.trits(), p.trits())
    np.testing.assert_array_equal(p2.scales, p.scales)
    assert trit.PackedMatrix.deserialize(p.serialize()).serialize() == p.serialize()

    for obj in (p, layer):
        again = pickle.loads(pickle.dumps(obj))
        assert again.serialize() == obj.serialize()


def test_load_rejects_bad_blobs(tmp_path):
    blob = bytearray(trit.BitLinear.from_float(floats((3, 20))).serialize())
    blob[-1] ^= 1
    with pytest.raises(trit.FormatError, match="checksum"):
        trit.BitLinear.deserialize(bytes(blob))
    assert issubclass(trit.FormatError, ValueError)
    with pytest.raises(trit.FormatError):
        trit.PackedMatrix.deserialize(b"TRITD243" + bytes(10))
    with pytest.raises(TypeError, match="bytes"):
        trit.PackedMatrix.deserialize("not bytes")
    with pytest.raises(FileNotFoundError):
        trit.BitLinear.load(tmp_path / "missing.trit")
