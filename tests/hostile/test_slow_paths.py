"""Slow paths stay visible and bounded: a photo's projection shows progress, stops when asked
and ends at its time limit with a notice; Gradio's cache files stay bounded per job (a session's
delivered files are swept when its next job starts), measured over 50 jobs."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from soundedit.edit.project import PREVIEW_EVERY, Projection, projection_seconds
from soundedit.settings import EditRequest

from .conftest import WORLD
from .corpus import RATE, noise


@pytest.fixture
def photo(tmp_path) -> str:
    path = tmp_path / "photo.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (40, 30, 3), dtype=np.uint8)).save(path)
    return str(path)


@pytest.fixture
def sound(tmp_path) -> str:
    path = tmp_path / "ok.wav"
    sf.write(str(path), noise(0.5), RATE)
    return str(path)


def test_projection_steps_report_progress_with_previews(hostile_bundle, photo):
    steps = list(Projection(hostile_bundle, photo, steps=PREVIEW_EVERY * 2))
    assert [s.step for s in steps] == list(range(1, PREVIEW_EVERY * 2 + 1))
    assert {s.phase for s in steps} == {"projection"} and steps[-1].total == PREVIEW_EVERY * 2
    assert [s.step for s in steps if s.preview is not None] == [PREVIEW_EVERY, PREVIEW_EVERY * 2]
    assert all(np.isfinite(s.losses["total"]) for s in steps)


def test_a_projection_stops_after_the_step_in_progress(hostile_bundle, photo):
    projection = Projection(hostile_bundle, photo, steps=50)
    for step in projection:
        if step.step == 3:
            projection.stop()
    w, report = projection.result()
    assert report["steps"] == 3 and report["ended"] == "stopped" and w.shape[0] == 1
    assert "stopped at step 3 of 50" in projection.notice(report)


def test_a_projection_ends_at_its_time_limit_with_a_notice(hostile_bundle, photo):
    projection = Projection(hostile_bundle, photo, steps=5000, max_seconds=0.3)
    w, report = projection.result()
    assert report["ended"] == "time limit" and 1 <= report["steps"] < 5000
    notice = projection.notice(report)
    assert "time limit of 0.3 s" in notice and "rougher likeness" in notice


@pytest.mark.parametrize(
    ("value", "seconds"), [("5", 5.0), ("0.5", 0.5), ("", 120.0), ("nan", 120.0), ("-3", 120.0)]
)
def test_the_projection_time_limit_can_be_set_for_a_server(value, seconds, monkeypatch):
    monkeypatch.setenv("SOUNDEDIT_PROJECTION_SECONDS", value)
    assert projection_seconds() == seconds


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), "10"])
def test_a_projection_time_limit_must_be_above_zero(bad, hostile_bundle, photo):
    from soundedit.errors import ConfigError

    with pytest.raises(ConfigError, match="projection seconds must be above 0"):
        Projection(hostile_bundle, photo, max_seconds=bad)


def test_an_edit_from_a_photo_streams_the_projection_and_can_be_stopped_in_it(
    hostile_bundle, photo, sound, monkeypatch
):
    from soundedit.edit.pipeline import run_edit

    run = run_edit(hostile_bundle, EditRequest.of(audio=sound, source_image=photo, steps=3))
    for step in run:
        assert step.phase == "projection"
        if step.step == 2:
            run.stop()
    result = run.result()
    assert result.report.stopped_at == 0 and result.report.source["projection"]["steps"] == 2
    assert any("stopped at step 2 of" in n for n in result.report.notices)
    assert set(result.images) == {"source"}


def test_an_edit_from_a_photo_at_its_time_limit_says_so_and_edits(
    hostile_bundle, photo, sound, monkeypatch
):
    from soundedit.edit.pipeline import run_to_end

    monkeypatch.setenv("SOUNDEDIT_PROJECTION_SECONDS", "0.2")
    result = run_to_end(hostile_bundle, EditRequest.of(audio=sound, source_image=photo, steps=2))
    assert result.report.source["projection"]["ended"] in ("time limit", "done")
    notices = " ".join(result.report.notices)
    assert "photo projected into W+" in notices
    assert result.report.stopped_at is None and "sound" in result.images


def test_the_page_shows_projection_progress_before_the_edit(hostile_app, photo, sound):
    _, _, handlers = hostile_app
    form = {"sound": sound, "world": WORLD, "source": "photo", "photo": photo, "steps": 2}
    statuses = [view[2] for view in handlers.run(form) if isinstance(view[2], str)]
    assert any(s.startswith("**Fitting your photo into the generator…** step") for s in statuses), (
        statuses[:5]
    )


# ---- Gradio's cache: bounded per job -------------------------------------------------------


def test_a_session_s_delivered_files_go_when_its_next_job_starts(tmp_path):
    from types import SimpleNamespace

    from demo.jobfiles import JobFiles

    component = SimpleNamespace(temp_files=set())
    files = JobFiles()
    files.watch([component, object()])  # a component without temp_files is left out
    for job in range(5):
        before = files.start("a")
        path = tmp_path / f"{job}.png"
        path.write_bytes(b"png")
        component.temp_files.add(str(path))
        files.end("a", before)
        os.utime(path, (time.time() - 10, time.time() - 10))  # delivered a while ago
    assert len(component.temp_files) == 1 and len(list(tmp_path.glob("*.png"))) == 1
    files.start("b")  # another session's job leaves "a"'s last files alone
    assert len(list(tmp_path.glob("*.png"))) == 1
    assert files.sweep("a", grace=0.0) == 1 and not list(tmp_path.glob("*.png"))


def test_a_file_younger_than_the_grace_waits_for_the_next_sweep(tmp_path):
    from types import SimpleNamespace

    from demo.jobfiles import JobFiles

    component = SimpleNamespace(temp_files=set())
    files = JobFiles()
    files.watch([component])
    before = files.start("a")
    path = tmp_path / "new.png"
    path.write_bytes(b"png")
    component.temp_files.add(str(path))
    files.end("a", before)
    assert files.sweep("a", grace=60.0) == 0 and path.exists()
    assert files.sweep("a", grace=0.0) == 1 and not path.exists()


JOBS = 50
PORT = int(os.environ.get("SOUNDEDIT_TEST_FILES_PORT", "7885"))


@pytest.mark.slow  # 50 edits through the served app (about a minute on a 2-core CPU)
def test_fifty_jobs_leave_a_bounded_number_of_gradio_files(hostile_bundle, tmp_path):
    """No age-based sweep here (an hour): only the per-job sweep keeps the cache bounded."""
    from gradio_client import Client, handle_file

    from demo import WorldCatalog, build_demo, launch_options, queue_options
    from demo.handlers import Handlers
    from demo.session import Sessions

    handlers = Handlers(WorldCatalog(default=WORLD), Sessions(tmp_path / "sessions"))
    demo = build_demo(handlers=handlers, delete_cache=(3600, 7200))
    demo.queue(**queue_options())
    demo.launch(
        server_name="127.0.0.1", server_port=PORT, prevent_thread_lock=True, quiet=True,
        **launch_options(),
    )  # fmt: skip
    try:
        client = Client(f"http://127.0.0.1:{PORT}/", verbose=False, download_files=str(tmp_path))
        sound = tmp_path / "ok.wav"
        sf.write(str(sound), noise(0.5), RATE)

        def server_files() -> int:
            return sum(1 for s in demo.temp_file_sets for f in list(s) if Path(f).exists())

        baseline, counts = server_files(), []
        for job in range(JOBS):
            client.predict(handle_file(str(sound)), WORLD, job, 4, "", "sound", api_name="/edit")
            counts.append(server_files())
            if job % 10 == 9:
                time.sleep(2.5)  # a pause longer than the grace: everything delivered goes
        per_job = counts[0] - baseline  # what one job leaves without a sweep
        print(f"\nGradio cache files ({baseline} before) after each of {JOBS} jobs: {counts}")
        assert per_job >= 1
        # bounded by the jobs of the last grace period, whatever the number of jobs
        assert max(counts) - baseline <= 6 * per_job, counts
        assert max(counts[-10:]) <= max(counts[:10]) + 2 * per_job, counts
    finally:
        demo.close()
