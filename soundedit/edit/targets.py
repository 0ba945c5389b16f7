"""What an edit moves towards and where it starts: its targets and its source.

- :func:`shape_sound` loads a sound, mixes a second one in and applies the gain, exactly as the
  edit hears it (the app previews the same Sound);
- :func:`prepare_targets` turns a request into its :class:`Target` embeddings (one per run) and
  the world's :class:`~soundedit.edit.report.Recognition` of the sound;
- :func:`prepare_source` gives the :class:`Source`: a seed's latent, a latent file, or a photo
  to project when the run starts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import torch

from soundedit.audio.io import Sound, load_sound
from soundedit.audio.shape import apply_gain
from soundedit.audio.shape import mix as mix_sounds
from soundedit.audio.signal import NonSound, check_signal
from soundedit.edit.latents import check_distance, load_latent
from soundedit.edit.limits import has_words
from soundedit.edit.optimize import blend_targets, source_from_z, z_from_seed
from soundedit.edit.project import Projection, projection_seconds
from soundedit.edit.report import Notices, Recognition, non_sound_message, unknown_sound_message
from soundedit.encoders.audio import embed_sound
from soundedit.errors import ConfigError
from soundedit.settings import EditConfig, EditRequest, resolve


class Target(NamedTuple):
    """One optimisation run of an edit: its name and the unit embedding it moves towards."""

    phase: str  # "sound" or "text" (a blend runs as "sound")
    embedding: torch.Tensor  # [1, D] on the bundle's device


@dataclass(frozen=True)
class Source:
    """Where an edit starts."""

    w: torch.Tensor | None  # W+ [1, L, S] on the bundle's device (None: a photo not projected)
    z: torch.Tensor | None  # the seed's z [1, S]; None for a latent file or a photo
    info: dict[str, Any]  # the report's "source" entry
    projection: Projection | None = None  # a photo's projection, run as the edit's first steps


def shape_sound(
    sound, second=None, *, mix: float = 0.5, gain_db: float = 0.0, notices: Notices | None = None
) -> Sound:
    """Load ``sound``, mix ``second`` in (ratio ``mix``, 0 = only the first) and apply
    ``gain_db``: the Sound the edit hears. What was changed on the way goes in ``notices``."""
    notices = Notices() if notices is None else notices
    shaped = load_sound(sound)
    _sound_notices(shaped, "sound", notices)
    if second is not None:
        other = load_sound(second)
        _sound_notices(other, "second sound", notices)
        if not 0.0 <= mix <= 1.0:
            raise ConfigError(f"mix ratio must be in [0, 1], got {mix}")
        shaped = mix_sounds(shaped, other, mix)
    if gain_db:
        was_silent, shaped = shaped.silent, apply_gain(shaped, gain_db)
        if shaped.silent and not was_silent:
            notices.add(
                f"a gain of {gain_db:g} dB makes the sound silent: the edit follows the "
                "embedding of silence"
            )
    return shaped


def sound_embedding(bundle, sound: Sound) -> torch.Tensor:
    """The unit embedding [1, D] of a shaped sound by the bundle's audio encoder (no grad)."""
    with torch.no_grad():
        return embed_sound(bundle.audio_encoder, sound).float()


def recognise_sound(
    bundle, embedding: torch.Tensor, notices: Notices, non_sound: NonSound | None = None
) -> Recognition | None:
    """The bundle's recognition of a sound embedding [1, D] (None when it has no recogniser).

    ``non_sound`` is what the signal check found (:func:`~soundedit.audio.signal.check_signal`:
    silence, DC, a steady tone ...): such a signal is never known, whatever the recogniser
    scores, and its notice names it. A sound the world does not know adds a notice that says
    which sounds it does know.
    """
    if bundle.recognise is None:
        return None
    recognition = bundle.recognise(embedding)
    if non_sound is not None:
        notices.add(non_sound_message(bundle, non_sound.description))
        return dataclasses.replace(recognition, known=False, signal=non_sound.as_dict())
    if not recognition.known:
        notices.add(unknown_sound_message(bundle, recognition))
    return recognition


