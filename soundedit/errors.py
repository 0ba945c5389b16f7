"""The project's error types.

Every error raised at a public boundary is a :class:`SoundEditError`, so the CLI and the app can
show its message to a person instead of a stack trace. Each also derives from the built-in type a
Python caller would expect (``ValueError``, ``FileNotFoundError``).
"""


class SoundEditError(Exception):
    """Base class: the message says what was wrong and what is accepted."""


class ConfigError(SoundEditError, ValueError):
    """A configuration file or value is malformed, unknown or out of range."""


class AudioError(SoundEditError, ValueError):
    """A sound could not be read or does not fit the accepted limits."""


class CheckpointError(SoundEditError, ValueError):
    """A checkpoint has an unsupported layout, is damaged, or was refused as unsafe."""


class WeightsNotFoundError(SoundEditError, FileNotFoundError):
    """A weights file is neither in ``weights/``, nor cached, nor downloadable right now."""
