"""The microphone path's capture chain (what a browser hands the page) and the fixed choice of
clips; the figure itself on real clips is in test_real_audio.py."""

import numpy as np
import pytest

from soundedit.errors import ConfigError
from soundedit.soundscapes.evaluate_mic import (
    CAPTURES,
    BrowserCapture,
    browser_capture,
    microphone_clips,
    microphone_figures,
)
from soundedit.soundscapes.realworld import RealClip

RATE = 16_000


def rain(seconds: float = 2.0, seed: int = 0) -> np.ndarray:
    return (0.3 * np.random.default_rng(seed).standard_normal(int(seconds * RATE))).astype(
        np.float32
    )


def rms_db(x) -> float:
    return 20 * np.log10(np.sqrt(np.mean(np.asarray(x, dtype=np.float64) ** 2)))


def test_a_capture_is_48k_stereo_int16_of_the_same_length():
    rate, recording = browser_capture(rain(), RATE, np.random.default_rng(0), CAPTURES["room"])
    assert rate == 48_000 and recording.dtype == np.int16 and recording.shape == (96_000, 2)
    left, right = recording.T.astype(np.float64) / 32768
    assert not np.array_equal(left, right)  # two microphones' worth of floor and gain
    assert abs(np.corrcoef(left, right)[0, 1]) > 0.9  # ... of one sound


def test_the_noise_floor_is_at_its_level_under_silence():
    chain = BrowserCapture(noise_floor_db=-50.0, agc_db=0.0)
    _, recording = browser_capture(
        np.zeros(RATE, np.float32), RATE, np.random.default_rng(1), chain
    )
    assert rms_db(recording[:, 0] / 32768) == pytest.approx(-50.0, abs=0.5)


def test_gain_swings_stay_within_their_range():
    chain = BrowserCapture(wet=0.0, noise_floor_db=-120.0, agc_db=6.0, channel_db=0.0)
    steady = BrowserCapture(wet=0.0, noise_floor_db=-120.0, agc_db=0.0, channel_db=0.0)
    x = rain(6.0)
    _, swung = browser_capture(x, RATE, np.random.default_rng(2), chain)
    _, flat = browser_capture(x, RATE, np.random.default_rng(2), steady)
    ratio_db = [
        rms_db(swung[i : i + 4800, 0]) - rms_db(flat[i : i + 4800, 0])
        for i in range(0, len(flat) - 4800, 4800)
    ]  # 0.1 s windows
    assert max(ratio_db) <= 6.2 and min(ratio_db) >= -6.2 and np.ptp(ratio_db) > 3.0


def test_a_bad_chain_or_capture_name_is_refused():
    with pytest.raises(ConfigError, match="rt60"):
        BrowserCapture(rt60=0.0)
    with pytest.raises(ConfigError, match="known: loud-floor, room"):
        microphone_figures(None, [], capture="phone")


def test_the_clips_are_the_first_two_of_each_event_in_world_order():
    clips = [
        RealClip(f"{k}.wav", "x", 4, event, rain(0.1))
        for k, event in enumerate(["wind", "rain", "wind", "rain", "rain", None, "wind"])
    ]
    assert [c.name for c in microphone_clips(clips)] == ["1.wav", "3.wav", "0.wav", "2.wav"]
