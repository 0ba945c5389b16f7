"""The strict config loader: unknown keys, wrong types and missing fields are refused by name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest

from soundedit.config import from_dict, load_file, to_dict
from soundedit.errors import ConfigError


@dataclass(frozen=True)
class Inner:
    width: int  # channels
    scale: float = 1.0  # multiplier


@dataclass(frozen=True)
class Outer:
    name: str  # identifier
    inner: Inner  # nested table
    mode: Literal["a", "b"] = "a"  # one of two modes
    sizes: tuple[int, ...] = (1, 2)  # any number of sizes
    table: dict[int, int] = field(default_factory=dict)  # resolution -> channels
    note: str | None = None  # optional


def test_round_trip_through_dict():
    cfg = Outer(name="x", inner=Inner(width=3, scale=2.0), mode="b", sizes=(4, 5), table={4: 8})
    data = to_dict(cfg)
    assert data["sizes"] == [4, 5]
    rebuilt = from_dict(Outer, {**data, "table": {4: 8}})
    assert rebuilt == cfg


def test_int_is_accepted_for_float_but_not_bool_for_int():
    assert from_dict(Inner, {"width": 2, "scale": 3}).scale == 3.0
    with pytest.raises(ConfigError, match="Inner.width: expected a whole number"):
        from_dict(Inner, {"width": True})


def test_unknown_key_lists_accepted_ones():
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) widht; accepted: scale, width"):
        from_dict(Inner, {"widht": 3})


def test_missing_required_and_bad_literal_are_named():
    with pytest.raises(ConfigError, match="inner: required setting is missing"):
        from_dict(Outer, {"name": "x"})
    with pytest.raises(ConfigError, match="'c' is not one of 'a', 'b'"):
        from_dict(Outer, {"name": "x", "inner": {"width": 1}, "mode": "c"})
    with pytest.raises(ConfigError, match=r"Outer.inner.width: expected a whole number"):
        from_dict(Outer, {"name": "x", "inner": {"width": "wide"}})


def test_load_file_json_and_toml(tmp_path):
    (tmp_path / "c.json").write_text('{"width": 4}')
    (tmp_path / "c.toml").write_text("width = 5\nscale = 0.5\n")
    assert load_file(Inner, tmp_path / "c.json") == Inner(width=4)
    assert load_file(Inner, tmp_path / "c.toml") == Inner(width=5, scale=0.5)
    (tmp_path / "bad.json").write_text("{width: 4")
    with pytest.raises(ConfigError, match="bad.json: not valid json"):
        load_file(Inner, tmp_path / "bad.json")
    with pytest.raises(ConfigError, match="does not exist"):
        load_file(Inner, tmp_path / "none.json")


def test_json_string_keys_become_ints():
    cfg = from_dict(Outer, {"name": "x", "inner": {"width": 1}, "table": {"4": 8, "8": 16}})
    assert cfg.table == {4: 8, 8: 16}
    with pytest.raises(ConfigError, match="expected a whole number"):
        from_dict(Outer, {"name": "x", "inner": {"width": 1}, "table": {"four": 8}})
