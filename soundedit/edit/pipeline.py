"""The high-level edit: from a sound (and/or words) to edited images, as a run you iterate.

``run_edit(bundle, request)`` checks the request, resolves its settings
(:func:`~soundedit.settings.resolve`), loads and shapes the sound (gain, a second sound
mixed in), embeds it, picks the source latent (seed, latent file or projected photo) and returns
an :class:`EditRun`: iterate it for the :class:`~soundedit.edit.optimize.EditStep` records, call
``stop()`` to end it after the current step, and ``result()`` for the :class:`EditResult`, after a
full run or an early stop alike. Modes:

- ``"sound"``: one run towards the sound embedding;
- ``"text"``: one run towards the text embedding;
- ``"mix"``: a sound run and a text run, then style mixing at ``mix_layer``;
- ``"blend"``: one run towards ``normalize(blend * sound + (1 - blend) * text)``.

With ``request.instant`` each run is one forward pass of the bundle's mapper
(:func:`instant_edit`); otherwise, where the bundle has a mapper, the optimisation starts from
the mapper's edit unless ``request.warm_start`` is False (:mod:`soundedit.edit.mapper_use`).

What is special about a world reaches the edit only through the bundle's hooks: ``recognise``
(does the world know this sound), ``measure`` (what the world reads off an image) and its
defaults. Used by the CLI ``edit``, the Gradio app and the SoundScapes evaluation.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from soundedit.edit.latents import load_latent
from soundedit.edit.limits import check_request
from soundedit.edit.mapper_use import instant_steps, mapped_start, mapper_use
from soundedit.edit.mixing import style_mix
from soundedit.edit.optimize import (
    EditStep,
    blend_targets,
    edit_steps,
    source_from_z,
    to_uint8,
    z_from_seed,
)
from soundedit.errors import ConfigError
from soundedit.settings import EditConfig, EditRequest, resolve


@dataclass(frozen=True)
class EditResult:
    """The outcome of an edit (a full run or a stopped one)."""

    images: dict[str, np.ndarray]  # "source", "sound", "text", "mixed": uint8 [H, W, 3]
    latents: dict[str, torch.Tensor]  # same keys: W+ [1, L, S] on the CPU
    report: dict[str, Any]  # JSON-ready summary (see run_edit)
    frames: list[np.ndarray] = field(default_factory=list)  # previews in order


@dataclass(frozen=True)
class _Source:
    w: torch.Tensor  # W+ [1, L, S] on the bundle's device
    z: torch.Tensor | None  # the seed's z [1, S]; None for a latent file or a photo
    info: dict  # the report's "source" entry


def render_latent(bundle, w_plus: torch.Tensor) -> np.ndarray:
    """The image of a W+ latent [1, L, S] as uint8 [H, W, 3] (no grad; fast enough for sliders)."""
    G = bundle.generator
    if w_plus.ndim != 3 or tuple(w_plus.shape[1:]) != (G.n_latent, G.style_dim):
        raise ConfigError(
            f"expected a W+ latent [1, {G.n_latent}, {G.style_dim}], got {list(w_plus.shape)}"
        )
    with torch.no_grad():
        return to_uint8(G.synthesis(w_plus[:1].to(G.mean_w.device, torch.float32)))


def run_edit(bundle, request: EditRequest) -> EditRun:
    """Check ``request``, prepare targets and source, and return the run (nothing runs yet).

    Errors in the request (bad settings, unreadable sound, missing text, a latent of the wrong
    shape, a photo that is not an image) are raised here, before any step runs.

    The result's report holds: bundle, mode, settings (the resolved :class:`EditConfig` and the
    inputs), seed, steps, seconds, seconds_per_step, similarity_before / similarity_after and
    final losses of the main run (the sound run, or the text run in "text" mode), per-phase
    details, the final layer mask, the source, notices (e.g. "sound cut to 30 s"), recognition
    and sound_match (see :func:`sound_match`; None without a sound run), ``stopped_at`` (None, or
    the step of the last run when :meth:`EditRun.stop` ended it early), ``mapper`` (None without
    one, else ``{"instant", "warm_start"}``: how the bundle's mapper was used; an instant edit
    reports ``steps`` 0) and, when the bundle has a ``measure`` hook, probe_source /
    probe_edited / probe: what it reads off each image.
    """
    check_request(request)  # every number within the limits shared with the CLI and the app
    notices: list[str] = []
    config = resolve(bundle, request, notices)
    targets, recognition = _targets(bundle, request, notices)
    source = _source(bundle, request, config, notices)
    return EditRun(bundle, request, config, targets, source, notices, recognition)


def instant_edit(bundle, request: EditRequest) -> EditResult:
    """The mapped edit of ``request`` in one forward pass of the bundle's mapper (no
    optimisation): the same result and report as :func:`run_to_end`, ``report["seconds"]``
    the edit's own time. Fast enough to call on every slider move.

    Raises:
        ConfigError: as :func:`run_edit`, or the bundle has no mapper, or the source has no
            latent in the mapper's space (a z mapper needs a seed).
    """
    return run_to_end(bundle, dataclasses.replace(request, instant=True))


def run_to_end(bundle, request: EditRequest) -> EditResult:
    """Run an edit to its last step and return its result."""
    return run_edit(bundle, request).result()


class EditRun:
    """One edit: iterate it for its steps, ``stop()`` it, ask for its ``result()``.

    Iterating yields one :class:`~soundedit.edit.optimize.EditStep` per optimisation step (its
    ``phase`` says which run). After :meth:`stop` the run ends once the current step is done;
    the result then holds the latest latents and ``report["stopped_at"]`` is set. ``result()``
    runs whatever steps are left (none after a stop) and always returns the same report schema.
    """

    def __init__(self, bundle, request, config: EditConfig, targets, source, notices, recognition):
        self.bundle, self.request, self.config = bundle, request, config
        self._targets, self._source = targets, source
        self._notices, self._recognition = notices, recognition
        self._stopped = False
        self._mapper_use = mapper_use(bundle, request, config, source.z, notices)
        self._result: EditResult | None = None
        self.source_image: np.ndarray | None = None  # uint8 [H, W, 3], once the first step came
        self._steps = self._run()

    def __iter__(self) -> Iterator[EditStep]:
        return self._steps

    def stop(self) -> None:
        """End the run after the step in progress (or before the first one)."""
        self._stopped = True

    def result(self) -> EditResult:
        """The result: the run is taken to its end first (or to its stop)."""
        for _ in self._steps:
            pass
        return self._result

    def _run(self) -> Iterator[EditStep]:
        bundle, source = self.bundle, self._source
        frames: list[np.ndarray] = []
        latents = {"source": source.w.detach().cpu()}
        # Each latent is synthesised and embedded once: its image goes in the result, its
        # embedding gives the similarity to every target.
        self.source_image, source_embed = _render_and_embed(bundle, source.w)
        images = {"source": self.source_image}
        phases: dict[str, dict] = {}
        start, last, done = time.perf_counter(), None, 0
        for phase, target in self._targets:
            if self._stopped:
                break
            phase_start = time.perf_counter()
            steps = self._phase_steps(target)
            for step in steps:
                last, done = dataclasses.replace(step, phase=phase), done + 1
                if step.preview is not None:
                    frames.append(step.preview)
                yield last
                if self._stopped:
                    break
            steps.close()
            if last is None or last.phase != phase:
                break  # stopped before this run's first step
            latents[phase] = last.w.detach().cpu()
            images[phase], edited_embed = _render_and_embed(bundle, last.w)
            phases[phase] = _phase_report(last, source_embed, edited_embed, target, phase_start)
        timing = {"seconds": time.perf_counter() - start, "steps_run": done}
        complete = len(phases) == len(self._targets) and last.step == last.total
        stopped_at = None if complete else (0 if last is None else last.step)
        self._result = self._finish(images, latents, phases, frames, timing, stopped_at)

    def _phase_steps(self, target: torch.Tensor) -> Iterator[EditStep]:
        """The steps of one run: the mapper's one step (instant), or the optimisation (from the
        mapper's edit when it warm-starts)."""
        bundle, config, source = self.bundle, self.config, self._source
        if self.request.instant:
            return instant_steps(bundle, target, source.w, source.z, config=config)
        start = None
        if self._mapper_use and self._mapper_use["warm_start"]:
            start = mapped_start(bundle, target, source.w, source.z, config=config)[0]
        return edit_steps(bundle, target, source.w, config=config, z_source=source.z, start=start)

    def _finish(self, images, latents, phases, frames, timing, stopped_at) -> EditResult:
        bundle, request, config = self.bundle, self.request, self.config
        if request.mode == "mix" and {"sound", "text"} <= set(latents):
            latents["mixed"] = style_mix(latents["sound"], latents["text"], config.mix_layer)
            images["mixed"] = render_latent(bundle, latents["mixed"])
        notices = list(self._notices)
        if stopped_at is not None:
            notices.append(f"stopped at step {stopped_at} of {config.steps}")
        report = _report(bundle, request, config, phases, timing, self._source.info, notices)
        report["stopped_at"] = stopped_at
        report["recognition"] = self._recognition
        report["mapper"] = self._mapper_use
        if request.instant:
            report["steps"] = 0  # no optimisation step: one pass of the mapper
        report["sound_match"] = sound_match(bundle, phases.get("sound"), notices, self._recognition)
        report.update(_measure(bundle, images))
        return EditResult(images=images, latents=latents, report=report, frames=frames)


