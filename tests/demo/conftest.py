"""Tiny seeded worlds and sounds for the app tests.

The tiny bundle is built from the library's own classes: a 16 px StyleGAN2, a tiny open_clip
model through ClipBridge.from_config and a small-CNN AudioEncoder on the SoundScapes front end.
The served-app tests prefer the real SoundScapes world when its weights are committed.
"""

from __future__ import annotations

import socket

import numpy as np
import pytest
import torch

from soundedit.bundle import Bundle, EditDefaults, clear_cache, list_bundles, register_bundle

TINY = "tiny"
STYLE_DIM = 16
EMBED_DIM = 16
SOUND_RATE = 16_000


# ---- the tiny world from the library's classes ---------------------------------------------


def tiny_generator():
    from soundedit.gan.stylegan2 import Generator, GeneratorConfig

    config = GeneratorConfig(
        resolution=16, style_dim=STYLE_DIM, n_mlp=2, channels={4: 16, 8: 16, 16: 8}
    )
    generator = Generator(config)
    generator.compute_mean_w(256, torch.Generator().manual_seed(0))
    return generator


def tiny_clip():
    from soundedit.encoders.clip import ClipBridge

    return ClipBridge.from_config(
        {
            "embed_dim": EMBED_DIM,
            "vision_cfg": {
                "image_size": 16,
                "layers": 1,
                "width": 32,
                "patch_size": 8,
                "head_width": 16,
            },
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
        audio_encoder=audio_encoder.eval(),
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
    if soundscapes_ready():
        return {"name": "soundscapes", "mode": "sound", "steps": 20}
    return {"name": tiny, "mode": "sound", "steps": 12}


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
def long_sound_file(tmp_path):
    """Longer than the library's 30 s limit."""
    return str(write_sound(tmp_path / "long.wav", seconds=35.0))


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
