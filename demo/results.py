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


def progress_text(step, *, seconds: float) -> str:
    """'Sound · step 40/100 · loss 0.532 · similarity 0.312 · 0.05 s/step' for an EditStep."""
    loss = step.losses.get("total", float("nan"))
    per_step = seconds / max(step.step, 1)
    return (
        f"**{step.phase.capitalize()}** · step {step.step}/{step.total} · loss {loss:.4f} · "
        f"similarity {step.similarity:.3f} · {per_step:.2f} s/step"
    )


def main_image_key(images: dict) -> str:
    """Which result is 'the' edit: mixed, else sound-guided, else text-guided."""
    for key in ("mixed", "sound", "text", "source"):
        if key in images:
            return key
    raise ValueError("The edit produced no image.")


def interpolation_chain(latents: dict) -> list[str]:
    """The latents the slider walks through: source ↔ sound ↔ text (those that exist)."""
    return [k for k in ("source", "sound", "text") if k in latents]


def finish_text(report: dict, *, stopped: bool) -> str:
    """The status line under the preview once a run is over."""
    steps = report.get("steps", "?")
    if stopped and report.get("stopped_at") is not None:
        steps = f"{report['stopped_at']} of {steps}"
    seconds = report.get("seconds")
    head = "**Stopped**" if stopped else "**Done**"
    parts = [f"{head}: {steps} steps"]
    if isinstance(seconds, (int, float)):
        parts[0] += f" in {seconds:.1f} s"
    before, after = report.get("similarity_before"), report.get("similarity_after")
    if isinstance(before, (int, float)) and isinstance(after, (int, float)):
        parts.append(f"similarity {before:.3f} → {after:.3f}")
    text = " · ".join(parts)
    changes = probe_changes(report)
    if changes:
        text += "\n\nWhat the probe measures changed: " + changes
    return text


def probe_changes(report: dict, *, top: int = 4) -> str:
    """'rain +0.41, clouds +0.20' — the largest scene changes a world's probe measured."""
    source, edited = report.get("probe_source"), report.get("probe_edited")
    if not isinstance(source, dict) or not isinstance(edited, dict):
        return ""
    deltas = {k: edited[k] - source[k] for k in source if k in edited}
    largest = sorted(deltas.items(), key=lambda kv: -abs(kv[1]))[:top]
    return ", ".join(f"{name} {delta:+.2f}" for name, delta in largest if abs(delta) >= 0.01)


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
