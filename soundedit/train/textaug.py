"""Seeded text augmentation (EDA-style): synonym replacement, random swap, random insertion.

Synonyms come from a small built-in table of sound words; when ``nltk`` and its WordNet corpus
are installed, WordNet synonyms are added. Every choice is drawn from the ``torch.Generator``
passed in, so an augmented caption is reproducible from a seed.
"""

from __future__ import annotations

import functools

import torch

SYNONYMS: dict[str, tuple[str, ...]] = {
    "rain": ("rainfall", "downpour", "shower", "drizzle"),
    "raining": ("pouring", "drizzling"),
    "heavy": ("strong", "intense", "hard"),
    "light": ("soft", "gentle", "faint"),
    "loud": ("noisy", "booming", "strong"),
    "quiet": ("soft", "faint", "calm"),
    "thunder": ("thunderclap", "rumble", "thunderstorm"),
    "storm": ("tempest", "thunderstorm"),
    "wind": ("gust", "breeze", "gale"),
    "windy": ("gusty", "breezy", "blustery"),
    "fire": ("flames", "blaze", "bonfire"),
    "crackling": ("crackle", "popping", "sputtering"),
    "burning": ("blazing", "flaming"),
    "bird": ("songbird", "chick"),
    "birds": ("songbirds", "chirping birds"),
    "chirping": ("tweeting", "singing", "twittering"),
    "sea": ("ocean", "surf"),
    "waves": ("surf", "breakers", "swell"),
    "water": ("stream", "flowing water"),
    "snow": ("snowfall", "sleet"),
    "night": ("nighttime", "dark"),
    "day": ("daytime", "daylight"),
    "dog": ("puppy", "hound"),
    "barking": ("woofing", "yapping"),
    "cat": ("kitten", "kitty"),
    "meowing": ("mewing", "purring"),
    "car": ("automobile", "vehicle"),
    "engine": ("motor",),
    "horn": ("honk", "siren"),
    "siren": ("alarm", "wail"),
    "people": ("crowd", "persons"),
    "laughing": ("giggling", "chuckling"),
    "crying": ("sobbing", "weeping"),
    "baby": ("infant", "toddler"),
    "talking": ("speaking", "chatting"),
    "singing": ("chanting", "vocalizing"),
    "music": ("melody", "tune"),
    "explosion": ("blast", "boom"),
    "footsteps": ("steps", "walking"),
    "sound": ("noise", "audio"),
    "big": ("large", "huge"),
    "small": ("little", "tiny"),
}

STOPWORDS = frozenset("a an the of and or in on at to with by for from is are over under".split())


@functools.cache
def _wordnet():
    try:
        from nltk.corpus import wordnet

        wordnet.synsets("rain")  # raises LookupError when the corpus is not downloaded
        return wordnet
    except (ImportError, LookupError):
        return None


def synonyms(word: str) -> list[str]:
    """Synonyms of ``word`` (lower case): the built-in table, plus WordNet when available."""
    return list(_synonyms(word.lower()))


@functools.cache
def _synonyms(word: str) -> tuple[str, ...]:
    """:func:`synonyms` of a lower-case word, looked up once per word."""
    found = list(SYNONYMS.get(word, ()))
    wordnet = _wordnet()
    if wordnet is not None:
        for synset in wordnet.synsets(word):
            for lemma in synset.lemma_names():
                name = lemma.replace("_", " ").lower()
                if name != word and name not in found:
                    found.append(name)
    return tuple(found)


def _pick(n: int, generator: torch.Generator) -> int:
    return int(torch.randint(n, (1,), generator=generator))


def augment_text(
    text: str,
    *,
    generator: torch.Generator,
    p_replace: float = 0.3,
    n_swap: int = 1,
    n_insert: int = 1,
) -> str:
    """One augmented version of ``text``.

    Args:
        text: the caption or label.
        generator: the source of every random choice.
        p_replace: chance that each word with synonyms is replaced by one.
        n_swap: random swaps of two words (each applied with probability 1/2).
        n_insert: insertions of a synonym of a random word at a random place (probability 1/2).
    """
    words = text.split()
    if not words:
        return text
    for i, word in enumerate(words):
        options = _synonyms(word.lower()) if word.lower() not in STOPWORDS else ()
        if options and float(torch.rand((), generator=generator)) < p_replace:
            words[i] = options[_pick(len(options), generator)]
    for _ in range(n_swap):
        if len(words) > 1 and float(torch.rand((), generator=generator)) < 0.5:
            i, j = _pick(len(words), generator), _pick(len(words), generator)
            words[i], words[j] = words[j], words[i]
    for _ in range(n_insert):
        candidates = [w for w in words if _synonyms(w.lower()) and w.lower() not in STOPWORDS]
        if candidates and float(torch.rand((), generator=generator)) < 0.5:
            options = _synonyms(candidates[_pick(len(candidates), generator)].lower())
            words.insert(_pick(len(words) + 1, generator), options[_pick(len(options), generator)])
    return " ".join(words)


def text_variants(text: str, n: int, *, generator: torch.Generator) -> list[str]:
    """``text`` itself followed by ``n - 1`` augmented versions."""
    return [text] + [augment_text(text, generator=generator) for _ in range(max(0, n - 1))]
