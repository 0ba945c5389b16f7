"""settings.json: the request, its resolved settings and the command line that repeats it.

The command is built by the library from the request's fields
(:func:`soundedit.edit.commands.reproduce_command`); an override the command line cannot
express is listed instead of silently dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from soundedit import strict_json
from soundedit.config import to_dict
from soundedit.edit.commands import reproduce_command
from soundedit.settings import EditConfig, resolve


def request_record(request: Any, *, world: str, files: dict[str, str]) -> dict[str, Any]:
    """The request as JSON: its inputs (in-memory sounds replaced by their file names) and
    overrides.

    Args:
        request: the EditRequest that ran.
        world: the bundle name.
        files: request field -> the file name it was saved under in the downloads.
    """
    record: dict[str, Any] = {"world": world}
    for key in ("audio", "audio2", "mix", "gain_db", "text", "mode", "blend", "seed", "start"):
        value = files.get(key, getattr(request, key))
        if value is not None and not isinstance(value, (str, int, float, bool)):
            value = None  # raw audio arrays: saved as files instead
        record[key] = value
    for key in ("source_latent", "source_image"):
        record[key] = files.get(key, getattr(request, key))
    record["overrides"] = request.given()
    return record


def write_settings(
    path: Path,
    bundle,
    request: Any,
    world: str,
    files: dict[str, str],
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write settings.json (the request, the resolved settings, the command); returns it.

    ``settings``: the settings the run resolved (its report's); left out, resolved here.
    """
    settings = settings if settings is not None else to_dict(resolve(bundle, request))
    settings = {name: settings[name] for name in EditConfig.__dataclass_fields__}
    command, missing = reproduce_command(
        bundle, request, world=world, files=files, steps=settings["steps"]
    )
    record = {
        "request": request_record(request, world=world, files=files),
        "settings": settings,
        "command": command,
        "command_note": (
            "Run from the folder holding the downloaded sound files."
            + (f" Not expressible on the command line: {', '.join(missing)}." if missing else "")
        ),
    }
    path.write_text(strict_json.dumps(record, indent=2, sort_keys=False) + "\n")
    return record
