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
import functools
import numbers
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from soundedit.errors import ConfigError, shown
from soundedit.limit import Limit

MAX_STEPS = 5000  # more is a typo, not an edit: 300 is the paper's setting
MAX_SAMPLES = 64  # noisy latents per guidance step (each costs a generator and a CLIP pass)
MODES = ("sound", "text", "mix", "blend")
MAX_STEPS_ENV = "SOUNDEDIT_MAX_STEPS"  # a cap on every edit's steps, for quick tries and tests
STARTS = ("world", "seed")  # a seeded source: the world's start for the seed, or the seed as drawn
MAX_SEED = 2**32 - 1  # seeds are 0 ... 2**32 - 1 on every surface (numpy's and JS's safe range)
SEED = Limit(0, MAX_SEED, integer=True)
MAX_MIX_LAYER = 32  # more layers than any StyleGAN2 has; resolve checks the generator's own


@dataclass(frozen=True)
class Page:
    """How the page offers a setting: its label, its panel and, for a slider, its range."""

    label: str  # the widget's label
    panel: Literal["start", "guidance", "optimisation"] = "optimisation"  # where it sits
    slider: tuple[float, float, float] | None = None  # (low, high, step); None: a number box
    elem_id: str | None = None  # the element id (tests and the page's script find it by it)
    visible: bool = True  # False: shown only in some modes (see demo.layout)
    choice_labels: Mapping[str, str] = field(default_factory=dict)  # choice -> its words


@dataclass(frozen=True)
class Setting:
    """One setting of an edit, declared on its :class:`EditConfig` field: what it accepts, its
    help line, and where it is offered. The limits table, the command line's flags, the page's
    widgets and form, the settings file and the reproduce command are all made from these."""

    help: str  # one line: the command line's help
    limit: Limit | None = None  # accepted numbers; None: a yes/no or a choice (its Literal)
    flag: bool = True  # offered on the command line as --name-with-dashes
    page: Page | None = None  # offered on the page (None: not)
    optional: bool = False  # None is accepted: the value is worked out by resolve()
    choices: tuple[str, ...] = ()  # filled from the field's Literal type (see settings_of)

    def check(self, name: str, value):
        """``value`` as the setting holds it (numpy numbers as plain ones), or ConfigError
        naming ``name`` when it is not accepted."""
        if value is None and self.optional:
            return None
        if self.choices:
            if value not in self.choices:
                options = " or ".join(map(repr, self.choices))
                raise ConfigError(f"{name} must be {options}, got {shown(value)}")
        elif self.limit is None:
            if not isinstance(value, bool):
                raise ConfigError(f"{name} must be true or false, got {shown(value)}")
        else:
            kind = numbers.Integral if self.limit.integer else numbers.Real
            if isinstance(value, bool) or not isinstance(value, kind):
                raise ConfigError(f"{name} must be {self.limit.describe()}, got {shown(value)}")
            return self.limit.check(value, name)
        return value


def setting(default, help: str, **spec) -> Any:
    """An :class:`EditConfig` field with its :class:`Setting` (``spec``: its other fields)."""
    return field(default=default, metadata={"setting": Setting(help, **spec)})


def number(low: float, high: float, default, help: str, **spec) -> Any:
    """A numeric setting in [low, high] (``low_open``: low excluded; whole when ``default`` is
    an int or ``integer`` is given)."""
    integer = spec.pop("integer", isinstance(default, int))
    limit = Limit(low, high, integer, spec.pop("low_open", False))
    return setting(default, help, limit=limit, **spec)


def settings_of(cls: type | None = None) -> dict[str, Setting]:
    """name -> :class:`Setting` of every setting of ``cls`` (default :class:`EditConfig`, or a
    subclass that adds settings), in field order, with their choices read off their types."""
    return dict(_settings_of(cls or EditConfig))


@functools.cache
def _settings_of(cls: type) -> tuple[tuple[str, Setting], ...]:
    hints = typing.get_type_hints(cls)
    found = []
    for f in dataclasses.fields(cls):
        spec = f.metadata.get("setting")
        if spec is not None:
            hint = hints[f.name]
            choices = typing.get_args(hint) if typing.get_origin(hint) is Literal else ()
            found.append((f.name, dataclasses.replace(spec, choices=tuple(choices))))
    return tuple(found)


_SEED = Setting("the source seed", limit=SEED)
_STEPS = Page("Steps", slider=(1, MAX_STEPS, 1), elem_id="steps")
_TRUNCATION = Page(
    "Variety (truncation: lower gives tamer pictures)", panel="start", slider=(0, 1, 0.05)
)
_MIX_LAYER = Page(
    "Hand-over layer: the sound shapes the layers below it, the words the rest",
    panel="guidance", slider=(0, 18, 1), visible=False,
)  # fmt: skip
_GUIDANCE = Page(
    "Guidance loss",
    choice_labels={"cosine": "Cosine (CVPR 2022)", "hinge": "Hinge (Robust, 2023)"},
)
_PREVIEW = Page("Preview every N steps", slider=(1, 50, 1), elem_id="preview-every")


