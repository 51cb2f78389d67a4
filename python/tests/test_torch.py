import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed: trit.torch is optional")
transformers = pytest.importorskip("transformers", reason="transformers is not installed")

import trit  # noqa: E402
import trit.torch as tt  # noqa: E402
from transformers import BitNetConfig, BitNetForCausalLM, BitNetQuantConfig  # noqa: E402
from transformers.integrations import bitnet as hf_bitnet  # noqa: E402


def test_module_matches_the_numpy_layer_without_copies():
    g = torch.Generator().manual_seed(0)
    w, b = torch.randn(48, 200, generator=g), torch.randn(48, generator=g)
    module = tt.BitLinear.from_float(w, b)
    ref = trit.BitLinear.from_float(w.numpy(), bias=b.numpy())
    x = torch.randn(2, 5, 200, generator=g)
    y = module(x)
    assert y.shape == (2, 5, 48) and y.dtype == torch.float32
    np.testing.assert_array_equal(y.numpy(), ref.forward(x.reshape(10, 200).numpy()).reshape(2, 5, 48))
    # A tensor goes to the kernels through DLPack: the output tensor is written in place.
    out = torch.empty(10, 48)
    module.layer.forward(x.reshape(10, 200), out=out)
    np.testing.assert_array_equal(out.numpy(), y.reshape(10, 48).numpy())
    # Other dtypes are converted to float32 and back.
    yb = module(x.to(torch.bfloat16))
    assert yb.dtype == torch.bfloat16
    # requires_grad inputs are fine (inference only).
    module(x.clone().requires_grad_(True))
    with pytest.raises(ValueError, match="features"):
        module(torch.randn(3, 199))


def test_module_from_trits():
    t = torch.randint(-1, 2, (16, 70), dtype=torch.int8)
    module = tt.BitLinear.from_trits(t, torch.tensor([0.5]))
    np.testing.assert_array_equal(module.layer.packed_weights().trits(), t.numpy())
    x = torch.randn(3, 70)
    np.testing.assert_array_equal(module(x).numpy(), trit.BitLinear.from_trits(t.numpy(), 0.5).forward(x.numpy()))


def hf_activation_quant(x):
    # transformers' ActQuant, integers and scales only.
    s = 127 / x.abs().max(dim=-1, keepdim=True).values.clamp(min=1e-5)
    return (x * s).round().clamp(-128, 127).to(torch.int8), s


def test_activation_quantization_against_transformers():
    x = torch.randn(64, 300, generator=torch.Generator().manual_seed(3)) * 5
    x[0, :3] = torch.tensor([127.0, 0.5, 2.5])  # ties round to even in both
    q_hf, s_hf = hf_activation_quant(x)
    q = trit.quantize_activations(x.numpy())
    # torch evaluates 127 / t as reciprocal(t) * 127, trit as one division: the scales may
    # differ by one ulp, and the integers agree here (they could differ only where x * s
    # falls within an ulp of a rounding boundary).
    np.testing.assert_array_max_ulp(q.scales, s_hf.reshape(-1).numpy(), maxulp=1)
    np.testing.assert_array_equal(q.values, q_hf.numpy())
    # activations="transformers" reproduces transformers' integers and scales exactly.
    t = torch.randint(-1, 2, (8, 300), dtype=torch.int8)
    module = tt.BitLinear.from_trits(t, [1.0], activations="transformers")
    y = module(x)
    acc = q_hf.to(torch.int64) @ t.to(torch.int64).T
    np.testing.assert_array_equal(y.numpy(), (acc.float() / s_hf).numpy())


def make_autobitlinear(in_f, out_f, bias, online, seed):
    torch.manual_seed(seed)
    m = hf_bitnet.AutoBitLinear(in_f, out_f, bias=bias, online_quant=online)
    if not online:
        with torch.no_grad():
            m.weight.copy_(torch.randint(-1, 2, (out_f, in_f)).float())
            m.weight_scale.fill_(0.37)
            if bias:
                m.bias.normal_()
    return m.eval()


