"""Make a clean sound sound *recorded*: room, microphone, noise floor, converter, level.

A model that has only heard a synthesiser mishears real recordings, and a browser microphone
gives nothing else. :func:`simulate_recording` draws one random recording chain (every step
seeded by the ``numpy.random.Generator`` passed in) and applies it:

1. level change (the mic was nearer or farther): ``level_db`` dB;
2. room reverb: exponentially decaying noise impulse response, RT60 0.1-0.8 s, wet mix;
3. microphone colouring: a random tilt (bright or dull) and a high-pass at 50-300 Hz;
4. background noise (pink-ish, like room tone and hum) at a random SNR;
5. the converter: a round trip through a lower sample rate and 8-16-bit quantisation.

:func:`browser_recording` plays a sound through what a browser microphone hands the app
(48 kHz stereo int16, a room, a -30 dBFS noise floor), for tests of the microphone path;
:func:`microphone_recording` draws a random one of those (room, noise floor, an automatic gain
control's slow level changes) and brings it back to mono at the sound's own rate, for training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from soundedit.audio.io import resample
from soundedit.audio.shape import fit_length
from soundedit.errors import ConfigError


@dataclass(frozen=True)
class RecordingChain:
    """The ranges one random recording chain is drawn from (see the module doc)."""

    level_db: tuple[float, float] = (-6.0, 3.0)  # gain before everything else
    rt60: tuple[float, float] = (0.1, 0.8)  # reverb time in seconds
    wet: tuple[float, float] = (0.0, 0.5)  # reverb mix (0 dry)
    tilt_db: tuple[float, float] = (-6.0, 6.0)  # high-shelf gain above 2 kHz
    highpass_hz: tuple[float, float] = (50.0, 300.0)  # microphone / phone roll-off
    snr_db: tuple[float, float] = (10.0, 40.0)  # background noise below the signal
    rates: tuple[int, ...] = (8_000, 11_025, 16_000, 22_050, 44_100)  # converter round trip
    bits: tuple[int, ...] = (8, 12, 16)  # quantisation after the converter

    def __post_init__(self):
        ranges = ("level_db", "rt60", "wet", "tilt_db", "highpass_hz", "snr_db")
        for name in ranges:
            low, high = getattr(self, name)
            if not low <= high:
                raise ConfigError(f"recording chain {name}: ({low}, {high}) is not low <= high")
        checks = (
            ("rt60", self.rt60[0] > 0, "reverb times above 0 s"),
            ("wet", 0 <= self.wet[0] and self.wet[1] <= 1, "reverb mixes within [0, 1]"),
            ("snr_db", self.snr_db[0] >= 0, "noise at or below the signal (SNR >= 0 dB)"),
            ("rates", bool(self.rates) and min(self.rates) >= 1000, "rates of 1000 Hz and up"),
            ("bits", bool(self.bits) and 2 <= min(self.bits) <= max(self.bits) <= 24,
             "2 to 24 bits"),
        )  # fmt: skip
        for name, ok, accepted in checks:
            if not ok:
                raise ConfigError(f"recording chain {name}: {getattr(self, name)}; {accepted}")


DEFAULT_CHAIN = RecordingChain()


def simulate_recording(
    samples: np.ndarray,
    rate: int,
    rng: np.random.Generator,
    *,
    chain: RecordingChain = DEFAULT_CHAIN,
) -> np.ndarray:
    """One random recording of ``samples`` (float [n] at ``rate``): float32 [n] in [-1, 1]."""
    x = np.asarray(samples, dtype=np.float64) * _gain(rng.uniform(*chain.level_db))
    x = reverb(x, rate, rt60=rng.uniform(*chain.rt60), wet=rng.uniform(*chain.wet), rng=rng)
    x = colour(
        x, rate, tilt_db=rng.uniform(*chain.tilt_db), highpass=rng.uniform(*chain.highpass_hz)
    )
    x = add_noise(x, rng, snr_db=rng.uniform(*chain.snr_db))
    x = converter(x, rate, via=int(rng.choice(chain.rates)), bits=int(rng.choice(chain.bits)))
    return x.astype(np.float32)


def reverb(
    x: np.ndarray, rate: int, *, rt60: float, wet: float, rng: np.random.Generator
) -> np.ndarray:
    """``x`` in a room: dry + ``wet`` x (x convolved with decaying noise, RT60 ``rt60`` s)."""
    if wet <= 0:
        return x
    n = max(1, int(rt60 * rate))
    t = np.arange(n) / rate
    ir = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60
    ir /= np.sqrt(np.sum(ir**2)) + 1e-12
    tail = signal.fftconvolve(x, ir)[: len(x)]
    return (1 - wet) * x + wet * tail


def colour(x: np.ndarray, rate: int, *, tilt_db: float, highpass: float) -> np.ndarray:
    """A microphone: high-pass at ``highpass`` Hz and ``tilt_db`` dB more (or less) treble."""
    sos = signal.butter(2, highpass, "highpass", fs=rate, output="sos")
    x = signal.sosfilt(sos, x)
    treble = signal.sosfilt(
        signal.butter(1, min(2000.0, rate / 4), "highpass", fs=rate, output="sos"), x
    )
    return x + (_gain(tilt_db) - 1.0) * treble


def add_noise(x: np.ndarray, rng: np.random.Generator, *, snr_db: float) -> np.ndarray:
    """``x`` plus pink-ish noise ``snr_db`` dB below its RMS (a floor for silent input)."""
    noise = np.cumsum(rng.standard_normal(len(x)))  # brown
    noise = noise - signal.savgol_filter(noise, 101, 1) if len(x) > 101 else noise
    noise += 0.3 * rng.standard_normal(len(x))
    rms = max(float(np.sqrt(np.mean(x**2))), 1e-4)
    noise *= rms * _gain(-snr_db) / (np.sqrt(np.mean(noise**2)) + 1e-12)
    return x + noise


def converter(x: np.ndarray, rate: int, *, via: int, bits: int) -> np.ndarray:
    """A round trip through an ADC at ``via`` Hz and ``bits`` bits (clips at full scale)."""
    if via != rate:
        low = resample(x.astype(np.float32), rate, via)
        x = resample(low, via, rate).astype(np.float64)[: len(x)]
        if len(x) < len(low) * rate // via:
            x = np.pad(x, (0, len(low) * rate // via - len(x)))
    step = 2.0 / 2**bits
    return np.clip(np.round(x / step) * step, -1.0, 1.0 - step)


def browser_recording(
    samples: np.ndarray,
    rate: int,
    rng: np.random.Generator,
    *,
    noise_floor_db: float = -30.0,
    rt60: float = 0.4,
) -> tuple[int, np.ndarray]:
    """What a browser microphone hands the app for a sound played in a room.

    Returns ``(48000, int16 [n, 2])``: a reverberant room, a noise floor at ``noise_floor_db``
    dBFS RMS, slightly different left and right channels, 16-bit samples.
    """
    x = resample(np.asarray(samples, dtype=np.float32), rate, 48_000).astype(np.float64)
    x = reverb(x, 48_000, rt60=rt60, wet=0.35, rng=rng)
    channels = []
    for _ in range(2):
        floor = rng.standard_normal(len(x))
        floor *= _gain(noise_floor_db) / (np.sqrt(np.mean(floor**2)) + 1e-12)
        channels.append(x * rng.uniform(0.9, 1.0) + floor)
    stereo = np.clip(np.stack(channels, axis=1), -1.0, 1.0 - 1 / 32768)
    return 48_000, np.round(stereo * 32768).astype(np.int16)


@dataclass(frozen=True)
class MicrophoneChain:
    """The ranges a random browser-microphone take is drawn from (:func:`microphone_recording`)."""

    rt60: tuple[float, float] = (0.15, 0.8)  # the room's reverb time in seconds
    wet: tuple[float, float] = (0.1, 0.5)  # reverb mix
    floor_db: tuple[float, float] = (-70.0, -35.0)  # noise floor, dBFS RMS
    agc_db: tuple[float, float] = (2.0, 8.0)  # swing of the gain control's slow level changes
    agc_seconds: tuple[float, float] = (0.4, 2.0)  # how slowly the gain control moves

    def __post_init__(self):
        for name in ("rt60", "wet", "floor_db", "agc_db", "agc_seconds"):
            low, high = getattr(self, name)
            if not low <= high:
                raise ConfigError(f"microphone chain {name}: ({low}, {high}) is not low <= high")
        if (
            self.rt60[0] <= 0
            or self.agc_seconds[0] <= 0
            or not 0 <= self.wet[0] <= self.wet[1] <= 1
        ):
            raise ConfigError(
                "microphone chain: reverb times and gain-control times above 0 s, mixes in [0, 1]"
            )


DEFAULT_MICROPHONE = MicrophoneChain()
BROWSER_RATE = 48_000


def agc_gain(n: int, rate: int, rng: np.random.Generator, *, swing_db: float, seconds: float):
    """A slowly wandering gain [n] (linear): smoothed noise spanning about ``swing_db`` dB
    peak to peak, moving on a time scale of ``seconds``, around 0 dB."""
    knots = max(2, int(np.ceil(n / (seconds * rate))) + 2)
    curve = rng.standard_normal(knots)
    curve = (curve - curve.mean()) / (np.ptp(curve) + 1e-12) * swing_db
    db = np.interp(np.arange(n), np.linspace(0, n - 1, knots), curve)
    return 10.0 ** (db / 20.0)


def microphone_recording(
    samples: np.ndarray,
    rate: int,
    rng: np.random.Generator,
    *,
    chain: MicrophoneChain = DEFAULT_MICROPHONE,
) -> np.ndarray:
    """A random browser-microphone take of ``samples`` (float [n] at ``rate``), back at ``rate``.

    The sound is resampled to 48 kHz, played in a room, captured in stereo (two slightly
    different channels, each with its own noise floor), levelled by an automatic gain control
    that moves slowly by several dB, stored as 16-bit samples, then mixed down to mono and
    resampled to ``rate`` as the app does with a microphone recording: float32 [n] in [-1, 1].
    """
    n = len(samples)
    x = resample(np.asarray(samples, dtype=np.float32), rate, BROWSER_RATE).astype(np.float64)
    x = reverb(x, BROWSER_RATE, rt60=rng.uniform(*chain.rt60), wet=rng.uniform(*chain.wet), rng=rng)
    x = x * agc_gain(
        len(x),
        BROWSER_RATE,
        rng,
        swing_db=rng.uniform(*chain.agc_db),
        seconds=rng.uniform(*chain.agc_seconds),
    )
    floor = _gain(rng.uniform(*chain.floor_db))
    channels = []
    for _ in range(2):
        noise = rng.standard_normal(len(x))
        channels.append(x * rng.uniform(0.9, 1.0) + noise * floor / (np.std(noise) + 1e-12))
    stereo = np.clip(np.stack(channels), -1.0, 1.0 - 1 / 32768)
    mono = (np.round(stereo * 32768) / 32768).mean(axis=0)
    back = resample(mono.astype(np.float32), BROWSER_RATE, rate)
    return fit_length(np.asarray(back, dtype=np.float32), n, mode="pad").astype(np.float32)


def _gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))
