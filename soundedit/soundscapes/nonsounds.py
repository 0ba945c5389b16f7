"""Generated non-sounds: what a synthesiser, a phone or a test bench makes, never a place.

The world's recogniser learns "none of these" from them (explicit negatives beside the real
recordings from outside the world), and ``soundscapes eval --real`` reports how many of them
the world still calls known, per kind. Kinds are split once: :data:`TRAIN_KINDS` are the
negatives of the fit; :data:`HELD_OUT_KINDS` are never fitted on and only measure whether
"none of these" carries over to kinds the recogniser has not seen.

Every signal is drawn from the ``numpy`` generator the caller passes (frequencies, levels,
rhythms), so a set is reproducible from its seed. ``speech`` needs the ``espeak-ng`` program;
without it the kind is not :func:`available`.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy import signal as sps

from soundedit.audio.io import load_sound
from soundedit.audio.recording import simulate_recording
from soundedit.audio.shape import fit_length

RATE = 16_000
SECONDS = 4.0
Make = Callable[[np.random.Generator, int, int], np.ndarray]


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _t(n: int, rate: int) -> np.ndarray:
    return np.arange(n) / rate


def _wave(shape: str, f: float | np.ndarray, n: int, rate: int) -> np.ndarray:
    """An oscillator at ``f`` Hz (a constant or a per-sample [n] array)."""
    phase = 2 * np.pi * np.cumsum(np.broadcast_to(f, (n,))) / rate
    if shape == "sine":
        return np.sin(phase)
    if shape == "square":
        return sps.square(phase)
    if shape == "saw":
        return sps.sawtooth(phase)
    return sps.sawtooth(phase, width=0.5)  # triangle


def _gate(n: int, rate: int, on: float, off: float, *, offset: float = 0.0) -> np.ndarray:
    """1 during ``on`` seconds, 0 during ``off`` seconds, repeating (5 ms ramps)."""
    t = (_t(n, rate) + offset) % (on + off)
    ramp = 0.005
    return np.clip(np.minimum(t / ramp, (on - t) / ramp), 0.0, 1.0)


def _notes(rng, n: int, rate: int, *, shape: str, length: tuple[float, float]) -> np.ndarray:
    """A melody of equal-tempered notes with a decaying envelope each."""
    out, start = np.zeros(n), 0
    while start < n:
        size = int(rate * rng.uniform(*length))
        f = 110.0 * 2 ** (int(rng.integers(0, 36)) / 12)
        k = min(size, n - start)
        env = np.exp(-_t(k, rate) * rng.uniform(1.0, 8.0)) * np.minimum(1, _t(k, rate) / 0.01)
        out[start : start + k] = _wave(shape, f, k, rate) * env
        start += size
    return out


def dc(rng, n, rate):
    return np.full(n, rng.choice([-1.0, 1.0]) * rng.uniform(0.05, 1.0))


def drift(rng, n, rate):
    return np.sin(2 * np.pi * rng.uniform(0.1, 12.0) * _t(n, rate) + rng.uniform(0, 6.3))


def tone(rng, n, rate):
    return _wave("sine", _log_uniform(rng, 50.0, 7000.0), n, rate)


def chord(rng, n, rate):
    return sum(_wave("sine", _log_uniform(rng, 100.0, 4000.0), n, rate) for _ in range(3))


def sweep(rng, n, rate):
    lo, hi = _log_uniform(rng, 50.0, 1000.0), _log_uniform(rng, 1000.0, 7000.0)
    period = rng.uniform(0.3, SECONDS)
    t = _t(n, rate) % period
    f = lo * (hi / lo) ** (t / period) if rng.random() < 0.5 else lo + (hi - lo) * t / period
    return _wave("sine", f, n, rate)


def hum(rng, n, rate):
    f0 = rng.choice([50.0, 60.0, 100.0, 120.0, _log_uniform(rng, 40.0, 400.0)])
    harmonics = [rng.uniform(0.05, 1.0) / k for k in range(1, 12)]
    x = sum(a * _wave("sine", k * f0, n, rate) for k, a in enumerate(harmonics, 1))
    return x + 10 ** (rng.uniform(-60, -30) / 20) * rng.standard_normal(n)


def clicks(rng, n, rate):
    x = np.zeros(n)
    period = int(rate / rng.uniform(1.0, 12.0))
    x[int(rng.integers(0, period)) :: period] = 1.0
    ring = np.exp(-_t(int(rate * 0.01), rate) * rng.uniform(300, 3000))
    return np.convolve(x, ring * np.sin(2 * np.pi * rng.uniform(500, 5000) * _t(len(ring), rate)))[
        :n
    ]


def square(rng, n, rate):
    return _wave("square", _log_uniform(rng, 40.0, 2000.0), n, rate)


def saw(rng, n, rate):
    return _wave("saw", _log_uniform(rng, 40.0, 2000.0), n, rate)


def beeps(rng, n, rate):
    """A phone's beeps or ringing: a tone or two switched on and off."""
    f = _log_uniform(rng, 300.0, 3500.0)
    x = _wave("sine", f, n, rate) + (rng.random() < 0.5) * _wave("sine", 1.25 * f, n, rate)
    return x * _gate(n, rate, rng.uniform(0.05, 1.0), rng.uniform(0.05, 1.5))


def white_noise(rng, n, rate):
    return rng.standard_normal(n)


def pink_noise(rng, n, rate):
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / rate)
    return np.fft.irfft(spectrum / np.sqrt(np.maximum(f, 1.0) ** rng.uniform(0.7, 2.0)), n)


