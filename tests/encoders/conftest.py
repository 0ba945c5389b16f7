"""Tiny seeded encoders for the encoder tests (CPU, seconds)."""

from __future__ import annotations

import pytest
import torch

# A tiny open_clip architecture: 16 px ViT, 1-layer towers, full BPE vocabulary (offline tokenizer).
TINY_CLIP = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 16, "layers": 1, "width": 32, "patch_size": 8, "head_width": 16},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


@pytest.fixture(scope="module")
def tiny_clip():
    """A seeded random tiny ClipBridge."""
    from soundedit.encoders.clip import ClipBridge

    torch.manual_seed(0)
    return ClipBridge.from_config(TINY_CLIP)


@pytest.fixture
def images() -> torch.Tensor:
    """Two seeded 24 px images in [-1, 1]."""
    return torch.rand(2, 3, 24, 24, generator=torch.Generator().manual_seed(3)) * 2 - 1
