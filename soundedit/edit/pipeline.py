"""The high-level edit: from a sound (and/or words) to edited images, as a run you iterate.

``run_edit(bundle, request)`` checks the request, resolves its settings
(:func:`~soundedit.settings.resolve`), prepares its targets and source
(:mod:`soundedit.edit.targets`: the sound shaped and embedded, the words embedded, the world's
start for a seed, the seed as drawn, a latent file or a photo) and returns an :class:`EditRun`:
iterate it for the :class:`~soundedit.edit.optimize.EditStep` records, call ``stop()`` to end it
after the current step, and ``result()`` for the :class:`EditResult` and its
:class:`~soundedit.edit.report.EditReport`, after a full run or an early stop alike. Modes:

- ``"sound"``: one run towards the sound embedding;
- ``"text"``: one run towards the text embedding;
- ``"mix"``: a sound run and a text run, then style mixing at ``mix_layer``;
- ``"blend"``: one run towards ``normalize(blend * sound + (1 - blend) * text)``.

With ``request.instant`` each run is one forward pass of the bundle's mapper
(:func:`instant_edit`); otherwise, where the bundle has a mapper, the optimisation starts from
the mapper's edit unless ``request.warm_start`` is False (:mod:`soundedit.edit.mapper_use`).

What is special about a world reaches the edit only through the bundle's hooks: ``recognise``
(does the world know this sound), ``measure`` (what the world reads off an image), ``start``
(where a seeded edit starts) and its defaults. Used by the CLI ``edit``, the Gradio app and the
SoundScapes evaluation.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file

from soundedit import strict_json
from soundedit.edit.limits import check_effect, check_request, unused_inputs
from soundedit.edit.mapper_use import instant_steps, mapped_start, mapper_use
from soundedit.edit.mixing import style_mix
from soundedit.edit.optimize import EditStep, edit_steps, to_uint8
from soundedit.edit.report import (
    EditReport,
    Notices,
    PhaseReport,
    Recognition,
    check_outcome,
    edited_key,
    report_settings,
    sound_match,
)
from soundedit.edit.targets import Source, Target, prepare_source, prepare_targets
from soundedit.errors import ConfigError
from soundedit.settings import EditConfig, EditRequest, resolve


@dataclass(frozen=True)
class EditResult:
    """The outcome of an edit (a full run or a stopped one)."""

    images: dict[str, np.ndarray]  # "source", "sound", "text", "mixed": uint8 [H, W, 3]
    latents: dict[str, torch.Tensor]  # same keys: W+ [1, L, S] on the CPU
    report: EditReport  # the summary; report.to_dict() is report.json
    frames: list[np.ndarray] = field(default_factory=list)  # previews in order


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
    shape, a photo that is not an image) are raised here, before any step runs. The result's
    report is an :class:`~soundedit.edit.report.EditReport`; its ``mapper`` says how the bundle's
    mapper was used (None without one; an instant edit reports ``steps`` 0).
    """
    check_request(request)  # every number within the limits shared with the CLI and the app
    said: list[str] = []  # resolve() speaks in a plain list
    config = resolve(bundle, request, said)
    check_effect(config, bundle.defaults.truncation)
    notices = Notices([*said, *unused_inputs(request, config, bundle.generator.n_latent)])
    targets, recognition = prepare_targets(bundle, request, notices)
    source = prepare_source(bundle, request, config, notices)
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
    ``phase`` says which run). The last step of each run carries the final picture (as its
    preview, when previews are on) and, as ``preview_similarity``, the similarity the report
    gives for it, so that a page's last progress line and its summary agree. After
    :meth:`stop` the run ends once the current step is done; the result then holds the latest
    latents and its report's ``stopped_at`` is set. ``result()`` runs whatever steps are left
    (none after a stop) and always returns the same report schema.
    """

    def __init__(
        self,
        bundle,
        request: EditRequest,
        config: EditConfig,
        targets: list[Target],
        source: Source,
        notices: Notices,
        recognition: Recognition | None,
    ) -> None:
        self.bundle, self.request, self.config = bundle, request, config
        self._targets, self._source = targets, source
        self._notices, self._recognition = notices, recognition
        self._stopped = False
        self._mapper_use = mapper_use(bundle, request, config, source.z, notices)
        self._result: EditResult | None = None
        self.source_image: np.ndarray | None = None  # uint8 [H, W, 3], once the first step came
        self._steps = self._run()

    @property
    def recognition(self) -> Recognition | None:
        """What the world recognised in the sound, known before any step runs (None without
        a sound or a recogniser)."""
        return self._recognition

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

    def _project(self) -> Iterator[EditStep]:
        """A photo's projection, as the first steps of the run (stoppable like the rest)."""
        projection = self._source.projection
        for step in projection:
            yield step
            if self._stopped:
                projection.stop()
        w, report = projection.result()
        self._notices.add(projection.notice(report))
        info = {**self._source.info, "projection": report}
        self._source = Source(w.to(self.bundle.device), None, info)

    def _run(self) -> Iterator[EditStep]:
        if self._source.projection is not None:
            yield from self._project()
        bundle, config, source = self.bundle, self.config, self._source
        frames: list[np.ndarray] = []
        latents = {"source": source.w.detach().cpu()}
        # Each latent is synthesised and embedded once: its image goes in the result, its
        # embedding gives the similarity to every target.
        self.source_image, source_embed = _render_and_embed(bundle, source.w)
        images = {"source": self.source_image}
        phases: dict[str, PhaseReport] = {}
        start, last, done = time.perf_counter(), None, 0
        for phase, target in self._targets:
            if self._stopped:
                break
            phase_start = time.perf_counter()
            steps = self._phase_steps(target)  # the last step is rendered here, once
            edited_embed = None
            for step in steps:
                last, done = dataclasses.replace(step, phase=phase), done + 1
                if last.step == last.total:  # the result: shown with the similarity reported
                    images[phase], edited_embed = _render_and_embed(bundle, last.w)
                    last = _with_result(last, images[phase], edited_embed, target, config)
                if last.preview is not None:
                    frames.append(last.preview)
                yield last
                if self._stopped:
                    break
            steps.close()
            if last is None or last.phase != phase:
                break  # stopped before this run's first step
            latents[phase] = last.w.detach().cpu()
            if edited_embed is None:  # stopped before the last step
                images[phase], edited_embed = _render_and_embed(bundle, last.w)
            phases[phase] = _phase_report(last, source_embed, edited_embed, target, phase_start)
        timing = (time.perf_counter() - start, done)
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
        return edit_steps(
            bundle, target, source.w, config=config, z_source=source.z, start=start,
            final_preview=False,
        )  # fmt: skip

    def _finish(self, images, latents, phases, frames, timing, stopped_at) -> EditResult:
        bundle, request, config = self.bundle, self.request, self.config
        if request.mode == "mix" and {"sound", "text"} <= set(latents):
            latents["mixed"] = style_mix(latents["sound"], latents["text"], config.mix_layer)
            images["mixed"] = render_latent(bundle, latents["mixed"])
        notices = Notices(self._notices)
        check_outcome(bundle.generator, latents, phases, config, notices)
        if stopped_at is not None:
            notices.add(f"stopped at step {stopped_at} of {config.steps}")
        match = sound_match(bundle, phases.get("sound"), notices, self._recognition)
        report = EditReport(
            bundle=bundle.name,
            mode=request.mode,
            settings=report_settings(request, config),
            seed=request.seed,
            steps=0 if request.instant else config.steps,  # instant: one mapper pass
            seconds=timing[0],
            steps_run=timing[1],
            phases=phases,
            source=self._source.info,
            resolution=bundle.generator.resolution,
            device=str(bundle.device),
            notices=tuple(notices),
            stopped_at=stopped_at,
            recognition=self._recognition,
            sound_match=match,
            probe=_measure(bundle, images),
            mapper=self._mapper_use,
        )
        return EditResult(images=images, latents=latents, report=report, frames=frames)


