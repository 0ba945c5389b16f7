"""Tiny seeded models for the edit tests.

The project's real classes at toy sizes: a 16 px StyleGAN2 (6 W+ layers, style 16, a small
channel table), a tiny open_clip model from a config dict (embedding 16), the small-CNN audio
encoder on the "soundscapes" front end, and a stand-in identity model (IR-SE50 is far too big).
Everything runs on the CPU in a few milliseconds per step.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from soundedit.bundle import Bundle, EditDefaults

STYLE_DIM = 16
EMBED_DIM = 16


TINY_CLIP = {
    "embed_dim": EMBED_DIM,
    "vision_cfg": {"image_size": 16, "layers": 1, "width": 32, "patch_size": 4, "head_width": 16},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


def make_generator(seed: int = 0):
    """A seeded 16 px StyleGAN2 with its mean w computed."""
    from soundedit.gan.stylegan2 import Generator, GeneratorConfig

    torch.manual_seed(seed)
    config = GeneratorConfig(
        resolution=16, style_dim=STYLE_DIM, n_mlp=2, channels={4: 16, 8: 16, 16: 8}
    )
    generator = Generator(config).eval()
    generator.compute_mean_w(512, torch.Generator().manual_seed(seed))
    return generator


def make_clip(seed: int = 0):
    from soundedit.encoders.clip import ClipBridge

    torch.manual_seed(seed)
    return ClipBridge.from_config(TINY_CLIP).eval()


class ToyIdentity(nn.Module):
    """An identity-model stand-in: embed(images) -> unit [B, 8]."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(3 * 4 * 4, 8)

    def embed(self, images):
        return F.normalize(self.proj(F.adaptive_avg_pool2d(images, 4).flatten(1)), dim=-1)


def make_tiny_bundle(*, identity: bool = False, probe=None, name: str = "tiny") -> Bundle:
    """A seeded tiny bundle (CPU, eval mode)."""
    torch.manual_seed(0)
    return Bundle(
        name=name,
        generator=make_generator(),
        clip=make_clip(),
        audio_encoder=None,
        identity=ToyIdentity().eval() if identity else None,
        defaults=EditDefaults(steps=20, lr=0.1, preview_every=5, truncation=0.7),
        probe=probe,
    )


@pytest.fixture
def tiny_bundle() -> Bundle:
    return make_tiny_bundle()


@pytest.fixture
def toy_target() -> torch.Tensor:
    """A seeded random unit direction in the toy CLIP space [1, D]."""
    return F.normalize(
        torch.randn(1, EMBED_DIM, generator=torch.Generator().manual_seed(7)), dim=-1
    )


@pytest.fixture
def make_bundle():
    """The factory behind ``tiny_bundle``, for variants (identity model, probe, name)."""
    return make_tiny_bundle


def make_audio_encoder(seed: int = 0):
    from soundedit.encoders.audio import AudioEncoder, AudioEncoderConfig

    torch.manual_seed(seed)
    config = AudioEncoderConfig(
        backbone="small_cnn",
        stem="timm1",
        embed_dim=EMBED_DIM,
        front_end="soundscapes",
        widths=(8, 16),
    )
    return AudioEncoder(config).eval()


@pytest.fixture
def sound_bundle(make_bundle) -> Bundle:
    """The tiny bundle with a small-CNN audio encoder."""
    bundle = make_bundle()
    bundle.audio_encoder = make_audio_encoder()
    return bundle


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
