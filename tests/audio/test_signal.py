"""The signal check: test signals are named in plain words; sounds of places pass."""

from pathlib import Path

import numpy as np
import pytest
from scipy import signal as sps

from soundedit.audio.io import load_sound
from soundedit.audio.signal import NonSound, check_signal

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "sounds"


def _t(rate: int, seconds: float = 4.0) -> np.ndarray:
    return np.arange(int(rate * seconds)) / rate


def _pink(rng, n, exponent=1.0):
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.fft.rfftfreq(n), 1.0 / n)
    x = np.fft.irfft(spectrum / f ** (exponent / 2), n)
    return 0.3 * x / np.abs(x).max()


@pytest.mark.parametrize("rate", [16_000, 44_100, 48_000])
def test_each_kind_of_test_signal_is_named(rate):
    t, rng = _t(rate), np.random.default_rng(0)
    clicks = np.zeros(len(t))
    clicks[:: rate // 2] = 0.8  # a metronome at 120 beats per minute
    cases = {
        "silence": np.zeros(len(t)),
        "dc": np.full(len(t), 0.4),
        "tone": 0.3 * np.sin(2 * np.pi * 440 * t),
        "hum": sum(0.3 / k * np.sin(2 * np.pi * 50 * k * t) for k in range(1, 8)),
        "tones": 0.2 * sum(np.sin(2 * np.pi * f * t) for f in (523.0, 1234.0, 3001.0)),
        "clicks": clicks,
        "noise": 0.2 * rng.standard_normal(len(t)),
    }
    for kind, x in cases.items():
        found = check_signal(x, rate)
        assert found is not None and found.kind == kind, (kind, found)
    assert check_signal(_pink(rng, len(t)), rate).kind == "noise"
    assert check_signal(cases["tone"], rate).description == "a steady 440 Hz tone"
    assert "(mains hum)" in check_signal(cases["hum"], rate).description
    assert "2.0 clicks per second" in check_signal(clicks, rate).description
    drift = 0.5 * np.sin(2 * np.pi * 3 * t)
    assert check_signal(drift, rate).description == "a slow drift below 20 Hz, too low to be heard"
    assert check_signal(cases["dc"], rate).description == "a constant DC offset with no sound in it"


def test_a_non_sound_reports_its_kind_and_plain_words():
    tone = NonSound("tone", "a steady 440 Hz tone")
    assert tone.as_dict() == {"kind": "tone", "description": "a steady 440 Hz tone"}


def test_signals_with_life_in_them_pass():
    """Beeps, sweeps and gusty, dripping noise are sounds to the check (the recogniser judges
    whether the world knows them); so is noise too quiet to be a generator's."""
    rate, rng = 16_000, np.random.default_rng(1)
    t = _t(rate)
    sweep = 0.3 * sps.chirp(t, 200, t[-1], 6000, method="logarithmic")
    beeps = 0.3 * np.sin(2 * np.pi * 1000 * t) * ((t % 0.5) < 0.2)
    gusts = rng.standard_normal(len(t)) * (1.2 + np.sin(2 * np.pi * 0.4 * t))
    gusty = 0.1 * sps.sosfilt(sps.butter(2, 800, fs=rate, output="sos"), gusts)
    drops = np.zeros(len(t))
    drops[rng.integers(0, len(t), 60)] = rng.uniform(0.2, 0.9, 60)
    rain = sps.lfilter([1.0], [1.0, -0.97], drops) * 0.05 + 0.01 * rng.standard_normal(len(t))
    quiet_hiss = 1e-4 * rng.standard_normal(len(t))
    for name, x in {"sweep": sweep, "beeps": beeps, "gusts": gusty, "rain": rain}.items():
        assert check_signal(x, rate) is None, name
    assert check_signal(quiet_hiss, rate) is None
    assert check_signal(0.3 * np.sin(2 * np.pi * 440 * t) * np.exp(-t), rate) is None  # decays


def test_an_irregular_click_train_passes():
    rate, rng = 16_000, np.random.default_rng(2)
    x = np.zeros(4 * rate)
    x[np.cumsum(rng.integers(1500, 9000, 12))] = 0.8  # crackles, not a metronome
    assert check_signal(x, rate) is None


@pytest.mark.skipif(not ASSETS.is_dir(), reason="assets/sounds is not in this checkout")
def test_the_example_sounds_pass():
    paths = sorted(ASSETS.glob("*.wav"))
    assert paths
    for path in paths:
        sound = load_sound(path)
        assert check_signal(sound.samples, sound.rate) is None, path.name