def _with_result(last: EditStep, image, embed, target, config: EditConfig) -> EditStep:
    """The last step of a run carrying the final picture's similarity (the one the report
    gives as similarity_after) and, when previews are on, the final picture as its preview."""
    preview = image if config.preview_every else last.preview
    similarity = _similarity(embed, target)
    return dataclasses.replace(last, preview=preview, preview_similarity=similarity)


def _phase_report(last: EditStep, source_embed, edited_embed, target, start: float):
    return PhaseReport(
        similarity_before=_similarity(source_embed, target),
        similarity_after=_similarity(edited_embed, target),
        steps=last.step,
        losses=last.losses,
        layer_mask=last.layer_mask,
        seconds=time.perf_counter() - start,
    )


def _render_and_embed(bundle, w_plus: torch.Tensor) -> tuple[np.ndarray, torch.Tensor]:
    """The uint8 image [H, W, 3] of a W+ latent and its CLIP embedding [1, D] (no grad)."""
    with torch.no_grad():
        images = bundle.generator.synthesis(w_plus.to(bundle.device, torch.float32))
        return to_uint8(images), bundle.clip.embed_image(images).float()


def _similarity(embed: torch.Tensor, target: torch.Tensor) -> float:
    return float((embed * target.float()).sum(-1).mean())


def _measure(bundle, images: dict[str, np.ndarray]) -> dict[str, dict] | None:
    """What the bundle's ``measure`` hook reads off each image (None without the hook)."""
    if bundle.measure is None:
        return None
    return dict(zip(images, bundle.measure(list(images.values())), strict=True))


def write_result(
    result: EditResult, out_dir: str | Path, *, animation: bool = True, frames: bool = False
) -> dict[str, Path]:
    """Write images, latents, the report and (optionally) the trajectory; returns the paths.

    Files: source.png, edited.png (the sound-guided image, or the text one in "text" mode),
    text.png and mixed.png in "mix" mode, latents.safetensors (w_source, w_edited, and w_text /
    w_mixed when present), report.json, trajectory.gif when ``animation`` and there are previews,
    frames/NNNN.png when ``frames``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    edited = edited_key(result.images)
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
    paths["report"].write_text(strict_json.dumps(result.report.to_dict(), indent=2) + "\n")
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
