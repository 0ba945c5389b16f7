"""Style mixing, interpolation and the slider renderer."""

from __future__ import annotations

import pytest
import torch

from soundedit.edit.mixing import interpolate, style_mix
from soundedit.edit.optimize import source_from_seed
from soundedit.edit.pipeline import render_latent
from soundedit.errors import ConfigError


def test_style_mix_takes_coarse_layers_from_the_sound():
    w_sound, w_text = torch.zeros(1, 6, 4), torch.ones(1, 6, 4)
    mixed = style_mix(w_sound, w_text, 2)
    assert torch.equal(mixed[:, :2], w_sound[:, :2]) and torch.equal(mixed[:, 2:], w_text[:, 2:])
    assert torch.equal(style_mix(w_sound, w_text, 0), w_text)
    assert torch.equal(style_mix(w_sound, w_text, 6), w_sound)


@pytest.mark.parametrize("k", [-1, 7, 2.5, True])
def test_style_mix_refuses_a_layer_out_of_range(k):
    with pytest.raises(ConfigError, match=r"mix layer must be a whole number in \[0, 6\]"):
        style_mix(torch.zeros(1, 6, 4), torch.ones(1, 6, 4), k)


def test_style_mix_refuses_mismatched_latents():
    with pytest.raises(ConfigError, match="one shape"):
        style_mix(torch.zeros(1, 6, 4), torch.ones(1, 5, 4), 2)


def test_interpolate_is_a_lerp():
    a, b = torch.zeros(1, 6, 4), torch.full((1, 6, 4), 2.0)
    assert torch.equal(interpolate(a, b, 0.0), a) and torch.equal(interpolate(a, b, 1.0), b)
    assert torch.allclose(interpolate(a, b, 0.25), torch.full((1, 6, 4), 0.5))
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        interpolate(a, b, 1.5)
    with pytest.raises(ConfigError, match="one shape"):
        interpolate(a, b[:, :2], 0.5)


def test_render_latent_gives_a_uint8_image(tiny_bundle):
    w = source_from_seed(tiny_bundle.generator, 0, 0.7)
    image = render_latent(tiny_bundle, w)
    assert image.shape == (16, 16, 3) and image.dtype.name == "uint8"
    assert (render_latent(tiny_bundle, w) == image).all()
    with pytest.raises(ConfigError, match=r"W\+ latent \[1, 6, 16\]"):
        render_latent(tiny_bundle, w[:, :2])