def _phase_report(last: EditStep, source_embed, edited_embed, target, start: float) -> dict:
    return {
        "similarity_before": _similarity(source_embed, target),
        "similarity_after": _similarity(edited_embed, target),
        "steps": last.step,
        "losses": last.losses,
        "layer_mask": list(last.layer_mask) if last.layer_mask else None,
        "seconds": time.perf_counter() - start,
    }


def recognise_sound(bundle, embedding: torch.Tensor, notices: list[str]) -> dict | None:
    """The bundle's recognition of a sound embedding [1, D] (None when it has no recogniser).

    Returns ``{"event", "score", "threshold", "known"}``; a sound the world does not know adds
    a notice that says which sounds it does know.
    """
    if bundle.recognise is None:
        return None
    recognition = bundle.recognise(embedding)
    if not recognition.known:
        notices.append(unknown_sound_message(bundle, recognition))
    return recognition.as_dict()


def unknown_sound_message(bundle, recognition) -> str:
    """Plain words for a sound outside the world (shown before and after a run)."""
    known = ", ".join(bundle.known_sounds) if bundle.known_sounds else "its own sounds"
    return (
        f"This world knows {known}; this sound is none of them (score {recognition.score:.2f}, "
        f"below {recognition.threshold:.2f}; closest: {recognition.event}). The edit will "
        "still run, but expect a picture that does not match the sound."
    )


