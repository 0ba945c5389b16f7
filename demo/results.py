"""Turning the pipeline's steps and results into what the page shows and offers to download."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

IMAGE_KEYS = ("source", "sound", "text", "mixed")
SCREEN_SIZE = 512  # pictures smaller than this are sent to the page enlarged to about this size


def on_screen(image: np.ndarray | None, size: int = SCREEN_SIZE) -> np.ndarray | None:
    """A picture as the page shows it: a small one enlarged by a whole factor, pixel for pixel.

    A 64 px world picture sent as is would be stretched by the browser's smooth scaling into a
    blur; each pixel becomes a crisp k x k block instead (k = size // the longer side), so the
    browser only ever shrinks it a little. Pictures of ``size`` or more are sent unchanged, and
    downloads always keep the real resolution.
    """
    if image is None:
        return None
    k = size // max(image.shape[:2])
    return image if k <= 1 else np.repeat(np.repeat(image, k, axis=0), k, axis=1)


def main_image_key(images: dict) -> str:
    """Which result is 'the' edit: mixed, else sound-guided, else text-guided."""
    for key in ("mixed", "sound", "text", "source"):
        if key in images:
            return key
    raise ValueError("The edit produced no image.")


def interpolation_chain(latents: dict) -> list[str]:
    """The latents the slider walks through: source ↔ sound ↔ text (those that exist)."""
    return [k for k in ("source", "sound", "text") if k in latents]


def copy_inputs(edit_request, run_dir: Path) -> dict[str, str]:
    """Copy the request's input files next to the results; field -> file name."""
    names = {}
    for field, stem in (
        ("audio", "sound"),
        ("audio2", "sound2"),
        ("source_latent", "source_latent"),
        ("source_image", "source_photo"),
    ):
        value = getattr(edit_request, field)
        if isinstance(value, (str, Path)) and Path(value).is_file():
            name = stem + Path(value).suffix.lower()
            shutil.copyfile(value, run_dir / name)
            names[field] = name
    return names
