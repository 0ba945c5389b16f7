"""Per-session bookkeeping that must outlive a single event: Stop requests and output folders.

Gradio's ``gr.State`` is copied into each event, so a running edit cannot see a Stop pressed
later through it. Instead Stop sets a flag keyed by the session hash, which the running edit
checks between steps; the edit then finishes cleanly with the last image it has.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import uuid
from pathlib import Path


class Sessions:
    """Stop flags and output folders, one set per browser session (or API client)."""

    def __init__(self, root: str | Path | None = None) -> None:
        # Under the system temp dir, which Gradio is allowed to serve files from.
        base = Path(root) if root is not None else Path(tempfile.gettempdir()) / "soundedit-app"
        self.root = base
        self._stops: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def stop_flag(self, session: str) -> threading.Event:
        with self._lock:
            return self._stops.setdefault(session, threading.Event())

    def request_stop(self, session: str) -> None:
        self.stop_flag(session).set()

    def new_run_dir(self, session: str, *, keep: int = 2) -> Path:
        """A fresh folder for one run's downloads; only the ``keep`` newest earlier ones stay.

        Gradio copies returned files into its own cache, so old folders are safe to remove; a
        few are kept in case runs of one session (an API client) overlap.
        """
        session_dir = self.root / _safe(session)
        session_dir.mkdir(parents=True, exist_ok=True)
        earlier = sorted(session_dir.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in earlier[keep:]:
            shutil.rmtree(old, ignore_errors=True)
        run_dir = session_dir / uuid.uuid4().hex[:12]
        run_dir.mkdir()
        return run_dir

    def end(self, session: str) -> None:
        """Forget a closed session and delete its files."""
        with self._lock:
            self._stops.pop(session, None)
        shutil.rmtree(self.root / _safe(session), ignore_errors=True)


def _safe(session: str) -> str:
    return "".join(c for c in session if c.isalnum() or c in "-_") or "anonymous"
