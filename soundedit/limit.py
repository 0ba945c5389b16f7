"""A range of accepted numbers, with the words that say it: ``Limit``.

Every number a person sets (a setting of :class:`soundedit.settings.EditConfig`, or an input of
a request such as the seed) has one ``Limit``; the library, the command line and the page refuse
a value outside it with the same sentence: the name, the accepted range and the value given.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from soundedit.errors import ConfigError, shown


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
        number = number_of(value, self.integer)
        if number is None or not self.inside(number):
            raise ConfigError(f"{name} must be {self.describe()}, got {shown(value)}")
        return number

    def inside(self, number) -> bool:
        """Whether the number ``number`` is within the range."""
        above = number > self.low if self.low_open else number >= self.low
        return above and number <= self.high


def number_of(value, integer: bool):
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
