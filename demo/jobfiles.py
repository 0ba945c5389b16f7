"""Gradio's cache files of each job, swept once the job's files have been delivered.

Gradio writes every image an event streams (previews, the result) into its cache and deletes
them only on its age-based schedule, so a busy server's cache grows with every job. Here the
files a job's own outputs created are noted when the job ends, and deleted when the same
session starts its next job (by then the last result has been delivered: a client asks for the
next job after reading the previous one's) or closes its page. Files younger than
:data:`GRACE_SECONDS` wait for the next sweep, so a file another session's job wrote at the same
moment (several edits at once) is never pulled from under its reader.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable

GRACE_SECONDS = 2.0  # a noted file younger than this waits for the session's next sweep


class JobFiles:
    """Per session: the cache files its finished jobs left, deleted at its next job."""

    def __init__(self) -> None:
        self._components: list = []  # output components whose ``temp_files`` a job fills
        self._pending: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def watch(self, components: Iterable) -> None:
        """Note the files of these output components (those that keep ``temp_files``)."""
        self._components += [c for c in components if hasattr(c, "temp_files")]

    def snapshot(self) -> set[str]:
        """The watched components' cache files now."""
        files: set[str] = set()
        for component in self._components:
            files.update(list(component.temp_files))  # a copy: a job may be adding one
        return files

    def start(self, session: str) -> set[str]:
        """A job of ``session`` starts: sweep its delivered files; returns the snapshot to pass
        to :meth:`end`."""
        self.sweep(session)
        return self.snapshot()

    def end(self, session: str, before: set[str]) -> None:
        """The job is over: note the files it created."""
        created = self.snapshot() - before
        with self._lock:
            self._pending.setdefault(session, set()).update(created)

    def sweep(self, session: str, *, grace: float = GRACE_SECONDS) -> int:
        """Delete the noted files of ``session`` older than ``grace`` s; returns how many."""
        with self._lock:
            pending = self._pending.pop(session, set())
        now, kept, deleted = time.time(), set(), set()
        for path in pending:
            try:
                if now - os.stat(path).st_mtime < grace:
                    kept.add(path)
                    continue
                os.remove(path)
            except FileNotFoundError:
                pass
            deleted.add(path)
        for component in self._components:
            component.temp_files.difference_update(deleted)
        if kept:
            with self._lock:
                self._pending.setdefault(session, set()).update(kept)
        return len(deleted)
