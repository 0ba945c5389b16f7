"""Is this a sound at all? A cheap check of a signal before any encoder hears it.

A learned audio encoder maps *any* signal somewhere in its embedding space, and a world that
knows only its own sounds still finds a nearest one: a constant DC offset was "heard as
lightning". Some signals are test signals, not sounds of any place, and plain signal statistics
say so without a model:

- **silence**: nothing above the silence level (see :data:`soundedit.audio.io.SILENCE_DBFS`);
- **dc**: a constant offset or a drift below 20 Hz, with next to no energy in the audible band;
- **tone** / **hum** / **tones**: a steady level whose spectrum is a few narrow lines (one line,
  a fundamental with its harmonics such as 50/60 Hz mains hum, or unrelated lines);
- **clicks**: a regular train of short clicks (a metronome), near silence between them;
- **noise**: generator noise held flat: a spectrum that is a straight line on log-log axes
  (white, pink, brown) whose level does not move over time.

Real recordings of rain, wind and the sea are noise-like too; they pass because they are neither
a clean power law nor steady (gusts, drops, waves), and every check below was verified on the
real in-world clips of ESC-50 and the world's own sounds (tests/soundscapes/test_nonsounds.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal as sps

from soundedit.audio.io import is_silent

DC_SHARE = 1e-3  # audible (>= 20 Hz) share of the energy below which a signal is DC or drift
LINES_SHARE = 0.95  # share of the energy in at most MAX_LINES narrow lines for a tonal signal
MAX_LINES = 24  # most spectral lines a tone, hum or chord may have
LINE_HALF_WIDTH_HZ = 12.0  # half width of one spectral line (a steady tone's main lobe)
LINE_PROMINENCE = 30.0  # a line's power per bin over the median of the spectrum beside it
STEADY_CV = 0.25  # a level whose 100 ms RMS varies less than this (std / mean) is steady
CLICK_SHARE = 0.7  # share of the energy within 10 ms of the clicks for a click train
CLICK_REGULARITY = 0.1  # largest std / mean of the intervals of a regular click train
NOISE_FIT_DB = 1.0  # largest deviation of a flat noise's 1/3-octave bands from a line (dB)
NOISE_STEADY_CV = 0.15  # largest std / mean of a flat noise's 500 ms band energies
NOISE_LEVEL_DBFS = -50.0  # quieter noise is left to the recogniser (the world's room tone)


@dataclass(frozen=True)
class NonSound:
    """A signal that is not a sound of any place, and why."""

    kind: str  # "silence", "dc", "tone", "hum", "tones", "clicks" or "noise"
    description: str  # plain words: "a steady 440 Hz tone" (the edit's notice is built on it)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "description": self.description}


def check_signal(samples: np.ndarray, rate: int) -> NonSound | None:
    """What ``samples`` (float, mono, in [-1, 1]) is when it is not a sound, else None.

    Args:
        samples: the signal [n] (the first 30 s are enough; longer is fine).
        rate: its sample rate in Hz (at least 1 kHz).

    Returns:
        A :class:`NonSound` for silence, DC, a steady tone, hum or chord, a regular click
        train or steady flat noise; None for anything else (left to the encoder).
    """
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    if x.size < rate // 20 or is_silent(x.astype(np.float32)):
        return NonSound("silence", "silence (nothing above -80 dBFS)")
    audible = sps.sosfiltfilt(sps.butter(4, 20.0, "highpass", fs=rate, output="sos"), x)
    if np.mean(audible**2) < DC_SHARE * np.mean(x**2) or is_silent(audible.astype(np.float32)):
        if np.std(x) < 1e-3 * abs(np.mean(x)) + 1e-12:
            return NonSound("dc", "a constant DC offset with no sound in it")
        return NonSound("dc", "a slow drift below 20 Hz, too low to be heard")
    # filtfilt pads the ends, which smears a click at the very start: clicks use x - mean
    return _clicks(x - np.mean(x), rate) or _lines(audible, rate) or _flat_noise(audible, rate)


def frame_rms(x: np.ndarray, frame: int) -> np.ndarray:
    """RMS of consecutive frames of ``frame`` samples (the tail shorter than a frame dropped)."""
    n = len(x) // frame
    return np.sqrt(np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1))


def _steady(x: np.ndarray, rate: int) -> bool:
    levels = frame_rms(x, max(1, rate // 10))
    return len(levels) >= 3 and float(np.std(levels) / (np.mean(levels) + 1e-12)) < STEADY_CV


def _spectrum(x: np.ndarray, rate: int, seconds: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Welch power spectrum (frequencies [F] in Hz, power [F]) with ~``seconds`` segments."""
    nperseg = int(min(len(x), 2 ** round(np.log2(rate * seconds))))
    return sps.welch(x, fs=rate, nperseg=nperseg, window="hann")


