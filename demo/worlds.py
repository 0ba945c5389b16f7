"""The worlds (model bundles) the app offers, loaded once per process and shared by all sessions.

A :class:`WorldCatalog` wraps the library's ``list_bundles`` / ``load_bundle`` so that tests can
inject tiny bundles, and so that every session sees the same loaded models: Gradio deep-copies
``gr.State`` per session, so models must never live there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from demo.errors import hide_paths
from soundedit import bundle as bundle_lib
from soundedit.hub import load_registry


@dataclass(frozen=True)
class World:
    """One entry of the picker, as the app shows it."""

    name: str  # registry name passed to load_bundle
    title: str  # human label ("SoundScapes (embedded, offline)")
    domain: str  # "soundscapes", "faces", "churches", ...
    status: str  # library status word: "ready" or "missing"
    message: str  # the library's explanation (file names and folder when missing)
    details: str = ""  # size, licence and source from the registry (Markdown), when known
    downloadable: bool = False  # missing files are fetched on first use (registry worlds)

    @property
    def ready(self) -> bool:
        return self.status == "ready"

    @property
    def label(self) -> str:
        """Dropdown label: the title, tagged when the world's files are not here yet."""
        if self.ready:
            return self.title
        if self.downloadable:
            return f"{self.title} · not downloaded"
        return f"{self.title} · weights missing"


class WorldCatalog:
    """Lists worlds and hands out loaded bundles, each loaded at most once per process.

    Args:
        list_fn: returns the library's bundle infos (objects with name, title, domain, status,
            message). Defaults to ``soundedit.bundle.list_bundles``.
        load_fn: ``load_fn(name, device=...) -> Bundle``; defaults to
            ``soundedit.bundle.load_bundle``.
        default: the world selected when the page opens (``soundedit.bundle.DEFAULT_BUNDLE``).
        device: "cpu" or "cuda"; passed to load_fn.
    """

    def __init__(
        self,
        list_fn: Callable[[], list[Any]] | None = None,
        load_fn: Callable[..., Any] | None = None,
        *,
        default: str | None = None,
        device: str = "cpu",
    ) -> None:
        self._list_fn = list_fn or bundle_lib.list_bundles
        self._load_fn = load_fn or bundle_lib.load_bundle
        self.default = default or bundle_lib.DEFAULT_BUNDLE
        self.device = device
        self._loaded: dict[str, Any] = {}
        self._lock = threading.Lock()

    def worlds(self) -> list[World]:
        """Every world the library knows, with its current state (nothing is loaded)."""
        details = _registry_details()
        return [_as_world(info, details.get(info.name, "")) for info in self._list_fn()]

    def world(self, name: str) -> World:
        """The entry for ``name``; ValueError listing the known names otherwise."""
        worlds = {w.name: w for w in self.worlds()}
        if name not in worlds:
            known = ", ".join(sorted(worlds)) or "none"
            raise ValueError(f"Unknown world {name!r}. Known worlds: {known}.")
        return worlds[name]

    def choices(self) -> list[tuple[str, str]]:
        """(label, name) pairs for a gr.Dropdown."""
        return [(w.label, w.name) for w in self.worlds()]

    def is_loaded(self, name: str) -> bool:
        return name in self._loaded

    def get(self, name: str) -> Any:
        """The loaded bundle for ``name``, loading it on first use (thread-safe, once per process).

        Raises the library's errors unchanged (WeightsNotFoundError when the weights are absent).
        """
        bundle = self._loaded.get(name)
        if bundle is not None:
            return bundle
        with self._lock:
            if name not in self._loaded:
                self._loaded[name] = self._load_fn(name, device=self.device)
            return self._loaded[name]


def _as_world(info: Any, details: str) -> World:
    return World(
        name=info.name,
        title=info.title or info.name,
        domain=info.domain,
        status=info.status,
        message=info.message,
        details=details,
        downloadable=getattr(info, "downloadable", False),
    )


def _registry_details() -> dict[str, str]:
    """name -> size, licence and source as Markdown lines ({} without a registry)."""
    try:
        registry = load_registry()
    except (FileNotFoundError, ValueError):
        return {}
    details = {}
    for name, entry in registry.items():
        parts = []
        if getattr(entry, "size_mb", None):
            parts.append(f"**Download size:** {entry.size_mb:g} MB")
        if getattr(entry, "license", None):
            parts.append(f"**Licence:** {entry.license}")
        if getattr(entry, "source", None):
            parts.append(f"**Source:** {entry.source}")
        details[name] = "\n\n".join(parts)
    return details


def describe(world: World, *, loaded: bool = False, error: str | None = None) -> str:
    """Markdown telling a visitor what state the world is in and, if needed, what to do.

    ``error`` is why loading failed (offline and not downloaded, damaged file ...).
    """
    if error:
        state = "**weights missing** — this world cannot edit until they are in place"
    elif world.ready:
        state = "loaded, ready to edit" if loaded else "ready (loads on first use)"
    elif world.downloadable:
        state = "not downloaded yet — selecting it fetches the files when the server is online"
    else:
        state = "**weights missing** — this world cannot edit until they are in place"
    lines = [f"**{world.title}** — {state}."]
    message = hide_paths(error or world.message)  # never the machine's own folders
    if message:  # verbatim: it may start with a file name
        lines.append(message if message.endswith((".", "!", "?")) else message + ".")
    return "\n\n".join(lines)


def about(world: World) -> str:
    """Markdown for the "About this world" fold: download size, licence and source."""
    return world.details or f"The registry records no size, licence or source for {world.title}."
