"""The model registry and the one way weights files are found: local, cached, or downloaded.

``weights/registry.toml`` lists every model the project knows, one ``[models.NAME]`` table per
file (see the comments at its top). :func:`resolve` finds a file in this order:

1. ``weights/FILENAME`` — a file a person dropped there (the folder is ``$SOUNDEDIT_WEIGHTS`` when
   set); embedded bundles (``kind = "bundle"``) are folders of files under ``weights/``;
2. the cache — the Hugging Face cache for ``hf://`` sources (``try_to_load_from_cache``), our own
   download folder for ``https://`` sources (``$SOUNDEDIT_CACHE``, default ``~/.cache/soundedit``);
3. a download — ``hf_hub_download`` for ``hf://owner/repo/path@revision``, a streamed GET with a
   progress bar for ``https://``, written to a temporary name and renamed only when complete.

Every file with a known sha256 is checked (once per process); a download that does not match is
deleted and refused. Offline (``HF_HUB_OFFLINE=1`` or ``SOUNDEDIT_OFFLINE=1``, no network, or
``download=False``) a missing file raises :class:`WeightsNotFoundError` naming the exact file
name and the folder to put it in.
"""

from __future__ import annotations

import hashlib
import os
import socket
import tomllib
import urllib.parse
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, NamedTuple

from tqdm.auto import tqdm

from soundedit.config import from_dict
from soundedit.errors import CheckpointError, ConfigError, WeightsNotFoundError

REPO_ROOT = Path(__file__).resolve().parent.parent
# The shipped weights folder: inside the package when installed from a wheel (pyproject maps
# weights/ to soundedit/weights), the repository's weights/ in a checkout. $SOUNDEDIT_WEIGHTS,
# read at import, replaces it (see get_weights_dir).
SHIPPED_WEIGHTS = next(
    (p for p in (Path(__file__).resolve().parent / "weights", REPO_ROOT / "weights") if p.is_dir()),
    REPO_ROOT / "weights",
)
WEIGHTS_DIR = Path(os.environ.get("SOUNDEDIT_WEIGHTS") or SHIPPED_WEIGHTS)
REGISTRY_FILE = "registry.toml"

KINDS = ("stylegan2", "clip", "audio_encoder", "identity", "bundle")
FORMATS = ("rosinality", "nvidia-pkl", "tf-pkl", "state-dict", "open_clip", "bundle")
EMBEDDED = ("bundle",)  # kinds whose files are committed under weights/ (a folder)
_CHUNK = 1 << 20


@dataclass(frozen=True)
class RegistryEntry:
    """One model file (or embedded bundle folder) of ``weights/registry.toml``."""

    name: str  # the table name, what load_bundle / resolve take
    domain: str  # faces, cats, churches, ... or "encoder"
    kind: str  # stylegan2 | clip | audio_encoder | identity | bundle
    source: str = ""  # hf://owner/repo/path[@revision], https://..., or "embedded"
    sha256: str = ""  # hex digest of the file; "" = unverified
    format: str = ""  # rosinality | nvidia-pkl | tf-pkl | state-dict | open_clip | bundle
    resolution: int = 0  # output size in pixels (generators), input size (encoders)
    license: str = ""  # licence of the weights, in a few words
    size_mb: float = 0.0  # download size in MB (from size_bytes when that is known)
    size_bytes: int = 0  # exact size of the file from a public record; 0 = not known
    filename: str = ""  # name under weights/ (a folder for bundles); default: source's basename
    defaults: dict[str, Any] = field(default_factory=dict)  # edit defaults / loader options
    title: str = ""  # human-readable name
    files: tuple[str, ...] = ()  # bundle: the files that must be inside its folder
    note: str = ""  # anything a person should know (unconfirmed details, conditions)
    single_source: bool = False  # the only known copy (no mirror): keep one of your own
    mapper: str = ""  # generators: a latent mapper pair under weights/ (stem), "" = none


class EntryStatus(NamedTuple):
    """Where an entry's file is, or what to do to get it."""

    state: Literal["embedded", "cached", "missing"]  # embedded bundle / file found / not here
    path: Path | None  # the file or folder when found
    message: str  # where it is, or where to put it


# ---- folders ----------------------------------------------------------------------------------


def get_weights_dir(weights_dir: str | Path | None = None) -> Path:
    """The weights folder: the argument, else ``$SOUNDEDIT_WEIGHTS``, else the repo's weights/."""
    if weights_dir is not None:
        return Path(weights_dir)
    return Path(os.environ.get("SOUNDEDIT_WEIGHTS") or WEIGHTS_DIR)


