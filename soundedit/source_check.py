"""Whether each registry source answers now: one HEAD request per file, nothing downloaded.

``python -m soundedit models --check`` runs :func:`check_sources`. An ``hf://`` source is asked
at the hub's resolve URL for its pinned revision (``$HF_ENDPOINT`` replaces the hub's address,
as it does for ``huggingface_hub``); redirects are followed with HEAD, so a renamed repository or
a CDN answers without sending the file. A source whose exact size the registry records
(``size_bytes``) must announce that size, or it is reported as a size mismatch.
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Literal, NamedTuple

from soundedit.hub import EMBEDDED, RegistryEntry, is_offline, source_host, source_url

TIMEOUT_S = 20.0  # per request: a source that takes longer is "not answering"


class SourceCheck(NamedTuple):
    """What one source said to a HEAD request."""

    name: str  # the registry entry
    url: str  # the URL asked (hf:// resolved to the hub's URL at the revision)
    state: Literal["answering", "not answering", "size mismatch"]
    size: int | None  # the Content-Length of the final answer, when it gave one
    detail: str  # a few plain words: the size found, or why there was no answer


class _HeadRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects with HEAD (urllib turns the redirected request into a GET)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and req.get_method() == "HEAD":
            new.method = "HEAD"
        return new


def checkable(registry: dict[str, RegistryEntry]) -> list[RegistryEntry]:
    """The entries that are fetched from somewhere (embedded bundles are not)."""
    return [e for e in registry.values() if e.kind not in EMBEDDED]


def cannot_check_reason(registry: dict[str, RegistryEntry]) -> str | None:
    """Why the sources cannot be checked from here (offline, no network), or None."""
    if is_offline():
        return "offline mode is on (HF_HUB_OFFLINE or SOUNDEDIT_OFFLINE is set)"
    hosts = sorted({source_host(e) for e in checkable(registry)})
    if hosts and not any(_resolves(host) for host in hosts):
        return f"this machine has no network (none of {', '.join(hosts)} resolves)"
    return None


def _resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, 443)
    except (OSError, UnicodeError):
        return False
    return True


def check_source(entry: RegistryEntry, *, timeout: float = TIMEOUT_S) -> SourceCheck:
    """Send one HEAD request for ``entry``'s file and judge the answer."""
    url = source_url(entry)
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "soundedit"})
    opener = urllib.request.build_opener(_HeadRedirects)
    try:
        with opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
    except urllib.error.HTTPError as e:
        return SourceCheck(entry.name, url, "not answering", None, f"HTTP {e.code} {e.reason}")
    except (OSError, ValueError) as e:  # URLError, timeouts, refused or reset connections
        reason = getattr(e, "reason", None) or e
        return SourceCheck(entry.name, url, "not answering", None, f"no answer: {reason}")
    size = int(length) if length and length.isdigit() else None
    return _judge_size(entry, url, size)


def _judge_size(entry: RegistryEntry, url: str, size: int | None) -> SourceCheck:
    if size is None:
        return SourceCheck(entry.name, url, "answering", None, "answers, without giving a size")
    if not entry.size_bytes:
        detail = f"{size:,} bytes (the registry records no exact size)"
        return SourceCheck(entry.name, url, "answering", size, detail)
    if size != entry.size_bytes:
        detail = f"{size:,} bytes, where the registry records {entry.size_bytes:,}"
        return SourceCheck(entry.name, url, "size mismatch", size, detail)
    return SourceCheck(entry.name, url, "answering", size, f"{size:,} bytes, as recorded")


def check_sources(
    registry: dict[str, RegistryEntry], *, timeout: float = TIMEOUT_S
) -> list[SourceCheck]:
    """One :class:`SourceCheck` per downloadable entry, in registry order (requests in parallel)."""
    entries = checkable(registry)
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda e: check_source(e, timeout=timeout), entries))