def prepare_targets(
    bundle, request: EditRequest, notices: Notices
) -> tuple[list[Target], Recognition | None]:
    """The runs of an edit, in order, and the sound's recognition (None without a sound)."""
    needs_sound = request.mode in ("sound", "mix", "blend")
    needs_text = request.mode in ("text", "mix", "blend")
    if needs_sound and request.audio is None:
        raise ConfigError(f"mode {request.mode!r} needs a sound (audio)")
    if needs_text and not has_words(request.text):
        raise ConfigError(f"mode {request.mode!r} needs words (text)")
    audio = text = recognition = None
    if needs_sound:
        shaped = shape_sound(
            request.audio, request.audio2, mix=request.mix, gain_db=request.gain_db,
            notices=notices,
        )  # fmt: skip
        non_sound = check_signal(shaped.samples, shaped.rate) if bundle.recognise else None
        audio = sound_embedding(bundle, shaped).to(bundle.device)
        recognition = recognise_sound(bundle, audio, notices, non_sound)
    if needs_text:
        text = bundle.clip.embed_text([request.text.strip()]).to(bundle.device)
    if request.mode == "blend":
        return [Target("sound", blend_targets(audio, text, request.blend))], recognition
    runs = {"sound": audio, "text": text}
    return [Target(phase, e) for phase, e in runs.items() if e is not None], recognition


def _sound_notices(sound: Sound, label: str, notices: Notices) -> None:
    if getattr(sound, "truncated", False):
        notices.add(f"{label} cut to {sound.seconds:g} s (was {sound.source_seconds:.1f} s)")
    if getattr(sound, "silent", False):
        notices.add(f"{label} is silent: the edit follows the embedding of silence")
    if getattr(sound, "scaled_db", 0.0) > 0.0:
        notices.add(f"{label} peaked {sound.scaled_db:.1f} dB above full scale: scaled down")


def prepare_source(bundle, request: EditRequest, config: EditConfig, notices: Notices) -> Source:
    """The source of a seed, a latent file or a photo (checked now, projected when run)."""
    G = bundle.generator
    if request.source_latent and request.source_image:
        raise ConfigError("give a source latent or a source image, not both")
    if request.source_latent:
        w = load_latent(request.source_latent, n_latent=G.n_latent, style_dim=G.style_dim)
        check_distance(w, G, where=Path(request.source_latent).name, notices=notices)
        info = {"kind": "latent", "path": str(request.source_latent)}
        return Source(w.to(bundle.device), None, info)
    if request.source_image:
        projection = Projection(bundle, request.source_image, max_seconds=projection_seconds())
        return Source(None, None, {"kind": "image", "path": str(request.source_image)}, projection)
    z = start_z(bundle, request.seed, start=request.start)
    info = {
        "kind": "seed",
        "seed": request.seed,
        "start": request.start,
        "truncation": config.truncation,
    }
    return Source(source_from_z(G, z, config.truncation), z, info)


def start_z(bundle, seed: int, *, start: str = "world") -> torch.Tensor:
    """The z [1, S] a seeded edit starts from, on the generator's device: the world's start for
    ``seed`` (``start="world"``: its bundle's ``start`` hook, the seed's own z where it has
    none) or the seed's own z as drawn (``start="seed"``)."""
    z = z_from_seed(bundle.generator, seed)  # [1, S]
    if start == "seed" or bundle.start is None:
        return z
    return bundle.start(seed, z).to(z.device)


def source_latent(bundle, request: EditRequest) -> torch.Tensor | None:
    """The source latent W+ [1, L, S] of a request on the CPU, or None for a photo (projecting
    one is slow: it happens when the edit runs)."""
    if request.source_image:
        return None
    return prepare_source(bundle, request, resolve(bundle, request), Notices()).w.cpu()
