"""The /edit endpoint checks its own inputs before Gradio's preprocessing speaks.

Gradio checks an API call's values in its own words (a multi-line "Could not preprocess ..."
naming its components, or "didn't receive enough input values" with the components' Python
reprs) and rounds numbers to its ``precision`` (``seed=1.5`` would silently become 2). Here the
raw values of an /edit call are checked first against the library's one table of limits
(:mod:`soundedit.edit.limits`), so the API refuses exactly what the CLI and the page refuse, in
the same sentence; a call with fewer inputs than the endpoint has is completed with the
documented defaults ("only the sound is needed").
"""

from __future__ import annotations

import numbers
import os

import gradio as gr

from soundedit.edit.limits import LIMITS, check_text, check_value
from soundedit.errors import ConfigError, shown
from soundedit.settings import MODES

API_NAME = "edit"
API_INPUTS = ("sound", "world", "seed", "steps", "text", "mode")  # the endpoint's order
UPLOAD_HINT = "upload it with gradio_client's handle_file('rain.wav')"


def guard_api_inputs(demo: gr.Blocks, api_name: str = API_NAME) -> None:
    """Check the raw inputs of ``api_name`` calls before Gradio preprocesses them.

    Gradio calls ``Blocks.validate_inputs`` first with the call's raw values; the calls of other
    events go on to Gradio's own check unchanged.
    """
    gradio_check = demo.validate_inputs

    def validate_inputs(block_fn, inputs: list) -> None:
        if getattr(block_fn, "api_name", None) == api_name:
            inputs.extend([None] * (len(block_fn.inputs) - len(inputs)))  # the defaults
            refusal = api_refusal(inputs[: len(API_INPUTS)])
            if refusal is not None:
                raise gr.Error(refusal, print_exception=False)
        gradio_check(block_fn, inputs)

    demo.validate_inputs = validate_inputs


def api_refusal(values: list) -> str | None:
    """The sentence that refuses raw /edit values (in API_INPUTS order), or None when fine."""
    sound, world, seed, steps, text, mode = values
    try:
        _check_sound(sound)
        if world is not None and not isinstance(world, str):
            raise ConfigError(f"world must be a world's name (text), got {shown(world)}")
        _check_number("seed", seed, default=0)
        _check_number("steps", steps, default=0)
        if text is not None and not isinstance(text, str):
            raise ConfigError(f"text must be words (a string), got {shown(text)}")
        check_text(" ".join(text.split()) if text else text)  # lines joined, as the page does
        if mode not in (None, "", *MODES):
            raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {shown(mode)}")
    except ConfigError as e:
        return str(e)
    return None


def _check_number(key: str, value, *, default) -> None:
    """A JSON number within LIMITS[key] (``default`` stands for "the world's own")."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real | None):
        raise ConfigError(f"{key} must be {LIMITS[key].describe()}, got {shown(value)}")
    if value is not None and value != default:
        check_value(key, value)


def _check_sound(sound) -> None:
    """An uploaded file's record (what handle_file sends), or nothing."""
    if sound is None:
        return
    path = sound.get("path") if isinstance(sound, dict) else None
    if not isinstance(path, str) or not path:
        raise ConfigError(f"sound must be a sound file; {UPLOAD_HINT}; got {shown(sound)}")
    if not (os.path.isabs(path) or path.startswith(("http://", "https://"))):
        name = os.path.basename(path)
        raise ConfigError(
            f"sound {shown(name)} is a path on your machine, not an upload; {UPLOAD_HINT}"
        )
