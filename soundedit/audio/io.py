"""Any sound in -> one mono float32 signal, within named limits.

``load_sound`` accepts a path, the bytes of a file, a ``(sample_rate, array)`` pair as Gradio
gives it, or a :class:`Sound`. Files are decoded by libsndfile (through ``soundfile``): WAV
(8/16/24/32-bit integer, 32/64-bit float), FLAC, OGG/Vorbis and Opus, MP3 (libsndfile >= 1.1),
AIFF and the other formats it reads. Nothing is written to disk: bytes are decoded from memory.

What happens to a sound, in order:

1. the header is checked against :class:`AudioLimits` (file size, sample rate, channels) before
   any sample is decoded;
2. only the first ``max_seconds`` are read (``SoundFile.read(frames=...)``): a 10-minute podcast
   costs what 30 s cost, and the result says ``truncated=True`` with the ``source_seconds``;
3. integer samples become float in [-1, 1); float files keep their values;
4. NaN/Inf samples (and float64 values beyond float32's range) and sounds shorter than
   ``min_seconds`` are refused;
5. channels are averaged to mono (a plain mean: 5.1 files are accepted up to ``max_channels``);
6. a float sound that peaks above full scale is scaled down to peak exactly at full scale
   (``fit_full_scale``; ``Sound.scaled_db`` says by how much): this is the one place that
   decides, so the preview plays and the edit hears the same samples, whatever the gain;
7. with ``rate=...`` the sound is resampled with soxr (high quality, through librosa);
8. a sound whose peak is below :data:`SILENCE_DBFS` is accepted and flagged ``silent=True``.

Every loaded Sound therefore has finite samples within [-1, 1].

Every refusal is an :class:`~soundedit.errors.AudioError` naming the problem and what is
accepted. A missing path raises :class:`AudioFileNotFoundError`, which is both an ``AudioError``
and a ``FileNotFoundError``, so either ``except`` clause catches it.
"""

from __future__ import annotations

import dataclasses
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
import soundfile

from soundedit.audio import headers
from soundedit.errors import AudioError, ConfigError

SILENCE_DBFS = -80.0  # a sound whose peak is below this level is flagged silent
ACCEPTED_FORMATS = "WAV (8/16/24/32-bit integer or float), FLAC, OGG (Vorbis or Opus), MP3 or AIFF"
ACCEPTED_SOURCES = "a file path, the file's bytes, a (sample_rate, array) pair, or a Sound"


# what soundfile raises for data it cannot decode (TypeError: headerless RAW needs a rate)
_DECODE_ERRORS = (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError)


class AudioFileNotFoundError(AudioError, FileNotFoundError):
    """The sound file does not exist (catchable as AudioError or FileNotFoundError)."""


@dataclass(frozen=True)
class AudioLimits:
    """What ``load_sound`` accepts; a sound outside these is cut (duration) or refused."""

    max_seconds: float = 30.0  # longer sounds are cut to their first max_seconds (and flagged)
    max_file_bytes: int = 50_000_000  # larger files (or byte strings) are refused unread
    min_rate: int = 1000  # lowest accepted sample rate in Hz
    max_rate: int = 384_000  # highest accepted sample rate in Hz
    max_channels: int = 32  # more channels are refused; up to this many are averaged to mono
    min_seconds: float = 0.01  # shorter sounds (e.g. a single sample) are refused

    def __post_init__(self):
        if not (self.max_seconds > 0 and math.isfinite(self.max_seconds)):
            raise ConfigError(f"max_seconds must be a positive number, got {self.max_seconds}")
        if not 0 <= self.min_seconds < self.max_seconds:
            raise ConfigError(
                f"min_seconds must be in [0, max_seconds={self.max_seconds}), "
                f"got {self.min_seconds}"
            )
        if self.max_file_bytes < 1 or self.max_channels < 1:
            raise ConfigError("max_file_bytes and max_channels must be at least 1")
        if not 1 <= self.min_rate <= self.max_rate:
            raise ConfigError(
                f"need 1 <= min_rate <= max_rate, got {self.min_rate} and {self.max_rate}"
            )


DEFAULT_LIMITS = AudioLimits()