def noise_bursts(rng, n, rate):
    return white_noise(rng, n, rate) * _gate(n, rate, rng.uniform(0.02, 0.6), rng.uniform(0.05, 1))


def synth(rng, n, rate):
    return _notes(rng, n, rate, shape=str(rng.choice(["saw", "square"])), length=(0.15, 0.8))


def dtmf(rng, n, rate):
    """Telephone keypad tones: a row and a column frequency per key, with gaps."""
    out, start = np.zeros(n), 0
    while start < n:
        on, off = int(rate * rng.uniform(0.07, 0.3)), int(rate * rng.uniform(0.05, 0.3))
        k = min(on, n - start)
        low, high = rng.choice([697, 770, 852, 941]), rng.choice([1209, 1336, 1477, 1633])
        out[start : start + k] = _wave("sine", low, k, rate) + _wave("sine", high, k, rate)
        start += on + off
    return out


def modem(rng, n, rate):
    """Frequency-shift keying: random bits as two alternating tones."""
    baud = rng.choice([300.0, 600.0, 1200.0])
    bits = rng.integers(0, 2, int(n / rate * baud) + 1)
    f = np.where(np.repeat(bits, int(np.ceil(rate / baud)))[:n] > 0, 1200.0, 2200.0)
    return _wave("sine", f * rng.uniform(0.8, 1.2), n, rate)


def fm(rng, n, rate):
    """FM synthesis: a carrier modulated by an audio-rate sine (bells, electric pianos)."""
    carrier, ratio = _log_uniform(rng, 100.0, 2000.0), rng.choice([0.5, 1.0, 1.41, 2.0, 3.5])
    index = rng.uniform(1.0, 8.0) * np.exp(-_t(n, rate) * rng.uniform(0.0, 2.0))
    return _wave(
        "sine", carrier * (1 + index * ratio * _wave("sine", carrier * ratio, n, rate) / 8), n, rate
    )


def vibrato(rng, n, rate):
    f = _log_uniform(rng, 200.0, 3000.0)
    wobble = 1 + rng.uniform(0.01, 0.08) * np.sin(2 * np.pi * rng.uniform(3, 9) * _t(n, rate))
    return _wave(str(rng.choice(["sine", "triangle"])), f * wobble, n, rate)


def chiptune(rng, n, rate):
    return _notes(rng, n, rate, shape=str(rng.choice(["square", "triangle"])), length=(0.05, 0.15))


SENTENCES = (
    "Please leave a message after the tone.",
    "The quick brown fox jumps over the lazy dog.",
    "Your call is important to us, please stay on the line.",
    "Turn left in two hundred metres.",
    "Welcome to the meeting, you are the first to join.",
    "One two three four five six seven eight nine ten.",
)
VOICES = ("en", "en-us", "en-gb-scotland", "fr", "de", "es")


def speech(rng, n, rate):
    """A sentence spoken by the espeak-ng synthesiser (random voice, speed and pitch)."""
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "speech.wav"
        args = ["espeak-ng", "-v", str(rng.choice(VOICES)), "-s", str(int(rng.integers(120, 220)))]
        args += ["-p", str(int(rng.integers(20, 80))), "-w", str(wav), str(rng.choice(SENTENCES))]
        subprocess.run(args, check=True, capture_output=True, timeout=30)
        samples = load_sound(wav, rate=rate).samples
    return fit_length(samples, n, mode="loop").astype(np.float64)


TRAIN_KINDS: dict[str, Make] = {
    "dc": dc,
    "drift": drift,
    "tone": tone,
    "chord": chord,
    "sweep": sweep,
    "hum": hum,
    "clicks": clicks,
    "square": square,
    "saw": saw,
    "beeps": beeps,
    "white_noise": white_noise,
    "pink_noise": pink_noise,
    "noise_bursts": noise_bursts,
    "synth": synth,
}
HELD_OUT_KINDS: dict[str, Make] = {
    "dtmf": dtmf,
    "modem": modem,
    "fm": fm,
    "vibrato": vibrato,
    "chiptune": chiptune,
    "speech": speech,
}
KINDS = {**TRAIN_KINDS, **HELD_OUT_KINDS}


def available(kind: str) -> bool:
    """Whether ``kind`` can be made here (speech needs the espeak-ng program)."""
    return kind != "speech" or shutil.which("espeak-ng") is not None


def make_nonsounds(
    kinds, *, per_kind: int, seed: int, recorded: float = 0.5, rate: int = RATE
) -> list[tuple[str, np.ndarray]]:
    """``per_kind`` signals of each available kind: (kind, float32 [4 s at ``rate``]).

    Each gets a random level (peak -30…0 dBFS) and, with probability ``recorded``, a random
    recording chain (the room and microphone a test tone played aloud would go through).
    Kinds that cannot be made here (:func:`available`) are left out.
    """
    n = int(rate * SECONDS)
    out = []
    for k, kind in enumerate(sorted(kinds)):
        if kind not in KINDS:
            raise ValueError(f"unknown non-sound kind {kind!r}; kinds: {', '.join(KINDS)}")
        if not available(kind):
            continue
        rng = np.random.default_rng([seed, k])
        for _ in range(per_kind):
            x = KINDS[kind](rng, n, rate)
            x = x / (np.max(np.abs(x)) + 1e-12) * 10 ** (rng.uniform(-30.0, 0.0) / 20)
            if rng.random() < recorded:
                x = simulate_recording(x, rate, rng)
            out.append((kind, np.clip(x, -1.0, 1.0).astype(np.float32)))
    return out
