"""Scene parameters -> a caption with synonyms and intensity words (seeded).

``caption(params_row, rng)`` names the strongest events with a word for how strong they are
("light drizzle", "heavy rain", "a roaring fire", "a thunderstorm at night"), adds the time of
day, and sometimes the landscape. :data:`CLASS_PROMPTS` are the plain prompts used for zero-shot
classification, one per :data:`~soundedit.soundscapes.params.CLASSES` entry.
"""

from __future__ import annotations

import random

import torch

from soundedit.soundscapes.params import CLASSES, INDEX, check_params

# Phrases per event and intensity band (weak, medium, strong).
PHRASES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "rain": (
        ("light drizzle", "a light rain", "a few raindrops", "drizzle"),
        ("rain", "steady rain", "a rain shower", "rainfall"),
        ("heavy rain", "a downpour", "pouring rain", "torrential rain"),
    ),
    "lightning": (
        ("distant lightning", "a faint flash of lightning", "far thunder"),
        ("lightning", "thunder and lightning", "a storm"),
        ("a thunderstorm", "a violent thunderstorm", "bright lightning strikes"),
    ),
    "snow": (
        ("a few snowflakes", "light snow", "a dusting of snow"),
        ("snow", "snowfall", "snow on the ground"),
        ("heavy snow", "a snowstorm", "deep snow", "a blizzard"),
    ),
    "fire": (
        ("a small campfire", "a little fire", "glowing embers"),
        ("a campfire", "a fire", "a crackling fire"),
        ("a big bonfire", "a roaring fire", "a blazing fire", "large flames"),
    ),
    "wind": (
        ("a light breeze", "a gentle wind", "a breeze"),
        ("wind", "a windy day", "gusts of wind"),
        ("strong wind", "a gale", "howling wind", "a windstorm"),
    ),
    "birds": (
        ("a bird", "a couple of birds", "a few birds"),
        ("birds", "birds singing", "chirping birds"),
        ("a flock of birds", "many birds", "birds everywhere"),
    ),
    "sea": (
        ("a calm sea", "a quiet shore", "a little water"),
        ("the sea", "waves on the shore", "the ocean"),
        ("a rough sea", "crashing waves", "big ocean waves"),
    ),
}
TIMES = (
    ("at noon", "on a sunny day", "in daylight"),
    ("at dusk", "at sunset", "at dawn", "in the evening"),
    ("at night", "under the stars", "in the dark night"),
)
NIGHT_NOUNS = ("a quiet night", "a night with crickets", "a dark night", "nighttime")
GROUNDS = ("a meadow", "a sandy plain", "rocky ground")
TEMPLATES = (
    "{events} {time}",
    "a landscape with {events} {time}",
    "{events} over {land} {time}",
    "a scene of {events} {time}",
    "{events}, {time}",
)

# One plain prompt per class for zero-shot classification.
CLASS_PROMPTS: dict[str, str] = {
    "rain": "heavy rain",
    "lightning": "a thunderstorm",
    "snow": "heavy snow",
    "fire": "a blazing fire",
    "wind": "strong wind",
    "birds": "a flock of birds",
    "sea": "crashing waves",
    "night": "a quiet night",
}
assert tuple(CLASS_PROMPTS) == CLASSES


def intensity_band(value: float) -> int:
    """0 weak (< 0.35), 1 medium (< 0.7), 2 strong."""
    return 0 if value < 0.35 else 1 if value < 0.7 else 2


def caption(row: torch.Tensor, rng: random.Random, *, max_events: int = 2) -> str:
    """One caption for a scene ``row`` [P]; ``rng`` picks synonyms and the template."""
    p = {name: float(row[i]) for name, i in INDEX.items()}
    present = sorted((e for e in PHRASES if p[e] >= 0.08), key=lambda e: -p[e])[:max_events]
    words = [rng.choice(PHRASES[e][intensity_band(p[e])]) for e in present]
    night = p["night"]
    time_band = 0 if night < 0.3 else 1 if night < 0.65 else 2
    if not words:
        words = (
            [rng.choice(NIGHT_NOUNS)]
            if time_band == 2
            else [rng.choice(("a calm landscape", "a quiet valley", "hills and mountains"))]
        )
    if p["clouds"] > 0.7 and rng.random() < 0.5:
        words.append(rng.choice(("dark clouds", "an overcast sky", "grey clouds")))
    events = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    land = GROUNDS[min(2, int(p["ground"] * 3))]
    template = rng.choice(TEMPLATES)
    return template.format(events=events, time=rng.choice(TIMES[time_band]), land=land)


def captions(params: torch.Tensor, *, seed: int) -> list[str]:
    """Captions for a batch [B, P]; the same seed gives the same captions."""
    check_params(params)
    rng = random.Random(seed)
    return [caption(row, rng) for row in params.detach().cpu()]
