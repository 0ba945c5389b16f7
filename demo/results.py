"""Turning the pipeline's steps and results into what the page shows and offers to download."""

from __future__ import annotations

import shutil
from pathlib import Path

IMAGE_KEYS = ("source", "sound", "text", "mixed")


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
