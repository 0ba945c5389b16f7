"""From the page's widget values to an EditRequest, checked with plain-language errors."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

from soundedit.edit.limits import LIMITS, MAX_SEED, check_value
from soundedit.limit import number_of
from soundedit.settings import EditRequest, resolve, settings_of

MODES = ("sound", "text", "mix", "blend")
SOURCES = ("seed", "drawn", "latent", "photo")  # drawn: the seed's own scene, not the world's start
MAX_STEPS = int(LIMITS["steps"].high)  # the same limit as the CLI and the library


def clamp_seed(seed: Any) -> int:
    """The page's seed as an int, or ValueError: the CLI and the API accept the same range.

    (The name stays for the callers; seeds outside 0 … 2**32 - 1 are refused, not wrapped, so
    that a seed means the same image on every surface.)
    """
    return check_value("seed", seed)


def new_seed() -> int:
    """Handler of "New random"."""
    return random.randint(0, MAX_SEED)


# Form fields that override the world's settings: the settings the page offers, as declared on
# EditConfig (soundedit.settings); the rest of the form are inputs.
SETTINGS = tuple(name for name, spec in settings_of().items() if spec.page is not None)


def world_settings(bundle) -> dict[str, Any]:
    """The settings the page shows for a world: those a run with no overrides would use."""
    config = resolve(bundle, EditRequest())
    return {name: getattr(config, name) for name in SETTINGS}


def only_changes(request, shown: dict[str, Any]):
    """``request`` without the overrides equal to the world's ``shown`` settings: a widget the
    visitor left at the world's value sends nothing."""
    changed = {k: v for k, v in request.given().items() if k not in shown or shown[k] != v}
    return dataclasses.replace(request, overrides=changed)


def build_request(form: dict[str, Any]):
    """The EditRequest of the page's values (form field name -> value), or ValueError saying
    what is missing. A setting left out or None takes the world's default (see resolve).
    """
    mode, source = form.get("mode") or "sound", form.get("source") or "seed"
    _check_form(form, mode, source)
    text = " ".join((form.get("text") or "").split()) or None  # line breaks, tabs: one space
    sound = form.get("sound")
    return EditRequest(
        audio=sound if mode != "text" else None,
        audio2=form.get("sound2") if mode != "text" else None,
        mix=check_value("mix", form.get("mix", 0.5)),
        gain_db=check_value("gain_db", form.get("gain_db", 0.0), "volume (gain_db)"),
        text=text if mode != "sound" else None,
        mode=mode,
        blend=check_value("blend", form.get("blend", 0.5)),
        seed=clamp_seed(form.get("seed", 0)),
        start="seed" if source == "drawn" else "world",
        source_latent=form.get("latent_file") if source == "latent" else None,
        source_image=form.get("photo") if source == "photo" else None,
        overrides={key: _setting(key, form.get(key)) for key in SETTINGS},
    )


def _check_form(form: dict[str, Any], mode: str, source: str) -> None:
    """ValueError in the page's words for a missing input."""
    if mode not in MODES:
        raise ValueError(f"Unknown guidance mode {mode!r}; choose one of {', '.join(MODES)}.")
    if mode != "text" and form.get("sound") is None:
        raise ValueError(
            "Give a sound first: record one, upload a file, or click an example sound."
        )
    if mode != "sound" and not (form.get("text") or "").strip():
        raise ValueError(f"The {mode!r} mode needs a text prompt, e.g. “heavy rain at night”.")
    if source not in SOURCES:
        raise ValueError(f"Unknown source {source!r}; choose one of {', '.join(SOURCES)}.")
    if source == "latent" and not form.get("latent_file"):
        raise ValueError("Upload a latent file (.pt, .npy, .safetensors) or pick another source.")
    if source == "photo" and not form.get("photo"):
        raise ValueError("Upload a photo to project, or pick another source.")


def _setting(key: str, value):
    """None (the world's default) or the page's value as the setting takes it: a whole number
    from a slider's float, a checkbox as yes/no. EditConfig checks it (once), in the same words
    as on the command line."""
    spec = settings_of()[key]
    if value is None or spec.choices:
        return value
    if spec.limit is None:
        return bool(value)
    number = number_of(value, spec.limit.integer)
    return value if number is None else number
