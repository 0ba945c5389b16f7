"""The project's error types.

Every error raised at a public boundary is a :class:`SoundEditError`, so the CLI and the app can
show its message to a person instead of a stack trace. Each also derives from the built-in type a
Python caller would expect (``ValueError``, ``FileNotFoundError``).
"""

import numbers


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


# What a person can cause and fix: shown as its message, never as a stack trace.
EXPECTED_ERRORS = (SoundEditError, ValueError, OSError, MemoryError)


def user_message(error: BaseException) -> str | None:
    """The one-line message to show for an expected error, or None when ``error`` is a bug.

    The CLI and the app both call this, so a person sees the same words on every surface.
    """
    if isinstance(error, MemoryError):
        return "out of memory: try fewer steps, a smaller world or a shorter sound"
    if not isinstance(error, EXPECTED_ERRORS):
        return None
    if isinstance(error, OSError) and not isinstance(error, SoundEditError) and error.filename:
        return f"{error.strerror or type(error).__name__}: {error.filename}"
    message = " ".join(str(error).split())  # one line, whatever the library put in it
    return message or type(error).__name__


def shown(value, limit: int = 40) -> str:
    """``value`` as a message shows it: numbers plainly (numpy's too, never ``np.int64(3)``),
    text quoted and cut to ``limit`` characters with control characters escaped, anything else
    by its kind ("a list")."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):  # numpy's own str keeps float32's short form
        return str(value) if type(value).__module__ == "numpy" else repr(float(value))
    if isinstance(value, str):
        text = repr(value[:limit])
        return text if len(value) <= limit else text[:-1] + "…" + text[-1]
    if value is None:
        return "nothing"
    return f"a {type(value).__name__}"
