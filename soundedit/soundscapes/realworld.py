"""Real recordings in the SoundScapes world: which categories are which events, and the items.

The world's audio encoder also trains on real clips (a folder in the ESC-50 layout: the public
ESC-50 release, or the 16 kHz copy under ``shared/data/esc50-16k``), weakly paired to the world
as in the paper: a real clip gets a caption that names its event (with an intensity word drawn
from its loudness on the synthesiser's own level scale), its event as the label of the
weakly-paired KL term (whose images are renders of scenes holding that event), and no paired
image of its own. :data:`MAPPING_PATH` (TOML) says which category is which event, which are
outside the world, and which are left out.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from soundedit.audio.io import load_sound
from soundedit.audio.recording import microphone_recording, simulate_recording
from soundedit.audio.shape import fit_length
from soundedit.config import load_file
from soundedit.errors import ConfigError
from soundedit.soundscapes.captions import (
    GROUNDS,
    NIGHT_NOUNS,
    PHRASES,
    TEMPLATES,
    TIMES,
    intensity_band,
)
from soundedit.soundscapes.params import CLASSES, INDEX, SPARSE, sample_params
from soundedit.soundscapes.render import render
from soundedit.soundscapes.synth import level_db
from soundedit.train import TrainItem
from soundedit.train.data import load_items

MAPPING_PATH = Path(__file__).with_name("esc50.toml")
RATE = 16_000
CLIP_SAMPLES = 4 * RATE  # the world's front end reads 4 s


@dataclass(frozen=True)
class CategoryList:
    """A list of dataset categories."""

    categories: tuple[str, ...] = ()  # category names as in the dataset's csv (underscores)


@dataclass(frozen=True)
class RealAudioMap:
    """How a labelled set of real recordings relates to the world (see esc50.toml)."""

    events: dict[str, str]  # category -> the world class a clip of it is heard as
    also: dict[str, tuple[str, ...]] = field(default_factory=dict)  # category -> more events
    outside: CategoryList = field(default_factory=CategoryList)  # not in the world (negatives)
    ignored: CategoryList = field(default_factory=CategoryList)  # left out of training and eval

    def role(self, category: str) -> str | None:
        """ "event", "outside", "ignored", or None for a category the map does not name."""
        if category in self.events:
            return "event"
        if category in self.outside.categories:
            return "outside"
        if category in self.ignored.categories:
            return "ignored"
        return None


def load_mapping(path: str | Path = MAPPING_PATH) -> RealAudioMap:
    """Read and check a category map (strict: unknown keys, unknown events and overlaps fail)."""
    mapping = load_file(RealAudioMap, path)
    for category, event in [
        *mapping.events.items(),
        *((c, e) for c, more in mapping.also.items() for e in more),
    ]:
        if event not in CLASSES:
            raise ConfigError(
                f"{Path(path).name}: {category} -> {event!r} is not a world event; "
                f"events are {', '.join(CLASSES)}"
            )
    names = [*mapping.events, *mapping.outside.categories, *mapping.ignored.categories]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"{Path(path).name}: categories listed twice: {', '.join(twice)}")
    return mapping


@dataclass(frozen=True)
class RealClip:
    """One decoded real recording and what it is in the world."""

    name: str  # file name
    category: str  # dataset category (underscores)
    fold: int | None  # dataset fold
    event: str | None  # world class, None for a sound from outside the world
    samples: np.ndarray  # float32 [n] at 16 kHz, peak-normalised (the copy's level says nothing)


def read_clips(
    folder: str | Path,
    *,
    folds: tuple[int, ...] | None = None,
    mapping: RealAudioMap | None = None,
    roles: tuple[str, ...] = ("event", "outside"),
) -> list[RealClip]:
    """Decode the clips of ``folder`` (ESC-50 layout) whose category has one of ``roles``.

    Raises:
        FileNotFoundError: ``folder`` does not exist. ConfigError: it is not in the ESC-50
        layout, or no clip of the wanted roles is there.
    """
    mapping = mapping or load_mapping()
    listed = load_items(folder, layout="esc50", folds=folds)
    clips = []
    for item in listed.items:
        category = item.label.replace(" ", "_")
        if mapping.role(category) not in roles:
            continue
        samples = load_sound(item.audio, rate=RATE).samples
        peak = float(np.max(np.abs(samples))) if samples.size else 0.0
        if peak > 0:
            samples = samples / peak
        event = mapping.events.get(category)
        clips.append(RealClip(Path(item.audio).name, category, item.fold, event, samples))
    if not clips:
        raise ConfigError(
            f"{folder}: no clips of the categories in {MAPPING_PATH.name} (folds {folds})"
        )
    return clips


def level_intensity(samples: np.ndarray) -> float:
    """The intensity in [0, 1] whose synthesised source is as loud (RMS) as ``samples``."""
    quiet, loud = level_db(0.0), level_db(1.0)
    rms_db = 20 * np.log10(float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) + 1e-9)
    return float(np.clip((rms_db - quiet) / (loud - quiet), 0.0, 1.0))


def real_caption(events: tuple[str, ...], intensity: float, rng: random.Random) -> str:
    """A world caption for a real clip of ``events`` (first = main) at ``intensity``."""
    band = intensity_band(intensity)
    words = [
        rng.choice(NIGHT_NOUNS) if e == "night" else rng.choice(PHRASES[e][band]) for e in events
    ]
    joined = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    # Crickets are the world's night: a clip without them is heard as day or dusk.
    time = TIMES[2] if "night" in events else rng.choice(TIMES[:2])
    template = rng.choice(TEMPLATES)
    return template.format(events=joined, time=rng.choice(time), land=rng.choice(GROUNDS))


def random_crop(samples: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """A random window of ``n`` samples (looped when the clip is shorter)."""
    if len(samples) <= n:
        return fit_length(samples, n, mode="loop")
    start = int(rng.integers(0, len(samples) - n + 1))
    return samples[start : start + n]


def real_takes(
    clips: list[RealClip],
    *,
    variants: int,
    seed: int,
    gain_db: tuple[float, float] = (-24.0, 0.0),
    recorded: float = 0.5,
    microphone: float = 0.0,
) -> list[tuple[RealClip, np.ndarray]]:
    """``variants`` random takes of each clip: (clip, float32 [4 s at 16 kHz]).

    A take is a random 4 s window at a random gain, played through a random recording chain
    (room, microphone, noise, converter) with probability ``recorded``, or else, with
    probability ``microphone``, through a random browser microphone (48 kHz stereo, room,
    noise floor, slow gain control; :func:`~soundedit.audio.recording.microphone_recording`).
    With ``microphone`` 0 the takes are those of earlier runs, draw for draw.
    """
    rng = np.random.default_rng(seed)
    mic_rng = np.random.default_rng([seed, 11])
    takes = []
    for clip in clips:
        for _ in range(variants):
            x = random_crop(clip.samples, CLIP_SAMPLES, rng) * 10 ** (rng.uniform(*gain_db) / 20)
            if rng.random() < recorded:
                x = simulate_recording(x, RATE, rng)
            elif microphone and mic_rng.random() < microphone / max(1e-9, 1 - recorded):
                x = microphone_recording(x, RATE, mic_rng)
            takes.append((clip, x.astype(np.float32)))
    return takes


RENDER_FLOOR = 0.15  # the weakest event a real take's picture shows (a quiet take still holds it)


def real_scene(events: tuple[str, ...], intensity: float, generator: torch.Generator):
    """Scene parameters [1, P] that hold ``events`` at ``intensity`` and no other sound.

    The look (clouds, mountains, ground, layout) comes from the prior; every other sound event
    is absent; the time of day follows :func:`real_caption` (night only with crickets, where
    the night is as deep as the take is loud).
    """
    params = sample_params(1, generator)
    params[:, [INDEX[e] for e in SPARSE if e in CLASSES]] = 0.0
    level = max(RENDER_FLOOR, intensity)
    for event in events:
        if event != "night":
            params[0, INDEX[event]] = level
    u = float(torch.rand((), generator=generator))
    params[0, INDEX["night"]] = 0.7 + 0.3 * level if "night" in events else 0.6 * u
    return params


def real_items(
    clips: list[RealClip],
    *,
    variants: int,
    seed: int,
    mapping: RealAudioMap | None = None,
    images: bool = False,
    microphone: float = 0.0,
) -> list:
    """Training items from the in-world clips: ``variants`` takes of each (:func:`real_takes`).

    The caption names the clip's events with an intensity word that follows the take's
    loudness; the label is its event; the group is the clip, so weak pairs (renders of the same
    event) always come from other items. With ``images`` each take is also paired with a
    render of a scene that holds its events at that intensity (:func:`real_scene`; a
    thunderstorm brings lightning and rain), so it joins the audio<->image term.
    """
    mapping = mapping or load_mapping()
    text_rng = random.Random(seed)
    scene_rng = torch.Generator().manual_seed(seed + 31)
    inside = [c for c in clips if c.event is not None]
    items, scenes = [], []
    for clip, x in real_takes(inside, variants=variants, seed=seed, microphone=microphone):
        events = (clip.event, *mapping.also.get(clip.category, ()))
        intensity = level_intensity(x)
        text = real_caption(events, intensity, text_rng)
        items.append(TrainItem(audio=(RATE, x), text=text, label=clip.event, group=clip.name))
        scenes.append(real_scene(events, intensity, scene_rng))
    if images and items:
        pictures = torch.cat([render(chunk) for chunk in torch.cat(scenes).split(256)])
        items = [
            dataclasses.replace(it, image=pic) for it, pic in zip(items, pictures, strict=True)
        ]
    return items


def outside_items(
    clips: list[RealClip], *, variants: int, seed: int, microphone: float = 0.0
) -> list:
    """Negative training items ("none of these"): ``variants`` takes of each clip from outside
    the world (:func:`real_takes`), with no caption, label or image."""
    outside = [c for c in clips if c.event is None]
    takes = real_takes(outside, variants=variants, seed=seed, microphone=microphone)
    return [TrainItem(audio=(RATE, x), group=clip.name, negative=True) for clip, x in takes]