def get_cache_dir(cache_dir: str | Path | None = None) -> Path:
    """Our download cache: the argument, else ``$SOUNDEDIT_CACHE``, else ~/.cache/soundedit."""
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get("SOUNDEDIT_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "soundedit"


def _hf_cache_dir(cache_dir: str | Path | None) -> Path | None:
    """Hugging Face cache folder: inside our cache when one is set, else HF's default."""
    if cache_dir is None and not os.environ.get("SOUNDEDIT_CACHE"):
        return None
    return get_cache_dir(cache_dir) / "huggingface"


def is_offline() -> bool:
    """True when the environment forbids network access for weights."""
    flags = (os.environ.get("SOUNDEDIT_OFFLINE", ""), os.environ.get("HF_HUB_OFFLINE", ""))
    return any(f.strip().lower() in ("1", "true", "yes", "on") for f in flags)


# ---- registry ---------------------------------------------------------------------------------


def registry_path(path: str | Path | None = None, *, weights_dir=None) -> Path:
    """The registry file: the argument, ``$SOUNDEDIT_REGISTRY``, the weights folder's, or ours."""
    if path is not None:
        return Path(path)
    if os.environ.get("SOUNDEDIT_REGISTRY"):
        return Path(os.environ["SOUNDEDIT_REGISTRY"])
    local = get_weights_dir(weights_dir) / REGISTRY_FILE
    return local if local.is_file() else SHIPPED_WEIGHTS / REGISTRY_FILE


def load_registry(path: str | Path | None = None) -> dict[str, RegistryEntry]:
    """Every entry of the registry, by name (strict: unknown keys and kinds are refused).

    Raises:
        FileNotFoundError: no registry file.
        ConfigError: a malformed entry (the message names it and what is accepted).
    """
    path = registry_path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from e
    tables = data.get("models", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{path}: [models.NAME] tables expected")
    entries = {}
    for name, table in tables.items():
        entry = from_dict(RegistryEntry, {"name": name, **table}, where=f"{path.name} {name}")
        entries[name] = _validated(entry, path)
    return entries


def _validated(entry: RegistryEntry, path: Path) -> RegistryEntry:
    where = f"{path.name} [models.{entry.name}]"
    if entry.kind not in KINDS:
        raise ConfigError(f"{where}: kind {entry.kind!r} is not one of {', '.join(KINDS)}")
    if entry.format and entry.format not in FORMATS:
        raise ConfigError(f"{where}: format {entry.format!r} is not one of {', '.join(FORMATS)}")
    digest = entry.sha256.lower()
    if digest and (len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest)):
        raise ConfigError(f"{where}: sha256 must be 64 hex digits or empty, got {entry.sha256!r}")
    if entry.kind not in EMBEDDED and not entry.source.startswith(("hf://", "https://", "http://")):
        raise ConfigError(
            f"{where}: source must start with hf:// or https://, got {entry.source!r}"
        )
    filename = entry.filename or _source_basename(entry.source) or entry.name
    if Path(filename).name != filename:
        raise ConfigError(f"{where}: filename {filename!r} must be a plain file name")
    if entry.mapper and Path(entry.mapper).name != entry.mapper:
        raise ConfigError(f"{where}: mapper {entry.mapper!r} must be a plain file name (a stem)")
    return replace(entry, sha256=digest, filename=filename, size_mb=_size_mb(entry, where))


def _size_mb(entry: RegistryEntry, where: str) -> float:
    """``size_mb`` taken from ``size_bytes`` when the exact size is known (they must agree)."""
    if entry.size_bytes < 0:
        raise ConfigError(f"{where}: size_bytes must be 0 (not known) or a positive number")
    if not entry.size_bytes:
        return entry.size_mb
    exact = round(entry.size_bytes / 1e6, 1)
    if entry.size_mb and abs(entry.size_mb - exact) > 0.5:
        raise ConfigError(
            f"{where}: size_mb {entry.size_mb:g} disagrees with size_bytes {entry.size_bytes} "
            f"({exact:g} MB); give one of them"
        )
    return exact


def _lookup(name: str, registry: dict[str, RegistryEntry] | None) -> RegistryEntry:
    registry = load_registry() if registry is None else registry
    if name not in registry:
        raise ConfigError(f"unknown model {name!r}; registry names: {', '.join(sorted(registry))}")
    return registry[name]


# ---- sources ----------------------------------------------------------------------------------


class HubSource(NamedTuple):
    repo_id: str  # owner/repo
    path: str  # file path inside the repo
    revision: str | None  # branch, tag or commit; None = main


def parse_hf_source(source: str) -> HubSource:
    """``hf://owner/repo/path/in/repo[@revision]`` -> (repo_id, path, revision)."""
    body = source.removeprefix("hf://")
    revision = None
    head, at, tail = body.rpartition("@")
    if at and "/" not in tail:
        body, revision = head, tail
    parts = body.split("/")
    if len(parts) < 3 or not all(parts):
        raise ConfigError(f"{source!r}: expected hf://owner/repo/path/in/repo[@revision]")
    return HubSource("/".join(parts[:2]), "/".join(parts[2:]), revision)


def _source_basename(source: str) -> str:
    if source.startswith("hf://"):
        return Path(parse_hf_source(source).path).name
    if source.startswith(("https://", "http://")):
        return Path(urllib.parse.urlparse(source).path).name
    return ""


def hub_endpoint() -> str:
    """The Hugging Face hub's base URL: ``$HF_ENDPOINT`` (a mirror) or https://huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


def source_url(entry: RegistryEntry) -> str:
    """The URL of the entry's file: ``hf://`` becomes the hub's resolve URL at its revision."""
    if entry.source.startswith("hf://"):
        repo, path, rev = parse_hf_source(entry.source)
        quoted = urllib.parse.quote(path, safe="/")
        return f"{hub_endpoint()}/{repo}/resolve/{rev or 'main'}/{quoted}"
    return entry.source


# ---- resolution -------------------------------------------------------------------------------


def resolve(
    name: str,
    *,
    download: bool = True,
    weights_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    registry: dict[str, RegistryEntry] | None = None,
    progress: bool = True,
) -> Path:
    """The local path of registry entry ``name``, downloading it when allowed.

    Raises:
        ConfigError: unknown name.
        WeightsNotFoundError: not here and not downloadable now (names the file and folder).
        CheckpointError: the file's sha256 differs from the registry's.
    """
    entry = _lookup(name, registry)
    status = _find_local(entry, weights_dir, cache_dir)
    if status.path is not None:
        return status.path
    if entry.kind in EMBEDDED:
        raise WeightsNotFoundError(status.message)
    if not download or is_offline():
        why = "downloads are off" if not download else "offline mode is on"
        raise WeightsNotFoundError(_missing_message(entry, weights_dir, why))
    try:
        check_host(source_host(entry))
        if entry.source.startswith("hf://"):
            return _download_hf(entry, cache_dir)
        target = get_cache_dir(cache_dir) / "downloads" / entry.filename
        return download_url(entry.source, target, sha256=entry.sha256, progress=progress)
    except (CheckpointError, WeightsNotFoundError):
        raise
    except Exception as e:  # network stacks raise many types; all mean "not available now"
        first_line = (str(e).strip().splitlines() or [""])[0][:160]
        reason = f"download failed: {type(e).__name__}: {first_line}"
        raise WeightsNotFoundError(_missing_message(entry, weights_dir, reason)) from e


def entry_status(
    name: str,
    *,
    weights_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    registry: dict[str, RegistryEntry] | None = None,
) -> EntryStatus:
    """Whether entry ``name`` is here (nothing is downloaded or hashed).

    Returns ``EntryStatus(state, path, message)``, a tuple whose first item is ``"embedded"``,
    ``"cached"`` or ``"missing"``; for a missing file the message says where to put it.
    """
    return _find_local(_lookup(name, registry), weights_dir, cache_dir, verify=False)


def _find_local(entry, weights_dir, cache_dir, *, verify: bool = True) -> EntryStatus:
    folder = get_weights_dir(weights_dir)
    local = folder / entry.filename
    if entry.kind in EMBEDDED:
        missing = [f for f in entry.files if not (local / f).is_file()]
        if local.is_dir() and not missing:
            return EntryStatus("embedded", local, f"embedded in {local}")
        what = ", ".join(missing) if local.is_dir() else "the folder"
        return EntryStatus("missing", None, f"{entry.name}: {what} missing in {local}")
    if local.is_file():
        if verify:
            check_sha256(local, entry.sha256, delete=False)
        return EntryStatus("cached", local, f"in {local}")
    cached = _cached_file(entry, cache_dir)
    if cached is not None:
        if verify:
            check_sha256(cached, entry.sha256, delete=True)
        return EntryStatus("cached", cached, f"cached at {cached}")
    return EntryStatus("missing", None, _missing_message(entry, weights_dir, "not downloaded"))


def _cached_file(entry: RegistryEntry, cache_dir) -> Path | None:
    if entry.source.startswith("hf://"):
        from huggingface_hub import try_to_load_from_cache  # start-up: it loads httpx

        repo, path, rev = parse_hf_source(entry.source)
        found = try_to_load_from_cache(repo, path, cache_dir=_hf_cache_dir(cache_dir), revision=rev)
        return Path(found) if isinstance(found, str) and Path(found).is_file() else None
    candidate = get_cache_dir(cache_dir) / "downloads" / entry.filename
    return candidate if candidate.is_file() else None


def _missing_message(entry: RegistryEntry, weights_dir, reason: str) -> str:
    folder = get_weights_dir(weights_dir)
    size = f" (about {entry.size_mb:g} MB)" if entry.size_mb else ""
    return (
        f"{entry.name}: {entry.filename} is not on this machine ({reason}); "
        f"download it from {source_url(entry)}{size} and put it in {folder}/ as {entry.filename}"
    )


# ---- downloads and checks ---------------------------------------------------------------------


def source_host(entry: RegistryEntry) -> str:
    """The host name the entry's file is fetched from."""
    return urllib.parse.urlparse(source_url(entry)).hostname or ""


def check_host(host: str) -> None:
    """Fail fast (instead of retrying for half a minute) when the host name does not resolve."""
    try:
        socket.getaddrinfo(host, 443)
    except (socket.gaierror, UnicodeError) as e:
        raise OSError(f"no network: cannot resolve {host} ({e})") from e


def _download_hf(entry: RegistryEntry, cache_dir) -> Path:
    from huggingface_hub import hf_hub_download  # start-up: it loads httpx

    repo, path, rev = parse_hf_source(entry.source)
    local = Path(
        hf_hub_download(repo, path, revision=rev, cache_dir=_hf_cache_dir(cache_dir))
    )
    check_sha256(local, entry.sha256, delete=True)
    return local


def download_url(url: str, target: str | Path, *, sha256: str = "", progress: bool = True) -> Path:
    """Stream ``url`` to ``target`` atomically (temporary file + rename), checking its sha256.

    Nothing is left under ``target`` unless the whole file arrived (and matched ``sha256``).

    Raises:
        OSError / urllib.error.URLError: the transfer failed or was cut short.
        CheckpointError: the content's sha256 is not ``sha256``.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(f".{target.name}.{os.getpid()}.part")
    digest = hashlib.sha256()
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "soundedit"})
        with urllib.request.urlopen(request, timeout=30) as response, open(part, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            received = 0
            with tqdm(total=total, unit="B", unit_scale=True, desc=target.name,
                      disable=not progress) as bar:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
        if total is not None and received != total:
            raise OSError(f"transfer of {url} cut short: {received} of {total} bytes")
        _compare(digest.hexdigest(), sha256, target)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    _VERIFIED.add(_stamp(target))
    return target


_VERIFIED: set[tuple[str, int, int]] = set()


def _stamp(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_sha256(path: Path, expected: str, *, delete: bool) -> None:
    """Refuse ``path`` unless its sha256 is ``expected`` ("" = unverified: accepted).

    A file we downloaded (``delete=True``) is removed when it does not match, so a damaged
    download is never used or kept; a file a person placed in weights/ is left alone.
    """
    if not expected:
        return
    stamp = _stamp(path)
    if stamp in _VERIFIED:
        return
    actual = sha256_file(path)
    if actual != expected.lower():
        if delete:
            _delete_cached(path)
        _compare(actual, expected, path)
    _VERIFIED.add(stamp)


def _compare(actual: str, expected: str, path: Path) -> None:
    if expected and actual != expected.lower():
        raise CheckpointError(
            f"{path.name} has sha256 {actual}, but the registry expects {expected}; "
            "the file is damaged or a different version (it was not kept if we downloaded it)"
        )


def _delete_cached(path: Path) -> None:
    """Remove a cached file and, for a Hugging Face snapshot link, the blob it points to."""
    target = path.resolve()
    path.unlink(missing_ok=True)
    if target != path:
        target.unlink(missing_ok=True)

