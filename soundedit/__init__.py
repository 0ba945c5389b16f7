"""soundedit: edit StyleGAN2 images with sound.

The library never imports gradio; the app lives in ``demo/`` and ``app.py``.
"""

from soundedit import soundscapes  # noqa: E402,F401  (the embedded world registers itself)
from soundedit.errors import (
    AudioError,
    CheckpointError,
    ConfigError,
    SoundEditError,
    WeightsNotFoundError,
)

__version__ = "0.1.0"

__all__ = [
    "AudioError",
    "CheckpointError",
    "ConfigError",
    "SoundEditError",
    "WeightsNotFoundError",
    "__version__",
]
