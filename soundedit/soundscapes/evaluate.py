"""Measure the SoundScapes bundle against the issue's targets on held-out seeds.

Every figure is computed on seeds the trainers never saw (renders, sounds and source latents
drawn from seeds >= 100_000). ``evaluate()`` returns a JSON-ready dict; :func:`format_table`
prints the targets table. The edit rows run the real pipeline (:func:`run_edit`) and read the
probe's parameters of the source and edited images from the edit report.
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Callable

import numpy as np
import torch

from soundedit.bundle import load_bundle
from soundedit.edit.pipeline import render_latent, run_to_end
from soundedit.edit.targets import source_latent
from soundedit.encoders.audio import embed_sound
from soundedit.settings import EditRequest
from soundedit.soundscapes.captions import CLASS_PROMPTS
from soundedit.soundscapes.fidelity import held_out_z, judge_accuracy, paired_images, pixel_error
from soundedit.soundscapes.params import (
    CLASSES,
    PARAM_NAMES,
    SHAPES,
    make_params,
    params_from_z,
    sample_for_class,
)
from soundedit.soundscapes.render import render
from soundedit.soundscapes.synth import RATE, synthesize
from soundedit.soundscapes.training.generator_loss import generator_images
from soundedit.soundscapes.training.probe import probe_errors

HELD_OUT = 100_000
# The scene each class's test sound is made from (a strong, clean example of the class).
SOUND_SCENES: dict[str, dict[str, float]] = {
    "rain": {"rain": 1.0},
    "lightning": {"lightning": 1.0, "rain": 0.2},
    "snow": {"snow": 1.0},
    "fire": {"fire": 1.0},
    "wind": {"wind": 1.0},
    "birds": {"birds": 1.0},
    "sea": {"sea": 1.0},
    "night": {"night": 1.0},
}
TARGETS = {
    "probe_mae_max": ("probe error on renders (mean abs, worst parameter)", "<= 0.05"),
    "generator_mae": ("generator fidelity: probe(G(z)) vs params(z), mean abs", "<= 0.06"),
    "generator_mae_max": ("generator fidelity, worst single parameter", "<= 0.10"),
    "pixel_error": ("pixel error |G(z) - render(params(z))| (mean abs, [0, 1])", "<= 0.025"),
    "judge": ("judge: a small CNN tells G(z) from the render (test accuracy)", "<= 0.70"),
    "calm_start": ("calm start: largest event on the default start (seeds 0-9)", "<= 0.2"),
    "clip_zero_shot": ("tiny CLIP zero-shot scene classification (8 classes)", ">= 0.90"),
    "audio_zero_shot": ("audio encoder zero-shot on held-out sounds (8 classes)", ">= 0.85"),
    "edit_success_min": (
        "edit success: sound of X raises probe[X] by >= 0.3 (worst class)",
        ">= 0.80",
    ),
    "preservation": ("preservation: mean abs change of shape parameters", "<= 0.10"),
    "intensity_spearman": ("intensity: gain -18..0 dB of rain vs probe[rain] (Spearman)", ">= 0.8"),
    "mixing": ("mixing: rain + fire at 0.5 raises both probes", ">= 0.80"),
    "text": ("text: 'heavy rain' raises probe[rain]; mixing keeps the sound's layers", ">= 0.80"),
    "seconds_100_steps": ("CPU speed: a 100-step edit (median)", "<= 3 s"),
}
Log = Callable[[str], None]


def class_sound(name: str, seed: int) -> tuple[int, np.ndarray]:
    """A held-out test sound of class ``name`` as Gradio-style ``(rate, samples)``."""
    return RATE, synthesize(make_params(**SOUND_SCENES[name]), seed=seed)[0]


def evaluate(
    *,
    seeds: int = 10,
    steps: int | None = None,
    base: int = HELD_OUT,
    log: Log = print,
    bundle=None,
    **overrides,
) -> dict:
    """Every target figure; ``seeds`` source seeds per edit measurement from seed ``base`` up.

    ``overrides`` (request fields such as ``lr`` or ``latent_noise``) change the edit settings
    from the world's defaults, for tuning them on a ``base`` that is not reported.
    """
    bundle = bundle or load_bundle("soundscapes")
    results: dict = {}
    results.update(eval_probe(bundle.probe))
    log(f"probe: {results['probe_mae_max']:.3f}")
    results.update(eval_generator(bundle))
    log(f"generator: {results['generator_mae']:.3f} (worst {results['generator_mae_max']:.3f})")
    results.update(eval_fidelity(bundle.generator))
    log(f"pixel error: {results['pixel_error']:.3f}  judge: {results['judge']:.3f}")
    results.update(eval_calm_start(bundle))
    log(f"calm start: {results['calm_start']:.3f}")
    results["clip_zero_shot"] = eval_clip(bundle.clip)
    log(f"clip: {results['clip_zero_shot']:.3f}")
    results["audio_zero_shot"] = eval_audio(bundle)
    log(f"audio: {results['audio_zero_shot']:.3f}")
    results.update(eval_edits(bundle, seeds=seeds, steps=steps, base=base, log=log, **overrides))
    return results


@torch.no_grad()
def eval_probe(probe, *, n: int = 1024) -> dict:
    errors = probe_errors(probe, n=n, seed=HELD_OUT)
    return {
        "probe_mae": errors,
        "probe_mae_max": max(errors.values()),
        "probe_mae_mean": float(np.mean(list(errors.values()))),
    }


@torch.no_grad()
def eval_generator(bundle, *, n: int = 512) -> dict:
    """|probe(G(z)) - params(z)| at truncation 1: the mean, per parameter and the worst one."""
    G = bundle.generator
    z = torch.randn(n, G.style_dim, generator=torch.Generator().manual_seed(HELD_OUT))
    errors = []
    for chunk in z.split(64):
        errors.append((bundle.probe(generator_images(G, chunk)) - params_from_z(chunk)).abs())
    per_param = torch.cat(errors).mean(dim=0)
    return {
        "generator_mae": float(per_param.mean()),
        "generator_mae_per_param": dict(zip(PARAM_NAMES, per_param.tolist(), strict=True)),
        "generator_mae_max": float(per_param.max()),
    }


def eval_fidelity(G, *, n: int = 256, n_judge: int = 512, judge_steps: int = 300) -> dict:
    """Pixel error |G(z) - render(params(z))| on ``n`` held-out latents, and the test accuracy
    of a judge trained on ``n_judge`` other held-out latents and tested on ``n`` more."""
    fake, real = paired_images(G, held_out_z(n, HELD_OUT + 3, G.style_dim))
    judge = judge_accuracy(
        G,
        train_seed=HELD_OUT + 4,
        test_seed=HELD_OUT + 5,
        n_train=n_judge,
        n_test=n,
        steps=judge_steps,
    )
    return {"pixel_error": pixel_error(fake, real), "judge": judge}


@torch.no_grad()
def eval_calm_start(bundle, *, seeds: int = 10) -> dict:
    """The largest sound-class event (CLASSES) the probe reads on the default start of seeds
    0 .. seeds-1 (the world's start, at its default truncation): the mean, and per seed."""
    largest = []
    for seed in range(seeds):
        image = render_latent(bundle, source_latent(bundle, EditRequest(seed=seed)))
        scene = bundle.measure([image])[0]
        largest.append(max(scene[name] for name in CLASSES))
    return {"calm_start": float(np.mean(largest)), "calm_start_per_seed": largest}


@torch.no_grad()
def eval_clip(clip, *, n_per_class: int = 50) -> float:
    """Zero-shot: the class prompt closest to each held-out render is its dominant event."""
    g = torch.Generator().manual_seed(HELD_OUT + 1)
    text = clip.embed_text(list(CLASS_PROMPTS.values()))
    correct = 0
    for label, name in enumerate(CLASSES):
        image = clip.embed_image(render(sample_for_class(name, n_per_class, g)))
        correct += int(((image @ text.T).argmax(dim=1) == label).sum())
    return correct / (n_per_class * len(CLASSES))


@torch.no_grad()
def eval_audio(bundle, *, n_per_class: int = 25) -> float:
    """Zero-shot: held-out synthesised sounds of dominant-event scenes vs the class prompts."""
    g = torch.Generator().manual_seed(HELD_OUT + 2)
    text = bundle.clip.embed_text(list(CLASS_PROMPTS.values())).float()
    correct = 0
    for label, name in enumerate(CLASSES):
        params = sample_for_class(name, n_per_class, g)
        sounds = synthesize(params, seed=HELD_OUT + label)
        for sound in sounds:
            emb = embed_sound(bundle.audio_encoder, (RATE, sound)).float()
            correct += int((emb @ text.T).argmax(dim=1).item() == label)
    return correct / (n_per_class * len(CLASSES))


def edit_with(bundle, **fields):
    """The result of an edit with these request inputs and settings (no previews)."""
    return run_to_end(bundle, EditRequest.of(preview_every=0, **fields))


def eval_edits(
    bundle,
    *,
    seeds: int = 10,
    steps: int | None = None,
    base: int = HELD_OUT,
    log: Log = print,
    **overrides,
) -> dict:
    """The edit rows: success per class, preservation, intensity, mixing, text, speed.

    Sources and sounds come from seeds ``base`` and up; tune settings (``overrides``, request
    fields such as ``lr``) on another ``base`` than the one whose figures you report.
    """
    source_seeds = [base + 10 * i for i in range(seeds)]
    edit = functools.partial(edit_with, bundle, steps=steps, **overrides)
    results = eval_class_edits(edit, source_seeds, base=base, log=log)
    results["intensity_spearman"] = eval_intensity(edit, source_seeds, base=base)
    log(f"intensity: {results['intensity_spearman']:.2f}")
    results.update(eval_mix_and_text(edit, source_seeds, base=base, mix_layer=bundle.mix_layer))
    log(f"mixing: {results['mixing']:.2f}  text: {results['text']:.2f}")
    return {**results, "seeds": seeds, "steps": steps or bundle.defaults.steps}


def eval_class_edits(edit, source_seeds: list[int], *, base: int, log: Log = print) -> dict:
    """Edit success per class (the sound of X raises probe[X] by >= 0.3), preservation, speed."""
    success: dict[str, float] = {}
    preservation: list[float] = []
    seconds: list[float] = []
    for c, name in enumerate(CLASSES):
        hits = 0
        for i, seed in enumerate(source_seeds):
            result = edit(audio=class_sound(name, base + 1000 * c + i), seed=seed)
            before, after = result.report.probe_source, result.report.probe_edited
            hits += after[name] - before[name] >= 0.3
            preservation.append(float(np.mean([abs(after[s] - before[s]) for s in SHAPES])))
            if result.report.steps:  # 0: an instant edit, no optimisation to time
                seconds.append(result.report.seconds * (100 / result.report.steps))
        success[name] = hits / len(source_seeds)
        log(f"edit {name}: {success[name]:.2f}")
    return {
        "edit_success": success,
        "edit_success_min": min(success.values()),
        "preservation": float(np.mean(preservation)),
        "seconds_100_steps": statistics.median(seconds) if seconds else None,
    }


def eval_intensity(edit, source_seeds: list[int], *, base: int) -> float:
    """Mean Spearman correlation of the gain (-18..0 dB) of a rain sound with probe[rain]."""
    rank_correlations = []
    for i, seed in enumerate(source_seeds):
        rate, rain = class_sound("rain", base + 5000 + i)
        gains = [-18.0, -12.0, -6.0, 0.0]
        rains = [
            edit(audio=(rate, rain), gain_db=gain, seed=seed).report.probe_edited["rain"]
            for gain in gains
        ]
        rank_correlations.append(spearman(gains, rains))
    return float(np.mean(rank_correlations))


def eval_mix_and_text(edit, source_seeds: list[int], *, base: int, mix_layer: int) -> dict:
    """Shares of seeds where rain + fire at 0.5 raises both, and where "heavy rain" on the
    coarse layers raises probe[rain] while the sound's fine layers are kept."""
    mixing_hits, text_hits = 0, 0
    for i, seed in enumerate(source_seeds):
        result = edit(
            audio=class_sound("rain", base + 6000 + i),
            audio2=class_sound("fire", base + 7000 + i),
            mix=0.5,
            seed=seed,
        )
        before, after = result.report.probe_source, result.report.probe_edited
        mixing_hits += (after["rain"] > before["rain"] + 0.1) and (
            after["fire"] > before["fire"] + 0.1
        )
        result = edit(
            mode="mix", audio=class_sound("fire", base + 8000 + i), text="heavy rain", seed=seed
        )
        probe = result.report.probe
        latents = result.latents
        kept = torch.equal(latents["mixed"][:, :mix_layer], latents["sound"][:, :mix_layer])
        text_hits += (probe["text"]["rain"] > probe["source"]["rain"] + 0.3) and kept
    n = len(source_seeds)
    return {"mixing": mixing_hits / n, "text": text_hits / n}


def mapper_line(optimisation: dict[str, float], mapper: dict) -> str:
    """The mapper's figures next to the optimisation's (per class: instant / optimisation)."""
    pairs = [
        f"{k} {v:.2f}/{optimisation[k]:.2f}" if k in optimisation else f"{k} {v:.2f}"
        for k, v in mapper["edit_success"].items()
    ]
    line = "instant edit success per class (mapper/optimisation): " + ", ".join(pairs)
    for key, what in (("intensity_spearman", "intensity"), ("gain_spearman", "gain Spearman")):
        if mapper.get(key) is not None:
            line += f"; instant {what} {mapper[key]:.2f}"
    if "warm_steps_median" in mapper:
        line += f"; warm start reaches the cold run's end in {mapper['warm_steps_median']} steps"
    return line


def spearman(a, b) -> float:
    ra = np.argsort(np.argsort(a)).astype(float)
    rb = np.argsort(np.argsort(b)).astype(float)
    if ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def format_table(results: dict) -> str:
    """The targets table in Markdown with the measured figures."""
    lines = ["| what | target | measured |", "|---|---|---|"]
    for key, (what, target) in TARGETS.items():
        value = results.get(key)
        shown = (
            "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)
        )
        lines.append(f"| {what} | {target} | {shown} |")
    if "edit_success" in results:
        per_class = ", ".join(f"{k} {v:.2f}" for k, v in results["edit_success"].items())
        lines.append(f"\nedit success per class: {per_class}")
    if "mapper" in results:
        lines.append(mapper_line(results.get("edit_success", {}), results["mapper"]))
    if "probe_mae" in results:
        lines.append(
            "probe error per parameter: "
            + ", ".join(f"{k} {v:.3f}" for k, v in results["probe_mae"].items())
        )
    if "generator_mae_per_param" in results:
        lines.append(
            "generator error per parameter: "
            + ", ".join(f"{k} {v:.3f}" for k, v in results["generator_mae_per_param"].items())
        )
    return "\n".join(lines)


__all__ = ["evaluate", "format_table"]
