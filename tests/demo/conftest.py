"""Tiny seeded worlds and sounds for the app tests.

The tiny bundle is built from the library's own classes (a 16 px StyleGAN2, a tiny open_clip
model through ClipBridge.from_config, a small-CNN AudioEncoder) when they are installed; each
falls back to a small stand-in with the same interface otherwise, so the app's wiring is tested
either way. Sound-guided tests need the real audio stack and skip without it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import socket

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from soundedit.bundle import Bundle, EditDefaults, clear_cache, list_bundles, register_bundle

TINY = "tiny"
STYLE_DIM = 16
EMBED_DIM = 16
SOUND_RATE = 16_000


def has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


HAS_AUDIO = has_module("soundedit.audio.io") and has_module("soundedit.encoders.audio")


@pytest.fixture
def audio_stack():
    """Skip a sound-guided test while the audio stack is not installed."""
    if not HAS_AUDIO:
        pytest.skip("the audio stack (soundedit.audio, soundedit.encoders.audio) is not installed")


# ---- stand-ins, used only while a library class is missing ---------------------------------


class ToyGenerator(nn.Module):
    """StyleGAN-shaped: mapping(z, truncation), w_plus(w), synthesis(w_plus) at 16 px."""

    def __init__(self, style_dim: int = STYLE_DIM, n_latent: int = 6):
        super().__init__()
        self.style_dim, self.n_latent, self.resolution = style_dim, n_latent, 16
        self.net = nn.Sequential(nn.Linear(style_dim, style_dim), nn.LeakyReLU(0.2))
        self.const = nn.Parameter(torch.randn(1, 8, 4, 4))
        self.affine = nn.ModuleList(nn.Linear(style_dim, 8) for _ in range(n_latent))
        self.convs = nn.ModuleList(nn.Conv2d(8, 8, 3, padding=1) for _ in range(n_latent))
        self.to_rgb = nn.Conv2d(8, 3, 1)
        self.register_buffer("mean_w", self.net(torch.randn(64, style_dim)).mean(0).detach())

    def mapping(self, z, truncation: float = 1.0):
        return self.mean_w + truncation * (self.net(z) - self.mean_w)

    def w_plus(self, w):
        return w.unsqueeze(1).repeat(1, self.n_latent, 1)

    def synthesis(self, w_plus):
        x = self.const.repeat(w_plus.shape[0], 1, 1, 1)
        for i, (affine, conv) in enumerate(zip(self.affine, self.convs, strict=True)):
            if i in (2, 4):
                x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            x = F.leaky_relu(conv(x * (affine(w_plus[:, i])[..., None, None] + 1.0)), 0.2)
        return torch.tanh(self.to_rgb(x))


class ToyClip(nn.Module):
    """CLIP-shaped: embed_image (differentiable) and embed_text, unit norm."""

    def __init__(self, embed_dim: int = EMBED_DIM):
        super().__init__()
        self.embed_dim, self.image_size = embed_dim, 16
        self.conv = nn.Conv2d(3, 16, 3, stride=2, padding=1)
        self.head = nn.Linear(64, embed_dim)

    def embed_image(self, images):
        x = F.adaptive_avg_pool2d(F.gelu(self.conv(images)), 2).flatten(1)
        return F.normalize(self.head(x), dim=-1)

    def embed_text(self, texts):
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
            rows.append(torch.randn(self.embed_dim, generator=torch.Generator().manual_seed(seed)))
        return F.normalize(torch.stack(rows), dim=-1)


# ---- the tiny world from the library's classes ---------------------------------------------


def tiny_generator():
    if not has_module("soundedit.gan.stylegan2"):
        return ToyGenerator()
    from soundedit.gan.stylegan2 import Generator, GeneratorConfig

    config = GeneratorConfig(
        resolution=16, style_dim=STYLE_DIM, n_mlp=2, channels={4: 16, 8: 16, 16: 8}
    )
    generator = Generator(config)
    generator.compute_mean_w(256, torch.Generator().manual_seed(0))
    return generator


def tiny_clip():
    if not has_module("soundedit.encoders.clip"):
        return ToyClip()
    from soundedit.encoders.clip import ClipBridge

    return ClipBridge.from_config(
        {
            "embed_dim": EMBED_DIM,
            "vision_cfg": {"image_size": 16, "layers": 1, "width": 32, "patch_size": 8},
            "text_cfg": {
                "context_length": 16,
                "vocab_size": 49408,
                "width": 32,
                "heads": 2,
                "layers": 1,
            },
        }
    )


def tiny_audio_encoder():
    if not HAS_AUDIO:
        return None
    from soundedit.encoders.audio import AudioEncoder, AudioEncoderConfig

    config = AudioEncoderConfig(
        backbone="small_cnn", embed_dim=EMBED_DIM, front_end="soundscapes", widths=(8, 16)
    )
    return AudioEncoder(config)


def make_tiny_bundle(name: str = TINY) -> Bundle:
    """A seeded tiny bundle (CPU, eval mode) with small defaults so edits take a second."""
    torch.manual_seed(0)
    audio_encoder = tiny_audio_encoder()
    return Bundle(
        name=name,
        generator=tiny_generator().eval(),
        clip=tiny_clip().eval(),
        audio_encoder=None if audio_encoder is None else audio_encoder.eval(),
        defaults=EditDefaults(steps=12, lr=0.1, preview_every=3, truncation=0.7),
    )


@pytest.fixture(scope="session")
def tiny_bundle() -> Bundle:
    """The tiny world, registered with the library under the name "tiny"."""
    bundle = make_tiny_bundle()
    register_bundle(TINY, lambda device: bundle, title="Tiny test world", domain="test")
    yield bundle
    clear_cache(TINY)


@pytest.fixture(scope="session")
def tiny(tiny_bundle) -> str:
    """The registered name of the tiny world."""
    return TINY


def soundscapes_ready() -> bool:
    """Whether the committed SoundScapes weights are here (the tests then prefer them)."""
    return any(info.name == "soundscapes" and info.status == "ready" for info in list_bundles())


@pytest.fixture(scope="session")
def served_world(tiny) -> dict:
    """The world the served-app tests edit in: SoundScapes when its weights are committed
    (and the audio stack is installed), else the tiny world; with a mode it can run."""
    if soundscapes_ready() and HAS_AUDIO:
        return {"name": "soundscapes", "mode": "sound", "steps": 20}
    return {"name": tiny, "mode": "sound" if HAS_AUDIO else "text", "steps": 12}


# ---- sounds ----------------------------------------------------------------------------------


def write_sound(path, *, seconds: float = 1.0, level: float = 0.3, seed: int = 0, rate=SOUND_RATE):
    """A seeded noise burst with a chirp, as a 16-bit WAV file."""
    import soundfile as sf

    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    samples = 0.5 * rng.standard_normal(t.size) + np.sin(2 * np.pi * (400 + 800 * t) * t)
    samples = level * samples / np.max(np.abs(samples))
    sf.write(str(path), samples.astype(np.float32), rate, subtype="PCM_16")
    return path


@pytest.fixture
def sound_file(tmp_path):
    return str(write_sound(tmp_path / "rain.wav"))


@pytest.fixture
def sound_files(tmp_path):
    return [str(write_sound(tmp_path / f"s{i}.wav", seed=i)) for i in range(2)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def served_app(served_world):
    """The app launched on 127.0.0.1 at a free port: yields its URL."""
    from demo import WorldCatalog, build_demo, launch_options, queue_options

    demo = build_demo(WorldCatalog(default=served_world["name"]))
    demo.queue(**queue_options())
    port = free_port()
    demo.launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
        **launch_options(),
    )
    yield f"http://127.0.0.1:{port}/"
    demo.close()
