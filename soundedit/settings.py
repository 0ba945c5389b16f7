"""The settings spine of an edit: one config, one request, one ``resolve``.

- :class:`EditConfig` holds every setting of an edit run (Adam, losses, latent space, the source
  truncation and the style-mixing layer). A world's defaults *are* an ``EditConfig``
  (``bundle.defaults``), read strictly from the registry's ``defaults`` table or built by the
  world itself.
- :class:`EditRequest` is what a person asks for: the inputs (sounds, gain, mix, text, mode,
  source) and ``overrides``, the settings that should differ from the world's defaults.
- :func:`resolve` turns (bundle, request) into the final ``EditConfig``. The pipeline, the CLI,
  the app, the settings JSON and the reproduce command all go through it; nothing else decides
  what a setting left out means.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from soundedit.config import from_dict
from soundedit.errors import ConfigError

MAX_STEPS = 5000  # more is a typo, not an edit: 300 is the paper's setting
MAX_SAMPLES = 64  # noisy latents per guidance step (each costs a generator and a CLIP pass)
MODES = ("sound", "text", "mix", "blend")


@dataclass(frozen=True)
class EditConfig:
    """Settings of one edit (paper defaults for LSUN-like domains)."""

    steps: int = 300  # Adam steps per run
    lr: float = 0.1  # peak learning rate
    lambda_reg: float = 0.008  # weight of the latent regulariser (0 = free generation; z: plain L2)
    lambda_id: float = 0.0  # weight of the identity loss (faces only)
    guidance: Literal["cosine", "hinge"] = "cosine"  # CVPR cosine or Robust-paper hinge
    adaptive_mask: bool = True  # trainable per-layer softmax mask on the regulariser, else plain L2
    preview_every: int = 10  # decode a preview image every N steps (0 = never)
    rampup: float = 0.05  # fraction of the run spent warming the lr up from 0
    rampdown: float = 0.25  # fraction of the run spent ramping the lr down (cosine)
    seed: int = 0  # seed of the run (the source seed in the pipeline): the latent noise
    autocast: Literal["off", "bf16"] = "off"  # bf16 autocast of generator and CLIP forward
    space: Literal["w+", "z"] = "w+"  # what Adam moves: the W+ latent, or the seed's z (mapping)
    latent_noise: float = 0.0  # std of Gaussian noise on the latent for each guidance sample
    samples: int = 1  # noisy copies of the latent per step (used when latent_noise > 0)
    truncation: float = 0.7  # truncation of a seeded source latent
    mix_layer: int | None = None  # style-mixing crossover k: layers [0, k) from the sound run
    # (None = half the generator's W+ layers; resolve() fills it in)

    def __post_init__(self) -> None:
        _check_whole("steps", self.steps, 1, MAX_STEPS)
        _check_range("lr", self.lr, 0.0, 10.0, low_open=True)
        _check_range("lambda_reg", self.lambda_reg, 0.0, 1e4)
        _check_range("lambda_id", self.lambda_id, 0.0, 1e4)
        _check_range("rampup", self.rampup, 0.0, 1.0, low_open=True)
        _check_range("rampdown", self.rampdown, 0.0, 1.0, low_open=True)
        _check_choice("guidance", self.guidance, ("cosine", "hinge"))
        _check_choice("autocast", self.autocast, ("off", "bf16"))
        _check_choice("space", self.space, ("w+", "z"))
        _check_range("latent_noise", self.latent_noise, 0.0, 10.0)
        _check_whole("samples", self.samples, 1, MAX_SAMPLES)
        _check_range("truncation", self.truncation, 0.0, 1.0)
        if not isinstance(self.preview_every, int) or self.preview_every < 0:
            raise ConfigError(
                f"preview_every must be 0 (never) or more, got {self.preview_every!r}"
            )
        if self.mix_layer is not None:
            _check_whole("mix_layer", self.mix_layer, 0, 10_000)


def _check_whole(name: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")


def _check_range(name: str, value: float, low: float, high: float, *, low_open=False) -> None:
    ok = isinstance(value, (int, float)) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and value <= high
    if not ok:
        bracket = "(" if low_open else "["
        raise ConfigError(f"{name} must be in {bracket}{low}, {high}], got {value!r}")


def _check_choice(name: str, value, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be {' or '.join(map(repr, choices))}, got {value!r}")


@dataclass(frozen=True)
class EditRequest:
    """What to edit: the inputs, and the settings that should differ from the world's defaults.

    ``overrides`` maps :class:`EditConfig` field names to values (a value of None leaves the
    world's default); an unknown name is an error that names it.
    """

    audio: Any = None  # path, bytes, (rate, array) as Gradio gives, or a Sound
    audio2: Any = None  # an optional second sound mixed into the first
    mix: float = 0.5  # share of audio2 in the mix (0 = only audio, 1 = only audio2)
    gain_db: float = 0.0  # gain applied to the (mixed) sound, in dB
    text: str | None = None  # words for the "text", "mix" and "blend" modes
    mode: Literal["sound", "text", "mix", "blend"] = "sound"  # see soundedit.edit.pipeline
    blend: float = 0.5  # weight of the sound in the "blend" target
    seed: int = 0  # source seed (also seeds the run)
    source_latent: str | None = None  # start from this latent file instead of the seed
    source_image: str | None = None  # start from this photo, projected into W+
    instant: bool = False  # one forward pass of the world's mapper instead of the optimisation
    warm_start: bool = True  # the optimisation starts from the mapper's edit (where one exists)
    overrides: Mapping[str, Any] = field(default_factory=dict)  # EditConfig field -> value

    @classmethod
    def of(cls, **fields) -> EditRequest:
        """A request from inputs and settings given together, e.g.
        ``EditRequest.of(audio="rain.wav", seed=3, steps=50)``: the :class:`EditConfig` fields
        become overrides.

        Raises:
            ConfigError: a name that is neither an input nor a setting.
        """
        settings = {f.name for f in dataclasses.fields(EditConfig)} - {"seed"}
        overrides = {k: fields.pop(k) for k in list(fields) if k in settings}
        inputs = {f.name for f in dataclasses.fields(cls)} - {"overrides"}
        unknown = sorted(set(fields) - inputs)
        if unknown:
            raise ConfigError(
                f"unknown request field(s) {', '.join(unknown)}; inputs: "
                f"{', '.join(sorted(inputs))}; settings: {', '.join(sorted(settings))}"
            )
        return cls(**fields, overrides=overrides)

    def given(self) -> dict[str, Any]:
        """The overrides that are set (None values dropped)."""
        return {k: v for k, v in self.overrides.items() if v is not None}


def resolve(bundle, request: EditRequest, notices: list[str] | None = None) -> EditConfig:
    """The final settings of ``request`` on ``bundle``: its defaults with the overrides applied.

    A seed's edit runs in the world's own latent space; a latent file or a photo has no z, so a
    world that edits in z edits it in W+ (with a notice), and the world's guidance smoothing,
    tuned for its own space, is then left out. ``mix_layer`` None becomes half the W+ layers.

    Raises:
        ConfigError: an unknown setting, a value of the wrong type or out of range, an unknown
            mode, z asked for a file or a photo, or a mix layer the generator does not have.
    """
    if request.mode not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {request.mode!r}")
    overrides = request.given()
    if "seed" in overrides:
        raise ConfigError("seed is an input of the request (EditRequest.seed), not an override")
    defaults = bundle.defaults
    values = {**dataclasses.asdict(defaults), **overrides, "seed": request.seed}
    config = from_dict(EditConfig, values, where="edit settings")
    space = _space(request, config.space, "space" in overrides, notices)
    n_latent = bundle.generator.n_latent
    mix_layer = n_latent // 2 if config.mix_layer is None else config.mix_layer
    if request.mode == "mix" and not 0 <= mix_layer <= n_latent:
        raise ConfigError(
            f"mix layer must be in [0, {n_latent}] for this generator, got {mix_layer}"
        )
    own_space = space == defaults.space
    return dataclasses.replace(
        config,
        space=space,
        mix_layer=mix_layer,
        latent_noise=config.latent_noise if own_space else 0.0,
        samples=config.samples if own_space else 1,
    )


def _space(request: EditRequest, space: str, asked: bool, notices: list[str] | None) -> str:
    """The latent space of the edit: z needs a seed, so a file or a photo is edited in W+."""
    if space != "z" or not (request.source_latent or request.source_image):
        return space
    if asked:
        raise ConfigError(
            "space 'z' edits start from a seed: a latent file or a photo has no z; use space 'w+'"
        )
    if notices is not None:
        notices.append("a latent file or a photo is edited in W+ (this world edits seeds in z)")
    return "w+"
