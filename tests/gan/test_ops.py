"""Reference ops against direct definitions, the adjoint used by the CUDA backward, fallbacks."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
import torch.nn.functional as F

from soundedit.errors import ConfigError
from soundedit.gan.ops import bias_act, extension, make_kernel, upfirdn2d
from soundedit.gan.ops.upfirdn2d import adjoint_args, upfirdn2d_ref


def upfirdn2d_direct(x, k, up, down, pad):
    """The definition, literally: stuff zeros, pad, convolve (flipped correlation), decimate."""
    px0, px1, py0, py1 = pad
    b, c, h, w = x.shape
    stuffed = torch.zeros(b, c, h * up, w * up, dtype=x.dtype)
    stuffed[:, :, ::up, ::up] = x
    padded = F.pad(stuffed, [px0, px1, py0, py1])
    weight = k.flip([0, 1])[None, None].repeat(c, 1, 1, 1).to(x.dtype)
    return F.conv2d(padded, weight, groups=c)[:, :, ::down, ::down]


CASES = [
    (1, 1, (1, 1, 1, 1)),
    (2, 1, (2, 1, 2, 1)),
    (2, 1, (1, 1, 1, 1)),
    (1, 2, (1, 1, 1, 1)),
    (2, 2, (2, 1, 2, 1)),
    (4, 1, (3, 2, 2, 3)),
    (1, 1, (-1, 2, 0, -1)),
]


@pytest.mark.parametrize(("up", "down", "pad"), CASES)
def test_upfirdn2d_matches_definition(up, down, pad):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 7, 6, generator=g, dtype=torch.float64)
    k = torch.randn(4, 4, generator=g, dtype=torch.float64)  # asymmetric: catches flips
    got = upfirdn2d(x, k, up=up, down=down, pad=pad, impl="ref")
    want = upfirdn2d_direct(x, k, up, down, pad)
    assert got.shape == want.shape
    assert torch.allclose(got, want, atol=1e-12)


@pytest.mark.parametrize(("up", "down", "pad"), CASES)
def test_adjoint_is_the_gradient(up, down, pad):
    """The CUDA backward runs upfirdn2d with adjoint_args; check that equals autograd's grad."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, 2, 6, 5, generator=g, dtype=torch.float64, requires_grad=True)
    k = torch.randn(4, 3, generator=g, dtype=torch.float64)
    y = upfirdn2d_ref(x, k, up, down, pad)
    dy = torch.randn(y.shape, generator=g, dtype=torch.float64)
    (want,) = torch.autograd.grad(y, x, dy)
    k2, up2, down2, pad2 = adjoint_args(tuple(x.shape[2:]), k, up, down, pad)
    got = upfirdn2d_ref(dy, k2, up2, down2, pad2)
    assert got.shape == want.shape and torch.allclose(got, want, atol=1e-12)


def test_make_kernel_is_normalised():
    k = make_kernel((1, 3, 3, 1), gain=4)
    assert k.shape == (4, 4) and math.isclose(k.sum().item(), 4.0, rel_tol=1e-6)
    assert torch.equal(k, k.t())


@pytest.mark.parametrize("act", ["linear", "relu", "lrelu", "tanh", "sigmoid"])
def test_bias_act_definition(act):
    x = torch.randn(2, 5, 3, 3)
    b = torch.randn(5)
    pre = x + b[None, :, None, None]
    want = {
        "linear": pre,
        "relu": F.relu(pre) * math.sqrt(2),
        "lrelu": F.leaky_relu(pre, 0.2) * math.sqrt(2),
        "tanh": torch.tanh(pre),
        "sigmoid": torch.sigmoid(pre),
    }[act]
    assert torch.allclose(bias_act(x, b, act=act), want, atol=1e-6)
    clamped = bias_act(x, b, act=act, clamp=0.5, gain=3.0)
    assert clamped.abs().max() <= 0.5


