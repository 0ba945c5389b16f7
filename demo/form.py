"""From the page's widget values to an EditRequest, checked with plain-language errors."""

from __future__ import annotations

import random
from typing import Any

from soundedit.edit.limits import LIMITS, MAX_SEED, check_value

MODES = ("sound", "text", "mix", "blend")
SOURCES = ("seed", "latent", "photo")
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


def build_request(
    *,
    sound=None,
    sound2=None,
    mix: float = 0.5,
    gain_db: float = 0.0,
    mode: str = "sound",
    text: str | None = None,
    mix_layer: int | None = None,
    blend: float = 0.5,
    source: str = "seed",
    seed: Any = 0,
    truncation: float | None = None,
    latent_file: str | None = None,
    photo: str | None = None,
    steps: Any = None,
    lr: float | None = None,
    lambda_reg: float | None = None,
    adaptive_mask: bool = True,
    lambda_id: float | None = None,
    guidance: str = "cosine",
    preview_every: Any = None,
):
    """The EditRequest for the page's values, or ValueError saying what is missing.

    None leaves a setting to the world's default.
    """
    from soundedit.edit.pipeline import EditRequest

    if mode not in MODES:
        raise ValueError(f"Unknown guidance mode {mode!r}; choose one of {', '.join(MODES)}.")
    text = (text or "").strip() or None
    if mode != "text" and sound is None:
        raise ValueError(
            "Give a sound first: record one, upload a file, or click an example sound."
        )
    if mode != "sound" and text is None:
        raise ValueError(f"The {mode!r} mode needs a text prompt, e.g. “heavy rain at night”.")
    if source not in SOURCES:
        raise ValueError(f"Unknown source {source!r}; choose one of {', '.join(SOURCES)}.")
    if source == "latent" and not latent_file:
        raise ValueError("Upload a latent file (.pt, .npy, .safetensors) or pick another source.")
    if source == "photo" and not photo:
        raise ValueError("Upload a photo to project, or pick another source.")
    steps = None if steps is None else check_value("steps", steps)
    mix_layer = None if mix_layer is None else check_value("mix_layer", mix_layer)
    if preview_every is not None:
        preview_every = max(1, check_value("preview_every", preview_every))
    return EditRequest(
        audio=sound if mode != "text" else None,
        audio2=sound2 if mode != "text" else None,
        mix=check_value("mix", mix),
        gain_db=check_value("gain_db", gain_db, "volume (gain_db)"),
        text=text if mode != "sound" else None,
        mode=mode,
        mix_layer=mix_layer,
        blend=check_value("blend", blend),
        seed=clamp_seed(seed),
        truncation=_optional("truncation", truncation),
        steps=steps,
        lr=_optional("lr", lr),
        lambda_reg=_optional("lambda_reg", lambda_reg),
        lambda_id=_optional("lambda_id", lambda_id),
        adaptive_mask=bool(adaptive_mask),
        guidance=guidance,
        preview_every=preview_every,
        source_latent=latent_file if source == "latent" else None,
        source_image=photo if source == "photo" else None,
    )


def _optional(key: str, value):
    """None (the world's default) or the value checked against the shared limits."""
    return None if value is None else check_value(key, value)
