"""50 jobs through the running app: temp files and the server's memory stay bounded.

The app runs in this process (launched with prevent_thread_lock), so the server's resident
memory is this process's. Gradio's cache is swept every 2 s for files older than 6 s here
(``CACHE_SWEEP`` in conftest.py; the app's default is every 10 min, files older than 30 min).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import soundfile as sf
from gradio_client import Client, handle_file

from .conftest import CACHE_SWEEP, WORLD
from .corpus import noise

JOBS = 50
CLIENTS = 5  # sessions: each keeps at most its three newest run folders
STEPS = 4


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def gradio_files(demo) -> int:
    """Files Gradio created for this app (uploads, previews, results) that still exist."""
    return sum(1 for files in demo.temp_file_sets for f in list(files) if Path(f).exists())


def app_files(sessions) -> int:
    root = Path(sessions.root)
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.is_dir() else 0


@pytest.mark.slow  # about a minute on a 2-core CPU (50 edits, then one cache sweep)
def test_fifty_jobs_leave_bounded_files_and_memory(hostile_app, tmp_path):
    url, demo, handlers = hostile_app
    sound = tmp_path / "ok.wav"
    sf.write(str(sound), noise(0.5), 16000)
    clients = [Client(url, verbose=False) for _ in range(CLIENTS)]

    def job(i: int) -> None:
        client = clients[i % CLIENTS]
        client.predict(handle_file(str(sound)), WORLD, i, STEPS, "", "sound", api_name="/edit")

    for i in range(3):  # warm-up: first-use allocations are not a leak
        job(i)
    before = (rss_mb(), gradio_files(demo), app_files(handlers.sessions))
    peak_gradio = peak_app = 0
    start = time.perf_counter()
    for i in range(JOBS):
        job(i)
        peak_gradio = max(peak_gradio, gradio_files(demo))
        peak_app = max(peak_app, app_files(handlers.sessions))
    seconds = time.perf_counter() - start
    after = (rss_mb(), gradio_files(demo), app_files(handlers.sessions))
    time.sleep(CACHE_SWEEP[1] + 2 * CACHE_SWEEP[0])  # one sweep past the age
    settled = gradio_files(demo)
    print(
        f"\n{JOBS} jobs in {seconds:.1f} s; server RSS {before[0]:.0f} -> {after[0]:.0f} MB; "
        f"Gradio cache files {before[1]} -> {after[1]} (peak {peak_gradio}, {settled} after "
        f"the sweep); app folder files {before[2]} -> {after[2]} (peak {peak_app})"
    )
    # each client keeps its three newest runs (about 10 files each)
    assert peak_app <= CLIENTS * 3 * 12
    # without the sweep ~8 files per job would pile up (400+); with it only the last seconds'
    assert peak_gradio < JOBS * 4 and settled < 20
    assert after[0] - before[0] < 150, "the server's memory grew by more than 150 MB"


class RacySet(set):
    """A temp-file set that a job adds a file to while a sweep reads it (once)."""

    def __init__(self, items, late: str) -> None:
        super().__init__(items)
        self.late = late

    def __iter__(self):
        for i, item in enumerate(super().__iter__()):
            if i == 0 and self.late not in self:
                self.add(self.late)  # the next step of the iteration raises RuntimeError
            yield item


def test_the_cache_sweep_survives_a_file_added_while_it_runs(tmp_path):
    """Gradio's scheduled sweep dies on this race; the app's sweeper retries and goes on."""
    from types import SimpleNamespace

    from gradio.route_utils import delete_files_created_by_app

    from demo.session import sweep_gradio_cache

    files = [tmp_path / f"preview{i}.png" for i in range(3)]
    for f in files:
        f.write_bytes(b"png")
    late = tmp_path / "late.png"
    late.write_bytes(b"png")

    racy = RacySet({str(f) for f in files}, str(late))
    with pytest.raises(RuntimeError, match="changed size"):
        delete_files_created_by_app(SimpleNamespace(blocks={}, temp_file_sets=[racy]), age=None)

    racy = RacySet({str(f) for f in files}, str(late))
    assert sweep_gradio_cache(SimpleNamespace(blocks={}, temp_file_sets=[racy]), age=0)
    assert not any(f.exists() for f in (*files, late))