def test_bias_act_other_dim_and_errors():
    x = torch.randn(4, 6)
    b = torch.randn(4)
    assert torch.allclose(bias_act(x, b, dim=0), x + b[:, None])
    with pytest.raises(ValueError, match="bias must be"):
        bias_act(x, torch.zeros(6), dim=0)
    with pytest.raises(ConfigError, match="act must be"):
        bias_act(x, act="gelu")
    with pytest.raises(ConfigError, match="impl must be"):
        bias_act(x, impl="triton")


@pytest.fixture
def fresh_ext():
    extension.reset()
    yield
    extension.reset()


def test_cuda_on_cpu_tensor_falls_back_with_one_warning(fresh_ext, monkeypatch):
    monkeypatch.setattr(extension, "build_extension", lambda: pytest.fail("must not build for CPU"))
    x = torch.randn(1, 2, 5, 5)
    k = make_kernel((1, 3, 3, 1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a = upfirdn2d(x, k, pad=1, impl="cuda")
        upfirdn2d(x, k, pad=1, impl="cuda")
        bias_act(x, torch.zeros(2), act="lrelu", impl="cuda")
    assert len([w for w in caught if issubclass(w.category, RuntimeWarning)]) == 1
    assert torch.equal(a, upfirdn2d(x, k, pad=1, impl="ref"))


def test_failed_build_warns_once_and_falls_back(fresh_ext, monkeypatch):
    calls = []

    def broken_build():
        calls.append(1)
        raise RuntimeError("ninja: build stopped: subcommand failed")

    monkeypatch.setattr(extension, "build_extension", broken_build)
    fake_cuda = torch.randn(1, 2, 4, 4)
    monkeypatch.setattr(extension, "is_cuda", lambda x: True)  # pretend the tensor lives on a GPU
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = [bias_act(fake_cuda, torch.ones(2), act="lrelu") for _ in range(3)]
        up = upfirdn2d(fake_cuda, make_kernel((1, 3, 3, 1), gain=4), up=2, pad=(2, 1))
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1 and "ninja" in messages[0]
    assert calls == [1]  # tried once, cached the failure
    assert torch.equal(out[0], bias_act(fake_cuda, torch.ones(2), act="lrelu", impl="ref"))
    assert up.shape == (1, 2, 8, 8)


def test_import_compiles_nothing(fresh_ext):
    import importlib

    import soundedit.gan.ops as ops

    importlib.reload(ops)
    assert extension.status() == {"module": None, "failed": False}


@pytest.mark.gpu
@pytest.mark.parametrize(("up", "down", "pad"), CASES)
def test_cuda_upfirdn2d_matches_ref(up, down, pad):
    x = torch.randn(2, 3, 9, 8, device="cuda", requires_grad=True)
    k = torch.randn(4, 4, device="cuda")
    y = upfirdn2d(x, k, up=up, down=down, pad=pad, impl="cuda")
    want = upfirdn2d(x, k, up=up, down=down, pad=pad, impl="ref")
    assert torch.allclose(y, want, atol=1e-3)
    dy = torch.randn_like(y)
    (g1,) = torch.autograd.grad(y, x, dy)
    (g2,) = torch.autograd.grad(want, x, dy)
    assert torch.allclose(g1, g2, atol=1e-3)


@pytest.mark.gpu
@pytest.mark.parametrize("act", ["linear", "lrelu", "tanh"])
def test_cuda_bias_act_matches_ref(act):
    x = torch.randn(2, 5, 6, 6, device="cuda", requires_grad=True)
    b = torch.randn(5, device="cuda", requires_grad=True)
    y = bias_act(x, b, act=act, impl="cuda")
    want = bias_act(x, b, act=act, impl="ref")
    assert torch.allclose(y, want, atol=1e-3)
    g1 = torch.autograd.grad(y.square().sum(), (x, b))
    g2 = torch.autograd.grad(want.square().sum(), (x, b))
    assert all(torch.allclose(a, c, atol=1e-3) for a, c in zip(g1, g2, strict=True))