def sound_match(
    bundle, phase: dict | None, notices: list[str], recognition: dict | None = None
) -> dict | None:
    """Did the sound run find a picture like the sound? None when there was no sound run.

    Returns ``{"similarity": end similarity, "threshold": the world's known_similarity,
    "known": bool, or None when the run was shorter than the world's default (the threshold is
    measured at that length)}``. Any optimisation raises the similarity; a sound like nothing in
    the world still ends low, and the person is told so in a notice (the app shows it). A sound
    the bundle's recogniser does not know is never called matched (its notice is already given).
    """
    if phase is None:
        return None
    threshold = bundle.known_similarity
    similarity = phase["similarity_after"]
    known = similarity >= threshold if phase["steps"] >= bundle.defaults.steps else None
    if recognition is not None and not recognition["known"]:
        return {"similarity": round(similarity, 4), "threshold": threshold, "known": False}
    if known is False:
        notices.append(
            f"the picture matches this sound only weakly (similarity {similarity:.2f}; sounds "
            f"the {bundle.name} world draws well reach {threshold:.2f}): expect little change, "
            "the sound may be unlike anything this world knows"
        )
    return {"similarity": round(similarity, 4), "threshold": threshold, "known": known}


def _targets(bundle, request: EditRequest, notices: list[str]):
    """[(phase, target embedding [1, D])] and the sound's recognition (None without one)."""
    needs_sound = request.mode in ("sound", "mix", "blend")
    needs_text = request.mode in ("text", "mix", "blend")
    if needs_sound and request.audio is None:
        raise ConfigError(f"mode {request.mode!r} needs a sound (audio)")
    if needs_text and not (request.text or "").strip():
        raise ConfigError(f"mode {request.mode!r} needs words (text)")
    device = bundle.device
    audio = _embed_sound(bundle, request, notices).to(device) if needs_sound else None
    recognition = recognise_sound(bundle, audio, notices) if needs_sound else None
    text = bundle.clip.embed_text([request.text.strip()]).to(device) if needs_text else None
    if request.mode == "sound":
        return [("sound", audio)], recognition
    if request.mode == "text":
        return [("text", text)], recognition
    if request.mode == "mix":
        return [("sound", audio), ("text", text)], recognition
    return [("sound", blend_targets(audio, text, request.blend))], recognition