@dataclass(frozen=True, eq=False)  # eq=False: compare samples with numpy, not ==
class Sound:
    """A mono sound: float32 samples [n] at ``rate`` Hz, with what loading did to it."""

    samples: np.ndarray  # float32 [n], mono; integer sources are scaled into [-1, 1)
    rate: int  # sample rate in Hz
    source_seconds: float  # duration of the source before any cut
    truncated: bool  # True when the source was longer than the limit and was cut
    silent: bool  # True when the peak is below SILENCE_DBFS (accepted, but says nothing)
    clipped: int = 0  # samples that apply_gain hard-clipped at +-1 (0 when none)
    scaled_db: float = 0.0  # dB the loader took off a float sound peaking above full scale

    def __post_init__(self):
        samples = self.samples
        if not isinstance(samples, np.ndarray) or samples.ndim != 1:
            raise AudioError("Sound.samples must be a 1-D numpy array (mono)")
        if samples.dtype != np.float32:
            raise AudioError(f"Sound.samples must be float32, got {samples.dtype}")
        if int(self.rate) != self.rate or self.rate <= 0:
            raise AudioError(f"Sound.rate must be a positive integer, got {self.rate}")

    @property
    def seconds(self) -> float:
        """Duration in seconds."""
        return len(self.samples) / self.rate


def load_sound(source, *, rate: int | None = None, limits: AudioLimits = DEFAULT_LIMITS) -> Sound:
    """Decode ``source`` into a mono float32 :class:`Sound` (see the module doc for the steps).

    Args:
        source: a path (str or Path), the bytes of a sound file, a ``(sample_rate, array)`` pair
            (int16/int32/uint8/float; shape (n,) or (n, channels)), or a Sound (returned as is,
            or resampled).
        rate: resample to this rate in Hz; None keeps the source's own rate.
        limits: duration, size, rate and channel limits.

    Raises:
        AudioError: the source cannot be read or is outside ``limits``; the message says why
            and what is accepted. AudioFileNotFoundError for a missing path.
        ConfigError: ``rate`` is outside the accepted sample-rate range.
    """
    if rate is not None and not _is_rate(rate, limits):
        raise ConfigError(
            f"target rate must be an integer in [{limits.min_rate}, {limits.max_rate}] Hz, "
            f"got {rate}"
        )
    if isinstance(source, Sound):
        return source if rate is None else resample_sound(source, int(rate))
    if isinstance(source, (str, os.PathLike)):
        data, native, frames, name = _read_path(Path(source), limits)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data, native, frames, name = _read_bytes(bytes(source), limits)
    elif isinstance(source, (tuple, list)) and len(source) == 2:
        data, native, frames, name = _read_pair(source, limits)
    else:
        raise AudioError(
            f"cannot load a sound from {type(source).__name__}; give {ACCEPTED_SOURCES}"
        )
    return _finish(data, native, frames, name, rate=rate, limits=limits)


