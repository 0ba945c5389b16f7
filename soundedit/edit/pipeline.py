"""The high-level edit: from a sound (and/or words) to edited images, as a stream of steps.

``run_edit(bundle, request)`` checks the request, loads and shapes the sound (gain, a second
sound mixed in), embeds it, picks the source latent (seed, latent file or projected photo) and
returns an iterator of :class:`EditProgress`; the last item carries the :class:`EditResult`.
Modes:

- ``"sound"``: one run towards the sound embedding;
- ``"text"``: one run towards the text embedding;
- ``"mix"``: a sound run and a text run, then style mixing at ``mix_layer``;
- ``"blend"``: one run towards ``normalize(blend * sound + (1 - blend) * text)``.

Used by the CLI ``edit``, the Gradio app and the SoundScapes evaluation.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from soundedit.edit.latents import load_latent
from soundedit.edit.limits import check_request
from soundedit.edit.mixing import style_mix
from soundedit.edit.optimize import (
    EditConfig,
    EditStep,
    blend_targets,
    edit_steps,
    source_from_z,
    to_uint8,
    z_from_seed,
)
from soundedit.errors import ConfigError

MODES = ("sound", "text", "mix", "blend")


@dataclass(frozen=True)
class EditRequest:
    """What to edit and how; ``None`` settings take the bundle's defaults."""

    audio: Any = None  # path, bytes, (rate, array) as Gradio gives, or a Sound
    audio2: Any = None  # an optional second sound mixed into the first
    mix: float = 0.5  # share of audio2 in the mix (0 = only audio, 1 = only audio2)
    gain_db: float = 0.0  # gain applied to the (mixed) sound, in dB
    text: str | None = None  # words for the "text", "mix" and "blend" modes
    mode: Literal["sound", "text", "mix", "blend"] = "sound"  # see the module docstring
    mix_layer: int | None = None  # style-mixing crossover k: layers [0, k) from the sound
    blend: float = 0.5  # weight of the sound in the "blend" target
    seed: int = 0  # source seed (also seeds the run)
    truncation: float | None = None  # truncation of the seeded source latent
    steps: int | None = None  # optimisation steps per run
    lr: float | None = None  # peak learning rate
    lambda_reg: float | None = None  # latent regulariser weight (0 = free to wander)
    lambda_id: float | None = None  # identity loss weight (faces)
    adaptive_mask: bool = True  # trainable per-layer mask on the regulariser
    guidance: Literal["cosine", "hinge"] | None = None  # guidance form
    space: Literal["w+", "z"] | None = None  # what the edit moves: W+ or the seed's z
    preview_every: int | None = None  # preview every N steps
    source_latent: str | None = None  # start from this latent file instead of the seed
    source_image: str | None = None  # start from this photo, projected into W+


@dataclass(frozen=True)
class EditResult:
    """The outcome of :func:`run_edit`."""

    images: dict[str, np.ndarray]  # "source", "sound", "text", "mixed": uint8 [H, W, 3]
    latents: dict[str, torch.Tensor]  # same keys: W+ [1, L, S] on the CPU
    report: dict[str, Any]  # JSON-ready summary (see run_edit)
    frames: list[np.ndarray] = field(default_factory=list)  # previews in order


@dataclass(frozen=True)
class EditProgress:
    """One optimisation step of one phase; the last item has ``result`` set."""

    phase: Literal["sound", "text"]  # which run the step belongs to
    step: EditStep  # the step record
    result: EditResult | None = None  # only on the last item


def render_latent(bundle, w_plus: torch.Tensor) -> np.ndarray:
    """The image of a W+ latent [1, L, S] as uint8 [H, W, 3] (no grad; fast enough for sliders)."""
    G = bundle.generator
    if w_plus.ndim != 3 or tuple(w_plus.shape[1:]) != (G.n_latent, G.style_dim):
        raise ConfigError(
            f"expected a W+ latent [1, {G.n_latent}, {G.style_dim}], got {list(w_plus.shape)}"
        )
    with torch.no_grad():
        return to_uint8(G.synthesis(w_plus[:1].to(G.mean_w.device, torch.float32)))


