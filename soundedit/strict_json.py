"""Strict JSON for every file and line the project writes: no bare NaN or Infinity.

Python's ``json`` writes ``NaN`` and ``Infinity`` by default, which no other JSON reader accepts.
:func:`finite` turns such numbers into ``null`` (and numpy scalars and arrays, tuples and paths
into plain JSON types) before :func:`dumps` writes with ``allow_nan=False``; a report that held a
non-finite number says so where it matters (see the edit's notices), never as invalid JSON.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np


def finite(value: Any) -> Any:
    """``value`` as plain JSON data with every NaN / infinity replaced by None."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, Mapping):
        return {str(k) if not isinstance(k, str) else k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [finite(v) for v in value]
    if isinstance(value, np.ndarray):
        return finite(value.tolist())
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def dumps(value: Any, **kwargs) -> str:
    """Strict JSON text of ``value`` (NaN and infinities become null)."""
    return json.dumps(finite(value), allow_nan=False, **kwargs)