@dataclass(frozen=True)
class EditConfig:
    """Settings of one edit (paper defaults for LSUN-like domains).

    Each setting is declared here once, with its :class:`Setting` (accepted values, help line,
    command-line flag, page widget): a field added with :func:`setting` or :func:`number` is
    checked, offered on the command line and the page, and written to the settings file.
    """

    steps: int = number(1, MAX_STEPS, 300, "optimisation steps", page=_STEPS)
    lr: float = number(
        0.0, 10.0, 0.1, "peak learning rate", low_open=True, page=Page("Learning rate (0 … 10]")
    )
    # weight of the latent regulariser (0 = free generation; z: plain L2)
    lambda_reg: float = number(
        0.0, 1e4, 0.008, "latent regulariser weight", page=Page("λ_reg (stay near the start)")
    )
    adaptive_mask: bool = setting(
        True,
        "adaptive layer masking of the latent regulariser (off = plain L2)",
        page=Page("Adaptive layer masking"),
    )
    lambda_id: float = number(
        0.0, 1e4, 0.0, "identity loss weight (faces)", page=Page("λ_ID (keep identity; faces)")
    )
    preview_every: int = number(
        0, MAX_STEPS, 10, "a preview every N steps (0 = none)", page=_PREVIEW
    )
    # CVPR cosine or Robust-paper hinge
    guidance: Literal["cosine", "hinge"] = setting("cosine", "guidance loss", page=_GUIDANCE)
    rampup: float = number(
        0.0, 1.0, 0.05, "fraction of the run warming the lr up from 0", low_open=True, flag=False
    )
    rampdown: float = number(
        0.0, 1.0, 0.25, "fraction of the run ramping the lr down (cosine)", low_open=True,
        flag=False,
    )  # fmt: skip
    seed: int = 0  # seed of the run (the source seed in the pipeline): an input of the request
    autocast: Literal["off", "bf16"] = setting(
        "off", "bf16 autocast of generator and CLIP forward", flag=False
    )
    space: Literal["w+", "z"] = setting("w+", "what the edit moves: the W+ latent or the seed's z")
    latent_noise: float = number(
        0.0, 10.0, 0.0, "std of Gaussian noise on the latent for each guidance sample", flag=False
    )
    samples: int = number(
        1, MAX_SAMPLES, 1, "noisy copies of the latent per step (with latent_noise)", flag=False
    )
    truncation: float = number(0.0, 1.0, 0.7, "source truncation (0..1)", page=_TRUNCATION)
    # style-mixing crossover k: layers [0, k) from the sound run (None = half the generator's
    # W+ layers; resolve() fills it in)
    mix_layer: int | None = number(
        0, MAX_MIX_LAYER, None, "mix mode: layers [0,K) from the sound", integer=True,
        optional=True, page=_MIX_LAYER,
    )  # fmt: skip

    def __post_init__(self) -> None:
        for name, spec in settings_of(type(self)).items():  # each value checked here, once
            object.__setattr__(self, name, spec.check(name, getattr(self, name)))
        object.__setattr__(self, "seed", _SEED.check("seed", self.seed))  # the request's seed


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
    # "world": the world's start for the seed (its bundle's ``start`` hook; SoundScapes: a calm
    # scene); "seed": the seed's own z as drawn, any scene
    start: Literal["world", "seed"] = "world"
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
        settings = set(settings_of())
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
    if request.start not in STARTS:
        raise ConfigError(f"start must be one of {', '.join(STARTS)}, got {request.start!r}")
    overrides = request.given()
    if "seed" in overrides:
        raise ConfigError("seed is an input of the request (EditRequest.seed), not an override")
    defaults = bundle.defaults
    unknown = sorted(set(overrides) - set(settings_of(type(defaults))))
    if unknown:
        raise ConfigError(
            f"edit settings: unknown setting(s) {', '.join(unknown)}; "
            f"accepted: {', '.join(sorted(settings_of(type(defaults))))}"
        )
    config = dataclasses.replace(defaults, **overrides, seed=request.seed)
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
        steps=_capped_steps(config.steps, notices),
        space=space,
        mix_layer=mix_layer,
        latent_noise=config.latent_noise if own_space else 0.0,
        samples=config.samples if own_space else 1,
    )


def step_cap() -> int | None:
    """``$SOUNDEDIT_MAX_STEPS``: the most steps any edit runs (None when unset).

    Raises:
        ConfigError: the variable is set but not a whole number from 1 to MAX_STEPS.
    """
    text = os.environ.get(MAX_STEPS_ENV, "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_STEPS:
        raise ConfigError(
            f"{MAX_STEPS_ENV} must be a whole number from 1 to {MAX_STEPS}, got {text!r}"
        )
    return int(text)


def _capped_steps(steps: int, notices: list[str] | None) -> int:
    cap = step_cap()
    if cap is None or steps <= cap:
        return steps
    if notices is not None:
        notices.append(f"{steps} steps asked, {cap} run: {MAX_STEPS_ENV}={cap} caps every edit")
    return cap


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
