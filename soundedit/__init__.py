"""soundedit: edit StyleGAN2 images with sound.

The front door::

    import soundedit

    bundle = soundedit.load_bundle()  # the embedded SoundScapes world
    request = soundedit.EditRequest.of(audio="assets/sounds/rain.wav", seed=0)
    result = soundedit.run_to_end(bundle, request)
    result.images["sound"]  # uint8 [H, W, 3]

``run_edit`` gives the same edit step by step (an :class:`EditRun`: iterate it, ``stop()`` it,
then ``result()``); ``instant_edit`` gives it in one forward pass of the world's mapper.
``result.report`` is an :class:`EditReport` (``to_dict()`` is report.json); ``run.recognition`` a
:class:`Recognition` of the sound. The library never imports gradio; the app lives in ``demo/``
and ``app.py``.
"""

from soundedit import soundscapes  # noqa: E402,F401  (the embedded world registers itself)
from soundedit.bundle import Bundle, load_bundle
from soundedit.edit.pipeline import EditResult, EditRun, instant_edit, run_edit, run_to_end
from soundedit.edit.report import EditReport, PhaseReport, Recognition, SoundMatch
from soundedit.errors import (
    AudioError,
    CheckpointError,
    ConfigError,
    SoundEditError,
    WeightsNotFoundError,
)
from soundedit.settings import EditConfig, EditRequest

__version__ = "0.1.0"

__all__ = [
    "AudioError",
    "Bundle",
    "CheckpointError",
    "ConfigError",
    "EditConfig",
    "EditReport",
    "EditRequest",
    "EditResult",
    "EditRun",
    "PhaseReport",
    "Recognition",
    "SoundEditError",
    "SoundMatch",
    "WeightsNotFoundError",
    "__version__",
    "instant_edit",
    "load_bundle",
    "run_edit",
    "run_to_end",
]
