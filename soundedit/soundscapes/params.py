"""Scene parameters of the SoundScapes world and their prior.

A scene is a row of ``len(PARAM_NAMES)`` numbers, all in [0, 1]; a batch is a float tensor
``[B, P]`` whose columns follow :data:`PARAM_NAMES`. Two kinds of parameter:

* **events** — what a sound can talk about; each has a sound in :mod:`.synth`, a look in
  :mod:`.render` and words in :mod:`.captions`:

  - ``night``: the time of day, 0 = noon, 0.5 = dawn/dusk, 1 = midnight (crickets at night);
  - ``clouds``: cloud cover and darkness;
  - ``rain``, ``lightning``, ``snow``, ``fire``, ``wind``, ``birds``, ``sea``: 0 = absent,
    1 = as strong as the world allows (heavy downpour, a blazing fire, a flock of birds...).

* **shape** — what sounds never talk about, so an edit should leave it alone:
  ``mountains`` (silhouette height), ``ground`` (0 grass, 0.5 sand, 1 rock), ``layout``
  (where the horizon, the peaks and the fire sit).

The prior (:func:`quantile`) maps independent uniforms to parameters: the time of day, the clouds
and the shape parameters are uniform; each other event is absent with probability ``1 - p`` and
uniform on (0, 1] otherwise, so most scenes have one or two things going on. Because the prior is
a per-column quantile function, a latent ``z ~ N(0, I)`` maps to a scene deterministically via the
normal CDF (:func:`params_from_z`), which is how the generator is trained.
"""

from __future__ import annotations

import torch

from soundedit.errors import ConfigError

EVENTS: tuple[str, ...] = (
    "night",
    "clouds",
    "rain",
    "lightning",
    "snow",
    "fire",
    "wind",
    "birds",
    "sea",
)
SHAPES: tuple[str, ...] = ("mountains", "ground", "layout")
PARAM_NAMES: tuple[str, ...] = EVENTS + SHAPES
N_PARAMS = len(PARAM_NAMES)
INDEX: dict[str, int] = {name: i for i, name in enumerate(PARAM_NAMES)}

# The sound classes of the world: the events a sound makes you hear (clouds are silent).
CLASSES: tuple[str, ...] = ("rain", "lightning", "snow", "fire", "wind", "birds", "sea", "night")

# Probability that an event is present at all under the prior (None = always, uniform).
ACTIVE_PROBABILITY: dict[str, float | None] = {
    "night": None,
    "clouds": None,
    "rain": 0.35,
    "lightning": 0.2,
    "snow": 0.25,
    "fire": 0.3,
    "wind": 0.35,
    "birds": 0.35,
    "sea": 0.35,
    "mountains": None,
    "ground": None,
    "layout": None,
}
# The events that are absent from most scenes (rain ... sea): each shows in only part of them.
SPARSE: tuple[str, ...] = tuple(n for n, p in ACTIVE_PROBABILITY.items() if p is not None)


def quantile(u: torch.Tensor) -> torch.Tensor:
    """Map uniforms ``u`` [B, P] in [0, 1] to scene parameters [B, P] under the prior."""
    check_params(u, what="uniforms")
    out = u.clone()
    for name, p in ACTIVE_PROBABILITY.items():
        if p is None:
            continue
        i = INDEX[name]
        out[:, i] = ((u[:, i] - (1.0 - p)) / p).clamp(min=0.0)
    return out


def sample_params(
    n: int, generator: torch.Generator, *, device: str | torch.device = "cpu"
) -> torch.Tensor:
    """Draw ``n`` scenes from the prior: a tensor [n, P] (columns :data:`PARAM_NAMES`)."""
    u = torch.rand(n, N_PARAMS, generator=generator, device=device)
    return quantile(u)


def params_from_z(z: torch.Tensor) -> torch.Tensor:
    """The fixed map from a latent ``z`` [B, S >= P] to a scene [B, P]: prior quantile of Phi(z)."""
    if z.ndim != 2 or z.shape[1] < N_PARAMS:
        raise ConfigError(f"z must be [B, S] with S >= {N_PARAMS}, got {tuple(z.shape)}")
    u = torch.special.ndtr(z[:, :N_PARAMS].float())
    return quantile(u)


# The calm scene a start is moved to (see calm_z): noon-ish, a few clouds, every sparse event
# absent, each a quarter of the prior's mass below the point where it would appear (nearer,
# the generator's blur already shows faint birds; the probe reads them as 0.2-0.27).
CALM_UNIFORMS: dict[str, float] = {"night": 0.08, "clouds": 0.1}
CALM_MARGIN = 0.25


