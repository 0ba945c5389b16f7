"""Loading every kind of sound, within limits, and refusing bad input with a useful message."""

from __future__ import annotations

import os
import re
import tempfile
import time

import numpy as np
import pytest
import soundfile

from soundedit.audio.io import (
    DEFAULT_LIMITS,
    AudioFileNotFoundError,
    AudioLimits,
    Sound,
    load_sound,
)
from soundedit.errors import AudioError, ConfigError, SoundEditError

# (format, subtype, suffix, quantisation step of the format: exact round trip within it)
LOSSLESS = [
    ("WAV", "PCM_U8", "wav", 2 / 256),
    ("WAV", "PCM_16", "wav", 2 / 2**16),
    ("WAV", "PCM_24", "wav", 2 / 2**24),
    ("WAV", "PCM_32", "wav", 2 / 2**31),
    ("WAV", "FLOAT", "wav", 1e-7),
    ("WAV", "DOUBLE", "wav", 1e-7),
    ("FLAC", "PCM_16", "flac", 2 / 2**16),
    ("FLAC", "PCM_24", "flac", 2 / 2**24),
    ("AIFF", "PCM_16", "aiff", 2 / 2**16),
]


@pytest.mark.parametrize("fmt, subtype, suffix, step", LOSSLESS, ids=lambda v: str(v))
def test_lossless_formats_round_trip(tmp_path, sounds, fmt, subtype, suffix, step):
    samples = sounds.tone(0.25, 22050, amp=0.5)
    path = sounds.write(tmp_path / f"x.{suffix}", samples, 22050, format=fmt, subtype=subtype)
    sound = load_sound(path)
    assert sound.samples.dtype == np.float32 and sound.samples.ndim == 1
    assert sound.rate == 22050 and len(sound.samples) == len(samples)
    assert np.max(np.abs(sound.samples - samples)) <= step
    assert not sound.truncated and not sound.silent
    assert sound.source_seconds == len(samples) / 22050  # 0.25 s to within half a sample


@pytest.mark.parametrize(
    "fmt, subtype, suffix, rate",
    [
        ("OGG", "VORBIS", "ogg", 44100),
        ("OGG", "OPUS", "opus", 48000),
        ("MP3", "MPEG_LAYER_III", "mp3", 44100),
    ],
)
def test_lossy_formats_decode(tmp_path, sounds, fmt, subtype, suffix, rate):
    if subtype not in soundfile.available_subtypes(fmt):
        pytest.skip(f"this libsndfile cannot write {fmt}/{subtype} (MP3 needs libsndfile >= 1.1)")
    samples = sounds.tone(1.0, rate, amp=0.5)
    path = sounds.write(tmp_path / f"x.{suffix}", samples, rate, format=fmt, subtype=subtype)
    sound = load_sound(path)
    assert sound.rate == rate
    assert sound.seconds == pytest.approx(1.0, abs=0.06)  # mp3 adds encoder delay/padding
    rms = float(np.sqrt(np.mean(sound.samples**2)))
    assert rms == pytest.approx(0.5 / np.sqrt(2), rel=0.1)


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000, 96000, 192000])
@pytest.mark.parametrize("channels", [1, 2, 6])
def test_rates_and_channels_become_mono(tmp_path, sounds, rate, channels):
    data = sounds.multichannel(0.05, rate, channels)
    path = sounds.write(tmp_path / "x.wav", data, rate, subtype="FLOAT")
    sound = load_sound(path)
    assert sound.rate == rate
    np.testing.assert_allclose(sound.samples, data.mean(axis=1), atol=1e-6)


@pytest.mark.parametrize("target", [16000, 44100])
def test_resampling_keeps_duration_and_pitch(tmp_path, sounds, target):
    path = sounds.write(tmp_path / "x.wav", sounds.tone(1.0, 48000, freq=1000.0), 48000)
    sound = load_sound(path, rate=target)
    assert sound.rate == target
    assert len(sound.samples) == pytest.approx(target, abs=2)
    spectrum = np.abs(np.fft.rfft(sound.samples))
    peak_hz = np.argmax(spectrum) * target / len(sound.samples)
    assert peak_hz == pytest.approx(1000.0, abs=2.0)


def test_bytes_decode_like_the_file(wav_file):
    from_path = load_sound(wav_file)
    from_bytes = load_sound(wav_file.read_bytes())
    np.testing.assert_array_equal(from_path.samples, from_bytes.samples)
    assert from_bytes.rate == from_path.rate


@pytest.mark.parametrize(
    "dtype, scale", [(np.int16, 32768), (np.int32, 2**31), (np.float32, 1), (np.float64, 1)]
)
def test_gradio_pairs(sounds, dtype, scale):
    stereo = sounds.multichannel(0.5, 16000, 2)  # [n, 2] in +-0.3
    array = (stereo * scale).astype(dtype) if scale > 1 else stereo.astype(dtype)
    sound = load_sound((16000, array))
    assert sound.rate == 16000 and sound.samples.dtype == np.float32
    np.testing.assert_allclose(sound.samples, stereo.mean(axis=1), atol=2 / 32768)
    mono = load_sound((np.int64(16000), array[:, 0]))
    assert len(mono.samples) == len(array)


