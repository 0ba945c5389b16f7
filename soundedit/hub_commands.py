"""The ``models`` sub-command: what the registry lists and whether each file is here."""

from __future__ import annotations

import argparse
import os

from soundedit import strict_json


def register(subparsers) -> None:
    """Add ``models`` to the CLI."""
    p = subparsers.add_parser(
        "models",
        help="list the registry's models and whether their weights are here",
        description="List weights/registry.toml: name, kind, domain, resolution, size and status "
        "(embedded / cached / missing, with the file name and folder to put a missing file in). "
        "Nothing is downloaded unless --fetch is given.",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument(
        "--fetch", metavar="NAME", help="download (or find) one entry and print its path"
    )
    p.add_argument("--registry", help="another registry file (default: weights/registry.toml)")
    p.set_defaults(func=run_models)


def model_rows(registry_file: str | None = None) -> list[dict]:
    """One JSON-ready dict per registry entry, with its status (nothing is downloaded)."""
    from soundedit.hub import entry_status, get_weights_dir, load_registry, source_url

    registry = load_registry(registry_file)
    rows = []
    for name, entry in registry.items():
        status = entry_status(name, registry=registry)
        rows.append(
            {
                "name": name,
                "title": entry.title,
                "kind": entry.kind,
                "domain": entry.domain,
                "resolution": entry.resolution,
                "size_mb": entry.size_mb,
                "status": status.state,
                "path": str(status.path) if status.path else None,
                "filename": entry.filename,
                "folder": str(get_weights_dir()),
                "source": source_url(entry),
                "sha256": entry.sha256 or None,
                "license": entry.license,
                "message": status.message,
            }
        )
    return rows


def run_models(args: argparse.Namespace) -> int:
    """``soundedit models``: print the table (or JSON), or fetch one entry."""
    if args.fetch:
        from soundedit.hub import load_registry, resolve

        print(resolve(args.fetch, registry=load_registry(args.registry)))
        return 0
    rows = model_rows(args.registry)
    if args.json:
        print(strict_json.dumps(rows, indent=2))
        return 0
    print(format_table(rows))
    missing = [r for r in rows if r["status"] == "missing" and r["kind"] != "bundle"]
    if missing:
        folder = rows[0]["folder"]
        print(
            f"\n{len(missing)} file(s) missing: put each under its file name in {folder}/"
            " (or run with --fetch NAME where there is network)."
        )
    return 0


def format_table(rows: list[dict]) -> str:
    """A plain-text table: name, kind, domain, resolution, size, status, where."""
    header = ("NAME", "KIND", "DOMAIN", "RES", "SIZE", "STATUS", "WHERE")
    lines = [header]
    for r in rows:
        where = r["path"] or f"put {r['filename']} in {_short(r['folder'])}/"
        if r["kind"] == "bundle" and not r["path"]:
            where = r["message"]  # which of the bundle's files are missing
        lines.append(
            (
                r["name"],
                r["kind"],
                r["domain"],
                str(r["resolution"] or "-"),
                f"{r['size_mb']:g} MB" if r["size_mb"] else "-",
                r["status"],
                where,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(w) for cell, w in zip(line, widths, strict=False)), line[-1]])
        for line in lines
    )


def _short(folder: str) -> str:
    """``folder`` relative to the working directory when that is shorter."""
    relative = os.path.relpath(folder)
    return relative if len(relative) < len(folder) else folder
