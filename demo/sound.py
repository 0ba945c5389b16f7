"""The sound panel: what the model will hear, as a clip you can play, and the example sounds.

The preview is returned as int16: Gradio rescales a float array to its own peak before playing
it (gradio issues #2789, #5484), which would make the volume slider inaudible.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np

from demo.errors import plain_errors
from soundedit.audio.signal import check_signal
from soundedit.edit import targets
from soundedit.edit.report import Notices, non_sound_message, unknown_sound_message

SOUND_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"


def shape_sound(sound, sound2=None, mix: float = 0.5, gain_db: float = 0.0):
    """Load, mix and apply gain exactly as an edit will (the pipeline's own
    :func:`~soundedit.edit.targets.shape_sound`); returns a soundedit Sound or None.

    Args:
        sound: the main sound (path or Gradio's (rate, array)); None gives None.
        sound2: an optional second sound, mixed in with ratio ``mix`` (0 = only the first).
        gain_db: volume change in dB applied after mixing.
    """
    if sound is None:
        return None
    return targets.shape_sound(sound, sound2, mix=float(mix), gain_db=float(gain_db))


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] -> int16, clipping anything louder (as a speaker would)."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype(np.int16)


def sound_notices(sound) -> list[str]:
    """Plain-language notes about a loaded Sound (cut to length, silent)."""
    notes = []
    if getattr(sound, "truncated", False):
        notes.append(
            f"The sound is {sound.source_seconds:.1f} s long; only the first "
            f"{sound.seconds:.1f} s are used."
        )
    if getattr(sound, "silent", False):
        notes.append("The sound is silent: the edit will have nothing to follow.")
    if getattr(sound, "scaled_db", 0.0) > 0.0:
        notes.append(
            f"The sound peaked {sound.scaled_db:.1f} dB above full scale; it was scaled down to "
            "full scale, and the edit hears exactly what you hear."
        )
    if getattr(sound, "clipped", 0):
        notes.append(
            f"At this volume the sound clips: {sound.clipped} samples were limited to full scale."
        )
    return notes


@plain_errors
def preview_sound(sound, sound2, mix, gain_db):
    """Handler: the shaped sound as (rate, int16 samples) for a gr.Audio output, with notices."""
    return preview_of(shape_sound(sound, sound2, mix, gain_db))


def preview_of(shaped):
    """A shaped Sound as (rate, int16 samples) for a gr.Audio output, with its notices."""
    if shaped is None:
        return None
    for note in sound_notices(shaped):
        gr.Warning(note)
    return shaped.rate, to_int16(shaped.samples)


def recognition_note(bundle, shaped) -> str:
    """Markdown saying, before any run, whether the world knows the sound ("" without a hook)."""
    if shaped is None or getattr(bundle, "recognise", None) is None:
        return ""
    non_sound = check_signal(shaped.samples, shaped.rate)
    if non_sound is not None:
        return "⚠️ " + non_sound_message(bundle, non_sound.description)
    embedding = targets.sound_embedding(bundle, shaped)
    recognition = targets.recognise_sound(bundle, embedding, Notices())
    if not recognition.known:
        return "⚠️ " + unknown_sound_message(bundle, recognition, scores=False)
    return f"Heard as **{recognition.event}** — a sound this world knows."


def example_sounds(folder: str | Path | None = None) -> list[Path]:
    """Example sound files shipped in assets/sounds/ (or assets/), sorted by name."""
    folders = [Path(folder)] if folder is not None else [ASSETS_DIR / "sounds", ASSETS_DIR]
    for candidate in folders:
        if candidate.is_dir():
            found = sorted(p for p in candidate.iterdir() if p.suffix.lower() in SOUND_SUFFIXES)
            if found:
                return found
    return []


def example_label(path: Path) -> str:
    """'heavy_rain-2.wav' -> 'heavy rain 2'."""
    return path.stem.replace("_", " ").replace("-", " ").strip()