def calm_uniforms() -> dict[str, float]:
    """The uniform (the prior's quantile level) of each event in the calm scene."""
    return {
        name: CALM_UNIFORMS[name] if p is None else 1.0 - p - CALM_MARGIN
        for name, p in ACTIVE_PROBABILITY.items()
        if name in EVENTS
    }


def calm_z(z: torch.Tensor) -> torch.Tensor:
    """``z`` [B, S] with its event coordinates moved to a calm scene: a clear day with no
    weather and no event. The shape coordinates (mountains, ground, layout) and the rest of z
    are kept, so calm scenes of different seeds keep their variety."""
    if z.ndim != 2 or z.shape[1] < N_PARAMS:
        raise ConfigError(f"z must be [B, S] with S >= {N_PARAMS}, got {tuple(z.shape)}")
    out = z.clone()
    for name, u in calm_uniforms().items():
        out[:, INDEX[name]] = _normal_quantile(u)
    return out


def _normal_quantile(u: float) -> float:
    """Phi^-1(u): the z whose normal CDF is ``u``."""
    return float(torch.special.ndtri(torch.tensor(u, dtype=torch.float64)))


def sample_for_class(
    name: str, n: int, generator: torch.Generator, *, low: float = 0.65, others: float = 0.3
) -> torch.Tensor:
    """Scenes where the event ``name`` clearly dominates: it is in [low, 1], other events <= others.

    Used for held-out evaluation (zero-shot classification, the audio encoder's test sounds).
    """
    if name not in CLASSES:
        raise ConfigError(f"unknown class {name!r}; classes are {', '.join(CLASSES)}")
    params = sample_params(n, generator)
    events = [INDEX[e] for e in CLASSES]
    params[:, events] = params[:, events].clamp(max=others)
    params[:, INDEX[name]] = low + (1 - low) * torch.rand(n, generator=generator)
    return params


def dominant_class(params: torch.Tensor) -> list[str]:
    """The class each scene is mostly about: the strongest of :data:`CLASSES`."""
    check_params(params)
    values = params[:, [INDEX[c] for c in CLASSES]]
    return [CLASSES[i] for i in values.argmax(dim=1).tolist()]


def make_params(batch: int = 1, **values: float) -> torch.Tensor:
    """A batch of identical scenes from keyword values; unnamed parameters take a calm default.

    Example: ``make_params(rain=0.8, night=0.2)``.
    """
    unknown = sorted(set(values) - set(PARAM_NAMES))
    if unknown:
        raise ConfigError(
            f"unknown scene parameter(s) {', '.join(unknown)}; known: {', '.join(PARAM_NAMES)}"
        )
    row = torch.zeros(N_PARAMS)
    row[INDEX["clouds"]] = 0.2
    row[INDEX["mountains"]] = 0.5
    row[INDEX["ground"]] = 0.2
    row[INDEX["layout"]] = 0.5
    for name, value in values.items():
        row[INDEX[name]] = float(value)
    params = row.expand(batch, N_PARAMS).clone()
    check_params(params)
    return params


def as_dicts(params: torch.Tensor) -> list[dict[str, float]]:
    """Rows of a [B, P] tensor as ``{name: value}`` dicts (JSON-ready floats)."""
    return [dict(zip(PARAM_NAMES, map(float, row), strict=True)) for row in params.detach().cpu()]


def check_params(params: torch.Tensor, *, what: str = "scene parameters") -> torch.Tensor:
    """Validate a [B, P] tensor in [0, 1]; raises :class:`ConfigError` naming the bad column."""
    if not isinstance(params, torch.Tensor) or params.ndim != 2 or params.shape[1] != N_PARAMS:
        shape = tuple(params.shape) if isinstance(params, torch.Tensor) else type(params).__name__
        raise ConfigError(
            f"{what} must be a [B, {N_PARAMS}] tensor "
            f"(columns {', '.join(PARAM_NAMES)}), got {shape}"
        )
    if not torch.isfinite(params).all():
        raise ConfigError(f"{what} contain NaN or infinite values")
    bad = (params < 0) | (params > 1)
    if bad.any():
        col = int(bad.any(dim=0).nonzero()[0])
        value = float(params[:, col][bad[:, col]][0])
        raise ConfigError(
            f"{what}: {PARAM_NAMES[col]} = {value:g} is out of range; "
            "every parameter lies in [0, 1]"
        )
    return params
