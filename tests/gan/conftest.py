"""Tiny seeded StyleGAN2 generators for the gan tests."""

from __future__ import annotations

import pytest
import torch

from soundedit.gan.stylegan2 import Generator, GeneratorConfig

TINY = GeneratorConfig(resolution=32, style_dim=32, n_mlp=2, channels={4: 16, 8: 16, 16: 8, 32: 8})


def randomise(generator: Generator, seed: int = 0) -> Generator:
    """Give every parameter (noise strengths, biases included) a random non-trivial value."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in generator.named_parameters():
            scale = 0.5 if name.endswith(("bias", "noise.weight")) else 1.0
            p.copy_(torch.randn(p.shape, generator=g) * scale)
            if name.endswith("modulation.bias"):
                p.add_(1.0)
        generator.compute_mean_w(64, torch.Generator().manual_seed(seed))
    return generator


@pytest.fixture
def tiny_generator() -> Generator:
    torch.manual_seed(0)
    return randomise(Generator(TINY)).eval()


@pytest.fixture
def tiny_config() -> GeneratorConfig:
    return TINY


@pytest.fixture(name="randomise")
def randomise_fixture():
    """The :func:`randomise` helper (tests import nothing from conftest directly)."""
    return randomise
