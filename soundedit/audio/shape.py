"""Shaping sounds like a mixing desk: gain in dB, a two-sound crossfade, and fitting to a length.

- :func:`apply_gain` multiplies by 10^(dB/20) and then, by default, **hard-clips at +-1** (what
  a 16-bit converter would do); the result says how many samples were clipped in
  ``Sound.clipped``. ``clip="none"`` keeps float headroom instead (peaks may exceed 1).
- :func:`mix` is a linear amplitude crossfade ``(1 - r) * a + r * b``. It never clips sounds
  that are within +-1. ``b`` is resampled to ``a``'s rate and the shorter sound is **looped**
  to the longer one's length. The ends are exact: ratio 0 returns ``a`` and ratio 1 returns
  ``b`` untouched (its own rate and length).
- :func:`fit_length` trims to the first ``n`` samples, or loops / zero-pads up to ``n``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import numpy as np

from soundedit.audio.io import Sound, is_silent, resample
from soundedit.errors import AudioError, ConfigError

# Accepted gains in dB, the same for the library, the CLI, the API and the page: +40 dB clips a
# -40 dBFS whisper to full scale; -120 dB takes a full-scale sound below 24-bit resolution.
GAIN_DB_RANGE = (-120.0, 40.0)


def apply_gain(sound: Sound, db: float, *, clip: Literal["hard", "none"] = "hard") -> Sound:
    """``sound`` made ``db`` decibels louder (negative = quieter).

    Args:
        sound: the sound to change.
        db: gain in dB; +6 dB doubles the amplitude.
        clip: "hard" clips samples to [-1, 1] and counts them in ``Sound.clipped``; "none"
            keeps the scaled values (float headroom, ``clipped`` stays 0).

    Raises:
        ConfigError: ``db`` is not a finite number within :data:`GAIN_DB_RANGE`, or ``clip``
            is unknown.
    """
    low, high = GAIN_DB_RANGE
    if not (isinstance(db, (int, float, np.number)) and math.isfinite(db) and low <= db <= high):
        raise ConfigError(f"gain must be a number of dB in [{low:g}, {high:g}], got {db}")
    if clip not in ("hard", "none"):
        raise ConfigError(f"clip must be 'hard' or 'none', got {clip!r}")
    samples = sound.samples * np.float32(10.0 ** (db / 20.0))
    clipped = 0
    if clip == "hard":
        clipped = int(np.count_nonzero(np.abs(samples) > 1.0))
        if clipped:
            samples = np.clip(samples, -1.0, 1.0)
    samples = samples.astype(np.float32, copy=False)
    return dataclasses.replace(sound, samples=samples, silent=is_silent(samples), clipped=clipped)


def mix(a: Sound, b: Sound, ratio: float) -> Sound:
    """Crossfade two sounds: ``(1 - ratio) * a + ratio * b`` (linear in amplitude).

    ``b`` is resampled to ``a``'s rate, the shorter of the two is looped to the longer one's
    length, and the result is at ``a``'s rate. Ratio 0 returns ``a`` and ratio 1 returns ``b``
    exactly as given. Two uncorrelated sounds mixed at 0.5 have RMS sqrt(0.25 ra^2 + 0.25 rb^2).

    Raises:
        ConfigError: ``ratio`` is outside [0, 1].
    """
    if not 0.0 <= ratio <= 1.0:
        raise ConfigError(f"mix ratio must be in [0, 1] (0 = only the first sound), got {ratio}")
    if ratio == 0.0:
        return a
    if ratio == 1.0:
        return b
    other = resample(b.samples, b.rate, a.rate)
    n = max(len(a.samples), len(other))
    first = fit_length(a.samples, n, mode="loop")
    second = fit_length(other, n, mode="loop")
    samples = ((1.0 - ratio) * first + ratio * second).astype(np.float32)
    return Sound(
        samples=samples,
        rate=a.rate,
        source_seconds=max(a.source_seconds, b.source_seconds, n / a.rate),
        truncated=a.truncated or b.truncated,
        silent=is_silent(samples),
        clipped=a.clipped + b.clipped,
    )


def fit_length(samples: np.ndarray, n: int, *, mode: Literal["loop", "pad"] = "loop") -> np.ndarray:
    """``samples`` [m] -> [n]: the first ``n`` samples if longer, else looped or zero-padded.

    Args:
        samples: a 1-D array.
        n: the wanted length (>= 1).
        mode: "loop" repeats the sound from its start (no crossfade at the seam); "pad"
            appends zeros (silence).

    Raises:
        ConfigError: ``n`` < 1 or an unknown mode. AudioError: looping an empty array.
    """
    if mode not in ("loop", "pad"):
        raise ConfigError(f"fit_length mode must be 'loop' or 'pad', got {mode!r}")
    if int(n) != n or n < 1:
        raise ConfigError(f"length must be a positive integer, got {n}")
    n = int(n)
    m = len(samples)
    if m >= n:
        return samples[:n]
    if mode == "pad":
        out = np.zeros(n, dtype=samples.dtype)
        out[:m] = samples
        return out
    if m == 0:
        raise AudioError("cannot loop an empty sound; give at least one sample")
    return np.tile(samples, -(-n // m))[:n]
