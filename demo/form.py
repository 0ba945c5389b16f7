"""From the page's widget values to an EditRequest, checked with plain-language errors."""

from __future__ import annotations

import random
from typing import Any

from soundedit.edit.limits import LIMITS, MAX_SEED, check_value

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


# Form fields that override the world's settings (EditConfig fields); the rest are inputs.
SETTINGS = (
    "steps",
    "lr",
    "lambda_reg",
    "lambda_id",
    "truncation",
    "mix_layer",
    "preview_every",
    "adaptive_mask",
    "guidance",
)


def build_request(form: dict[str, Any]):
    """The EditRequest of the page's values (form field name -> value), or ValueError saying
    what is missing. A setting left out or None takes the world's default (see resolve).
    """
    from soundedit.settings import EditRequest

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
    """None (the world's default) or the value checked against the shared limits."""
    if value is None or key in ("adaptive_mask", "guidance"):
        return value if key != "adaptive_mask" or value is None else bool(value)
    if key == "preview_every":
        return max(1, check_value(key, value))
    return check_value(key, value)
