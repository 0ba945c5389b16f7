"""Scene parameters -> the scene's soundscape (~4 s at 16 kHz, numpy, seeded).

Each audible event has a procedural source whose *level* and *event density* follow its
parameter, so a louder, denser rain means a heavier rain:

======== =====================================================================================
rain     band-passed noise (the hiss) plus droplets (short decaying resonant pings); level
         ~ -44 dB + 36 dB x rain, droplet rate ~ 4-80 per second
lightning thunder: low-passed brown noise, a crack then a rolling rumble, random onset
fire     crackles (sparse clicks and pops in bursts) on a low roar
wind     howling: noise through a slowly gliding resonant band, gusting envelope
birds    chirps: fast frequency sweeps in short phrases, 2-7 kHz
sea      waves: low-passed noise swelling and breaking every 3-6 s
night    crickets: pulsed 4-5 kHz tones in trains (heard from dusk on)
snow     footsteps crunching in snow: granular bursts at walking pace
======== =====================================================================================

Onsets, gains, durations and pitches are drawn from a ``numpy`` generator seeded by the caller,
and a faint background noise is always present. Levels are absolute (no normalisation), so the
level-preserving front end can hear intensity.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import signal

from soundedit.soundscapes.params import INDEX, check_params

RATE = 16_000
SECONDS = 4.0


def synthesize(
    params: torch.Tensor, *, seed: int, rate: int = RATE, seconds: float = SECONDS
) -> np.ndarray:
    """Sounds for scenes ``params`` [B, P] -> float32 array [B, n] in [-1, 1].

    Scene ``i`` uses the generator seeded with ``(seed, i)``, so a batch is reproducible and each
    row does not depend on the others.
    """
    check_params(params)
    n = int(round(rate * seconds))
    rows = params.detach().cpu().double().numpy()
    out = np.stack(
        [
            synthesize_one(row, np.random.default_rng([seed, i]), n=n, rate=rate)
            for i, row in enumerate(rows)
        ]
    )
    return out.astype(np.float32)


def synthesize_one(
    row: np.ndarray, rng: np.random.Generator, *, n: int, rate: int = RATE
) -> np.ndarray:
    """One scene's sound: ``row`` [P] -> float64 [n]."""
    p = {name: float(row[i]) for name, i in INDEX.items()}
    mix = _db(-62 + 6 * rng.random()) * _pink(rng, n)  # room tone
    sources = (
        ("rain", _rain),
        ("lightning", _thunder),
        ("fire", _fire),
        ("wind", _wind),
        ("birds", _birds),
        ("sea", _waves),
        ("snow", _steps),
    )
    for name, fn in sources:
        if p[name] > 0.02:
            mix += fn(p[name], rng, n, rate)
    crickets = (p["night"] - 0.45) / 0.55
    if crickets > 0.02:
        mix += _crickets(min(crickets, 1.0), rng, n, rate)
    return np.clip(mix, -1.0, 1.0)


def level_db(value: float, *, quiet: float = -44.0, loud: float = -12.0) -> float:
    """The RMS level (dBFS) of a source at intensity ``value`` in [0, 1]: linear in dB."""
    return quiet + (loud - quiet) * value


# --- helpers ----------------------------------------------------------------------------------


def _db(db: float) -> float:
    return float(10 ** (db / 20))


def _normalize_rms(x: np.ndarray, db: float) -> np.ndarray:
    rms = np.sqrt(np.mean(x**2)) + 1e-12
    return x * (_db(db) / rms)


def _pink(rng, n):
    white = rng.standard_normal(n)
    b, a = (
        [0.049922035, -0.095993537, 0.050612699, -0.004408786],
        [1, -2.494956002, 2.017265875, -0.522189400],
    )
    return _normalize_rms(signal.lfilter(b, a, white), 0.0)


def _band(x, lo, hi, rate, order=4):
    sos = signal.butter(order, [lo, min(hi, rate / 2 - 100)], btype="band", fs=rate, output="sos")
    return signal.sosfilt(sos, x)


def _low(x, hi, rate, order=4):
    return signal.sosfilt(signal.butter(order, hi, btype="low", fs=rate, output="sos"), x)


def _slow_noise(rng, n, rate, hz, lo=0.0, hi=1.0):
    """A smooth random curve in [lo, hi] that changes about ``hz`` times a second."""
    k = max(2, int(n / rate * hz) + 2)
    knots = rng.random(k)
    curve = np.interp(np.linspace(0, k - 1, n), np.arange(k), knots)
    return lo + (hi - lo) * curve


def _place(out, event, start):
    end = min(len(out), start + len(event))
    if start < end:
        out[start:end] += event[: end - start]


# --- sources ------------------------------------------------------------------------------------


def _rain(v, rng, n, rate):
    hiss = _band(rng.standard_normal(n), 800 + 600 * rng.random(), 7000, rate)
    hiss *= _slow_noise(rng, n, rate, 2.0, 0.8, 1.2)
    out = _normalize_rms(hiss, level_db(v) - 2.0)
    rate_per_s = 4 + 76 * v**1.5
    drops = np.zeros(n)
    count = rng.poisson(rate_per_s * n / rate)
    for _ in range(count):
        dur = int(rate * rng.uniform(0.004, 0.02))
        t = np.arange(dur) / rate
        f = rng.uniform(1500, 6000)
        ping = np.sin(2 * np.pi * f * t * (1 + 0.3 * t * 50)) * np.exp(
            -t / rng.uniform(0.002, 0.006)
        )
        _place(drops, ping * rng.lognormal(0, 0.5), int(rng.integers(0, n)))
    if count:
        out += _normalize_rms(drops, level_db(v) - 6.0)
    return out


