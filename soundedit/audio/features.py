"""Mel-spectrogram front ends as named configs: a sound -> the tensor an audio encoder reads.

Two kinds:

- ``"soundclip"`` reproduces the authors' inference preprocessing (kuai-lab's
  optimization/run_optimization.py, librosa 0.8.1): 44.1 kHz, 128-band mel power spectrogram
  (n_fft 2048, hop 512, centred frames with *reflect* padding, librosa 0.8's default),
  ``power_to_db(S, ref=max) / 80 + 1`` over the whole clip (so each clip is scaled to its own
  peak: level is lost), then the **centre** 864 frames (theirs: a random crop) or right-padding
  with zeros to 864 frames, then OpenCV's ``resize(x, (128, 512))`` (bilinear, half-pixel
  centres, no antialiasing) to a 512 x 128 array, then a raw **reshape** (not a transpose) to
  [1, 128, 512]. The one difference left is resampling: their librosa used resampy's
  ``kaiser_best``, we use soxr (``soxr_hq``); sounds already at 44.1 kHz are unaffected.
- ``"level"`` keeps level: the sound is first cut (centre) or zero-padded (end) to exactly
  ``n_frames`` frames, the STFT power is normalised by the window sum (a full-scale sine reads
  about -6 dB in its band), mel bands are plain triangles (peak 1), and
  ``features = (max(dB, db_floor) - db_floor) / -db_floor``. With the default floor of -100 dB,
  0 means -100 dB or quieter and +6 dB of gain adds exactly 0.06 wherever the band is above the
  floor.

Front ends in :data:`FRONT_ENDS`: ``soundclip`` [1, 128, 512], ``level`` (44.1 kHz, 128 mels,
864 frames ~ 10 s) [1, 128, 864], and ``soundscapes`` (16 kHz, 64 mels, n_fft 512, hop 256,
exactly 4 s) [1, 64, 251], small enough for CPU training.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

import librosa
import numpy as np
import torch
import torch.nn.functional as F

from soundedit.audio.io import Sound, resample
from soundedit.audio.shape import fit_length
from soundedit.errors import AudioError, ConfigError

AMIN = 1e-10  # power floor before log10, as librosa.power_to_db


@dataclass(frozen=True)
class FrontEnd:
    """A named mel front end (see the module doc for what each kind does)."""

    name: str  # the registry name, stored in encoder configs
    kind: Literal["soundclip", "level"]  # per-clip-max dB + resize quirk, or fixed-reference dB
    sample_rate: int  # features are computed at this rate; input is resampled to it
    n_mels: int  # mel bands
    n_fft: int  # STFT window and FFT length in samples
    hop_length: int  # STFT hop in samples
    n_frames: int  # time frames after the deterministic centre crop / zero pad
    pad_mode: str = "constant"  # STFT edge padding of centred frames (authors': "reflect")
    fmax: float | None = None  # top edge of the mel bands in Hz (None = Nyquist)
    db_floor: float = -100.0  # level kind: this dB maps to 0, quieter is clipped to 0
    resize: tuple[int, int] = (512, 128)  # soundclip kind: (rows, cols) of the bilinear resize

    def __post_init__(self):
        if self.kind not in ("soundclip", "level"):
            raise ConfigError(f"front end kind must be 'soundclip' or 'level', got {self.kind!r}")
        for field in ("sample_rate", "n_mels", "n_fft", "hop_length", "n_frames"):
            if int(getattr(self, field)) < 1:
                raise ConfigError(f"front end {field} must be positive")
        if self.db_floor >= 0:
            raise ConfigError(f"db_floor must be negative, got {self.db_floor}")
        rows, cols = self.resize
        if self.kind == "soundclip" and (rows * cols) % self.n_mels:
            raise ConfigError(f"resize {self.resize} does not reshape to {self.n_mels} rows")

    @property
    def output_shape(self) -> tuple[int, int, int]:
        """The feature shape [1, H, W] this front end produces."""
        if self.kind == "soundclip":
            rows, cols = self.resize
            return (1, self.n_mels, rows * cols // self.n_mels)
        return (1, self.n_mels, self.n_frames)

    @property
    def seconds(self) -> float:
        """Duration of sound the features cover."""
        return (self.n_frames - 1) * self.hop_length / self.sample_rate


FRONT_ENDS: dict[str, FrontEnd] = {
    "soundclip": FrontEnd(
        name="soundclip",
        kind="soundclip",
        sample_rate=44_100,
        n_mels=128,
        n_fft=2048,
        hop_length=512,
        n_frames=864,
        pad_mode="reflect",
    ),
    "level": FrontEnd(
        name="level",
        kind="level",
        sample_rate=44_100,
        n_mels=128,
        n_fft=2048,
        hop_length=512,
        n_frames=864,
    ),
    "soundscapes": FrontEnd(
        name="soundscapes",
        kind="level",
        sample_rate=16_000,
        n_mels=64,
        n_fft=512,
        hop_length=256,
        n_frames=251,
    ),
}


def get_front_end(name: str | FrontEnd) -> FrontEnd:
    """The front end called ``name`` (a FrontEnd is returned as is).

    Raises:
        ConfigError: unknown name; the message lists the known ones.
    """
    if isinstance(name, FrontEnd):
        return name
    try:
        return FRONT_ENDS[name]
    except (KeyError, TypeError):
        raise ConfigError(
            f"unknown audio front end {name!r}; choose one of {', '.join(sorted(FRONT_ENDS))}"
        ) from None


def compute_features(
    sound: Sound | np.ndarray, front_end: FrontEnd | str, *, rate: int | None = None
) -> torch.Tensor:
    """Features of one sound: float32 tensor [1, H, W] (``front_end.output_shape``).

    Args:
        sound: a Sound, or a 1-D float array of samples.
        front_end: a FrontEnd or its name.
        rate: the sample rate of an array (None = already at the front end's rate); must match
            a Sound's own rate when both are given.

    Raises:
        AudioError: not a 1-D finite signal. ConfigError: unknown front end or mismatched rate.
    """
    fe = get_front_end(front_end)
    samples, source_rate = _signal(sound, rate, fe)
    samples = resample(samples, source_rate, fe.sample_rate)
    if fe.kind == "soundclip":
        out = _soundclip(samples, fe)
    else:
        out = _level(samples, fe)
    # a loaded Sound is finite and within [-1, 1]; a raw array of huge values may not be
    if not torch.isfinite(out).all():
        raise AudioError("the sound's features are not finite; give samples within [-1, 1]")
    return out.unsqueeze(0)  # [1, H, W]


def compute_features_batch(sounds, front_end: FrontEnd | str, *, rate: int | None = None):
    """Features of several sounds: float32 tensor [B, 1, H, W]."""
    if len(sounds) == 0:
        raise ConfigError("compute_features_batch needs at least one sound")
    return torch.stack([compute_features(s, front_end, rate=rate) for s in sounds])


def mel_power(samples: np.ndarray, fe: FrontEnd, *, normalised: bool) -> np.ndarray:
    """Mel power spectrogram [n_mels, frames] of float32 ``samples`` (centred frames)."""
    spec = librosa.stft(samples, n_fft=fe.n_fft, hop_length=fe.hop_length, pad_mode=fe.pad_mode)
    power = np.abs(spec) ** 2  # [1 + n_fft/2, frames]
    if normalised:  # a full-scale sine's bin then reads (1/2)^2, about -6 dB
        power = power / np.float32((fe.n_fft / 2) ** 2)
    return _mel_basis(fe.sample_rate, fe.n_fft, fe.n_mels, fe.fmax, not normalised) @ power


@functools.lru_cache(maxsize=16)
def _mel_basis(rate: int, n_fft: int, n_mels: int, fmax, slaney: bool) -> np.ndarray:
    norm = "slaney" if slaney else None
    return librosa.filters.mel(sr=rate, n_fft=n_fft, n_mels=n_mels, fmax=fmax, norm=norm)


def _signal(sound, rate, fe: FrontEnd) -> tuple[np.ndarray, int]:
    if isinstance(sound, Sound):
        if rate is not None and rate != sound.rate:
            raise ConfigError(f"rate={rate} given for a Sound at {sound.rate} Hz; leave it out")
        return sound.samples, sound.rate
    samples = np.asarray(sound)
    if samples.ndim != 1 or samples.dtype.kind != "f":
        raise AudioError(
            f"features need a Sound or a 1-D float array of samples, got {samples.dtype} "
            f"{samples.shape}"
        )
    if samples.size == 0 or not np.all(np.isfinite(samples)):
        raise AudioError("features need a non-empty array of finite samples")
    return samples.astype(np.float32, copy=False), int(rate or fe.sample_rate)


def _soundclip(samples: np.ndarray, fe: FrontEnd) -> torch.Tensor:
    mel = mel_power(samples, fe, normalised=False)
    ref = max(float(mel.max()), AMIN)  # power_to_db(ref=np.max), over the whole clip
    db = 10.0 * np.log10(np.maximum(mel, AMIN)) - 10.0 * np.log10(ref)
    x = np.maximum(db, db.max() - 80.0) / 80.0 + 1.0  # top_db=80, then the authors' scaling
    frames = x.shape[1]
    if frames >= fe.n_frames:
        start = (frames - fe.n_frames) // 2  # deterministic: the centre (theirs: random)
        x = x[:, start : start + fe.n_frames]
    else:
        x = np.pad(x, ((0, 0), (0, fe.n_frames - frames)))  # right-pad with zeros
    image = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))[None, None]
    # cv2.resize(INTER_LINEAR) == bilinear with half-pixel centres and no antialiasing
    resized = F.interpolate(image, size=fe.resize, mode="bilinear", align_corners=False)
    return resized.reshape(fe.n_mels, -1)  # the raw reshape, not a transpose: [128, 512]


def _level(samples: np.ndarray, fe: FrontEnd) -> torch.Tensor:
    n = (fe.n_frames - 1) * fe.hop_length  # centred STFT of n samples gives n_frames frames
    if len(samples) > n:
        start = (len(samples) - n) // 2  # deterministic centre crop
        samples = samples[start : start + n]
    samples = fit_length(samples, n, mode="pad")
    mel = mel_power(np.ascontiguousarray(samples), fe, normalised=True)
    db = 10.0 * np.log10(np.maximum(mel, AMIN))
    x = (np.maximum(db, fe.db_floor) - fe.db_floor) / -fe.db_floor
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))  # [n_mels, n_frames]
