"""The recording chain that makes clean sounds sound recorded, and the browser-microphone model."""

import numpy as np
import pytest

from soundedit.audio.recording import (
    DEFAULT_CHAIN,
    MicrophoneChain,
    RecordingChain,
    add_noise,
    agc_gain,
    browser_recording,
    colour,
    converter,
    microphone_recording,
    reverb,
    simulate_recording,
)
from soundedit.errors import ConfigError

RATE = 16_000


def _tone(seconds: float = 1.0, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_a_recording_is_seeded_and_keeps_length_and_range():
    x = _tone()
    a = simulate_recording(x, RATE, np.random.default_rng(3))
    b = simulate_recording(x, RATE, np.random.default_rng(3))
    c = simulate_recording(x, RATE, np.random.default_rng(4))
    assert a.dtype == np.float32 and a.shape == x.shape
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.isfinite(a).all() and np.abs(a).max() <= 1.0
    assert not np.allclose(a, x, atol=1e-3)


def test_reverb_adds_a_tail_after_the_sound_stops():
    x = np.zeros(RATE)
    x[:800] = _tone(0.05)
    wet = reverb(x, RATE, rt60=0.5, wet=0.5, rng=np.random.default_rng(0))
    assert np.abs(wet[4000:6000]).max() > 1e-3  # 0.25-0.375 s: the room still rings
    assert np.array_equal(reverb(x, RATE, rt60=0.5, wet=0.0, rng=np.random.default_rng(0)), x)


def test_colour_removes_rumble_below_the_high_pass():
    rumble = _tone(1.0, hz=30.0).astype(np.float64)
    out = colour(rumble, RATE, tilt_db=0.0, highpass=300.0)
    assert np.sqrt(np.mean(out[4000:] ** 2)) < 0.05 * np.sqrt(np.mean(rumble**2))


def test_noise_is_added_at_the_asked_snr():
    x = _tone().astype(np.float64)
    out = add_noise(x, np.random.default_rng(0), snr_db=20.0)
    snr = 10 * np.log10(np.mean(x**2) / np.mean((out - x) ** 2))
    assert snr == pytest.approx(20.0, abs=0.5)


def test_the_converter_quantises_to_its_bits():
    x = _tone().astype(np.float64)
    out = converter(x, RATE, via=RATE, bits=8)
    assert len(np.unique(out)) <= 256
    assert np.abs(out - x).max() <= 1 / 128 + 1e-9
    resampled = converter(x, RATE, via=8_000, bits=16)
    assert resampled.shape == x.shape


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"rt60": (0.8, 0.1)}, "rt60: \\(0.8, 0.1\\) is not low <= high"),
        ({"level_db": (3.0, -6.0)}, "level_db"),
        ({"snr_db": (-5.0, 10.0)}, "SNR >= 0 dB"),
        ({"wet": (0.0, 1.5)}, "within \\[0, 1\\]"),
        ({"rt60": (0.0, 0.5)}, "above 0 s"),
        ({"bits": ()}, "2 to 24 bits"),
        ({"bits": (1, 16)}, "2 to 24 bits"),
        ({"rates": (500, 16_000)}, "1000 Hz"),
    ],
)
def test_a_chain_with_senseless_ranges_is_refused(change, match):
    with pytest.raises(ConfigError, match=match):
        RecordingChain(**change)


def test_the_default_chain_is_one_the_checks_accept():
    assert RecordingChain(**vars(DEFAULT_CHAIN)) == DEFAULT_CHAIN  # built through the checks
    x = _tone()
    near = slice(400, 480)  # 1 Hz bins around the 440 Hz tone
    for seed in range(8):  # its recordings keep the tone: noise at SNR >= 10 dB spreads over
        y = simulate_recording(x, RATE, np.random.default_rng(seed))  # 8000 bins, the tone is 1
        assert np.isfinite(y).all() and np.abs(y).max() <= 1.0
        spectra = np.abs(np.fft.rfft(y))[near], np.abs(np.fft.rfft(x))[near]
        assert np.corrcoef(*spectra)[0, 1] > 0.5  # measured >= 0.996 on seeds 0-7


def test_a_browser_recording_is_48k_stereo_int16_with_a_noise_floor():
    silence = np.zeros(RATE, dtype=np.float32)
    rate, data = browser_recording(silence, RATE, np.random.default_rng(0))
    assert rate == 48_000 and data.dtype == np.int16 and data.shape == (48_000, 2)
    floor_db = 20 * np.log10(np.sqrt(np.mean((data / 32768.0) ** 2)))
    assert floor_db == pytest.approx(-30.0, abs=1.0)
    assert not np.array_equal(data[:, 0], data[:, 1])


def test_a_browser_recording_loads_as_a_sound():
    from soundedit.audio.io import load_sound

    sound = load_sound(browser_recording(_tone(), RATE, np.random.default_rng(1)), rate=RATE)
    assert sound.rate == RATE and abs(sound.seconds - 1.0) < 0.01


def test_a_microphone_take_comes_back_mono_at_the_rate_with_a_room_and_a_floor():
    x = np.zeros(RATE, dtype=np.float32)
    x[: RATE // 2] = _tone(0.5)
    a = microphone_recording(x, RATE, np.random.default_rng(1))
    assert a.dtype == np.float32 and a.shape == x.shape and np.abs(a).max() <= 1.0
    assert np.array_equal(a, microphone_recording(x, RATE, np.random.default_rng(1)))
    assert np.sqrt(np.mean(a[-2000:] ** 2)) > 10 ** (-72 / 20)  # the noise floor is there
    quiet = MicrophoneChain(rt60=(0.6, 0.6), wet=(0.5, 0.5), floor_db=(-120, -120))
    ring = microphone_recording(x, RATE, np.random.default_rng(1), chain=quiet)
    assert np.abs(ring[RATE // 2 + 1600 : RATE // 2 + 3200]).max() > 1e-3  # the room rings on


def test_the_gain_control_moves_slowly_by_several_db():
    gain = agc_gain(4 * RATE, RATE, np.random.default_rng(0), swing_db=6.0, seconds=1.0)
    db = 20 * np.log10(gain)
    assert np.ptp(db) == pytest.approx(6.0, abs=1e-3) and abs(np.mean(db)) < 3.0
    assert np.abs(np.diff(db)).max() < 6.0 / (0.2 * RATE)  # no step: it glides


def test_a_microphone_chain_with_reversed_ranges_is_refused():
    with pytest.raises(ConfigError, match="agc_db"):
        MicrophoneChain(agc_db=(8.0, 2.0))
