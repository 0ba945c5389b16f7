"""Model bundles: a generator with the CLIP model, audio encoder and defaults that suit it.

A bundle is everything one image domain needs to be edited with sound. Bundles are loaded by
name and cached per process:

- a world registers itself with :func:`register_bundle` (the embedded SoundScapes world, the
  default, does so when ``soundedit`` is imported); this module never imports a world;
- every generator entry of ``weights/registry.toml`` (``kind = "stylegan2"``) is a real domain,
  paired with the registry's CLIP ViT-B/32, the authors' audio encoder and, for faces, IR-SE50.
  Files come through :func:`soundedit.hub.resolve`; offline, a missing one raises
  :class:`~soundedit.errors.WeightsNotFoundError` naming the file and the folder to put it in;
- :func:`register_bundle` adds a loader under a new name (worlds, tests, plug-ins), and
  :func:`bundle_from_checkpoint` pairs any generator file with the real encoders.

What is special about a world reaches the edit engine only through the bundle's hooks:
``defaults`` (an :class:`~soundedit.settings.EditConfig`: its steps, latent space ...),
``recognise`` (does the world know a sound), ``measure`` (what it reads off images),
``known_similarity`` (how close a sound edit of the world ends when it matches) and ``start``
(the z a seeded edit starts from).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch

from soundedit import hub
from soundedit.config import from_dict
from soundedit.encoders.audio import load_authors_checkpoint
from soundedit.encoders.clip import ClipBridge
from soundedit.encoders.identity import IdentityModel, load_ir_se50
from soundedit.errors import ConfigError, WeightsNotFoundError
from soundedit.gan.checkpoints import load_generator
from soundedit.hub import entry_status, get_weights_dir, load_registry
from soundedit.mapper import check_mapper, load_mapper
from soundedit.settings import EditConfig, EditRequest, resolve
from soundedit.weights_io import weight_paths

DEFAULT_BUNDLE = "soundscapes"  # the embedded world (registered by soundedit.soundscapes)
GENERATOR_KIND = "stylegan2"


@dataclass
class Bundle:
    """Generator + CLIP + audio encoder (+ identity model, + probe) and their defaults."""

    name: str  # registry or registered name
    generator: Any  # soundedit.gan.stylegan2.Generator (mapping, synthesis, n_latent, mean_w)
    clip: Any  # soundedit.encoders.clip.ClipBridge
    audio_encoder: Any  # soundedit.encoders.audio.AudioEncoder
    identity: Any | None = None  # soundedit.encoders.identity.IdentityModel, faces only
    defaults: EditConfig = field(default_factory=EditConfig)  # the settings that suit it
    # Hook: unit sound embedding [1, D] -> a soundedit.edit.report.Recognition (event, score,
    # threshold, known); None for worlds that cannot tell a sound they know from one they do not.
    recognise: Callable[[Any], Any] | None = None
    known_sounds: tuple[str, ...] = ()  # plain names of the sounds the world knows (messages)
    # Hook: uint8 images [H, W, 3] -> one {quantity: value} dict per image, what the world reads
    # off a picture (SoundScapes: its probe's scene parameters); None = nothing to measure.
    measure: Callable[[list[Any]], list[dict[str, float]]] | None = None
    known_similarity: float = 0.0  # a sound edit ending below this similarity gets a notice
    # Hook: (seed, z [1, S]) -> the z [1, S] a seeded edit starts from, given the seed's own z
    # (SoundScapes: the same shapes in a calm scene); None = the seed's own z.
    start: Callable[[int, Any], Any] | None = None
    # soundedit.edit.mapper.LatentMapper: instant edits and warm starts (None = the world has
    # none; registry worlds name its file in their entry's ``mapper`` field)
    mapper: Any | None = None

    @property
    def device(self):
        """Where the generator lives (the edit runs there): a torch.device."""
        return self.generator.mean_w.device

    @property
    def mix_layer(self) -> int:
        """The default style-mixing crossover layer (as :func:`~soundedit.settings.resolve`
        works it out for a request that leaves it to the world)."""
        return resolve(self, EditRequest()).mix_layer


@dataclass(frozen=True)
class BundleInfo:
    """One line of :func:`list_bundles`."""

    name: str  # what load_bundle takes
    title: str  # human-readable
    domain: str  # faces, churches, soundscapes ...
    status: Literal["ready", "missing"]  # ready = every file present (embedded or cached)
    message: str  # what is missing and where to put it (or how to build it), or where it is
    downloadable: bool = False  # True: missing files are fetched on first use when online


@dataclass(frozen=True)
class _Registered:
    loader: Callable[[str], Bundle]  # device -> Bundle
    title: str
    domain: str
    check: Callable[[], tuple[bool, str]]  # () -> (ready, message)


_REGISTERED: dict[str, _Registered] = {}
_CACHE: dict[tuple[str, str], Bundle] = {}
_LOCK = threading.Lock()


def register_bundle(
    name: str,
    loader: Callable[[str], Bundle],
    *,
    title: str = "",
    domain: str = "",
    check: Callable[[], tuple[bool, str]] | None = None,
) -> None:
    """Make ``load_bundle(name)`` call ``loader(device)`` (replaces an earlier registration)."""
    _REGISTERED[name] = _Registered(
        loader, title or name, domain or name, check or (lambda: (True, "registered"))
    )
    clear_cache(name)


def unregister_bundle(name: str) -> None:
    """Forget a registration (and its cached bundles); unknown names are ignored."""
    _REGISTERED.pop(name, None)
    clear_cache(name)


def clear_cache(name: str | None = None) -> None:
    """Forget cached bundles (all, or those called ``name``)."""
    with _LOCK:
        for key in [k for k in _CACHE if name is None or k[0] == name]:
            del _CACHE[key]


def load_bundle(name: str = DEFAULT_BUNDLE, *, device="cpu") -> Bundle:
    """The bundle called ``name`` on ``device``, loaded once per process.

    Raises:
        ConfigError: an unknown name (the message lists the valid ones).
        WeightsNotFoundError: a file of the bundle is not on this machine and cannot be fetched.
    """
    device = str(torch.device(device))
    with _LOCK:
        cached = _CACHE.get((name, device))
    if cached is not None:
        return cached
    bundle = _load_uncached(name, device)
    with _LOCK:
        return _CACHE.setdefault((name, device), bundle)


def _load_uncached(name: str, device: str) -> Bundle:
    if name in _REGISTERED:
        return _REGISTERED[name].loader(device)
    entries = _generator_entries()
    if name not in entries:
        valid = sorted({*_REGISTERED, *entries})
        raise ConfigError(f"unknown generator {name!r}; valid names: {', '.join(valid)}")
    return _load_registry_bundle(entries[name], device)


def bundle_names() -> list[str]:
    """Every name :func:`load_bundle` accepts."""
    return sorted({*_REGISTERED, *_generator_entries()})


def list_bundles() -> list[BundleInfo]:
    """Every known bundle with whether its files are here (nothing is loaded or downloaded)."""
    infos = []
    for name, reg in _REGISTERED.items():
        ready, message = reg.check()
        infos.append(BundleInfo(name, reg.title, reg.domain, _status(ready), message))
    for name, entry in sorted(_generator_entries().items()):
        if name not in _REGISTERED:
            ready, message = _registry_status(entry)
            title = entry.title or f"{entry.domain} {entry.resolution}px"
            info = BundleInfo(name, title, entry.domain, _status(ready), message, True)
            infos.append(info)
    return infos


def _status(ready: bool) -> Literal["ready", "missing"]:
    return "ready" if ready else "missing"


# ---- real domains from weights/registry.toml -------------------------------------------------


def _registry() -> dict:
    try:
        return load_registry()
    except FileNotFoundError:
        return {}


def _generator_entries() -> dict:
    return {n: e for n, e in _registry().items() if e.kind == GENERATOR_KIND}


def _needs_identity(entry) -> bool:
    return entry.domain == "faces" or float((entry.defaults or {}).get("lambda_id", 0)) > 0


def _encoder_entries(*, identity: bool) -> dict[str, Any]:
    """The registry entries of the shared encoders (role -> entry), first of each kind."""
    registry = _registry()
    roles = ("clip", "audio_encoder", "identity") if identity else ("clip", "audio_encoder")
    found = {}
    for role in roles:
        matches = sorted(n for n, e in registry.items() if e.kind == role)
        if not matches:
            raise ConfigError(f"weights/registry.toml has no kind = {role!r} entry")
        found[role] = registry[matches[0]]
    return found


def _registry_status(entry) -> tuple[bool, str]:
    entries = [entry, *_encoder_entries(identity=_needs_identity(entry)).values()]
    missing = [entry_status(e.name) for e in entries]
    missing = [status.message for status in missing if status.state == "missing"]
    if missing:
        return False, "; ".join(missing)
    return True, "downloaded"


def registry_defaults(entry) -> EditConfig:
    """The edit settings of a registry entry's ``defaults`` table, read strictly (an unknown
    key is a ConfigError that names it)."""
    return from_dict(EditConfig, entry.defaults or {}, where=f"registry {entry.name}.defaults")


def frozen(generator: torch.nn.Module) -> torch.nn.Module:
    """``generator`` in eval mode with its weights frozen, as a bundle holds it: edits take
    gradients for latents only, and a frozen generator computes its weight-only terms once
    (:class:`~soundedit.gan.stylegan2.ModulatedConv2d`) instead of at every step."""
    return generator.eval().requires_grad_(False)


def _load_registry_bundle(entry, device: str) -> Bundle:
    # Resolve every file first: a missing one fails before anything slow is loaded.
    encoder_paths = {
        role: (e, hub.resolve(e.name))
        for role, e in _encoder_entries(identity=_needs_identity(entry)).items()
    }
    generator_path = hub.resolve(entry.name)
    encoders = _load_encoders(encoder_paths, device)
    generator = frozen(load_generator(generator_path, device=device))
    bundle = Bundle(
        name=entry.name, generator=generator, defaults=registry_defaults(entry), **encoders
    )
    bundle.mapper = registry_mapper(entry, bundle)
    return bundle


def registry_mapper(entry, bundle: Bundle, *, weights_dir=None):
    """The mapper named by a registry entry's ``mapper`` field (a pair under the weights
    folder), checked against ``bundle``; None when the entry names none.

    Raises:
        WeightsNotFoundError: the entry names a mapper whose files are not there.
        CheckpointError / ConfigError: the files are damaged or do not fit the bundle.
    """
    if not entry.mapper:
        return None
    stem = get_weights_dir(weights_dir) / entry.mapper
    if not all(p.is_file() for p in weight_paths(stem)):
        raise WeightsNotFoundError(
            f"the {entry.name} mapper {stem}.safetensors/.json is missing; train one with "
            f"`python -m soundedit train-mapper --generator {entry.name}` or remove the "
            "registry's mapper field"
        )
    mapper = load_mapper(stem, device=bundle.device)
    check_mapper(bundle, mapper)
    return mapper


def _load_encoders(paths: dict, device: str) -> dict[str, Any]:
    """CLIP, audio encoder and (optionally) identity model from (entry, path) per role."""
    clip_entry, clip_path = paths["clip"]
    arch = (clip_entry.defaults or {}).get("arch", "ViT-B-32-quickgelu")
    clip = ClipBridge.from_pretrained(arch, clip_path, device=device)
    audio = load_authors_checkpoint(paths["audio_encoder"][1])
    identity = None
    if "identity" in paths:
        identity = IdentityModel(load_ir_se50(paths["identity"][1])).to(device).eval()
    return {
        "clip": clip.to(device).eval(),
        "audio_encoder": audio.to(device).eval(),
        "identity": identity,
    }


def bundle_from_checkpoint(
    path: str | Path, *, device="cpu", defaults: EditConfig | None = None
) -> Bundle:
    """A bundle of any generator file with the real CLIP ViT-B/32 and the authors' encoder.

    Raises:
        CheckpointError: the file is not a StyleGAN2 checkpoint we can read.
        WeightsNotFoundError: the encoders are not on this machine.
    """
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"checkpoint {path} does not exist")
    device = str(torch.device(device))

    paths = {role: (e, hub.resolve(e.name)) for role, e in _encoder_entries(identity=False).items()}
    generator = frozen(load_generator(path, device=device))
    encoders = _load_encoders(paths, device)
    return Bundle(
        name=path.stem, generator=generator, defaults=defaults or EditConfig(), **encoders
    )
