"""The generator against a deliberately plain re-implementation of FORMATS.md's equations.

The reference below uses loops over kernel taps, explicit zero-stuffing and per-sample weights,
reading only the state dict, so it shares no code (and no conv trick) with the library.
"""

from __future__ import annotations

import copy
import math

import pytest
import torch

from soundedit.errors import ConfigError
from soundedit.gan.stylegan2 import Generator, GeneratorConfig, config_from_dict

TINY = GeneratorConfig(resolution=32, style_dim=32, n_mlp=2, channels={4: 16, 8: 16, 16: 8, 32: 8})


def plain_linear(x, weight, bias, lr_mul, act):
    out = x @ (weight * lr_mul / math.sqrt(weight.shape[1])).t() + bias * lr_mul
    return torch.where(out >= 0, out, 0.2 * out) * math.sqrt(2) if act else out


def plain_conv(x, weight, pad):
    """Cross-correlation of one sample x [C, H, W] with weight [O, C, k, k], zero padding."""
    k = weight.shape[-1]
    xp = torch.zeros(x.shape[0], x.shape[1] + 2 * pad, x.shape[2] + 2 * pad, dtype=x.dtype)
    xp[:, pad : pad + x.shape[1], pad : pad + x.shape[2]] = x
    h, w = xp.shape[1] - k + 1, xp.shape[2] - k + 1
    out = torch.zeros(weight.shape[0], h, w, dtype=x.dtype)
    for a in range(k):
        for b in range(k):
            out += torch.einsum("oc,chw->ohw", weight[:, :, a, b], xp[:, a : a + h, b : b + w])
    return out


def plain_fir(x, taps, gain, up, pad):
    """Zero-stuff by `up`, pad (p0, p1), convolve with outer(taps)/sum*gain (valid part)."""
    k1 = torch.tensor(taps, dtype=x.dtype)
    kernel = torch.outer(k1, k1) / k1.sum() ** 2 * gain
    c, h, w = x.shape
    stuffed = torch.zeros(c, h * up, w * up, dtype=x.dtype)
    stuffed[:, ::up, ::up] = x
    p0, p1 = pad
    xp = torch.zeros(c, h * up + p0 + p1, w * up + p0 + p1, dtype=x.dtype)
    xp[:, p0 : p0 + h * up, p0 : p0 + w * up] = stuffed
    n = len(taps)
    oh, ow = xp.shape[1] - n + 1, xp.shape[2] - n + 1
    out = torch.zeros(c, oh, ow, dtype=x.dtype)
    for a in range(n):
        for b in range(n):
            out += xp[:, a : a + oh, b : b + ow] * kernel[n - 1 - a, n - 1 - b]
    return out


