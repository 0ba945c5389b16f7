"""Tiny seeded models for the edit tests.

The generator and CLIP fixtures use the project's real classes (a 16 px StyleGAN2 with a small
channel table, a tiny open_clip model from a JSON config) when those modules are installed, and
otherwise small stand-ins with the same interface, so that the optimisation logic is tested either
way. Everything runs on the CPU in well under a second per step.
"""

from __future__ import annotations

import hashlib

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from soundedit.bundle import Bundle, EditDefaults

STYLE_DIM = 16
EMBED_DIM = 16


class ToyGenerator(nn.Module):
    """A StyleGAN-shaped stand-in: mapping(z, truncation), synthesis(w_plus) at 16 px."""

    def __init__(self, *, style_dim: int = STYLE_DIM, n_latent: int = 6, resolution: int = 16):
        super().__init__()
        self.style_dim, self.n_latent, self.resolution = style_dim, n_latent, resolution
        self.net = nn.Sequential(
            nn.Linear(style_dim, style_dim), nn.LeakyReLU(0.2), nn.Linear(style_dim, style_dim)
        )
        self.const = nn.Parameter(torch.randn(1, 8, 4, 4))
        self.affine = nn.ModuleList(nn.Linear(style_dim, 8) for _ in range(n_latent))
        self.convs = nn.ModuleList(nn.Conv2d(8, 8, 3, padding=1) for _ in range(n_latent))
        self.to_rgb = nn.Conv2d(8, 3, 1)
        self.register_buffer("mean_w", torch.zeros(style_dim))
        with torch.no_grad():
            self.mean_w.copy_(self.net(torch.randn(256, style_dim)).mean(0))

    def mapping(self, z, truncation: float = 1.0):
        w = self.net(F.normalize(z, dim=1) * z.shape[1] ** 0.5)
        return self.mean_w + truncation * (w - self.mean_w)

    def w_plus(self, w):
        return w.unsqueeze(1).repeat(1, self.n_latent, 1)

    def synthesis(self, w_plus):
        x = self.const.repeat(w_plus.shape[0], 1, 1, 1)
        for i, (affine, conv) in enumerate(zip(self.affine, self.convs, strict=True)):
            if i in (2, 4):
                x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            style = affine(w_plus[:, i]).unsqueeze(-1).unsqueeze(-1) + 1.0
            x = F.leaky_relu(conv(x * style), 0.2)
        return torch.tanh(self.to_rgb(x))


class ToyClip(nn.Module):
    """A CLIP-shaped stand-in: embed_image (differentiable) and embed_text, unit-norm."""

    def __init__(self, embed_dim: int = EMBED_DIM):
        super().__init__()
        self.embed_dim, self.image_size = embed_dim, 16
        self.conv = nn.Conv2d(3, 16, 3, stride=2, padding=1)
        self.head = nn.Linear(16 * 4, embed_dim)

    def embed_image(self, images):
        x = F.interpolate(images, size=(self.image_size,) * 2, mode="bilinear", antialias=True)
        x = F.adaptive_avg_pool2d(F.gelu(self.conv(x)), 2).flatten(1)
        return F.normalize(self.head(x), dim=-1)

    def embed_text(self, texts):
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
            rows.append(torch.randn(self.embed_dim, generator=torch.Generator().manual_seed(seed)))
        return F.normalize(torch.stack(rows), dim=-1)


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
        generator=ToyGenerator().eval(),
        clip=ToyClip().eval(),
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


# ---- sound: the real audio modules when installed, otherwise stand-ins with their interface ----


class ToyAudioEncoder(nn.Module):
    """Band levels of a sound -> unit embedding [1, D] (level-aware, like the real front end)."""

    def __init__(self, embed_dim: int = EMBED_DIM):
        super().__init__()
        self.head = nn.Linear(9, embed_dim)

    def embed_samples(self, samples: torch.Tensor) -> torch.Tensor:
        spectrum = torch.fft.rfft(samples[:4096].float(), n=4096).abs()
        bands = torch.stack([b.pow(2).mean() for b in spectrum.chunk(8)])
        level = samples.float().pow(2).mean().clamp_min(1e-10).log10()
        x = torch.cat([(bands + 1e-10).log10(), level.reshape(1)]).unsqueeze(0)
        return F.normalize(self.head(x), dim=-1)


def _install_fake_audio(monkeypatch) -> None:
    import sys
    import types
    from dataclasses import dataclass, replace

    import numpy as np
    import soundfile

    @dataclass(frozen=True)
    class Sound:
        samples: np.ndarray
        rate: int
        source_seconds: float
        truncated: bool
        silent: bool

        @property
        def seconds(self):
            return len(self.samples) / self.rate

    def load_sound(source, *, rate=None, limits=None):
        if isinstance(source, Sound):
            return source
        if isinstance(source, tuple):
            r, data = source
            data = np.asarray(data, dtype=np.float32)
        else:
            data, r = soundfile.read(str(source), dtype="float32", always_2d=True)
            data = data.mean(axis=1)
        full = len(data) / r
        data = data[: int(30 * r)]
        return Sound(data, r, full, full > 30, bool(np.abs(data).max() < 1e-6))

    def apply_gain(sound, db):
        return replace(sound, samples=np.clip(sound.samples * 10 ** (db / 20), -1, 1))

    def mix(a, b, ratio):
        n = len(a.samples)
        other = np.resize(b.samples, n)
        return replace(a, samples=(1 - ratio) * a.samples + ratio * other)

    def embed_sound(encoder, sound):
        return encoder.embed_samples(torch.from_numpy(np.asarray(sound.samples)))

    modules = {
        "soundedit.audio.io": types.SimpleNamespace(load_sound=load_sound, Sound=Sound),
        "soundedit.audio.shape": types.SimpleNamespace(apply_gain=apply_gain, mix=mix),
        "soundedit.encoders.audio": types.SimpleNamespace(embed_sound=embed_sound),
    }
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)


def _real_audio_encoder():
    try:
        from soundedit.audio.io import load_sound  # noqa: F401
        from soundedit.audio.shape import apply_gain, mix  # noqa: F401
        from soundedit.encoders.audio import AudioEncoder, AudioEncoderConfig, embed_sound  # noqa: F401
    except ImportError:
        return None
    torch.manual_seed(0)
    config = AudioEncoderConfig(
        backbone="small_cnn",
        stem="timm1",
        embed_dim=EMBED_DIM,
        front_end="soundscapes",
        widths=(8, 16),
    )
    return AudioEncoder(config).eval()


@pytest.fixture
def sound_bundle(monkeypatch, make_bundle) -> Bundle:
    """The tiny bundle with an audio encoder (real small_cnn when available)."""
    bundle = make_bundle()
    encoder = _real_audio_encoder()
    if encoder is None:
        _install_fake_audio(monkeypatch)
        torch.manual_seed(0)
        encoder = ToyAudioEncoder().eval()
    bundle.audio_encoder = encoder
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