def _embed_sound(bundle, request: EditRequest, notices: list[str]) -> torch.Tensor:
    from soundedit.audio.io import load_sound
    from soundedit.audio.shape import apply_gain, mix
    from soundedit.encoders.audio import embed_sound

    sound = load_sound(request.audio)
    _sound_notices(sound, "sound", notices)
    if request.audio2 is not None:
        second = load_sound(request.audio2)
        _sound_notices(second, "second sound", notices)
        if not 0.0 <= request.mix <= 1.0:
            raise ConfigError(f"mix ratio must be in [0, 1], got {request.mix}")
        sound = mix(sound, second, request.mix)
    if request.gain_db:
        sound = apply_gain(sound, request.gain_db)
    with torch.no_grad():
        return embed_sound(bundle.audio_encoder, sound).float()


def _sound_notices(sound, label: str, notices: list[str]) -> None:
    if getattr(sound, "truncated", False):
        notices.append(f"{label} cut to {sound.seconds:g} s (was {sound.source_seconds:.1f} s)")
    if getattr(sound, "silent", False):
        notices.append(f"{label} is silent: the edit follows the embedding of silence")
    if getattr(sound, "scaled_db", 0.0) > 0.0:
        notices.append(f"{label} peaked {sound.scaled_db:.1f} dB above full scale: scaled down")


def source_latent(bundle, request: EditRequest) -> torch.Tensor | None:
    """The source latent W+ [1, L, S] of a request on the CPU, or None for a photo (projecting
    one is slow: it happens when the edit runs)."""
    if request.source_image:
        return None
    return _source(bundle, request, resolve(bundle, request), []).w.cpu()


def _source(bundle, request: EditRequest, config: EditConfig, notices: list[str]) -> _Source:
    """The source latent of a seed, a latent file or a projected photo."""
    G = bundle.generator
    if request.source_latent and request.source_image:
        raise ConfigError("give a source latent or a source image, not both")
    if request.source_latent:
        w = load_latent(request.source_latent, n_latent=G.n_latent, style_dim=G.style_dim)
        return _Source(
            w.to(bundle.device), None, {"kind": "latent", "path": str(request.source_latent)}
        )
    if request.source_image:
        from soundedit.edit.project import project_image

        w, report = project_image(bundle, request.source_image, seed=request.seed)
        notices.append(f"photo projected into W+ (PSNR {report['psnr_db']:.1f} dB)")
        info = {"kind": "image", "path": str(request.source_image), "projection": report}
        return _Source(w, None, info)
    z = z_from_seed(G, request.seed)
    info = {"kind": "seed", "seed": request.seed, "truncation": config.truncation}
    return _Source(source_from_z(G, z, config.truncation), z, info)