def test_uint8_pair_is_centred():
    sound = load_sound((8000, np.full(800, 128, dtype=np.uint8)))
    assert np.all(sound.samples == 0) and sound.silent


def test_sound_passes_through_or_is_resampled(wav_file):
    sound = load_sound(wav_file)
    assert load_sound(sound) is sound
    resampled = load_sound(sound, rate=44100)
    assert resampled.rate == 44100 and len(resampled.samples) == 2 * len(sound.samples)


def test_ten_minute_file_is_cut_quickly(long_file, monkeypatch):
    reads = []
    real_read = soundfile.SoundFile.read

    def spy(self, frames=-1, *args, **kwargs):
        reads.append(frames)
        return real_read(self, frames, *args, **kwargs)

    monkeypatch.setattr(soundfile.SoundFile, "read", spy)
    start = time.perf_counter()
    sound = load_sound(long_file)
    seconds = time.perf_counter() - start
    assert sound.truncated and sound.source_seconds == pytest.approx(600.0)
    assert sound.seconds == pytest.approx(DEFAULT_LIMITS.max_seconds)
    assert reads == [30 * 8000]  # only the frames kept were decoded
    assert seconds < 1.0
    assert np.max(np.abs(sound.samples[:8000])) > 0.8  # the first seconds, not the middle


def test_ten_minute_bytes_and_pair_are_cut(long_file):
    from_bytes = load_sound(long_file.read_bytes())
    assert from_bytes.truncated and from_bytes.seconds == pytest.approx(30.0)
    limits = AudioLimits(max_seconds=2.0)
    pair = load_sound((8000, np.zeros((8000 * 5, 2), dtype=np.int16)), limits=limits)
    assert pair.truncated and pair.seconds == 2.0 and pair.source_seconds == 5.0


def test_short_clip_is_accepted(tmp_path, sounds):
    sound = load_sound(sounds.write(tmp_path / "x.wav", sounds.tone(0.05, 8000), 8000))
    assert len(sound.samples) == 400 and not sound.truncated


def test_silence_is_accepted_and_flagged(tmp_path, sounds):
    silent = load_sound(sounds.write(tmp_path / "x.wav", np.zeros(8000), 8000))
    assert silent.silent and not silent.truncated
    dither = sounds.noise(1.0, 8000, rms=1e-6)
    assert load_sound((8000, dither)).silent
    assert not load_sound((8000, sounds.noise(1.0, 8000, rms=1e-3))).silent


def test_file_size_limit(wav_file):
    limits = AudioLimits(max_file_bytes=1000)
    for source in (wav_file, wav_file.read_bytes()):
        with pytest.raises(AudioError, match="MB are accepted"):
            load_sound(source, limits=limits)


def test_limits_are_checked():
    with pytest.raises(ConfigError):
        AudioLimits(max_seconds=0)
    with pytest.raises(ConfigError):
        AudioLimits(min_rate=10, max_rate=5)
    with pytest.raises(ConfigError, match="target rate"):
        load_sound((8000, np.zeros(800)), rate=5)


# --- bad input: each one an AudioError (a SoundEditError) that names the problem ---------------


def _expect(source, match, **kwargs):
    with pytest.raises(AudioError, match=match) as info:
        load_sound(source, **kwargs)
    assert isinstance(info.value, SoundEditError)
    return info.value


