"""The embedded SoundScapes bundle: generator, tiny CLIP, audio encoder and probe from weights/.

``load_soundscapes_bundle(device)`` is what ``load_bundle("soundscapes")`` calls (the package
registers it). A missing or damaged file raises an error that names the file and the command
that rebuilds it. The world reaches the edit engine through the bundle's hooks: its defaults
(edits in z), ``recognise`` (the open-set recogniser), ``measure`` (the probe) and
``known_similarity`` and ``start`` (a seed starts from a calm scene with its own shapes:
:func:`~soundedit.soundscapes.params.calm_z`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError

from soundedit.bundle import Bundle, frozen
from soundedit.encoders.audio import load_audio_encoder
from soundedit.encoders.clip import ClipBridge
from soundedit.errors import CheckpointError, SoundEditError, WeightsNotFoundError
from soundedit.gan.checkpoints import load_generator
from soundedit.hub import SHIPPED_WEIGHTS
from soundedit.mapper import check_mapper, load_mapper
from soundedit.settings import EditConfig
from soundedit.soundscapes.params import calm_z
from soundedit.soundscapes.probe import load_probe
from soundedit.soundscapes.recognise import load_recogniser
from soundedit.weights_io import load_record, weight_paths

NAME = "soundscapes"
TITLE = "SoundScapes (embedded, offline)"

# Edit settings tuned for this world (64 px, 64-d tiny CLIP): see the eval table in the README.
# The generator learnt W only as the image of its mapping network, so W+ steps soon leave the
# scenes it can draw; edits move the seed's z instead, and the guidance is smoothed by latent
# noise so that a sound can bring in an event the source lacks entirely.
DEFAULTS = EditConfig(
    steps=100,
    lr=0.1,
    lambda_reg=0.005,  # on z (plain L2): keeps the coordinates the sound does not pull
    lambda_id=0.0,
    truncation=0.7,
    mix_layer=6,
    preview_every=10,
    guidance="cosine",
    space="z",
    latent_noise=1.5,
    samples=2,
)
# Edits towards sounds the world draws well end above this similarity (0.355-0.73 measured);
# a 3 kHz beep, a sweep or a chord ends at 0.07-0.31 and is told the picture matches weakly.
KNOWN_SIMILARITY = 0.33
FILES = {
    "generator": "generator",
    "clip": "clip",
    "audio": "audio_encoder",
    "probe": "probe",
    "recogniser": "recogniser",
}
MAPPER = "mapper"  # the optional latent mapper's pair in the weights folder
# Plain names of the sounds the world knows, in CLASSES order (for "this sound is none of them").
KNOWN_SOUNDS = (
    "rain",
    "thunder",
    "footsteps in snow",
    "a crackling fire",
    "wind",
    "birdsong",
    "sea waves",
    "crickets at night",
)


@dataclass
class SoundScapesBundle(Bundle):
    """The world's bundle; it also keeps the probe itself, which the evaluation reads."""

    probe: Any = None  # soundedit.soundscapes.probe.Probe (behind the ``measure`` hook)


def weights_dir() -> Path:
    """The folder of the world's weights: ``soundscapes/`` in the shipped weights folder."""
    return SHIPPED_WEIGHTS / NAME


def weights_status(folder: str | Path | None = None) -> tuple[bool, str]:
    """(ready, message): whether every weights file is here, else which are missing and how to
    build them."""
    folder = Path(folder) if folder is not None else weights_dir()
    wanted = [f"{stem}.{ext}" for stem in FILES.values() for ext in ("safetensors", "json")]
    missing = [name for name in wanted if not (folder / name).is_file()]
    if missing:
        return False, (
            f"SoundScapes weights missing in {folder}: {', '.join(missing)}; the models are "
            "trained by the project itself, offline, on a CPU: build them with "
            "`python -m soundedit soundscapes train --real ESC50_DIR` (ESC50_DIR: the ESC-50 "
            "release, whose real recordings teach the world's ears)"
        )
    return True, f"embedded in {folder}"