def run_edit(bundle, request: EditRequest) -> Iterator[EditProgress]:
    """Check ``request``, prepare targets and source, and return the stream of steps.

    Errors in the request (bad settings, unreadable sound, missing text, a latent of the wrong
    shape, a photo that is not an image) are raised here, before any step runs.

    The report holds: bundle, mode, settings, seed, steps, seconds, seconds_per_step,
    similarity_before / similarity_after and final losses of the main run (the sound run, or
    the text run in "text" mode), per-phase details, the final layer mask, the source, notices
    (e.g. "sound cut to 30 s"), sound_match (see :func:`sound_match`; None without a sound run),
    and probe_source / probe_edited when the bundle has a probe.
    """
    check_request(request)  # every number within the limits shared with the CLI and the app
    notices: list[str] = []
    config, settings = _resolve_settings(bundle, request, notices)
    targets, recognition = _targets(bundle, request, notices)
    w_source, z_source, source_info = _source(bundle, request, settings, notices)
    return _stream(
        bundle,
        request,
        config,
        settings,
        targets,
        (w_source, z_source),
        source_info,
        notices,
        recognition,
    )


def run_to_end(bundle, request: EditRequest) -> EditResult:
    """Run an edit to its last step and return its result."""
    result = None
    for progress in run_edit(bundle, request):
        result = progress.result
    return result


def _resolve_settings(bundle, request: EditRequest, notices: list[str]) -> tuple[EditConfig, dict]:
    if request.mode not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {request.mode!r}")
    d = bundle.defaults

    def pick(value, default):
        return default if value is None else value

    space = _space(request, d.space, notices)
    smoothing = space == d.space  # the world's latent noise is tuned for its own space
    config = EditConfig(
        steps=pick(request.steps, d.steps),
        lr=pick(request.lr, d.lr),
        lambda_reg=pick(request.lambda_reg, d.lambda_reg),
        lambda_id=pick(request.lambda_id, d.lambda_id),
        guidance=pick(request.guidance, d.guidance),
        adaptive_mask=request.adaptive_mask,
        preview_every=pick(request.preview_every, d.preview_every),
        seed=request.seed,
        autocast=getattr(d, "autocast", "off"),
        space=space,
        latent_noise=d.latent_noise if smoothing else 0.0,
        samples=d.samples if smoothing else 1,
    )
    mix_layer = pick(request.mix_layer, bundle.mix_layer)
    n_latent = bundle.generator.n_latent
    if request.mode == "mix" and not 0 <= mix_layer <= n_latent:
        raise ConfigError(
            f"mix layer must be in [0, {n_latent}] for this generator, got {mix_layer}"
        )
    settings = {"truncation": pick(request.truncation, d.truncation), "mix_layer": mix_layer}
    return config, settings


def _space(request: EditRequest, default: str, notices: list[str]) -> str:
    """The latent space of the edit: z needs a seed, so a file or a photo is edited in W+."""
    space = default if request.space is None else request.space
    from_file = request.source_latent or request.source_image
    if space != "z" or not from_file:
        return space
    if request.space == "z":
        raise ConfigError(
            "space 'z' edits start from a seed: a latent file or a photo has no z; use space 'w+'"
        )
    notices.append("a latent file or a photo is edited in W+ (this world edits seeds in z)")
    return "w+"


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


def _source(bundle, request, settings, notices) -> tuple[torch.Tensor, torch.Tensor | None, dict]:
    """(W+ latent [1, L, S], the seed's z [1, S] or None for a file or photo, report entry)."""
    G = bundle.generator
    if request.source_latent and request.source_image:
        raise ConfigError("give a source latent or a source image, not both")
    if request.source_latent:
        w = load_latent(request.source_latent, n_latent=G.n_latent, style_dim=G.style_dim)
        return w.to(bundle.device), None, {"kind": "latent", "path": str(request.source_latent)}
    if request.source_image:
        from soundedit.edit.project import project_image

        w, report = project_image(bundle, request.source_image, seed=request.seed)
        notices.append(f"photo projected into W+ (PSNR {report['psnr_db']:.1f} dB)")
        return w, None, {"kind": "image", "path": str(request.source_image), "projection": report}
    truncation = settings["truncation"]
    z = z_from_seed(G, request.seed)
    info = {"kind": "seed", "seed": request.seed, "truncation": truncation}
    return source_from_z(G, z, truncation), z, info


