"""The page after hostile input: never stuck, our own words, no server paths, one log line.

Driven through the handler functions (what the page's events call) and, for the log, through
the running app.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
import soundfile as sf

from demo.errors import REPO_ROOT
from demo.handlers import NOTHING_RUNNING, RUN_OUTPUTS, STOPPING, Handlers
from demo.session import Sessions
from demo.worlds import WorldCatalog, describe

from .conftest import WORLD
from .corpus import all_cases, noise


class FakeRequest:
    def __init__(self, session: str) -> None:
        self.session_hash = session


@pytest.fixture
def handlers(hostile_bundle, tmp_path):
    return Handlers(WorldCatalog(default=WORLD), Sessions(tmp_path / "sessions"))


def run_values(**overrides) -> dict:
    values = dict(
        sound=None, sound2=None, mix=0.5, gain_db=0, world=WORLD, source="seed", seed=0,
        truncation=0.7, latent_file=None, photo=None, mode="sound", text="", mix_layer=3,
        blend=0.5, steps=2, lr=0.1, lambda_reg=0.008, adaptive_mask=True, lambda_id=0.0,
        guidance="cosine", preview_every=1,
    )  # fmt: skip
    values.update(overrides)
    return values


def click_run(handlers: Handlers, session: str, **overrides):
    """What one click on Run does: start_run, the run handler, then after_run (always)."""
    request = FakeRequest(session)
    button = handlers.start_run(request)
    assert button["interactive"] is False
    status, error = "Press **Run** to start.", None
    try:
        for view in handlers.run(run_values(**overrides), request=request):
            shown = dict(zip(RUN_OUTPUTS, view, strict=True))["status"]
            status = shown if isinstance(shown, str) else status
    except gr.Error as e:
        error = e
    button, new_status = handlers.after_run(status, request)
    if isinstance(new_status, dict):  # gr.skip(): the run's own last status stays
        new_status = status
    return error, button, new_status


@pytest.mark.parametrize(
    "overrides, words",
    [
        ({}, "Give a sound first"),
        ({"mode": "text", "text": "  "}, "needs a text prompt"),
        ({"sound": "TEXTFILE"}, "notes.txt could not be decoded as sound"),
        ({"sound": "OK", "source": "photo", "photo": "BADPHOTO"}, "holiday.png is not an image"),
        ({"sound": "OK", "seed": -1}, r"seed must be a whole number in [0, 4294967295]"),
        ({"sound": "OK", "gain_db": 1000}, "must be a number in [-120, 40]"),
    ],
)
def test_after_any_error_run_is_usable_again_and_the_status_says_why(
    handlers, tmp_path, overrides, words
):
    deep = tmp_path / "gradio" / "0123456789abcdef"
    deep.mkdir(parents=True)
    (deep / "notes.txt").write_text("not a sound\n" * 10)
    (deep / "holiday.png").write_bytes(b"not a photo" * 10)
    sf.write(str(deep / "ok.wav"), noise(0.5), 16000)
    files = {"TEXTFILE": "notes.txt", "BADPHOTO": "holiday.png", "OK": "ok.wav"}
    overrides = {k: str(deep / files[v]) if v in files else v for k, v in overrides.items()}

    error, button, status = click_run(handlers, "visitor", **overrides)
    assert error is not None and words in error.message
    assert str(tmp_path) not in error.message and "gradio/" not in error.message  # base name only
    assert button["interactive"] is True and button["value"] == "▶ Run"
    assert words in status and "Run" in status
    assert not handlers.sessions.is_running("visitor")
    # and the next click works
    error, button, status = click_run(handlers, "visitor", sound=str(deep / "ok.wav"))
    assert error is None and button["interactive"] is True and "Done" in status


def test_stop_when_nothing_runs_says_so_and_a_late_stop_does_not_linger(handlers, tmp_path):
    request = FakeRequest("idle")
    assert handlers.stop(request) == NOTHING_RUNNING
    handlers.start_run(request)
    assert handlers.stop(request) == STOPPING  # queued: the run will stop after its first step
    button, status = handlers.after_run(STOPPING, request)  # the run is over
    assert button["interactive"] is True and status == "Stopped."
    assert handlers.stop(request) == NOTHING_RUNNING


def test_a_bad_photo_is_named_in_our_words_when_it_is_chosen(handlers, tmp_path):
    from PIL import Image

    bomb = tmp_path / "upload" / "big.png"
    bomb.parent.mkdir()
    Image.new("1", (12000, 12000)).save(bomb)
    with pytest.raises(gr.Error) as caught:
        handlers.show_source(WORLD, "photo", 0, 0.7, None, str(bomb))
    assert caught.value.message.startswith("big.png is 12000 x 12000 pixels; photos up to 50")
    good = tmp_path / "good.png"
    Image.new("RGB", (300, 200), (10, 200, 30)).save(good)
    preview = handlers.show_source(WORLD, "photo", 0, 0.7, None, str(good))
    assert preview.shape == (256, 256, 3) and preview.dtype == np.uint8


def test_the_world_panel_shows_no_machine_path():
    catalog = WorldCatalog()
    for world in catalog.worlds():
        text = describe(world)
        assert str(REPO_ROOT) not in text, text
    soundscapes = {w.name: w for w in catalog.worlds()}.get("soundscapes")
    if soundscapes is not None and soundscapes.ready:
        assert "weights/soundscapes" in describe(soundscapes)


def test_a_user_error_is_one_log_line_without_a_traceback(hostile_app, tmp_path, caplog, capfd):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    bad = tmp_path / "notes.txt"
    bad.write_text("not a sound\n" * 10)
    client = Client(hostile_app[0], verbose=False)
    with caplog.at_level(logging.WARNING, logger="soundedit.app"):
        with pytest.raises(AppError, match="could not be decoded as sound"):
            client.predict(handle_file(str(bad)), WORLD, 0, 2, "", "sound", api_name="/edit")
    records = [r for r in caplog.records if r.name == "soundedit.app"]
    assert len(records) == 1 and records[0].exc_info is None
    assert records[0].getMessage().startswith("refused: notes.txt could not be decoded")
    assert "Traceback" not in capfd.readouterr().err


def test_preview_and_edit_hear_the_same_samples_for_a_float_file_above_full_scale(tmp_path):
    """0 dB and 0.01 dB give the same sound up to the gain; the preview is that sound."""
    from demo.sound import shape_sound, sound_notices
    from soundedit.audio.io import load_sound
    from soundedit.audio.shape import apply_gain

    x = noise(0.5) * 8.0  # peaks far above 1
    path = tmp_path / "hot.wav"
    sf.write(str(path), x, 16000, subtype="FLOAT")
    loaded = load_sound(str(path))
    assert np.max(np.abs(loaded.samples)) == pytest.approx(1.0)
    # three float32 roundings of 2**-24 each (writing x, its peak, the quotient)
    np.testing.assert_allclose(loaded.samples, x / np.max(np.abs(x)), rtol=3 * 2.0**-24, atol=0)
    assert loaded.scaled_db == pytest.approx(20 * np.log10(np.max(np.abs(x))), abs=1e-3)
    heard = shape_sound(str(path), gain_db=0.0)
    np.testing.assert_array_equal(heard.samples, loaded.samples)  # preview == edit at 0 dB
    nudged = apply_gain(loaded, 0.01)
    assert nudged.clipped <= 2  # 0.01 dB over full scale clips at most the peak samples
    np.testing.assert_allclose(nudged.samples, loaded.samples * 10 ** (0.01 / 20), atol=2e-3)
    assert any("above full scale" in note for note in sound_notices(heard))


def test_a_huge_float_wav_edits_like_the_sound_it_is(hostile_bundle, tmp_path):
    """x * 1e30 as FLOAT: the same embedding as x at full scale, never NaN or a black image."""
    from soundedit.edit.pipeline import run_to_end
    from soundedit.settings import EditRequest

    x = noise(0.5)
    full = (x / np.max(np.abs(x))).astype(np.float32)  # peaks at exactly 1
    quiet, huge = tmp_path / "x.wav", tmp_path / "huge.wav"
    sf.write(str(quiet), full, 16000, subtype="FLOAT")
    # x 2**100 (about 1.3e30) is exact in float32, and so is the loader's division by the peak:
    # the loader must hand the edit the very samples of the full-scale file
    sf.write(str(huge), full * 2.0**100, 16000, subtype="FLOAT")
    results = []
    for path in (quiet, huge):
        results.append(run_to_end(hostile_bundle, EditRequest.of(audio=str(path), steps=3)))
    a, b = (r.report for r in results)
    assert np.isfinite([a.main.similarity_after, b.main.similarity_after]).all()
    assert b.main.similarity_after == a.main.similarity_after  # the same samples: the same edit
    assert results[1].images["sound"].std() > 0  # not a flat (black) picture
    assert any("dB above full scale: scaled down" in n for n in b.notices)


# ---- the corpus through the page's Run (every case a page can send) ----------------------------

PAGE_CASES = [c for c in all_cases() if c.kind != "checkpoint"]  # the page takes no checkpoint
PAGE_FIELDS = {"audio": "sound", "audio2": "sound2"}


def page_values(case, folder: Path) -> dict:
    """The Run inputs that carry the case (a latent or photo picks its source)."""
    values = {}
    for key, value in case.make(folder)["request"].items():
        if key == "source_latent":
            values.update(source="latent", latent_file=value)
        elif key == "source_image":
            values.update(source="photo", photo=value)
        else:
            values[PAGE_FIELDS.get(key, key)] = value
    if values.get("mode") in ("text", None) and values.get("text") is None:
        values.setdefault("text", "")
    return values


@pytest.mark.slow  # ~45 s for 145 cases: the library and CLI runs keep the corpus under a minute
@pytest.mark.parametrize("case", PAGE_CASES, ids=[c.id for c in PAGE_CASES])
def test_page(case, handlers, tmp_path):
    error, button, status = click_run(handlers, "corpus", **page_values(case, tmp_path))
    assert button["interactive"] is True  # whatever happened, Run is usable again
    if not case.expect:
        assert error is None, f"{case.id}: a valid input was refused: {error}"
        assert "Done" in status
        return
    assert error is not None, f"{case.id}: accepted, but should be refused"
    for pattern in case.expect:
        assert re.search(pattern, error.message), f"{case.id}: {pattern!r} not in {error.message}"
        assert re.search(pattern, status), f"{case.id}: the status line lost the message"
    assert str(tmp_path) not in error.message and "Traceback" not in error.message


def test_stale_session_folders_are_swept_at_start_up_and_live_ones_kept(tmp_path):
    import os
    import time

    root = tmp_path / "sessions"
    stale, live = root / "gone-client" / "run1", root / "live-client" / "run1"
    for folder in (stale, live):
        folder.mkdir(parents=True)
        (folder / "edited.png").write_bytes(b"png")
    two_hours_ago = time.time() - 7200
    for path in (stale, stale.parent):
        os.utime(path, (two_hours_ago, two_hours_ago))
    sessions = Sessions(root)  # a server starting up
    assert not stale.parent.exists() and live.is_dir()
    sessions.end("live-client")  # the page closed
    assert not live.parent.exists()
