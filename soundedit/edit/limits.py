"""The accepted range of every number a person sets for an edit: one table for all surfaces.

The CLI's parser (``argparse_type``), the library's :func:`check_request` and the page's form
all read :data:`LIMITS`, so a value refused in one place is refused everywhere with the same
words: the option, the accepted range and the value given.
"""

from __future__ import annotations

import argparse
import math
import numbers
import unicodedata
from dataclasses import dataclass

from soundedit.audio.shape import GAIN_DB_RANGE
from soundedit.errors import ConfigError, shown
from soundedit.settings import MAX_STEPS

MAX_SEED = 2**32 - 1  # seeds are 0 ... 2**32 - 1 on every surface (numpy's and JS's safe range)
MAX_MIX_LAYER = 32  # more layers than any StyleGAN2 has; the generator checks its own n_latent


@dataclass(frozen=True)
class Limit:
    """The accepted values of one numeric setting."""

    low: float  # smallest accepted value (excluded when low_open)
    high: float  # largest accepted value
    integer: bool = False  # only whole numbers
    low_open: bool = False  # True: ``low`` itself is refused (a learning rate of 0)

    def describe(self) -> str:
        """'a whole number in [0, 4294967295]' / 'a number in (0, 10]'."""
        kind = "a whole number" if self.integer else "a number"
        bracket = "(" if self.low_open else "["
        return f"{kind} in {bracket}{_fmt(self.low)}, {_fmt(self.high)}]"

    def check(self, value, name: str):
        """``value`` as int (integer limits) or float, or ConfigError naming ``name``."""
        number = _number(value, self.integer)
        if number is None or not self._inside(number):
            raise ConfigError(f"{name} must be {self.describe()}, got {shown(value)}")
        return number

    def _inside(self, number) -> bool:
        above = number > self.low if self.low_open else number >= self.low
        return above and number <= self.high


LIMITS: dict[str, Limit] = {
    "seed": Limit(0, MAX_SEED, integer=True),
    "steps": Limit(1, MAX_STEPS, integer=True),
    "lr": Limit(0.0, 10.0, low_open=True),
    "lambda_reg": Limit(0.0, 1e4),
    "lambda_id": Limit(0.0, 1e4),
    "truncation": Limit(0.0, 1.0),
    "gain_db": Limit(*GAIN_DB_RANGE),
    "mix": Limit(0.0, 1.0),
    "blend": Limit(0.0, 1.0),
    "mix_layer": Limit(0, MAX_MIX_LAYER, integer=True),
    "preview_every": Limit(0, MAX_STEPS, integer=True),
}


def check_value(key: str, value, name: str | None = None):
    """``value`` checked against ``LIMITS[key]``; the message calls it ``name`` (default key)."""
    return LIMITS[key].check(value, name or key)


def check_request(request) -> None:
    """Refuse an EditRequest with an input or an override outside :data:`LIMITS`, or words
    that hold control characters (see :func:`check_text`)."""
    values = {key: getattr(request, key, None) for key in LIMITS}
    values.update((k, v) for k, v in request.given().items() if k in LIMITS)
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


def argparse_type(key: str):
    """A ``type=`` for argparse that accepts only ``LIMITS[key]`` (argparse names the option)."""
    limit = LIMITS[key]

    def parse(text: str):
        number = _number(text, limit.integer)
        if number is None or not limit._inside(number):
            # argparse prefixes "argument --seed:"
            given = text if _number(text, False) is not None else shown(text)  # 1.5, not '1.5'
            raise argparse.ArgumentTypeError(f"must be {limit.describe()}, got {given}")
        return number

    parse.__name__ = key  # argparse names the type in some messages
    return parse


def _number(value, integer: bool):
    """An int or float from a number or its text; None when it is not one (NaN, 1.5 for ints)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if integer and text.lstrip("+-").isdigit():
            return int(text)  # exact: "18446744073709551617" would lose digits as a float
        try:
            value = float(text)
        except ValueError:
            return None
    if isinstance(value, numbers.Integral):
        return int(value) if integer else float(value)
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if not math.isfinite(number):
        return None
    if integer:
        return int(number) if number.is_integer() else None
    return number


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"