def _is_rate(rate, limits: AudioLimits) -> bool:
    return (
        isinstance(rate, (int, float, np.integer, np.floating))
        and float(rate).is_integer()
        and limits.min_rate <= rate <= limits.max_rate
    )


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample float32 ``samples`` [n] with soxr (librosa's ``soxr_hq``), as librosa.load does."""
    if from_rate == to_rate:
        return samples
    out = librosa.resample(samples, orig_sr=from_rate, target_sr=to_rate, res_type="soxr_hq")
    return np.ascontiguousarray(out, dtype=np.float32)


def resample_sound(sound: Sound, rate: int) -> Sound:
    """The same Sound at ``rate`` Hz (unchanged when it already is)."""
    if sound.rate == rate:
        return sound
    samples = resample(sound.samples, sound.rate, rate)
    return dataclasses.replace(sound, samples=samples, rate=int(rate))


def is_silent(samples: np.ndarray) -> bool:
    """True when the peak of ``samples`` is below :data:`SILENCE_DBFS`."""
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    return peak < 10.0 ** (SILENCE_DBFS / 20.0)


def fit_full_scale(samples: np.ndarray) -> tuple[np.ndarray, float]:
    """Finite ``samples`` as float32 within [-1, 1], and the dB taken off to get there.

    Integer sources are within full scale already. A float source may peak above 1 (a mix
    saved without normalising, or garbage such as ``x * 1e30``): it is scaled down to peak at
    exactly 1, which keeps its waveform (hard-clipping a sound at 1e30 would leave a square
    wave). Gain is applied after this, so 0 dB and 0.01 dB give the same sound up to the gain.
    """
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak <= 1.0:
        return np.ascontiguousarray(samples, dtype=np.float32), 0.0
    scaled = np.asarray(samples, dtype=np.float64) / peak
    out = np.clip(scaled, -1.0, 1.0).astype(np.float32)  # rounding must not step past 1
    return np.ascontiguousarray(out), 20.0 * math.log10(peak)


def _read_path(path: Path, limits: AudioLimits):
    name = str(path)
    if not path.exists():
        raise AudioFileNotFoundError(f"no such sound file: {name}; give an existing file path")
    if path.is_dir():
        raise AudioError(f"{name} is a directory; give a sound file ({ACCEPTED_FORMATS})")
    return _read_file(name, path.stat().st_size, name, limits)


def _read_bytes(data: bytes, limits: AudioLimits):
    return _read_file(io.BytesIO(data), len(data), "the sound bytes", limits)


def _read_file(file, size: int, name: str, limits: AudioLimits):
    """Decode a file (path or file object) of ``size`` bytes that messages call ``name``.

    A header that lies about its sizes (see :mod:`soundedit.audio.headers`) is repaired and the
    file read again, as other players do; a fault that cannot be repaired is named in words.
    """
    _check_size(size, name, limits)
    try:
        decoded = _decode(file, name, limits)
        if len(decoded[0]):
            return (*decoded, name)
        failure = None
    except AudioError:
        raise
    except _DECODE_ERRORS as e:
        decoded, failure = None, e
    raw = _raw_bytes(file)
    fault = headers.problem(raw)
    if fault is not None:
        raise AudioError(f"{name} cannot be played: {fault}; accepted: {ACCEPTED_FORMATS}")
    repaired = headers.repair(raw)
    if repaired is not None:
        try:
            return (*_decode(io.BytesIO(repaired), name, limits), name)
        except _DECODE_ERRORS:
            pass  # not this: say what the first decoding found
    if failure is None:
        return (*decoded, name)  # the header holds no samples; _finish says so
    raise _decode_error(name, failure) from failure


def _decode(file, name: str, limits: AudioLimits):
    with soundfile.SoundFile(file) as f:
        return _read_open(f, name, limits)


def _raw_bytes(file) -> bytes:
    if isinstance(file, io.BytesIO):
        return file.getvalue()
    return Path(file).read_bytes()  # at most max_file_bytes: checked above


def _check_size(size: int, name: str, limits: AudioLimits) -> None:
    if size == 0:
        raise AudioError(f"{name} is empty (0 bytes); give a sound file ({ACCEPTED_FORMATS})")
    if size > limits.max_file_bytes:
        raise AudioError(
            f"{name} is {size / 1e6:.1f} MB; files up to {limits.max_file_bytes / 1e6:.0f} MB "
            "are accepted (cut or compress it first)"
        )


# libsndfile's words for a fault -> ours (its own text names C structs and functions)
_DECODER_WORDS = (
    ("sf_info struct incomplete", "its header gives no usable sample rate or channel count"),
    ("psf_fseek", "its header points past the end of the file (it is cut short or damaged)"),
    ("channel count is zero", "its header says it has no channels"),
    ("fmt ' chunk", "its format header (the 'fmt ' chunk) is damaged"),
    ("unimplemented format", "its samples are in an encoding we cannot decode"),
    ("lost sync", "its FLAC data is damaged or cut short"),
    ("malformed", "it is damaged: its header does not match its data"),
    ("unknown format", "its contents are not a sound format we know"),
    ("no 'data' chunk", "no sound data was found in it (its 'data' chunk is missing)"),
)


def _decode_error(name: str, e: Exception) -> AudioError:
    """The decoder's failure in our words: what is wrong with the file, what is accepted."""
    text = str(e).lower()
    detail = next((ours for theirs, ours in _DECODER_WORDS if theirs in text), None)
    return AudioError(
        f"{name} could not be decoded as sound ({detail or 'unrecognised or damaged data'}); "
        f"accepted: {ACCEPTED_FORMATS}"
    )


def _read_open(f: soundfile.SoundFile, name: str, limits: AudioLimits):
    """Check the header of an open file, then read only the frames within the duration limit."""
    _check_rate(f.samplerate, name, limits)
    _check_channels(f.channels, name, limits, hint="")
    keep = _frames_to_keep(f.samplerate, limits)
    wanted = min(f.frames, keep) if f.frames >= 0 else keep
    data = f.read(frames=wanted, dtype="float32", always_2d=True)
    # a header may promise more frames than a damaged or VBR file holds: trust what was read
    frames = max(f.frames, keep) if len(data) == keep else len(data)
    return data, f.samplerate, frames


def _read_pair(pair, limits: AudioLimits):
    """A ``(sample_rate, array)`` pair as Gradio's Audio component gives it."""
    rate, array = pair
    name = "the (sample_rate, array) sound"
    if isinstance(rate, np.ndarray) or not np.isscalar(rate) or isinstance(rate, (str, bool)):
        raise AudioError(
            f"{name}: expected (sample_rate, samples), got ({type(rate).__name__}, ...)"
        )
    if not (float(rate).is_integer()):
        raise AudioError(f"{name}: sample rate must be a whole number of Hz, got {rate}")
    rate = int(rate)
    _check_rate(rate, name, limits)
    array = np.asarray(array)
    if array.ndim not in (1, 2):
        raise AudioError(
            f"{name}: samples must have shape (n,) or (n, channels), got {array.shape}"
        )
    data = array[:, None] if array.ndim == 1 else array
    hint = " (an array of shape (channels, n) must be transposed to (n, channels))"
    _check_channels(
        data.shape[1], name, limits, hint=hint if data.shape[0] <= limits.max_channels else ""
    )
    frames = len(data)
    data = _to_float(data[: _frames_to_keep(rate, limits)], name)
    return data, rate, frames, name


def _to_float(data: np.ndarray, name: str) -> np.ndarray:
    """Integer PCM -> float32 in [-1, 1); floating point kept as is."""
    kind = data.dtype.kind
    if kind == "f":
        return data.astype(np.float32)
    if kind == "i":
        return (data / float(-np.iinfo(data.dtype).min)).astype(np.float32)
    if kind == "u":
        half = float(np.iinfo(data.dtype).max // 2 + 1)
        return ((data - half) / half).astype(np.float32)
    raise AudioError(f"{name}: samples of type {data.dtype} are not sound; give integers or floats")


def _check_rate(rate: int, name: str, limits: AudioLimits) -> None:
    if not limits.min_rate <= rate <= limits.max_rate:
        raise AudioError(
            f"{name} has a sample rate of {rate} Hz; accepted rates are "
            f"{limits.min_rate}-{limits.max_rate} Hz"
        )


def _check_channels(channels: int, name: str, limits: AudioLimits, *, hint: str) -> None:
    if channels < 1:
        raise AudioError(f"{name} has no channels; give a sound with 1 to {limits.max_channels}")
    if channels > limits.max_channels:
        raise AudioError(
            f"{name} has {channels} channels; up to {limits.max_channels} are accepted "
            f"(they are averaged to mono){hint}"
        )


def _frames_to_keep(rate: int, limits: AudioLimits) -> int:
    return int(math.floor(limits.max_seconds * rate))


def _finish(data, native: int, frames: int, name: str, *, rate, limits: AudioLimits) -> Sound:
    """[n, channels] float32 -> a checked mono Sound (at ``rate`` when given)."""
    if frames == 0 or len(data) == 0:
        raise AudioError(
            f"{name} contains no samples; give a sound at least {limits.min_seconds:g} s long"
        )
    if len(data) < limits.min_seconds * native:
        raise AudioError(
            f"{name} is {len(data)} sample(s) ({len(data) / native * 1000:.2f} ms) long; "
            f"sounds of at least {limits.min_seconds:g} s are accepted"
        )
    bad = int(np.count_nonzero(~np.isfinite(data)))
    if bad:
        raise AudioError(
            f"{name} has {bad} NaN or infinite sample(s) of {data.size}; only finite samples "
            "(within float32's range) are accepted"
        )
    # mean in float64: two channels near float32's maximum would overflow a float32 sum
    samples = data.mean(axis=1, dtype=np.float64) if data.shape[1] > 1 else data[:, 0]
    samples, scaled_db = fit_full_scale(samples)
    sound = Sound(
        samples=samples,
        rate=int(native),
        source_seconds=frames / native,
        truncated=frames > len(data),
        silent=is_silent(samples),
        scaled_db=scaled_db,
    )
    return sound if rate is None else resample_sound(sound, int(rate))
