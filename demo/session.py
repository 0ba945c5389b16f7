"""Per-session bookkeeping that must outlive a single event: runs, Stop requests, output folders.

Gradio's ``gr.State`` is copied into each event, so a running edit cannot see a Stop pressed
later through it. Instead Stop sets a flag keyed by the session hash, which the running edit
checks between steps; the edit then finishes cleanly with the last image it has. The store also
knows whether a session has a run going (so Stop can say "nothing is running") and how its last
run ended (so the page can say so after an error).

Output folders are bounded: each session keeps its newest few runs, a closed session's folder
is removed, and folders untouched for ``max_age`` seconds (a client that never closed, a server
that was killed) are swept when the store is created and whenever a run starts.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
import uuid
import weakref
from pathlib import Path

log = logging.getLogger("soundedit.app")

MAX_AGE = 3600.0  # seconds: a session folder untouched this long belongs to no live page


class Sessions:
    """Stop flags and output folders, one set per browser session (or API client)."""

    def __init__(self, root: str | Path | None = None, *, max_age: float = MAX_AGE) -> None:
        # Under the system temp dir, which Gradio is allowed to serve files from.
        base = Path(root) if root is not None else Path(tempfile.gettempdir()) / "soundedit-app"
        self.root = base
        self.max_age = max_age
        self._stops: dict[str, threading.Event] = {}
        self._running: set[str] = set()
        self._errors: dict[str, str] = {}
        self._lock = threading.Lock()
        self.sweep()

    # ---- runs ---------------------------------------------------------------------------

    def begin(self, session: str) -> None:
        """A run was asked for: it counts as running (and Stop applies) from now on."""
        with self._lock:
            self._running.add(session)
            self._errors.pop(session, None)
        self.stop_flag(session).clear()

    def fail(self, session: str, message: str) -> None:
        """The session's run ended with an error that the page should go on showing."""
        with self._lock:
            self._errors[session] = message

    def finish(self, session: str) -> str | None:
        """The run is over (whatever happened); returns its error message, if it failed."""
        with self._lock:
            self._running.discard(session)
            return self._errors.pop(session, None)

    def is_running(self, session: str) -> bool:
        with self._lock:
            return session in self._running

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
        self.sweep()
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
            self._running.discard(session)
            self._errors.pop(session, None)
        shutil.rmtree(self.root / _safe(session), ignore_errors=True)

    def sweep(self) -> int:
        """Remove session folders untouched for ``max_age`` seconds; returns how many went."""
        if not self.root.is_dir():
            return 0
        cutoff = time.time() - self.max_age
        removed = 0
        for folder in self.root.iterdir():
            if _newest_mtime(folder) < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed


def _newest_mtime(folder: Path) -> float:
    """The latest modification time of ``folder`` and the run folders in it."""
    try:
        times = [folder.stat().st_mtime]
        times += [p.stat().st_mtime for p in folder.iterdir()] if folder.is_dir() else []
    except OSError:  # removed meanwhile by its own session
        return float("inf")
    return max(times)


def _safe(session: str) -> str:
    return "".join(c for c in session if c.isalnum() or c in "-_") or "anonymous"


def sweep_gradio_cache(blocks, *, age: float) -> bool:
    """Delete the files Gradio cached for ``blocks`` (uploads, previews) older than ``age`` s.

    The sweep Gradio runs on its ``delete_cache`` schedule, run now. Gradio keeps no list of a
    session's own files, so a closed page triggers the age-based sweep early. Returns whether a
    sweep completed.
    """
    try:
        from gradio.route_utils import delete_files_created_by_app
    except ImportError:  # a Gradio without it: its own schedule alone bounds the cache
        return False
    for _ in range(3):
        try:
            delete_files_created_by_app(blocks, age=age)
            return True
        except RuntimeError:  # a job added a file while the sets were read: read them again
            continue
        except OSError as e:  # a file we may not delete: the next sweep tries again
            log.warning("cache sweep stopped: %s", e)
            return False
    return False


def start_cache_sweeper(blocks, *, every: float, age: float) -> threading.Event:
    """Sweep Gradio's cache every ``every`` s in a daemon thread; set the event to stop it.

    Gradio's own schedule (``delete_cache``) ends for good when one sweep raises, and a sweep
    raises when a job adds a file while it runs ("Set changed size during iteration"), which a
    busy server hits sooner or later. This one retries and goes on. It holds the Blocks weakly,
    so it ends with them.
    """
    stop = threading.Event()
    ref = weakref.ref(blocks)

    def loop() -> None:
        while not stop.wait(every):
            target = ref()
            if target is None:
                return
            sweep_gradio_cache(target, age=age)
            del target

    threading.Thread(target=loop, name="soundedit-cache-sweeper", daemon=True).start()
    return stop