def test_empty_file(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    _expect(tmp_path / "empty.wav", "empty")
    _expect(b"", "empty")


def test_zero_samples(tmp_path, sounds):
    path = sounds.write(tmp_path / "x.wav", np.zeros((0, 1)), 8000)
    _expect(path, "no samples")
    _expect((8000, np.zeros(0, dtype=np.int16)), "no samples")


def test_one_sample_is_refused_with_the_minimum(tmp_path, sounds):
    path = sounds.write(tmp_path / "x.wav", np.full(1, 0.5), 8000)
    _expect(path, "1 sample.*at least 0.01 s")


def test_truncated_header(wav_file):
    _expect(wav_file.read_bytes()[:30], "could not be decoded.*accepted: WAV")


def test_random_bytes_named_wav(tmp_path):
    path = tmp_path / "noise.wav"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    error = _expect(path, "could not be decoded")
    assert "noise.wav" in str(error) and "FLAC" in str(error)


def test_directory(tmp_path):
    _expect(tmp_path, "is a directory")


def test_missing_path_is_both_audio_and_file_not_found_error(tmp_path):
    error = _expect(tmp_path / "nope.wav", "no such sound file")
    assert isinstance(error, AudioFileNotFoundError)
    assert isinstance(error, FileNotFoundError)


def test_nan_and_inf_samples(tmp_path):
    samples = np.zeros(800, dtype=np.float32)
    samples[10], samples[20] = np.nan, np.inf
    path = tmp_path / "nan.wav"
    soundfile.write(str(path), samples, 8000, subtype="FLOAT")
    _expect(path, "2 NaN or infinite")
    _expect((8000, samples), "only finite samples")


@pytest.mark.parametrize("rate", [500, 400_000])
def test_absurd_rates_in_files(tmp_path, sounds, rate):
    path = sounds.write(tmp_path / "x.wav", np.zeros(2000), rate)
    _expect(path, f"{rate} Hz; accepted rates are 1000-384000 Hz")


@pytest.mark.parametrize("rate", [0, 4_000_000_000])
def test_absurd_rates_in_headers(wav_file, rate):
    header = bytearray(wav_file.read_bytes())
    header[24:28] = rate.to_bytes(4, "little")  # the WAV fmt chunk's sample rate
    _expect(bytes(header), "Hz|could not be decoded")


@pytest.mark.parametrize("rate", [0, -8000, 10**9, 44100.5, "44100", None])
def test_absurd_rates_in_pairs(rate):
    _expect((rate, np.zeros(8000, dtype=np.int16)), "rate|sample_rate")


def test_many_channels(tmp_path, sounds):
    six = load_sound(sounds.write(tmp_path / "six.wav", sounds.multichannel(0.1, 8000, 6), 8000))
    assert six.samples.ndim == 1  # 5.1 is legitimate: averaged to mono
    path = sounds.write(tmp_path / "x.wav", np.zeros((800, 33)), 8000)
    _expect(path, "33 channels; up to 32 are accepted")
    _expect((8000, np.zeros((2, 8000), dtype=np.int16)), "transposed")
    seven = sounds.write(tmp_path / "y.wav", np.zeros((800, 7)), 8000)
    _expect(seven, "7 channels; up to 6", limits=AudioLimits(max_channels=6))


def test_unsupported_sources():
    _expect(12345, "give a file path")
    _expect((8000, np.zeros((4, 4, 4))), "shape")
    _expect((8000, np.array(["a", "b"])), "not sound")


def test_sound_validates_its_samples():
    with pytest.raises(AudioError):
        Sound(np.zeros((2, 2), np.float32), 8000, 0.0, False, True)
    with pytest.raises(AudioError):
        Sound(np.zeros(4), 8000, 0.0, False, True)  # float64


def test_nothing_is_left_in_temp(tmp_path, monkeypatch, wav_file, long_file):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)
    before = set(os.listdir(wav_file.parent))
    sources = [
        wav_file,
        wav_file.read_bytes(),
        long_file,
        b"",
        wav_file.read_bytes()[:30],
        tmp_path / "missing.wav",
        (8000, np.zeros(800)),
    ]
    for source in sources:
        try:
            load_sound(source, rate=16000)
        except AudioError:
            pass
    assert os.listdir(scratch) == []
    assert set(os.listdir(wav_file.parent)) == before


@pytest.mark.parametrize("prefix", [b"", b"RIFF", b"\xff\xfb", b"ID3\x03\x00", b"OggS", b"fLaC"])
def test_random_bytes_behind_real_magic_numbers(prefix):
    for seed in range(20):
        rng = np.random.default_rng(seed)
        _expect(prefix + rng.bytes(int(rng.integers(1, 8000))), "accepted|no samples|sample")


@pytest.mark.parametrize("fmt, suffix", [("WAV", "wav"), ("FLAC", "flac"), ("OGG", "ogg")])
def test_files_cut_mid_stream_load_or_fail_cleanly(tmp_path, sounds, fmt, suffix):
    path = sounds.write(tmp_path / f"x.{suffix}", sounds.noise(1.0, 22050), 22050, format=fmt)
    data = path.read_bytes()
    loaded = {}
    for fraction in (0.2, 0.5, 0.9):
        try:
            sound = load_sound(data[: int(len(data) * fraction)])
        except AudioError as e:  # FLAC (lost sync) and short OGG cuts: one plain sentence
            assert re.search("could not be decoded|contains no samples", str(e)), str(e)
            assert "\n" not in str(e) and "Traceback" not in str(e)
            continue
        assert 0 < sound.seconds <= 1.0 and np.all(np.isfinite(sound.samples))
        loaded[fraction] = sound.seconds
    if fmt == "WAV":  # plain frames: a cut WAV keeps every whole frame that arrived
        assert set(loaded) == {0.2, 0.5, 0.9}
        assert all(abs(seconds - f) < 0.01 for f, seconds in loaded.items()), loaded


def test_headerless_raw_and_misnamed_files(tmp_path, sounds):
    raw = sounds.write(tmp_path / "x.raw", np.zeros(800), 8000, subtype="PCM_16")
    _expect(raw, "x.raw could not be decoded.*accepted")
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(np.random.default_rng(5).bytes(3000))
    _expect(junk, "junk.mp3 could not be decoded")


def test_a_header_promising_more_than_the_file_holds(tmp_path, sounds):
    path = sounds.write(tmp_path / "x.wav", sounds.noise(1.0, 8000), 8000, subtype="PCM_16")
    sound = load_sound(path.read_bytes()[: 44 + 2 * 4000])  # header says 1 s, data holds 0.5 s
    assert sound.seconds == pytest.approx(0.5) and not sound.truncated
    assert sound.source_seconds == pytest.approx(0.5)
