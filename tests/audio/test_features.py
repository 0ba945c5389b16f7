"""Front ends: soundclip equals the authors' steps; level-preserving ones hear gain."""

from __future__ import annotations

import math

import librosa
import numpy as np
import pytest
import torch

from soundedit.audio.features import (
    FRONT_ENDS,
    FrontEnd,
    compute_features,
    compute_features_batch,
    get_front_end,
)
from soundedit.audio.io import load_sound
from soundedit.audio.shape import apply_gain
from soundedit.errors import AudioError, ConfigError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:audioread.*")


def _cv2_linear_axis(n_in: int, n_out: int) -> np.ndarray:
    """[n_out, n_in] weights of OpenCV's INTER_LINEAR along one axis (half-pixel centres)."""
    weights = np.zeros((n_out, n_in))
    scale = n_in / n_out
    for d in range(n_out):
        f = (d + 0.5) * scale - 0.5
        s = math.floor(f)
        f -= s
        if s < 0:
            s, f = 0, 0.0
        if s >= n_in - 1:
            s, f = n_in - 1, 0.0
        weights[d, s] += 1.0 - f
        weights[d, min(s + 1, n_in - 1)] += f
    return weights


def authors_features(path) -> np.ndarray:
    """The authors' inference steps, written out with numpy and librosa (centre crop)."""
    y, sr = librosa.load(path, sr=44100)
    mel = librosa.feature.melspectrogram(y=y, sr=sr, n_mels=128, pad_mode="reflect")
    x = librosa.power_to_db(mel, ref=np.max) / 80.0 + 1
    zero = np.zeros((128, 864))
    w = x.shape[1]
    if w >= 864:
        j = (w - 864) // 2
        x = x[:, j : j + 864]
    else:
        zero[:, :w] = x
        x = zero
    # cv2.resize(x, (128, 512)): 512 rows x 128 columns
    resized = _cv2_linear_axis(128, 512) @ x.astype(np.float64) @ _cv2_linear_axis(864, 128).T
    return resized.reshape(1, 128, 512)


def _scene(seconds, rate, seed=0):
    """A chirp over noise with a quiet start, so the spectrogram has structure everywhere."""
    t = np.arange(int(seconds * rate)) / rate
    chirp = 0.3 * np.sin(2 * np.pi * (200 + 400 * t) * t)
    hiss = 0.02 * np.random.default_rng(seed).standard_normal(len(t))
    return (np.minimum(t, 1.0) * (chirp + hiss)).astype(np.float32)


@pytest.mark.parametrize(
    "seconds, rate, channels",
    [(3.0, 44100, 1), (12.3, 44100, 1), (2.0, 22050, 2), (0.05, 44100, 1)],
    ids=["pad", "centre-crop", "resampled-stereo", "shortest"],
)
def test_soundclip_equals_the_authors_steps(tmp_path, sounds, seconds, rate, channels):
    mono = _scene(seconds, rate)
    data = np.stack([mono, 0.5 * mono], axis=1) if channels == 2 else mono
    path = sounds.write(tmp_path / "x.wav", data, rate, subtype="FLOAT")
    ours = compute_features(load_sound(path), "soundclip")
    assert ours.shape == (1, 128, 512) and ours.dtype == torch.float32
    np.testing.assert_allclose(ours.numpy(), authors_features(path), atol=1e-4)


def test_soundclip_throws_level_away(sounds):
    sound = load_sound((44100, _scene(2.0, 44100)))
    quiet = apply_gain(sound, -12.0)
    a, b = compute_features(sound, "soundclip"), compute_features(quiet, "soundclip")
    assert torch.allclose(a, b, atol=1e-4)


@pytest.mark.parametrize("name", ["level", "soundscapes"])
def test_level_features_shift_by_the_gain(sounds, name):
    fe = get_front_end(name)
    sound = load_sound((fe.sample_rate, sounds.noise(fe.seconds, fe.sample_rate, rms=0.01)))
    louder = apply_gain(sound, 6.0)
    assert louder.clipped == 0
    a, b = compute_features(sound, fe), compute_features(louder, fe)
    above = a > 0.05  # bands above the floor (the zero padding sits at the floor)
    assert above.float().mean() > 0.9
    shift = (b - a)[above]
    expected = 6.0 / -fe.db_floor  # 0.06 per +6 dB with the -100 dB floor
    assert shift.mean().item() == pytest.approx(expected, abs=1e-4)
    assert shift.abs().sub(expected).abs().max().item() < 1e-3


def test_level_scaling_is_documented():
    fe = get_front_end("soundscapes")
    t = np.arange(fe.sample_rate * 4) / fe.sample_rate
    sine = np.sin(2 * np.pi * 1000 * t).astype(np.float32)  # full scale
    x = compute_features(sine, fe)
    assert x.max().item() == pytest.approx((-6.0 + 100) / 100, abs=0.02)
    assert compute_features(np.zeros(100, np.float32), fe).max().item() == 0.0  # silence


@pytest.mark.parametrize("name", sorted(FRONT_ENDS))
def test_shapes_lengths_and_rates(sounds, name):
    fe = get_front_end(name)
    for seconds, rate in [(0.05, 8000), (1.0, 48000), (30.0, 16000)]:
        sound = load_sound((rate, sounds.noise(seconds, rate)))
        x = compute_features(sound, fe)
        assert tuple(x.shape) == fe.output_shape and x.dtype == torch.float32
        assert torch.isfinite(x).all()
    assert get_front_end("soundscapes").output_shape == (1, 64, 251)
    assert get_front_end("soundscapes").seconds == 4.0


def test_level_crop_is_the_centre(sounds):
    fe = get_front_end("soundscapes")
    rate = fe.sample_rate
    samples = np.zeros(rate * 8, dtype=np.float32)
    samples[rate * 2 : rate * 6] = sounds.noise(4.0, rate, rms=0.1)  # loud middle 4 s
    x = compute_features(samples, fe)
    assert x[..., 2:-2].min().item() > 0.3  # the whole window is the loud part


def test_arrays_rates_and_batches(sounds):
    samples = sounds.noise(1.0, 8000)
    sound = load_sound((8000, samples))
    a = compute_features(samples, "soundscapes", rate=8000)
    assert torch.equal(a, compute_features(sound, "soundscapes"))
    batch = compute_features_batch([sound, sound], "soundscapes")
    assert batch.shape == (2, 1, 64, 251) and torch.equal(batch[1], a)
    with pytest.raises(ConfigError):
        compute_features(sound, "soundscapes", rate=16000)
    with pytest.raises(ConfigError):
        compute_features_batch([], "soundscapes")
    with pytest.raises(AudioError):
        compute_features(np.zeros((2, 100), np.float32), "soundscapes")
    with pytest.raises(AudioError):
        compute_features(np.full(100, np.nan, np.float32), "soundscapes")


def test_unknown_front_end_lists_the_known_ones():
    with pytest.raises(ConfigError, match="level, soundclip, soundscapes"):
        get_front_end("mfcc")
    fe = FRONT_ENDS["level"]
    assert get_front_end(fe) is fe
    with pytest.raises(ConfigError):
        FrontEnd("x", "mfcc", 16000, 64, 512, 256, 100)
