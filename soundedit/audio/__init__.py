"""Sound in, features out: decoding within limits, gain and mixing, mel front ends, SpecAugment.

>>> from soundedit.audio import load_sound, apply_gain, compute_features
>>> sound = load_sound("rain.wav")              # mono float32, first 30 s at most
>>> louder = apply_gain(sound, 6.0)             # +6 dB, hard-clipped at +-1
>>> x = compute_features(louder, "soundscapes")  # torch [1, 64, 251]
"""

from soundedit.audio.augment import spec_augment
from soundedit.audio.features import (
    FRONT_ENDS,
    FrontEnd,
    compute_features,
    compute_features_batch,
    get_front_end,
)
from soundedit.audio.io import (
    DEFAULT_LIMITS,
    AudioFileNotFoundError,
    AudioLimits,
    Sound,
    load_sound,
    resample_sound,
)
from soundedit.audio.shape import apply_gain, fit_length, mix

__all__ = [
    "DEFAULT_LIMITS",
    "FRONT_ENDS",
    "AudioFileNotFoundError",
    "AudioLimits",
    "FrontEnd",
    "Sound",
    "apply_gain",
    "compute_features",
    "compute_features_batch",
    "fit_length",
    "get_front_end",
    "load_sound",
    "mix",
    "resample_sound",
    "spec_augment",
]