def _lines(x: np.ndarray, rate: int) -> NonSound | None:
    """A steady tone, hum or chord: nearly all energy in a few narrow spectral lines."""
    freqs, power = _spectrum(x, rate)
    half = max(2, int(round(LINE_HALF_WIDTH_HZ / (freqs[1] - freqs[0]))))
    left, total, lines = power.copy(), float(power.sum()), []
    while len(lines) < MAX_LINES and left.sum() > (1 - LINES_SHARE) * total:
        k = int(np.argmax(left))
        if not _is_line(power, k, half):
            return None  # a broad band (wind's rumble, an engine), not a line
        lines.append(
            (float(left[max(0, k - half) : k + half + 1].sum()), _peak_hz(freqs, power, k))
        )
        left[max(0, k - half) : k + half + 1] = 0.0
    if left.sum() > (1 - LINES_SHARE) * total or not _steady(x, rate):
        return None
    if len(lines) == 1 or lines[0][0] >= LINES_SHARE * total:
        return NonSound("tone", f"a steady {lines[0][1]:.0f} Hz tone")
    hz = sorted(f for _, f in lines)
    f0 = _fundamental(hz, resolution=float(freqs[1] - freqs[0]))
    if f0 is not None:
        what = "hum" if f0 < 200 else "buzz"
        mains = " (mains hum)" if 45 <= f0 <= 65 else ""
        return NonSound("hum", f"a steady {what} at {f0:.0f} Hz with its harmonics{mains}")
    shown = ", ".join(f"{f:.0f}" for f in hz[:4]) + (" …" if len(hz) > 4 else "")
    return NonSound("tones", f"a steady chord of pure tones ({shown} Hz)")


def _peak_hz(freqs: np.ndarray, power: np.ndarray, k: int) -> float:
    """The frequency of the line at bin ``k``, refined by a parabola through log power."""
    if not 0 < k < len(power) - 1:
        return float(freqs[k])
    a, b, c = np.log(power[k - 1 : k + 2] + 1e-30)
    shift = 0.5 * (a - c) / (a - 2 * b + c) if a - 2 * b + c < 0 else 0.0
    return float(freqs[k] + shift * (freqs[1] - freqs[0]))


def _is_line(power: np.ndarray, k: int, half: int) -> bool:
    """Whether bin ``k`` is a narrow line: its window is far above the spectrum beside it."""
    line = power[max(0, k - half) : k + half + 1].mean()
    beside = np.concatenate(
        [
            power[max(0, k - 6 * half) : max(0, k - 2 * half)],
            power[k + 2 * half + 1 : k + 6 * half + 1],
        ]
    )
    return beside.size == 0 or line > LINE_PROMINENCE * float(np.median(beside))


def _fundamental(hz: list[float], *, resolution: float) -> float | None:
    """The fundamental of which every line is a harmonic (the lowest line or a half or a third
    of it), or None for unrelated lines."""
    for m in (1, 2, 3):
        f0 = hz[0] / m
        if f0 < 20.0:
            break
        if all(abs(f - round(f / f0) * f0) <= resolution / 2 + 0.004 * f for f in hz):
            return f0
    return None


def _clicks(x: np.ndarray, rate: int) -> NonSound | None:
    """A regular click train: short clicks at even intervals (at most 20 a second: faster is a
    buzz with a pitch, left to the line check), near silence between them."""
    energy = frame_rms(x, max(1, rate // 1000)) ** 2  # [ms]
    if len(energy) < 200:
        return None
    peaks, _ = sps.find_peaks(energy, height=0.1 * energy.max(), distance=20)
    if len(peaks) < 4:
        return None
    near = np.zeros(len(energy), dtype=bool)
    for p in peaks:
        near[max(0, p - 10) : p + 11] = True
    intervals = np.diff(peaks)
    if np.mean(intervals) < 50 or energy[near].sum() < CLICK_SHARE * energy.sum():
        return None
    if np.std(intervals) > CLICK_REGULARITY * np.mean(intervals):
        return None
    per_second = 1000.0 / float(np.mean(intervals))
    return NonSound("clicks", f"a regular click train ({per_second:.1f} clicks per second)")


def _flat_noise(x: np.ndarray, rate: int) -> NonSound | None:
    """Generator noise: 1/3-octave bands on a straight line (log-log), steady over time."""
    if 20 * np.log10(float(np.sqrt(np.mean(x**2))) + 1e-12) < NOISE_LEVEL_DBFS:
        return None
    freqs, power = _spectrum(x, rate, seconds=0.05)
    top = min(7000.0, 0.45 * rate)
    edges = 100.0 * 2.0 ** (np.arange(0, np.log2(top / 100.0), 1 / 3))
    if len(edges) < 6:
        return None
    bands = [
        power[(freqs >= lo) & (freqs < hi)].mean()
        for lo, hi in zip(edges[:-1], edges[1:], strict=True)
    ]
    level = 10 * np.log10(np.asarray(bands) + 1e-20)
    centre = np.log2(edges[:-1] * 2 ** (1 / 6))
    fit = np.polyval(np.polyfit(centre, level, 1), centre)
    if np.max(np.abs(level - fit)) > NOISE_FIT_DB:
        return None
    half_second = max(1, rate // 2)
    bands = [(300.0, 1200.0), (1200.0, 4000.0), (4000.0, 0.45 * rate)]
    for lo, hi in [(lo, min(hi, 0.45 * rate)) for lo, hi in bands if lo < 0.4 * rate]:
        band = sps.sosfiltfilt(sps.butter(2, [lo, hi], "bandpass", fs=rate, output="sos"), x)
        energies = frame_rms(band, half_second) ** 2
        if len(energies) < 4 or np.std(energies) > NOISE_STEADY_CV * np.mean(energies):
            return None
    slope = float(np.polyfit(centre, level, 1)[0])
    colour = "white" if slope > -1.5 else "pink" if slope > -4.5 else "brown"
    return NonSound("noise", f"steady {colour} noise from a generator")