class Holder(torch.nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.layer = layer


def check_close(ref, out):
    cos = torch.nn.functional.cosine_similarity(ref, out, dim=-1)
    assert cos.min().item() >= 0.9999
    rel = ((ref - out).abs().max() / ref.abs().max()).item()
    assert rel < 1e-4


@pytest.mark.parametrize("online,bias", [(True, False), (True, True), (False, False), (False, True)])
def test_convert_autobitlinear(online, bias):
    holder = Holder(make_autobitlinear(130, 70, bias, online, seed=1))
    x = torch.randn(9, 130)
    with torch.no_grad():
        ref = holder.layer(x)
        if online:
            # The trits trit holds are transformers' own WeightQuant trits.
            w = holder.layer.weight.float()
            s_hf = 1.0 / w.abs().mean().clamp(min=1e-5)
            trits_hf = (w * s_hf).round().clamp(-1, 1).to(torch.int8)
        else:
            trits_hf = holder.layer.weight.to(torch.int8)
    tt.convert(holder)
    assert isinstance(holder.layer, tt.BitLinear)
    np.testing.assert_array_equal(holder.layer.layer.packed_weights().trits(), trits_hf.numpy())
    with torch.no_grad():
        check_close(ref, holder.layer(x))


def test_convert_packed_bitlinear():
    torch.manual_seed(2)
    m = hf_bitnet.BitLinear(96, 64, bias=True, dtype=torch.float32)
    trits = torch.randint(-1, 2, (64, 96), dtype=torch.int8)
    with torch.no_grad():
        m.weight.copy_(hf_bitnet.pack_weights(trits.clone()))
        m.weight_scale.fill_(2.5)
        m.bias.normal_()
    holder = Holder(m.eval())
    x = torch.randn(5, 96)
    with torch.no_grad():
        ref = holder.layer(x)
    tt.convert(holder)
    np.testing.assert_array_equal(holder.layer.layer.packed_weights().trits(), trits.numpy())
    np.testing.assert_array_equal(holder.layer.layer.weight_scales, np.float32([1 / 2.5]))
    with torch.no_grad():
        check_close(ref, holder.layer(x))


def test_convert_refuses_a_model_without_bitnet_layers():
    with pytest.raises(ValueError, match="no transformers BitNet linear layers"):
        tt.convert(Holder(torch.nn.Linear(3, 4)))


def small_bitnet(seed=0):
    torch.manual_seed(seed)
    cfg = BitNetConfig(vocab_size=256, hidden_size=128, intermediate_size=344, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                       bos_token_id=0, eos_token_id=1, pad_token_id=1)
    model = BitNetForCausalLM(cfg).eval()
    state = model.state_dict()
    # What loading a BitNet checkpoint with linear_class="autobitlinear" builds, without a download.
    hf_bitnet.replace_with_bitnet_linear(
        model, modules_to_not_convert=["lm_head"],
        quantization_config=BitNetQuantConfig(linear_class="autobitlinear", quantization_mode="online"))
    model.load_state_dict(state, assign=True)
    return model


@pytest.mark.parametrize("activations", ["trit", "transformers"])
def test_convert_bitnet_for_causal_lm_logits_and_generate(activations):
    model = small_bitnet()
    n_auto = sum(isinstance(m, hf_bitnet.AutoBitLinear) for m in model.modules())
    assert n_auto == 2 * 7  # q, k, v, o, gate, up, down per layer
    ids = torch.randint(2, 256, (2, 20), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref = model(ids).logits
        gen_ref = model.generate(ids[:1], max_new_tokens=16, do_sample=False, min_new_tokens=16)
    tt.convert(model, activations=activations)
    assert sum(isinstance(m, tt.BitLinear) for m in model.modules()) == n_auto
    assert not any(isinstance(m, hf_bitnet.AutoBitLinear) for m in model.modules())
    with torch.no_grad():
        out = model(ids).logits
        gen = model.generate(ids[:1], max_new_tokens=16, do_sample=False, min_new_tokens=16)
    cos = torch.nn.functional.cosine_similarity(ref, out, dim=-1)
    assert cos.min().item() >= 0.9999, cos.min().item()
    same = (ref.argmax(-1) == out.argmax(-1)).float().mean().item()
    assert same >= 0.99, same
    assert gen.tolist() == gen_ref.tolist()