def rebuild_command(model: str) -> str:
    """The command that retrains ``model`` and rewrites its files."""
    real = " --real ESC50_DIR" if model in ("audio", "recogniser", "mapper") else ""
    return f"python -m soundedit soundscapes train --model {model}{real}"


def load_soundscapes_bundle(
    device: str | torch.device = "cpu", *, folder: str | Path | None = None
):
    """The SoundScapes bundle on ``device``.

    Raises:
        WeightsNotFoundError: a weights file is missing (the message names it and the command).
        CheckpointError: a weights file is damaged (same).
    """
    folder = Path(folder) if folder is not None else weights_dir()
    generator, clip, audio, probe, recogniser = (
        load_part(model, folder, device) for model in FILES
    )
    bundle = SoundScapesBundle(
        name=NAME,
        generator=generator,
        clip=clip,
        audio_encoder=audio,
        identity=None,
        defaults=DEFAULTS,
        recognise=recogniser,
        known_sounds=KNOWN_SOUNDS,
        measure=probe.measure,
        known_similarity=KNOWN_SIMILARITY,
        start=calm_start,
        probe=probe,
    )
    bundle.mapper = load_mapper_if_present(folder, device)
    if bundle.mapper is not None:
        check_mapper(bundle, bundle.mapper)
    return bundle


def load_mapper_if_present(folder: str | Path | None = None, device="cpu"):
    """The world's latent mapper (``mapper.safetensors/.json`` in ``folder``), or None when it
    has none: instant edits and warm starts are then unavailable, the rest works.

    Raises:
        CheckpointError: the files are there but damaged (names the rebuild command).
    """
    stem = (Path(folder) if folder is not None else weights_dir()) / MAPPER
    if not any(p.is_file() for p in weight_paths(stem)):
        return None
    try:
        return load_mapper(stem, device=device)
    except CheckpointError as e:
        raise CheckpointError(f"{e}; rebuild it with `{rebuild_command('mapper')}`") from e


def calm_start(seed: int, z: torch.Tensor) -> torch.Tensor:
    """The world's start for a seed: the seed's z [1, S] moved to a calm scene (clear day, no
    weather or event) with the seed's own mountains, ground and layout, so that any sound's
    change shows and "New random" still gives varied scenes."""
    return calm_z(z)


def load_part(model: str, folder: str | Path | None = None, device="cpu"):
    """One model of the world (a key of :data:`FILES`) from ``folder`` (default: the shipped
    weights), in eval mode on ``device``.

    Raises:
        WeightsNotFoundError / CheckpointError: as :func:`load_soundscapes_bundle`.
    """
    folder = Path(folder) if folder is not None else weights_dir()
    stem = folder / FILES[model]
    loader = {
        "generator": _load_generator,
        "clip": _load_clip,
        "audio": _load_audio,
        "probe": _load_probe,
        "recogniser": _load_recogniser,
    }[model]
    for path in (stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")):
        if not path.is_file():
            raise WeightsNotFoundError(
                f"SoundScapes {model} weights {path} are missing; rebuild them with "
                f"`{rebuild_command(model)}`"
            )
    try:
        module = loader(stem)
    except (SoundEditError, SafetensorError, RuntimeError, KeyError, ValueError, OSError) as e:
        raise CheckpointError(
            f"SoundScapes {model} weights {stem}.safetensors/.json cannot be read ({e}); "
            f"rebuild them with `{rebuild_command(model)}`"
        ) from e
    return module.to(device).eval()


def _load_generator(stem: Path):
    return frozen(load_generator(stem.with_name(stem.name + ".safetensors")))


def _load_clip(stem: Path):
    record = load_record(stem, kind="open_clip")  # open_clip reads the tensors itself
    return ClipBridge.from_config(
        record["config"], weights_path=stem.with_name(stem.name + ".safetensors")
    )


def _load_audio(stem: Path):
    return load_audio_encoder(stem)


def _load_probe(stem: Path):
    return load_probe(stem)


def _load_recogniser(stem: Path):
    return load_recogniser(stem)
