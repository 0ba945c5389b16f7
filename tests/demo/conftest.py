"""Sounds and the served app for the app tests.

The tiny world is the suite's one (tests/conftest.py: ``tiny_bundle``, registered as ``tiny``).
The served-app tests prefer the real SoundScapes world when its weights are committed.
"""

from __future__ import annotations

import socket

import numpy as np
import pytest

from soundedit.bundle import list_bundles

SOUND_RATE = 16_000


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
