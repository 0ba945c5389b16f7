"""From the page's widget values to an EditRequest, checked with plain-language errors."""

from __future__ import annotations

import random
from typing import Any

MODES = ("sound", "text", "mix", "blend")
SOURCES = ("seed", "latent", "photo")
MAX_SEED = 2**32 - 1
MAX_STEPS = 1000  # the page's limit; the CLI allows more


def clamp_seed(seed: Any) -> int:
    """Any number the page sends -> a valid seed (the generator takes 0 … 2**32 - 1)."""
    try:
        return int(seed) % (MAX_SEED + 1)
    except (TypeError, ValueError, OverflowError) as e:
        raise ValueError(f"The seed must be a whole number, got {seed!r}.") from e


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
    if steps is not None and not 1 <= int(steps) <= MAX_STEPS:
        raise ValueError(f"Steps must be between 1 and {MAX_STEPS}, got {steps}.")
    return EditRequest(
        audio=sound if mode != "text" else None,
        audio2=sound2 if mode != "text" else None,
        mix=float(mix),
        gain_db=float(gain_db),
        text=text if mode != "sound" else None,
        mode=mode,
        mix_layer=None if mix_layer is None else int(mix_layer),
        blend=float(blend),
        seed=clamp_seed(seed),
        truncation=None if truncation is None else float(truncation),
        steps=None if steps is None else int(steps),
        lr=None if lr is None else float(lr),
        lambda_reg=None if lambda_reg is None else float(lambda_reg),
        lambda_id=None if lambda_id is None else float(lambda_id),
        adaptive_mask=bool(adaptive_mask),
        guidance=guidance,
        preview_every=None if preview_every is None else max(1, int(preview_every)),
        source_latent=latent_file if source == "latent" else None,
        source_image=photo if source == "photo" else None,
    )
