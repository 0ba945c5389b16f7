"""Model bundles: a generator with the CLIP model, audio encoder and defaults that suit it.

A bundle is everything one image domain needs to be edited with sound. Bundles are loaded by
name and cached per process:

- ``"soundscapes"`` (the default) is the embedded offline world; its loader lives in
  :mod:`soundedit.soundscapes.bundle` and is imported only when asked for;
- every generator entry of ``weights/registry.toml`` (``kind = "stylegan2"``) is a real domain,
  paired with the registry's CLIP ViT-B/32, the authors' audio encoder and, for faces, IR-SE50.
  Files come through :func:`soundedit.hub.resolve`; offline, a missing one raises
  :class:`~soundedit.errors.WeightsNotFoundError` naming the file and the folder to put it in;
- :func:`register_bundle` adds a loader under a new name (tests, plug-ins), and
  :func:`bundle_from_checkpoint` pairs any generator file with the real encoders.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch

from soundedit.config import from_dict
from soundedit.errors import ConfigError, SoundEditError

DEFAULT_BUNDLE = "soundscapes"
GENERATOR_KIND = "stylegan2"


@dataclass(frozen=True)
class EditDefaults:
    """The edit settings that suit a bundle (paper values for LSUN-like domains)."""

    steps: int = 300  # optimisation steps
    lr: float = 0.1  # peak Adam learning rate
    lambda_reg: float = 0.008  # latent regulariser weight
    lambda_id: float = 0.0  # identity loss weight (faces: 0.004)
    truncation: float = 0.7  # truncation of seeded source latents
    mix_layer: int | None = None  # style-mixing crossover layer k (None = n_latent // 2)
    preview_every: int = 10  # preview image every N steps
    guidance: Literal["cosine", "hinge"] = "cosine"  # guidance loss form
    autocast: Literal["off", "bf16"] = "off"  # bf16 autocast of the edit loop (see bench)


@dataclass
class Bundle:
    """Generator + CLIP + audio encoder (+ identity model, + probe) and their defaults."""

    name: str  # registry or registered name
    generator: Any  # soundedit.gan.stylegan2.Generator (mapping, synthesis, n_latent, mean_w)
    clip: Any  # soundedit.encoders.clip.ClipBridge
    audio_encoder: Any  # soundedit.encoders.audio.AudioEncoder
    identity: Any | None = None  # soundedit.encoders.identity.IdentityModel, faces only
    defaults: EditDefaults = field(default_factory=EditDefaults)  # settings that suit it
    probe: Any | None = None  # SoundScapes: measures scene parameters of images

    @property
    def device(self) -> torch.device:
        """Where the generator lives (the edit runs there)."""
        return self.generator.mean_w.device

    @property
    def mix_layer(self) -> int:
        """The default style-mixing crossover layer."""
        k = self.defaults.mix_layer
        return self.generator.n_latent // 2 if k is None else k


@dataclass(frozen=True)
class BundleInfo:
    """One line of :func:`list_bundles`."""

    name: str  # what load_bundle takes
    title: str  # human-readable
    domain: str  # faces, churches, soundscapes ...
    status: Literal["ready", "missing"]  # ready = every file present (embedded or cached)
    message: str  # what is missing and where to put it, or where the files are


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


def clear_cache(name: str | None = None) -> None:
    """Forget cached bundles (all, or those called ``name``)."""
    with _LOCK:
        for key in [k for k in _CACHE if name is None or k[0] == name]:
            del _CACHE[key]


def load_bundle(name: str = DEFAULT_BUNDLE, *, device: str | torch.device = "cpu") -> Bundle:
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
    if name == DEFAULT_BUNDLE:
        from soundedit.soundscapes.bundle import load_soundscapes_bundle

        return load_soundscapes_bundle(device=device)
    entries = _generator_entries()
    if name not in entries:
        valid = sorted({DEFAULT_BUNDLE, *_REGISTERED, *entries})
        raise ConfigError(f"unknown generator {name!r}; valid names: {', '.join(valid)}")
    return _load_registry_bundle(entries[name], device)


def bundle_names() -> list[str]:
    """Every name :func:`load_bundle` accepts."""
    return sorted({DEFAULT_BUNDLE, *_REGISTERED, *_generator_entries()})


def list_bundles() -> list[BundleInfo]:
    """Every known bundle with whether its files are here (nothing is loaded or downloaded)."""
    infos = [_soundscapes_info()]
    for name, reg in _REGISTERED.items():
        if name != DEFAULT_BUNDLE:
            ready, message = reg.check()
            infos.append(BundleInfo(name, reg.title, reg.domain, _status(ready), message))
    for name, entry in sorted(_generator_entries().items()):
        if name not in _REGISTERED:
            ready, message = _registry_status(entry)
            title = f"{entry.domain} {entry.resolution}px"
            infos.append(BundleInfo(name, title, entry.domain, _status(ready), message))
    return infos


def _status(ready: bool) -> Literal["ready", "missing"]:
    return "ready" if ready else "missing"


def _soundscapes_info() -> BundleInfo:
    if DEFAULT_BUNDLE in _REGISTERED:
        ready, message = _REGISTERED[DEFAULT_BUNDLE].check()
    else:
        ready, message = _soundscapes_status()
    title = "SoundScapes (embedded, offline)"
    return BundleInfo(DEFAULT_BUNDLE, title, "soundscapes", _status(ready), message)


def _soundscapes_status() -> tuple[bool, str]:
    folder = _weights_dir() / "soundscapes"
    try:
        import soundedit.soundscapes.bundle  # noqa: F401
    except ImportError:
        return False, "the SoundScapes bundle loader is not part of this install yet"
    if not (folder / "generator.safetensors").is_file():
        return False, f"SoundScapes weights are not in {folder} yet (train them with soundscapes)"
    return True, f"embedded in {folder}"


def _weights_dir() -> Path:
    try:
        from soundedit.hub import WEIGHTS_DIR

        return Path(WEIGHTS_DIR)
    except ImportError:
        return Path(__file__).resolve().parent.parent / "weights"


# ---- real domains from weights/registry.toml -------------------------------------------------


def _registry() -> dict:
    try:
        from soundedit.hub import load_registry
    except ImportError:
        return {}
    try:
        return load_registry()
    except FileNotFoundError:
        return {}


def _generator_entries() -> dict:
    return {n: e for n, e in _registry().items() if e.kind == GENERATOR_KIND}


def _encoder_entries(entry) -> dict[str, Any]:
    """The registry entries of the encoders a generator entry needs (kind -> entry)."""
    registry = _registry()
    wanted = {"clip": "clip", "audio_encoder": "audio_encoder"}
    if entry.domain == "faces" or (entry.defaults or {}).get("lambda_id", 0) > 0:
        wanted["identity"] = "identity"
    found = {}
    for role, kind in wanted.items():
        matches = sorted(n for n, e in registry.items() if e.kind == kind)
        if not matches:
            raise ConfigError(f"weights/registry.toml has no {kind!r} entry for {entry.name}")
        found[role] = registry[matches[0]]
    return found


def _registry_status(entry) -> tuple[bool, str]:
    from soundedit.hub import entry_status

    missing = []
    for e in [entry, *_encoder_entries(entry).values()]:
        status = entry_status(e.name)
        state = status[0] if isinstance(status, tuple) else status
        if state == "missing":
            missing.append(e.filename)
    if missing:
        return False, f"not downloaded: put {', '.join(missing)} in {_weights_dir()}"
    return True, "downloaded"


def _edit_defaults(entry) -> EditDefaults:
    known = {f for f in EditDefaults.__dataclass_fields__}
    values = {k: v for k, v in (entry.defaults or {}).items() if k in known}
    return from_dict(EditDefaults, values, where=f"registry {entry.name}.defaults")


def _load_registry_bundle(entry, device: str) -> Bundle:
    from soundedit.gan.checkpoints import load_generator
    from soundedit.hub import resolve

    encoders = _load_encoders(_encoder_entries(entry), device)
    generator = load_generator(resolve(entry.name), device=device).eval()
    return Bundle(name=entry.name, generator=generator, defaults=_edit_defaults(entry), **encoders)


def _load_encoders(entries: dict, device: str) -> dict[str, Any]:
    from soundedit.encoders.audio import load_authors_checkpoint
    from soundedit.encoders.clip import ClipBridge
    from soundedit.hub import resolve

    clip = ClipBridge.from_pretrained("ViT-B-32-quickgelu", str(resolve(entries["clip"].name)))
    audio = load_authors_checkpoint(resolve(entries["audio_encoder"].name))
    identity = None
    if "identity" in entries:
        from soundedit.encoders.identity import IdentityModel, load_ir_se50

        identity = IdentityModel(load_ir_se50(resolve(entries["identity"].name))).to(device).eval()
    return {
        "clip": clip.to(device).eval(),
        "audio_encoder": audio.to(device).eval(),
        "identity": identity,
    }


def bundle_from_checkpoint(
    path: str | Path, *, device: str | torch.device = "cpu", defaults: EditDefaults | None = None
) -> Bundle:
    """A bundle of any generator file with the real CLIP ViT-B/32 and the authors' encoder.

    Raises:
        CheckpointError: the file is not a StyleGAN2 checkpoint we can read.
        WeightsNotFoundError: the encoders are not on this machine.
    """
    from soundedit.gan.checkpoints import load_generator

    path = Path(path)
    if not path.exists():
        raise ConfigError(f"checkpoint {path} does not exist")
    device = str(torch.device(device))
    generator = load_generator(path, device=device).eval()
    registry = _registry()
    entry = next((e for e in registry.values() if e.kind == GENERATOR_KIND), None)
    if entry is None:
        raise SoundEditError("weights/registry.toml lists no encoders to pair the checkpoint with")
    encoders = _load_encoders(
        {k: v for k, v in _encoder_entries(entry).items() if k != "identity"}, device
    )
    return Bundle(
        name=path.stem, generator=generator, defaults=defaults or EditDefaults(), **encoders
    )
