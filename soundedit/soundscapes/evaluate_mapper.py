"""Measure the SoundScapes mapper next to the optimisation, on the same held-out seeds.

- instant edit success per class: the sound of X raises probe[X] by >= 0.3, the criterion and
  the sounds and source seeds of :func:`~soundedit.soundscapes.evaluate.eval_class_edits`;
- intensity: Spearman of the rain sound's gain (-18..0 dB) with probe[rain] after an instant edit;
- warm start: the steps a warm-started run takes to reach the similarity (to the target, of the
  clean image) that the cold run of the same seed ends with (0 = the mapper's edit already does);
- real clips: :func:`~soundedit.soundscapes.evaluate_real.edit_figures` with instant edits.

The optimisation's own rows run cold (``warm_start=False``), so they stay the optimisation's
figures whether a mapper is committed or not.
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Callable

import torch

from soundedit.edit.pipeline import run_edit
from soundedit.encoders.audio import embed_sound
from soundedit.settings import EditRequest
from soundedit.soundscapes.evaluate import (
    HELD_OUT,
    class_sound,
    edit_with,
    eval_class_edits,
    eval_intensity,
)
from soundedit.soundscapes.params import CLASSES

Log = Callable[[str], None]


def eval_mapper(
    bundle, *, seeds: int = 10, warm_seeds: int = 2, base: int = HELD_OUT, log: Log = print
) -> dict:
    """The mapper's rows (see the module docstring); ``warm_seeds`` seeds per class for the
    warm-start steps (each costs a cold and a warm run; 0 skips them)."""
    source_seeds = [base + 10 * i for i in range(seeds)]
    instant = functools.partial(edit_with, bundle, instant=True)
    rows = eval_class_edits(
        instant, source_seeds, base=base, log=lambda line: log(f"instant {line}")
    )
    results = {
        "edit_success": rows["edit_success"],
        "edit_success_min": rows["edit_success_min"],
        "preservation": rows["preservation"],
        "intensity_spearman": eval_intensity(instant, source_seeds, base=base),
    }
    log(f"instant intensity: {results['intensity_spearman']:.2f}")
    if warm_seeds == 0:
        return results
    steps = [
        warm_steps_to_cold(bundle, audio=class_sound(name, base + 1000 * c + i), seed=seed)
        for c, name in enumerate(CLASSES)
        for i, seed in enumerate(source_seeds[:warm_seeds])
    ]
    results["warm_steps_median"] = statistics.median(steps)
    results["warm_steps"] = steps
    log(f"warm start: median {results['warm_steps_median']} steps to the cold run's end")
    return results


def warm_steps_to_cold(bundle, *, audio, seed: int) -> int:
    """Steps a warm-started edit of ``audio`` takes to reach the cold edit's final similarity
    (of the clean image to the sound); the run's length + 1 when it never does."""
    cold = edit_with(bundle, audio=audio, seed=seed, warm_start=False).report.main.similarity_after
    if edit_with(bundle, audio=audio, seed=seed, instant=True).report.main.similarity_after >= cold:
        return 0
    target = embed_sound(bundle.audio_encoder, audio).float()
    run = run_edit(bundle, EditRequest.of(audio=audio, seed=seed, preview_every=0))
    for step in run:
        if _clean_similarity(bundle, step.w, target) >= cold:
            run.stop()
            return step.step
    return run.config.steps + 1


def _clean_similarity(bundle, w_plus: torch.Tensor, target: torch.Tensor) -> float:
    with torch.no_grad():
        embed = bundle.clip.embed_image(bundle.generator.synthesis(w_plus.to(bundle.device)))
    return float((embed.float() * target.to(bundle.device)).sum())


def format_mapper(results: dict) -> str:
    """The mapper's rows as text: the per-class (or per-event) instant edit success, then the
    intensity or gain sweep, preservation and the warm start, where measured."""
    lines = [
        "instant edit success per class: "
        + ", ".join(f"{k} {v:.2f}" for k, v in results["edit_success"].items())
    ]
    for key, what in (
        ("intensity_spearman", "intensity: gain -18..0 dB of rain vs probe[rain] (Spearman)"),
        ("gain_spearman", "real rain gain sweep -18..0 dB vs probe[rain] (Spearman)"),
        ("preservation", "preservation: mean abs change of shape parameters"),
    ):
        if results.get(key) is not None:
            lines.append(f"{what}: {results[key]:.3f}")
    if "warm_steps_median" in results:
        steps = results["warm_steps"]
        lines.append(
            f"warm start reaches the cold run's end in a median of {results['warm_steps_median']} "
            f"steps ({sum(s <= 25 for s in steps)} of {len(steps)} within 25; {steps})"
        )
    return "\n".join(lines)
