"""Fresh tiny bundles for the edit tests (built by the suite's one tiny-bundle factory,
tests/conftest.py), a toy target and test sounds."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from soundedit.bundle import Bundle
from soundedit.settings import EditConfig

EDIT_DEFAULTS = EditConfig(steps=20, lr=0.1, preview_every=5, truncation=0.7)


@pytest.fixture
def tiny_bundle(make_bundle) -> Bundle:
    """A fresh tiny bundle (tests change it) without an audio encoder, 20 steps by default."""
    return make_bundle(audio=False, defaults=EDIT_DEFAULTS)


@pytest.fixture
def toy_target() -> torch.Tensor:
    """A seeded random unit direction in the toy CLIP space [1, 16]."""
    return F.normalize(torch.randn(1, 16, generator=torch.Generator().manual_seed(7)), dim=-1)


@pytest.fixture
def sound_bundle(make_bundle) -> Bundle:
    """A fresh tiny bundle with its small-CNN audio encoder, 20 steps by default."""
    return make_bundle(defaults=EDIT_DEFAULTS)


def write_tone(
    path,
    *,
    seconds: float = 1.0,
    freq: float = 440.0,
    rate: int = 16000,
    amplitude: float = 0.3,
    noise: float = 0.0,
):
    """A seeded test sound (tone plus optional noise) written as 16-bit WAV."""
    import numpy as np
    import soundfile

    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(0)
    x = amplitude * np.sin(2 * np.pi * freq * t) + noise * rng.standard_normal(len(t))
    soundfile.write(str(path), x.astype(np.float32), rate, subtype="PCM_16")
    return path


@pytest.fixture
def tone(tmp_path):
    return write_tone(tmp_path / "tone.wav")


@pytest.fixture
def rain(tmp_path):
    return write_tone(tmp_path / "rain.wav", amplitude=0.05, noise=0.3, freq=3000.0)
