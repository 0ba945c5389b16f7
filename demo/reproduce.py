"""Settings JSON and the exact ``python -m soundedit edit ...`` command that reproduces a result.

The command line is built against the real CLI parser, so it only ever uses flags the CLI has;
a setting the CLI cannot express is listed instead of silently dropped.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
from pathlib import Path
from typing import Any

# Written even when equal to the CLI's default, so the command reads on its own.
_ALWAYS = frozenset({"world", "seed", "steps", "mode"})


def request_settings(request: Any, *, world: str, files: dict[str, str]) -> dict[str, Any]:
    """Every field of an EditRequest as JSON, with in-memory sounds replaced by file names.

    Args:
        request: the EditRequest that ran.
        world: the bundle name.
        files: request field -> the file name it was saved under in the downloads.
    """
    settings: dict[str, Any] = {"world": world}
    for field in dataclasses.fields(request):
        value = getattr(request, field.name)
        if field.name in files:
            value = files[field.name]
        elif value is not None and not isinstance(value, (str, int, float, bool)):
            value = None  # raw audio arrays: saved as files instead
        settings[field.name] = value
    return settings


def edit_parser() -> argparse.ArgumentParser:
    """The CLI's ``edit`` sub-parser."""
    from soundedit.cli import build_parser

    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction) and "edit" in action.choices:
            return action.choices["edit"]
    raise LookupError("the soundedit CLI has no 'edit' command")


def request_defaults(bundle) -> dict[str, Any]:
    """The value each setting takes when left out: the request's and then the world's defaults.

    A setting equal to its default needs no flag: the CLI reaches the same value by itself.
    """
    from soundedit.edit.pipeline import EditRequest

    defaults = {f.name: f.default for f in dataclasses.fields(EditRequest)}
    world = bundle.defaults
    for key in ("steps", "lr", "lambda_reg", "lambda_id", "truncation", "preview_every"):
        defaults[key] = getattr(world, key)
    defaults["guidance"] = world.guidance
    defaults["space"] = world.space
    defaults["mix_layer"] = bundle.mix_layer
    return defaults


def _relevant(key: str, settings: dict[str, Any]) -> bool:
    """Whether a setting changes the result for these settings' mode."""
    mode = settings.get("mode")
    if key == "preview_every":
        return False  # only how often a preview is drawn
    if key == "mix_layer":
        return mode == "mix"
    if key == "blend":
        return mode == "blend"
    if key == "mix":
        return bool(settings.get("audio2"))
    return True


def command_line(
    settings: dict[str, Any],
    *,
    parser: argparse.ArgumentParser | None = None,
    defaults: dict[str, Any] | None = None,
) -> tuple[str, list[str]]:
    """``python -m soundedit edit ...`` for ``settings`` and the settings it could not express.

    Settings equal to ``defaults`` (see :func:`request_defaults`) or to the CLI's own default
    are left out; file settings are written relative to the folder of the downloads.
    """
    parser = parser if parser is not None else edit_parser()
    defaults = defaults or {}
    actions = {a.dest: a for a in parser._actions if a.option_strings}
    args = ["python", "-m", "soundedit", "edit"]
    missing = []
    for key, value in settings.items():
        if value is None or not _relevant(key, settings):
            continue
        if key not in _ALWAYS and key in defaults and value == defaults[key]:
            continue
        action = _find_action(actions, key)
        if action is None:
            missing.append(key)
            continue
        args += _render(action, value, always=key in _ALWAYS)
    return shlex.join(args), missing


def _find_action(actions: dict[str, argparse.Action], key: str) -> argparse.Action | None:
    """The CLI option for a setting: EditRequest fields share the CLI's dest names."""
    return actions.get("generator" if key == "world" else key)


def _render(action: argparse.Action, value: Any, *, always: bool = False) -> list[str]:
    """The tokens that make ``action`` parse to ``value`` ([] when that is already the default)."""
    if isinstance(action, argparse.BooleanOptionalAction):
        if value == action.default:
            return []
        positive = [s for s in action.option_strings if not s.startswith("--no-")][0]
        return [positive if value else "--no-" + positive[2:]]
    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
        return [] if value == action.default else [action.option_strings[-1]]
    if value == action.default and not always:
        return []
    return [action.option_strings[-1], _format(value)]


def _format(value: Any) -> str:
    if isinstance(value, float):
        return repr(round(value, 6))
    return str(value)


def write_settings(path: Path, settings: dict[str, Any], command: str, missing: list[str]) -> Path:
    """settings.json: the settings, the command and what the command cannot express."""
    record = {
        "settings": settings,
        "command": command,
        "command_note": (
            "Run from the folder holding the downloaded sound files."
            + (f" Not expressible on the command line: {', '.join(missing)}." if missing else "")
        ),
    }
    path.write_text(json.dumps(record, indent=2, sort_keys=False) + "\n")
    return path