def _render_and_embed(bundle, w_plus: torch.Tensor) -> tuple[np.ndarray, torch.Tensor]:
    """The uint8 image [H, W, 3] of a W+ latent and its CLIP embedding [1, D] (no grad)."""
    with torch.no_grad():
        images = bundle.generator.synthesis(w_plus.to(bundle.device, torch.float32))
        return to_uint8(images), bundle.clip.embed_image(images).float()


def _similarity(embed: torch.Tensor, target: torch.Tensor) -> float:
    return float((embed * target.float()).sum(-1).mean())


def _report(bundle, request, config, phases, timing, source_info, notices) -> dict:
    """The JSON-ready report of a run (full or stopped; see :func:`run_edit`)."""
    empty = {"similarity_before": None, "similarity_after": None, "losses": {}, "layer_mask": None}
    main = phases.get("sound") or phases.get("text") or empty
    return {
        "bundle": bundle.name,
        "generator": bundle.name,
        "mode": request.mode,
        "settings": {
            **dataclasses.asdict(config),
            "text": request.text,
            "gain_db": request.gain_db,
            "mix": request.mix if request.audio2 else None,
            "blend": request.blend if request.mode == "blend" else None,
        },
        "seed": request.seed,
        "steps": config.steps,
        "seconds": timing["seconds"],
        "seconds_per_step": timing["seconds"] / max(timing["steps_run"], 1),
        "similarity_before": main["similarity_before"],
        "similarity_after": main["similarity_after"],
        "losses": main["losses"],
        "layer_mask": main["layer_mask"],
        "phases": phases,
        "source": source_info,
        "resolution": bundle.generator.resolution,
        "device": str(bundle.device),
        "notices": notices,
    }


def _measure(bundle, images: dict[str, np.ndarray]) -> dict:
    """What the bundle's ``measure`` hook reads off each image ({} without the hook)."""
    if bundle.measure is None:
        return {}
    by_key = dict(zip(images, bundle.measure(list(images.values())), strict=True))
    return {
        "probe_source": by_key["source"],
        "probe_edited": by_key[_edited_key(images)],
        "probe": by_key,
    }


def _edited_key(images: dict) -> str:
    return "sound" if "sound" in images else "text"


def write_result(
    result: EditResult, out_dir: str | Path, *, animation: bool = True, frames: bool = False
) -> dict[str, Path]:
    """Write images, latents, the report and (optionally) the trajectory; returns the paths.

    Files: source.png, edited.png (the sound-guided image, or the text one in "text" mode),
    text.png and mixed.png in "mix" mode, latents.safetensors (w_source, w_edited, and w_text /
    w_mixed when present), report.json, trajectory.gif when ``animation`` and there are previews,
    frames/NNNN.png when ``frames``.
    """
    from PIL import Image
    from safetensors.torch import save_file

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    edited = _edited_key(result.images)
    names = {"source": "source", edited: "edited", "mixed": "mixed"}
    if edited != "text":
        names["text"] = "text"
    paths: dict[str, Path] = {}
    for key, image in result.images.items():
        paths[names[key]] = out / f"{names[key]}.png"
        Image.fromarray(image).save(paths[names[key]])
    tensors = {f"w_{names[k]}": w.detach().float().contiguous() for k, w in result.latents.items()}
    paths["latents"] = out / "latents.safetensors"
    save_file(tensors, str(paths["latents"]))
    paths["report"] = out / "report.json"
    paths["report"].write_text(json.dumps(result.report, indent=2, default=str) + "\n")
    if frames and result.frames:
        (out / "frames").mkdir(exist_ok=True)
        for i, frame in enumerate(result.frames):
            Image.fromarray(frame).save(out / "frames" / f"{i + 1:04d}.png")
        paths["frames"] = out / "frames"
    if animation and result.frames:
        images = [Image.fromarray(f) for f in result.frames]
        paths["trajectory"] = out / "trajectory.gif"
        images[0].save(
            paths["trajectory"], save_all=True, append_images=images[1:], duration=120, loop=0
        )
    return paths
