"""The embedded SoundScapes bundle: generator, tiny CLIP, audio encoder and probe from weights/.

``load_soundscapes_bundle(device)`` is what ``load_bundle("soundscapes")`` calls. A missing or
damaged file raises an error that names the file and the command that rebuilds it.
"""

from __future__ import annotations

from pathlib import Path

import torch

from soundedit.errors import CheckpointError, SoundEditError, WeightsNotFoundError
from soundedit.soundscapes.training import WEIGHTS_DIR

# Edit settings tuned for this world (64 px, 64-d tiny CLIP): see the eval table in the README.
# The generator learnt W only as the image of its mapping network, so W+ steps soon leave the
# scenes it can draw; edits move the seed's z instead, and the guidance is smoothed by latent
# noise so that a sound can bring in an event the source lacks entirely.
DEFAULTS = {
    "steps": 100,
    "lr": 0.1,
    "lambda_reg": 0.005,  # on z (plain L2): keeps the coordinates the sound does not pull
    "lambda_id": 0.0,
    "truncation": 0.7,
    "mix_layer": 6,
    "preview_every": 10,
    "guidance": "cosine",
    "space": "z",
    "latent_noise": 1.5,
    "samples": 2,
    # Edits towards sounds the world draws well end above this similarity (0.355-0.73 measured);
    # a 3 kHz beep, a sweep or a chord ends at 0.07-0.31 and is told the picture matches weakly.
    "known_similarity": 0.33,
}
FILES = {
    "generator": "generator",
    "clip": "clip",
    "audio": "audio_encoder",
    "probe": "probe",
    "recogniser": "recogniser",
}
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


def rebuild_command(model: str) -> str:
    """The command that retrains ``model`` and rewrites its files."""
    real = " --real ESC50_DIR" if model in ("audio", "recogniser") else ""
    return f"python -m soundedit soundscapes train --model {model}{real}"


def load_soundscapes_bundle(
    device: str | torch.device = "cpu", *, folder: str | Path | None = None
):
    """The SoundScapes :class:`~soundedit.bundle.Bundle` on ``device``.

    Raises:
        WeightsNotFoundError: a weights file is missing (the message names it and the command).
        CheckpointError: a weights file is damaged (same).
    """
    from soundedit.bundle import Bundle, EditDefaults

    folder = Path(folder) if folder is not None else WEIGHTS_DIR
    generator = _load("generator", folder, _load_generator, device)
    clip = _load("clip", folder, _load_clip, device)
    audio = _load("audio", folder, _load_audio, device)
    probe = _load("probe", folder, _load_probe, device)
    recogniser = _load("recogniser", folder, _load_recogniser, device)
    return Bundle(
        name="soundscapes",
        generator=generator,
        clip=clip,
        audio_encoder=audio,
        identity=None,
        defaults=EditDefaults(**DEFAULTS),
        probe=probe,
        recognise=recogniser,
        known_sounds=KNOWN_SOUNDS,
    )


def _load(model: str, folder: Path, loader, device):
    stem = folder / FILES[model]
    for path in (stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")):
        if not path.is_file():
            raise WeightsNotFoundError(
                f"SoundScapes {model} weights {path} are missing; rebuild them with "
                f"`{rebuild_command(model)}`"
            )
    from safetensors import SafetensorError

    try:
        module = loader(stem)
    except (SoundEditError, SafetensorError, RuntimeError, KeyError, ValueError, OSError) as e:
        raise CheckpointError(
            f"SoundScapes {model} weights {stem}.safetensors/.json cannot be read ({e}); "
            f"rebuild them with `{rebuild_command(model)}`"
        ) from e
    return module.to(device).eval()


def _load_generator(stem: Path):
    from soundedit.gan.checkpoints import load_generator

    return load_generator(stem.with_name(stem.name + ".safetensors"))


def _load_clip(stem: Path):
    from soundedit.encoders.clip import ClipBridge
    from soundedit.weights_io import load_record

    record = load_record(stem, kind="open_clip")  # open_clip reads the tensors itself
    return ClipBridge.from_config(
        record["config"], weights_path=stem.with_name(stem.name + ".safetensors")
    )


def _load_audio(stem: Path):
    from soundedit.encoders.audio import load_audio_encoder

    return load_audio_encoder(stem)


def _load_probe(stem: Path):
    from soundedit.soundscapes.probe import load_probe

    return load_probe(stem)


def _load_recogniser(stem: Path):
    from soundedit.soundscapes.recognise import load_recogniser

    return load_recogniser(stem)
