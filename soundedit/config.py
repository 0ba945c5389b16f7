"""Strict loading of frozen config dataclasses from JSON and TOML.

Configs are plain frozen dataclasses with a comment per field. ``from_dict`` rebuilds one from a
mapping and rejects unknown keys, missing required keys and values of the wrong type, naming the
offending field and the accepted choices, so a typo in a config file never passes silently.
"""

from __future__ import annotations

import dataclasses
import json
import numbers
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from soundedit.errors import ConfigError, shown

T = TypeVar("T")


def from_dict(cls: type[T], data: typing.Mapping[str, Any], *, where: str = "") -> T:
    """Build the dataclass ``cls`` from ``data``, strictly.

    Args:
        cls: a dataclass type.
        data: field values; nested dataclasses may be given as mappings.
        where: a prefix for error messages (e.g. the file name).

    Raises:
        ConfigError: unknown or missing keys, or a value of the wrong type.
    """
    if not isinstance(data, typing.Mapping):
        raise ConfigError(f"{where or cls.__name__}: expected a table of settings, got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"{where or cls.__name__}: unknown setting(s) {', '.join(unknown)}; "
            f"accepted: {', '.join(sorted(fields))}"
        )
    hints = typing.get_type_hints(cls)
    values = {}
    for name, field in fields.items():
        label = f"{where}.{name}" if where else f"{cls.__name__}.{name}"
        if name not in data:
            has_default = (
                field.default is not dataclasses.MISSING
                or field.default_factory is not dataclasses.MISSING
            )
            if not has_default:
                raise ConfigError(f"{label}: required setting is missing")
            continue
        values[name] = _convert(hints[name], data[name], label)
    return cls(**values)


def _convert(hint: Any, value: Any, label: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _convert(option, value, label)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{label}: {value!r} fits no option")
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{label}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, value, where=label)
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{label}: expected a list, got {value!r}")
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, f"{label}[{i}]") for i, v in enumerate(value))
        if origin is tuple and args:
            if len(args) != len(value):
                raise ConfigError(f"{label}: expected {len(args)} values, got {len(value)}")
            pairs = enumerate(zip(args, value, strict=True))
            return tuple(_convert(a, v, f"{label}[{i}]") for i, (a, v) in pairs)
        item = args[0] if args else Any
        converted = [_convert(item, v, f"{label}[{i}]") for i, v in enumerate(value)]
        return tuple(converted) if origin is tuple else converted
    if origin is dict:
        if not isinstance(value, typing.Mapping):
            raise ConfigError(f"{label}: expected a table, got {value!r}")
        key_t, val_t = args if args else (Any, Any)
        return {
            _convert(key_t, k, f"{label}.<key>"): _convert(val_t, v, f"{label}.{k}")
            for k, v in value.items()
        }
    if hint is float:
        # numbers.Real: numpy's float32/int64 are numbers too; bools are not settings
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ConfigError(f"{label}: expected a number, got {shown(value)}")
        return float(value)
    if hint is int:
        if isinstance(value, str) and value.isdigit() and label.endswith("<key>"):
            return int(value)  # JSON object keys are always strings
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ConfigError(f"{label}: expected a whole number, got {shown(value)}")
        return int(value)
    if hint in (str, bool):
        if not isinstance(value, hint):
            raise ConfigError(f"{label}: expected {hint.__name__}, got {value!r}")
        return value
    return value


def to_dict(config: Any) -> dict[str, Any]:
    """The dataclass ``config`` as JSON-ready data (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def load_file(cls: type[T], path: str | Path) -> T:
    """Read a JSON or TOML file into the dataclass ``cls`` (see :func:`from_dict`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise ConfigError(f"config file {path} does not exist") from e
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: not valid {path.suffix.lstrip('.') or 'JSON'}: {e}") from e
    return from_dict(cls, data, where=path.name)
