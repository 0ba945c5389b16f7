"""The accepted range of every number a person sets for an edit: one table for all surfaces.

:data:`LIMITS` is made from the request's inputs (:data:`INPUT_LIMITS`) and the settings as
:class:`soundedit.settings.EditConfig` declares them. The CLI's parser (``argparse_type``),
the library and the page's form all read them, so a value refused in one place is refused
everywhere with the same words: the option, the accepted range and the value given.
"""

from __future__ import annotations

import argparse
import unicodedata

from soundedit.audio.shape import GAIN_DB_RANGE
from soundedit.errors import ConfigError, shown
from soundedit.limit import Limit, number_of
from soundedit.settings import MAX_MIX_LAYER, MAX_SEED, SEED, settings_of

__all__ = ["INPUT_LIMITS", "LIMITS", "Limit", "MAX_MIX_LAYER", "MAX_SEED", "check_value"]

INPUT_LIMITS: dict[str, Limit] = {  # the numbers of a request that are not settings
    "seed": SEED,  # checked where it becomes the run's seed (EditConfig)
    "gain_db": Limit(*GAIN_DB_RANGE),
    "mix": Limit(0.0, 1.0),
    "blend": Limit(0.0, 1.0),
}
# ... and every numeric setting, from its declaration on soundedit.settings.EditConfig
LIMITS: dict[str, Limit] = {
    **INPUT_LIMITS,
    **{name: s.limit for name, s in settings_of().items() if s.limit is not None},
}


def check_value(key: str, value, name: str | None = None):
    """``value`` checked against ``LIMITS[key]``; the message calls it ``name`` (default key)."""
    return LIMITS[key].check(value, name or key)


def check_request(request) -> None:
    """Refuse an EditRequest with an input outside :data:`INPUT_LIMITS`, or words that hold
    control characters (see :func:`check_text`). Its seed and overrides are checked where they
    become the run's settings (:class:`soundedit.settings.EditConfig`), once."""
    values = {key: getattr(request, key, None) for key in INPUT_LIMITS if key != "seed"}
    for key, value in values.items():
        if value is not None:
            check_value(key, value)
    check_text(getattr(request, "text", None))


# Bidirectional overrides and isolates reorder what a terminal shows ("Trojan source").
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
TEXT_ACCEPTED = "give plain words (letters, digits, punctuation, spaces), e.g. 'heavy rain'"


def has_words(text: str | None) -> bool:
    """Whether ``text`` holds anything to read: a letter, digit, punctuation or symbol."""
    return any(unicodedata.category(ch)[0] in "LNPS" for ch in text or "")


def check_text(text, name: str = "text") -> None:
    """Refuse words a person cannot have meant: not a string, control characters (NUL, escape,
    line breaks, bidirectional overrides), or only invisible characters. Plain spaces alone are
    left to the mode, which says it needs words."""
    if text is None:
        return
    if not isinstance(text, str):
        raise ConfigError(f"{name} must be words (a string), got {shown(text)}")
    for i, ch in enumerate(text):
        if unicodedata.category(ch) in ("Cc", "Cs", "Co") or ch in _BIDI_CONTROLS:
            if text.isspace():
                return  # only spaces, tabs and line breaks: "needs words" says it better
            raise ConfigError(
                f"{name} holds the control character U+{ord(ch):04X} at position {i + 1}; "
                f"{TEXT_ACCEPTED}"
            )
    if text and not text.isspace() and not has_words(text):
        raise ConfigError(f"{name} holds no words, only invisible characters; {TEXT_ACCEPTED}")


def check_effect(config, default_truncation: float | None = None) -> None:
    """Refuse resolved settings under which no step can change the picture.

    A world that edits a seed's z (``space="z"``) makes each image from
    ``mean_w + truncation * (mapping(z) - mean_w)``: at truncation 0 every z gives the average
    picture and the gradient in z is exactly zero, so the "edit" would return its source.
    """
    if config.space == "z" and config.truncation == 0:
        default = f" (its default is {default_truncation:g})" if default_truncation else ""
        raise ConfigError(
            "truncation 0 gives every seed this world's average picture, which its edit (it "
            "moves the seed's z) cannot change, so the result would be the source; accepted "
            f"here: a truncation above 0 and at most 1{default}"
        )


def unused_inputs(request, config, n_latent: int) -> list[str]:
    """Notices for settings under which one of the given inputs cannot reach the picture.

    A blend of 1 is the sound alone and 0 the words alone; a style mix at layer 0 takes every
    layer from the words and at the last layer every layer from the sound. The edit still runs
    (it is the other input's edit), but the person is told which input was not used.
    """
    if request.mode == "blend" and request.blend in (0.0, 1.0):
        unused, used = (
            ("your words", "the sound") if request.blend == 1.0 else ("the sound", "your words")
        )
        return [
            f"a blend of {request.blend:g} follows only {used}, so {unused} did not change the "
            "picture; a blend between 0 and 1 uses both"
        ]
    if request.mode == "mix" and config.mix_layer in (0, n_latent):
        unused, used = (
            ("the sound", "your words") if config.mix_layer == 0 else ("your words", "the sound")
        )
        return [
            f"a mix layer of {config.mix_layer} takes every layer from {used}, so {unused} did "
            f"not change the mixed picture; a mix layer between 1 and {n_latent - 1} uses both"
        ]
    return []


def argparse_type(key: str, limit: Limit | None = None):
    """A ``type=`` for argparse that accepts only ``limit`` (default ``LIMITS[key]``; argparse
    names the option)."""
    limit = limit or LIMITS[key]

    def parse(text: str):
        number = number_of(text, limit.integer)
        if number is None or not limit.inside(number):
            # argparse prefixes "argument --seed:"
            given = text if number_of(text, False) is not None else shown(text)  # 1.5, not '1.5'
            raise argparse.ArgumentTypeError(f"must be {limit.describe()}, got {given}")
        return number

    parse.__name__ = key  # argparse names the type in some messages
    return parse