def _thunder(v, rng, n, rate):
    out = np.zeros(n)
    for _ in range(1 + int(rng.random() < v)):
        start = int(rng.uniform(0.0, 0.5) * n)
        length = int(rate * rng.uniform(1.8, 3.5))
        brown = np.cumsum(rng.standard_normal(length))
        brown = _low(
            brown - np.convolve(brown, np.ones(400) / 400, "same"), 180 + 200 * rng.random(), rate
        )
        t = np.arange(length) / rate
        env = (1 - np.exp(-t / 0.03)) * np.exp(-t / rng.uniform(0.6, 1.4))
        env *= 1 + 0.8 * _slow_noise(rng, length, rate, 6.0)
        crack = _band(rng.standard_normal(length), 200, 3000, rate) * np.exp(-t / 0.08) * (v > 0.5)
        rumble = _normalize_rms(brown * env, 0) + 0.5 * _normalize_rms(crack + 1e-9, 0) * (v > 0.5)
        _place(out, rumble, start)
    return _normalize_rms(out, level_db(v, quiet=-38, loud=-10))


def _fire(v, rng, n, rate):
    roar = _low(rng.standard_normal(n), 500, rate) * _slow_noise(rng, n, rate, 3.0, 0.6, 1.4)
    out = _normalize_rms(roar, level_db(v) - 10)
    crackle = np.zeros(n)
    grit = _band(rng.standard_normal(n), 1500, 7500, rate)  # clicks are cut from this
    for _ in range(rng.poisson((5 + 60 * v) * n / rate)):
        burst_start = int(rng.integers(0, n))
        for _ in range(int(rng.integers(1, 6))):
            dur = int(rate * rng.uniform(0.0005, 0.004))
            at = int(rng.integers(0, n - dur))
            click = grit[at : at + dur] * np.hanning(dur)
            _place(
                crackle,
                click * rng.lognormal(0, 0.7),
                burst_start + int(rng.integers(0, int(0.03 * rate))),
            )
    return out + _normalize_rms(crackle + 1e-9, level_db(v) - 1)


def _wind(v, rng, n, rate):
    noise = rng.standard_normal(n)
    f, _, spec = signal.stft(noise, fs=rate, nperseg=512)
    frames = spec.shape[1]
    centre = _slow_noise(rng, frames, 8.0, 1.0, 250, 700 + 400 * v)  # Hz, gliding slowly
    width = 40 + 80 * rng.random()
    gain = np.exp(-0.5 * ((f[:, None] - centre[None, :]) / width) ** 2) + 0.15 * np.exp(
        -f[:, None] / 300
    )
    _, howl = signal.istft(spec * gain, fs=rate, nperseg=512)
    howl = howl[:n] if len(howl) >= n else np.pad(howl, (0, n - len(howl)))
    gust = _slow_noise(rng, n, rate, 0.8, 0.25, 1.0) ** 2
    return _normalize_rms(howl * gust, level_db(v, quiet=-42, loud=-10))


def _birds(v, rng, n, rate):
    out = np.zeros(n)
    for _ in range(max(1, rng.poisson(1 + 7 * v))):
        start = int(rng.integers(0, n))
        f0 = rng.uniform(2500, 5500)
        for k in range(int(rng.integers(2, 7))):
            dur = rng.uniform(0.04, 0.14)
            t = np.arange(int(rate * dur)) / rate
            sweep = f0 * (1 + rng.uniform(-0.4, 0.5) * t / dur)
            chirp = np.sin(2 * np.pi * np.cumsum(sweep) / rate) * np.sin(np.pi * t / dur) ** 2
            _place(
                out, chirp * rng.uniform(0.5, 1.0), start + int(k * rate * rng.uniform(0.1, 0.2))
            )
    return _normalize_rms(out + 1e-9, level_db(v, quiet=-40, loud=-12))


def _waves(v, rng, n, rate):
    noise = _low(rng.standard_normal(n), 900 + 800 * v, rate) + 0.3 * _band(
        rng.standard_normal(n), 1000, 4000, rate
    )
    period = rng.uniform(2.5, 5.0)
    phase = rng.random()
    t = np.arange(n) / rate
    swell = (0.5 + 0.5 * np.sin(2 * np.pi * (t / period + phase))) ** 3
    return _normalize_rms(noise * (0.15 + swell), level_db(v, quiet=-42, loud=-10))


def _crickets(v, rng, n, rate):
    out = np.zeros(n)
    t = np.arange(n) / rate
    for _ in range(1 + int(3 * v)):
        f = rng.uniform(4000, 5200)
        pulse_hz = rng.uniform(25, 45)
        train = (np.sin(2 * np.pi * pulse_hz * t + rng.random() * 6) > 0.3).astype(float)
        chirp_hz = rng.uniform(1.5, 3.0)
        gate = (np.sin(2 * np.pi * chirp_hz * t + rng.random() * 6) > 0.2).astype(float)
        env = _low(train * gate, 300, rate, order=2)
        out += np.sin(2 * np.pi * f * t) * env * rng.uniform(0.5, 1.0)
    return _normalize_rms(out, level_db(v, quiet=-42, loud=-16))


def _steps(v, rng, n, rate):
    out = np.zeros(n)
    interval = rng.uniform(0.45, 0.65)
    start = rng.uniform(0, interval)
    while start < n / rate:
        dur = rng.uniform(0.12, 0.22)
        m = int(rate * dur)
        grains = (rng.random(m) < 0.08 + 0.1 * v) * rng.standard_normal(m)
        step = _band(grains, 800, 6000, rate) * np.exp(-np.arange(m) / (m / 3))
        _place(out, step * rng.uniform(0.6, 1.0), int(start * rate))
        start += interval * rng.uniform(0.9, 1.1)
    return _normalize_rms(out + 1e-9, level_db(v, quiet=-42, loud=-12))