def _stream(bundle, request, config, settings, targets, source, source_info, notices, recognition):
    w_source, z_source = source
    frames: list[np.ndarray] = []
    latents = {"source": w_source.detach().cpu()}
    # Each latent is synthesised and embedded once: its image goes in the result, its
    # embedding gives the similarity to every target.
    source_image, source_embed = _render_and_embed(bundle, w_source)
    images = {"source": source_image}
    phases: dict[str, dict] = {}
    start = time.perf_counter()
    last = None
    for phase, target in targets:
        phase_start = time.perf_counter()
        before = _similarity(source_embed, target)
        steps = edit_steps(
            bundle,
            target,
            w_source,
            config=config,
            z_source=z_source,
            truncation=settings["truncation"],
        )
        for step in steps:
            if step.preview is not None:
                frames.append(step.preview)
            last = (phase, step)
            if step.step < step.total or phase != targets[-1][0]:
                yield EditProgress(phase=phase, step=step)
        latents[phase] = step.w.detach().cpu()
        images[phase], edited_embed = _render_and_embed(bundle, step.w)
        phases[phase] = {
            "similarity_before": before,
            "similarity_after": _similarity(edited_embed, target),
            "losses": step.losses,
            "layer_mask": list(step.layer_mask) if step.layer_mask else None,
            "seconds": time.perf_counter() - phase_start,
        }
    seconds = time.perf_counter() - start
    if request.mode == "mix":
        latents["mixed"] = style_mix(latents["sound"], latents["text"], settings["mix_layer"])
        images["mixed"] = render_latent(bundle, latents["mixed"])
    report = _report(bundle, request, config, settings, phases, seconds, source_info, notices)
    report["recognition"] = recognition
    report["sound_match"] = sound_match(
        bundle, phases.get("sound"), config.steps, report["notices"], report["recognition"]
    )
    _add_probe(bundle, images, report)
    result = EditResult(images=images, latents=latents, report=report, frames=frames)
    yield EditProgress(phase=last[0], step=last[1], result=result)


def sound_match(
    bundle, phase: dict | None, steps: int, notices: list[str], recognition: dict | None = None
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
    threshold = bundle.defaults.known_similarity
    similarity = phase["similarity_after"]
    known = similarity >= threshold if steps >= bundle.defaults.steps else None
    if recognition is not None and not recognition["known"]:
        return {"similarity": round(similarity, 4), "threshold": threshold, "known": False}
    if known is False:
        notices.append(
            f"the picture matches this sound only weakly (similarity {similarity:.2f}; sounds "
            f"the {bundle.name} world draws well reach {threshold:.2f}): expect little change, "
            "the sound may be unlike anything this world knows"
        )
    return {"similarity": round(similarity, 4), "threshold": threshold, "known": known}


def _render_and_embed(bundle, w_plus: torch.Tensor) -> tuple[np.ndarray, torch.Tensor]:
    """The uint8 image [H, W, 3] of a W+ latent and its CLIP embedding [1, D] (no grad)."""
    with torch.no_grad():
        images = bundle.generator.synthesis(w_plus.to(bundle.device, torch.float32))
        return to_uint8(images), bundle.clip.embed_image(images).float()


def _similarity(embed: torch.Tensor, target: torch.Tensor) -> float:
    return float((embed * target.float()).sum(-1).mean())


def _report(bundle, request, config, settings, phases, seconds, source_info, notices) -> dict:
    main = phases.get("sound") or phases["text"]
    total_steps = config.steps * len(phases)
    return {
        "bundle": bundle.name,
        "generator": bundle.name,
        "mode": request.mode,
        "settings": {
            **dataclasses.asdict(config),
            **settings,
            "text": request.text,
            "gain_db": request.gain_db,
            "mix": request.mix if request.audio2 else None,
            "blend": request.blend if request.mode == "blend" else None,
        },
        "seed": request.seed,
        "steps": config.steps,
        "seconds": seconds,
        "seconds_per_step": seconds / total_steps,
        "similarity_before": main["similarity_before"],
        "similarity_after": main["similarity_after"],
        "losses": main["losses"],
        "layer_mask": main["layer_mask"],
        "phases": phases,
        "source": source_info,
        "resolution": bundle.generator.resolution,
        "device": str(bundle.device),
        "notices": list(notices),
    }


def _add_probe(bundle, images: dict[str, np.ndarray], report: dict) -> None:
    if bundle.probe is None:
        return
    keys = list(images)
    batch = torch.stack([torch.from_numpy(images[k]).permute(2, 0, 1) for k in keys])
    batch = batch.float() / 127.5 - 1.0  # [B, 3, H, W] in [-1, 1]
    with torch.no_grad():
        described = bundle.probe.describe(batch)
    by_key = dict(zip(keys, described, strict=True))
    report["probe_source"] = by_key["source"]
    report["probe_edited"] = by_key[_edited_key(images)]
    report["probe"] = by_key


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
