"""Turning the pipeline's steps and results into what the page shows and offers to download."""

from __future__ import annotations

import shutil
from pathlib import Path

IMAGE_KEYS = ("source", "sound", "text", "mixed")


def progress_text(progress, *, seconds: float) -> str:
    """'Sound · step 40/100 · loss 0.532 · similarity 0.312 · 0.05 s/step'."""
    step = progress.step
    loss = step.losses.get("total", float("nan"))
    per_step = seconds / max(step.step, 1)
    return (
        f"**{progress.phase.capitalize()}** · step {step.step}/{step.total} · loss {loss:.4f} · "
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


def source_latent(bundle, edit_request):
    """The source latent [1, L, S] of a request, or None for a photo (projection is slow)."""
    from soundedit.edit.latents import load_latent
    from soundedit.edit.optimize import source_from_seed

    G = bundle.generator
    if edit_request.source_image:
        return None
    if edit_request.source_latent:
        return load_latent(edit_request.source_latent, n_latent=G.n_latent, style_dim=G.style_dim)
    truncation = edit_request.truncation
    truncation = bundle.defaults.truncation if truncation is None else truncation
    return source_from_seed(G, edit_request.seed, truncation).cpu()


def partial_result(bundle, edit_request, last_by_phase: dict, frames: list, seconds: float):
    """The EditResult of a stopped run: the source and each phase's latest latent."""
    from soundedit.edit.pipeline import EditResult, render_latent

    latents = {phase: step.w.detach().cpu() for phase, step in last_by_phase.items()}
    w_source = source_latent(bundle, edit_request)
    if w_source is not None:
        latents = {"source": w_source, **latents}
    images = {key: render_latent(bundle, w.to(bundle.device)) for key, w in latents.items()}
    last = list(last_by_phase.values())[-1]
    report = {
        "bundle": bundle.name,
        "mode": edit_request.mode,
        "seed": edit_request.seed,
        "stopped": True,
        "steps": last.step,
        "steps_planned": last.total,
        "seconds": seconds,
        "similarity_after": last.similarity,
        "losses": last.losses,
        "notices": [f"stopped at step {last.step} of {last.total}"],
    }
    return EditResult(images=images, latents=latents, report=report, frames=frames)


def finish_text(report: dict, *, stopped: bool) -> str:
    """The status line under the preview once a run is over."""
    steps = report.get("steps", "?")
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
