"""The ``models`` sub-command: what the registry lists and whether each file is here."""

from __future__ import annotations

import argparse
import os

from soundedit import strict_json
from soundedit.hub import (
    SHIPPED_WEIGHTS,
    entry_status,
    get_weights_dir,
    load_registry,
    parse_hf_source,
    resolve,
    source_url,
)
from soundedit.source_check import cannot_check_reason, check_sources


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
    p.add_argument(
        "--check",
        action="store_true",
        help="ask every source whether it answers (one HEAD request each; needs network)",
    )
    p.add_argument(
        "--markdown",
        action="store_true",
        help="print the registry as the README's table (source, revision, size, checksum)",
    )
    p.add_argument("--registry", help="another registry file (default: weights/registry.toml)")
    p.set_defaults(func=run_models)


def model_rows(registry_file: str | None = None) -> list[dict]:
    """One JSON-ready dict per registry entry, with its status (nothing is downloaded)."""
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
        print(resolve(args.fetch, registry=load_registry(args.registry)))
        return 0
    if args.check:
        return run_check(load_registry(args.registry), as_json=args.json)
    if args.markdown:
        print(registry_table(load_registry(args.registry)))
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


# ---- models --check ---------------------------------------------------------------------------


def run_check(registry: dict, *, as_json: bool = False) -> int:
    """``models --check``: 0 when every source answers as recorded, 1 when one does not, 2 when
    nothing can be checked from here (offline)."""
    reason = cannot_check_reason(registry)
    if reason is not None:
        print(f"Cannot check the sources: {reason}; run it again where there is network.")
        return 2
    checks = check_sources(registry)
    if as_json:
        print(strict_json.dumps([c._asdict() for c in checks], indent=2))
    else:
        print(format_check(checks))
    return 0 if all(c.state == "answering" for c in checks) else 1


def format_check(checks: list) -> str:
    """One line per source (name, answer, detail, URL) and a closing sentence."""
    width = max(len(c.name) for c in checks)
    lines = [f"{c.name.ljust(width)}  {c.state.ljust(14)}  {c.detail}  {c.url}" for c in checks]
    bad = [c.name for c in checks if c.state != "answering"]
    if bad:
        lines.append(f"\n{len(bad)} of {len(checks)} sources need attention: {', '.join(bad)}.")
    else:
        lines.append(f"\nAll {len(checks)} sources answer, with the recorded sizes where known.")
    return "\n".join(lines)


# ---- the README's registry table --------------------------------------------------------------


def registry_table(registry: dict) -> str:
    """The registry as a Markdown table: the README's "Models and weights" table is this text."""
    lines = [
        "| name | domain | res | file in `weights/` | source | revision | size | checksum |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for entry in registry.values():
        lines.append("| " + " | ".join(_table_cells(entry)) + " |")
    return "\n".join(lines)


def _table_cells(entry) -> tuple[str, ...]:
    res = str(entry.resolution) if entry.resolution else "–"
    if entry.kind == "bundle":
        files = [SHIPPED_WEIGHTS / entry.filename / f for f in entry.files]
        mb = sum(f.stat().st_size for f in files if f.is_file()) / 1e6
        return (entry.name, entry.domain, res, f"`{entry.filename}/` (committed)",
                "embedded: trained by this project", "this commit", f"{mb:.1f} MB",
                "in git")  # fmt: skip
    source, revision = entry.source, "none (plain URL)"
    if source.startswith("hf://"):
        repo, path, rev = parse_hf_source(source)
        source, revision = f"hf `{repo}` `{path}`", f"`{rev[:7]}`" if rev else "main (unpinned)"
    else:
        source = f"<{source}>"
    size = f"about {entry.size_mb:g} MB"
    if entry.size_bytes:
        size = f"{entry.size_mb:g} MB ({entry.size_bytes:,} B)"
    checksum = "verified (sha256)" if entry.sha256 else "unverified"
    if entry.single_source:
        checksum += ", single source"
    return (entry.name, entry.domain, res, f"`{entry.filename}`", source, revision, size, checksum)
