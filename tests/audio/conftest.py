"""A sound corpus the audio tests write themselves (numpy + soundfile; nothing downloaded)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

LONG_SECONDS = 600  # the 10-minute "podcast": 8 kHz 16-bit mono, ~9.6 MB, quick to write
LONG_RATE = 8000


def tone(seconds: float, rate: int, *, freq: float = 440.0, amp: float = 0.5) -> np.ndarray:
    """A sine [n] float32."""
    t = np.arange(int(round(seconds * rate))) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def noise(seconds: float, rate: int, *, rms: float = 0.1, seed: int = 0) -> np.ndarray:
    """White Gaussian noise [n] float32 with the given RMS."""
    rng = np.random.default_rng(seed)
    return (rms * rng.standard_normal(int(round(seconds * rate)))).astype(np.float32)


def multichannel(seconds: float, rate: int, channels: int) -> np.ndarray:
    """[n, channels]: channel c is a tone at 220 * (c + 1) Hz, so the mono mix is known."""
    return np.stack(
        [tone(seconds, rate, freq=220.0 * (c + 1), amp=0.3) for c in range(channels)], axis=1
    )


def write_sound(path: Path, data: np.ndarray, rate: int, **kwargs) -> Path:
    """Write ``data`` with soundfile (format from the suffix unless given) and return the path."""
    soundfile.write(str(path), data, rate, **kwargs)
    return path


@pytest.fixture(scope="session")
def long_file(tmp_path_factory) -> Path:
    """A 10-minute 8 kHz 16-bit mono WAV with a marker: a loud first second, then quiet noise."""
    samples = noise(LONG_SECONDS, LONG_RATE, rms=0.01, seed=3)
    samples[:LONG_RATE] = tone(1.0, LONG_RATE, amp=0.9)
    path = tmp_path_factory.mktemp("long") / "podcast.wav"
    return write_sound(path, samples, LONG_RATE, subtype="PCM_16")


@pytest.fixture
def wav_file(tmp_path) -> Path:
    """1 s of a 440 Hz tone, 16-bit mono, 22.05 kHz."""
    return write_sound(tmp_path / "tone.wav", tone(1.0, 22050), 22050, subtype="PCM_16")


@pytest.fixture(scope="session")
def sounds():
    """The corpus helpers for test bodies: tone, noise, multichannel, write."""
    from types import SimpleNamespace

    return SimpleNamespace(
        tone=tone,
        noise=noise,
        multichannel=multichannel,
        write=write_sound,
    )