def plain_modconv(sd, prefix, x, w, *, demod=True, up=False):
    s = plain_linear(
        w, sd[f"{prefix}.modulation.weight"], sd[f"{prefix}.modulation.bias"], 1, False
    )
    weight = sd[f"{prefix}.weight"][0]  # [O, C, k, k]
    c, k = weight.shape[1], weight.shape[-1]
    weight = weight / math.sqrt(c * k * k) * s[None, :, None, None]
    if demod:
        weight = weight / torch.sqrt((weight**2).sum(dim=(1, 2, 3), keepdim=True) + 1e-8)
    if not up:
        return plain_conv(x, weight, k // 2)
    # transposed conv, stride 2: every input pixel paints a k×k patch with step 2 ...
    h, wd = x.shape[1:]
    out = torch.zeros(weight.shape[0], 2 * h + 1, 2 * wd + 1, dtype=x.dtype)
    for a in range(k):
        for b in range(k):
            patch = torch.einsum("oc,chw->ohw", weight[:, :, a, b], x)
            out[:, a : a + 2 * h : 2, b : b + 2 * wd : 2] += patch
    # ... then the [1,3,3,1] blur, kernel × 4, padding 1
    return plain_fir(out, [1, 3, 3, 1], 4, 1, (1, 1))


def plain_styled(sd, prefix, x, w, noise, up=False):
    out = plain_modconv(sd, f"{prefix}.conv", x, w, up=up)
    out = out + sd[f"{prefix}.noise.weight"] * noise[0]
    out = out + sd[f"{prefix}.activate.bias"][:, None, None]
    return torch.where(out >= 0, out, 0.2 * out) * math.sqrt(2)


def plain_rgb(sd, prefix, x, w, skip):
    out = plain_modconv(sd, f"{prefix}.conv", x, w, demod=False) + sd[f"{prefix}.bias"][0]
    if skip is not None:
        out = out + plain_fir(skip, [1, 3, 3, 1], 4, 2, (2, 1))
    return out


def plain_generator(sd, z, n_mlp, lr_mul, truncation):
    """z [S] → image [3, R, R] in float64, from the state dict alone."""
    x = z / torch.sqrt((z**2).mean() + 1e-8)
    for i in range(1, n_mlp + 1):
        x = plain_linear(x, sd[f"style.{i}.weight"], sd[f"style.{i}.bias"], lr_mul, True)
    w = sd["mean_w"] + truncation * (x - sd["mean_w"])
    out = plain_styled(sd, "conv1", sd["input.input"][0], w, sd["noises.noise_0"])
    skip = plain_rgb(sd, "to_rgb1", out, w, None)
    k = 0
    while f"to_rgbs.{k}.bias" in sd:
        out = plain_styled(sd, f"convs.{2 * k}", out, w, sd[f"noises.noise_{2 * k + 1}"], up=True)
        out = plain_styled(sd, f"convs.{2 * k + 1}", out, w, sd[f"noises.noise_{2 * k + 2}"])
        skip = plain_rgb(sd, f"to_rgbs.{k}", out, w, skip)
        k += 1
    return skip


def float32_rounding(generator, z: torch.Tensor, truncation: float) -> float:
    """How far float32 puts the plain equations from their float64 value (largest pixel).

    The library evaluates the same equations in float32, in another order: its distance from
    the float64 value is rounding of the same size, on whatever machine runs the test. Measured
    here: the library 2.8-3.0e-6, the plain equations 2.2-2.9e-6 (pixels up to 4.5).
    """
    sd32 = dict(generator.state_dict())
    sd64 = {k: v.double() for k, v in sd32.items()}
    worst = 0.0
    for zi in z:
        exact = plain_generator(sd64, zi.double(), TINY.n_mlp, TINY.lr_mlp, truncation)
        rounded = plain_generator(sd32, zi.float(), TINY.n_mlp, TINY.lr_mlp, truncation)
        worst = max(worst, (rounded.double() - exact).abs().max().item())
    return worst


@pytest.mark.parametrize("batch", [1, 3])
def test_generator_matches_plain_equations(tiny_generator, batch):
    sd = {k: v.double() for k, v in tiny_generator.state_dict().items()}
    z = torch.randn(batch, TINY.style_dim, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        images = tiny_generator.synthesis(tiny_generator.w_plus(tiny_generator.mapping(z, 0.7)))
    assert images.shape == (batch, 3, 32, 32)
    tolerance = 4 * float32_rounding(tiny_generator, z, 0.7)  # float32's own error, with room
    for i in range(batch):
        want = plain_generator(sd, z[i].double(), TINY.n_mlp, TINY.lr_mlp, 0.7)
        assert torch.allclose(images[i].double(), want, atol=tolerance, rtol=0), (
            (images[i].double() - want).abs().max(), tolerance
        )


def test_shapes_names_and_fixed_noise():
    config = GeneratorConfig(
        resolution=64, style_dim=16, n_mlp=3, channels={4: 8, 8: 8, 16: 8, 32: 4, 64: 4}
    )
    torch.manual_seed(0)
    g = Generator(config)
    assert (g.n_latent, g.resolution, g.style_dim) == (10, 64, 16)
    names = set(g.state_dict())
    assert {
        "style.3.weight",
        "input.input",
        "conv1.conv.modulation.bias",
        "to_rgb1.bias",
        "convs.7.activate.bias",
        "to_rgbs.3.conv.weight",
        "noises.noise_8",
        "mean_w",
    } <= names
    assert g.state_dict()["noises.noise_8"].shape == (1, 1, 64, 64)
    assert not any("kernel" in n for n in names)
    torch.manual_seed(1)
    g2 = Generator(config)
    assert torch.equal(g.noises.noise_5, g2.noises.noise_5)  # noise comes from noise_seed
    w = g.w_plus(torch.randn(2, 16))
    assert w.is_contiguous() and w.shape == (2, 10, 16)
    assert torch.equal(g.synthesis(w), g.synthesis(w))


def test_channel_multiplier_table():
    assert GeneratorConfig(256).channel_table() == {
        4: 512,
        8: 512,
        16: 512,
        32: 512,
        64: 512,
        128: 256,
        256: 128,
    }
    assert GeneratorConfig(1024, channel_multiplier=1).channel_table()[1024] == 16
    assert GeneratorConfig(1024).n_latent == 18


def test_mean_w_and_truncation(tiny_generator):
    g = tiny_generator
    mean = g.compute_mean_w(500, torch.Generator().manual_seed(1)).clone()
    again = g.compute_mean_w(500, torch.Generator().manual_seed(1))
    assert torch.equal(mean, again)
    z = torch.randn(4, TINY.style_dim)
    with torch.no_grad():
        # lerp(mean, w, 0) = mean + 0 * (w - mean): exactly the mean
        assert torch.equal(g.mapping(z, truncation=0.0), mean.expand(4, -1))
        full = g.mapping(z)
        half = g.mapping(z, truncation=0.5)
    # lerp at 0.5 and (full + mean) / 2 each round twice or three times, relative to the largest
    # of |w|, |mean|
    scale = torch.maximum(full.abs(), mean.abs()).max().item()
    assert torch.allclose(half, (full + mean) / 2, atol=6 * 2.0**-24 * scale, rtol=0)


def test_batched_and_single_paths_agree_with_gradients(tiny_generator):
    z = torch.randn(2, TINY.style_dim, generator=torch.Generator().manual_seed(6))
    w = tiny_generator.w_plus(tiny_generator.mapping(z)).detach().requires_grad_(True)
    batched = tiny_generator.synthesis(w)
    single = torch.cat([tiny_generator.synthesis(w[i : i + 1]) for i in range(2)])
    # each path is float32 rounding away from the exact image: together at most twice that
    tolerance = 4 * float32_rounding(tiny_generator, z, 1.0)
    assert torch.allclose(batched, single, atol=tolerance, rtol=0), tolerance
    batched.square().sum().backward()
    assert w.grad is not None and torch.isfinite(w.grad).all() and w.grad.abs().sum() > 0


def images_and_latent_gradients(generator, z):
    z = z.clone().requires_grad_(True)
    images = generator.synthesis(generator.w_plus(generator.mapping(z, truncation=0.7)))
    weights = torch.linspace(-1, 1, images.numel()).reshape(images.shape)
    (grad,) = torch.autograd.grad((images * weights).sum(), [z])
    return images.detach(), grad


@pytest.mark.parametrize("batch", [1, 2])
def test_a_frozen_generator_computes_the_same_bits(tiny_generator, batch):
    """A frozen generator keeps its weight-only terms between calls (editing takes gradients
    for latents only); it must compute exactly what the trainable one does, also after its
    weights change in place."""
    frozen = copy.deepcopy(tiny_generator).requires_grad_(False)
    z = torch.randn(batch, TINY.style_dim, generator=torch.Generator().manual_seed(batch))
    for _ in range(2):  # the second call uses the kept terms
        for a, b in zip(images_and_latent_gradients(tiny_generator, z),
                        images_and_latent_gradients(frozen, z), strict=True):  # fmt: skip
            assert torch.equal(a, b)
    with torch.no_grad():
        for generator in (tiny_generator, frozen):
            for conv in (generator.conv1.conv, generator.convs[0].conv, generator.to_rgbs[0].conv):
                conv.weight.mul_(1.5)
    for a, b in zip(images_and_latent_gradients(tiny_generator, z),
                    images_and_latent_gradients(frozen, z), strict=True):  # fmt: skip
        assert torch.equal(a, b)


def test_bf16_autocast_runs_close(tiny_generator):
    w = tiny_generator.w_plus(tiny_generator.mapping(torch.randn(1, TINY.style_dim)))
    with torch.no_grad():
        ref = tiny_generator.synthesis(w)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = tiny_generator.synthesis(w)
    assert low.shape == ref.shape
    assert (low.float() - ref).abs().mean() < 0.05 * ref.abs().mean() + 1e-3


@pytest.mark.parametrize(
    "kwargs",
    [
        {"resolution": 48},
        {"resolution": 4},
        {"resolution": 2048},
        {"resolution": 32, "channels": {4: 8, 8: 8}},
        {"resolution": 32, "style_dim": 0},
    ],
)
def test_bad_configs_are_refused(kwargs):
    with pytest.raises(ConfigError):
        GeneratorConfig(**kwargs)


def test_config_from_json_data_with_string_keys():
    config = config_from_dict(
        {"resolution": 16, "style_dim": 8, "n_mlp": 1, "channels": {"4": 8, "8": 4, "16": 4}}
    )
    assert config.channels == {4: 8, 8: 4, 16: 4}
    with pytest.raises(ConfigError):
        config_from_dict({"resolution": 16, "bogus": 1})


def test_wrong_latent_shapes(tiny_generator):
    with pytest.raises(ValueError, match="w_plus must be"):
        tiny_generator.synthesis(torch.zeros(1, 5, TINY.style_dim))
    with pytest.raises(ValueError, match="z must be"):
        tiny_generator.mapping(torch.zeros(1, 3))


def test_randomise_helper_is_deterministic(randomise, tiny_config):
    assert tiny_config == TINY
    a = randomise(Generator(TINY), seed=3).state_dict()
    b = randomise(Generator(TINY), seed=3).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
