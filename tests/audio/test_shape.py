"""Gain, mixing and fitting to length behave like a mixing desk."""

from __future__ import annotations

import numpy as np
import pytest

from soundedit.audio.io import Sound, load_sound
from soundedit.audio.shape import apply_gain, fit_length, mix
from soundedit.errors import ConfigError


def _sound(samples, rate=16000):
    return load_sound((rate, np.asarray(samples, dtype=np.float32)))


def test_gain_in_db(sounds):
    sound = _sound(sounds.tone(0.5, 16000, amp=0.1))
    louder = apply_gain(sound, 6.0)
    np.testing.assert_allclose(louder.samples, sound.samples * 10 ** (6 / 20), rtol=1e-6)
    assert louder.clipped == 0 and louder.rate == sound.rate
    quieter = apply_gain(sound, -120.0)
    assert quieter.silent and not sound.silent


def test_gain_hard_clips_and_reports(sounds):
    sound = _sound(sounds.tone(0.5, 16000, amp=0.5))
    loud = apply_gain(sound, 12.0)
    assert np.max(np.abs(loud.samples)) == 1.0
    expected = int(np.count_nonzero(np.abs(sound.samples * 10 ** (12 / 20)) > 1))
    assert loud.clipped == expected > 0
    headroom = apply_gain(sound, 12.0, clip="none")
    assert headroom.clipped == 0 and np.max(np.abs(headroom.samples)) > 1.9
    assert headroom.samples.dtype == np.float32


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_gain_refuses_non_finite(sounds, bad):
    with pytest.raises(ConfigError):
        apply_gain(_sound(sounds.tone(0.1, 16000)), bad)


def test_mix_ends_are_exact(sounds):
    a = _sound(sounds.tone(0.3, 16000))
    b = load_sound((22050, sounds.noise(1.0, 22050)))
    assert mix(a, b, 0.0) is a
    assert mix(a, b, 1.0) is b
    np.testing.assert_array_equal(mix(a, b, 0.0).samples, a.samples)
    np.testing.assert_array_equal(mix(a, b, 1.0).samples, b.samples)


def test_mix_resamples_and_loops_the_shorter(sounds):
    a = _sound(sounds.tone(0.25, 16000, amp=0.2))  # 4000 samples
    b = load_sound((32000, sounds.tone(1.0, 32000, freq=1000.0, amp=0.2)))  # 1 s at 32 kHz
    mixed = mix(a, b, 0.5)
    assert mixed.rate == 16000 and len(mixed.samples) == 16000
    # a is looped: its samples recur every 4000 samples, b contributes its resampled tone
    b16 = load_sound(b, rate=16000).samples
    np.testing.assert_allclose(mixed.samples, 0.5 * np.tile(a.samples, 4) + 0.5 * b16, atol=1e-6)


def test_mix_of_uncorrelated_noises_has_the_expected_rms(sounds):
    sa, sb = 0.2, 0.05
    a = _sound(sounds.noise(4.0, 16000, rms=sa, seed=1))
    b = _sound(sounds.noise(4.0, 16000, rms=sb, seed=2))
    mixed = mix(a, b, 0.5)
    rms = float(np.sqrt(np.mean(mixed.samples.astype(np.float64) ** 2)))
    assert rms == pytest.approx(np.sqrt(0.25 * sa**2 + 0.25 * sb**2), rel=0.01)


def test_mix_keeps_the_flags(sounds):
    a = Sound(sounds.tone(0.1, 8000), 8000, 100.0, True, False)
    b = _sound(np.zeros(800), rate=8000)
    mixed = mix(a, b, 0.3)
    assert mixed.truncated and mixed.source_seconds == 100.0 and not mixed.silent


@pytest.mark.parametrize("ratio", [-0.1, 1.5, float("nan")])
def test_mix_ratio_outside_0_1(sounds, ratio):
    a = _sound(sounds.tone(0.1, 16000))
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        mix(a, a, ratio)


def test_fit_length():
    x = np.arange(1, 5, dtype=np.float32)
    np.testing.assert_array_equal(fit_length(x, 2), [1, 2])
    np.testing.assert_array_equal(fit_length(x, 6), [1, 2, 3, 4, 1, 2])
    np.testing.assert_array_equal(fit_length(x, 6, mode="pad"), [1, 2, 3, 4, 0, 0])
    assert fit_length(x, 6, mode="pad").dtype == np.float32
    with pytest.raises(ConfigError):
        fit_length(x, 0)
    with pytest.raises(ConfigError):
        fit_length(x, 4, mode="wrap")
