"""The served app, driven through gradio_client like any API user would."""

from __future__ import annotations

import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

import app

pytestmark = pytest.mark.slow  # the served app edits (the real world when committed)


def submit_edit(client, world, sound_file, *, seed=3, steps=None, text="heavy rain at night"):
    sound = handle_file(sound_file) if world["mode"] != "text" else None
    return client.submit(
        sound,
        world=world["name"],
        seed=seed,
        steps=steps or world["steps"],
        text=text,
        mode=world["mode"],
        api_name="/edit",
    )


def test_the_page_is_served(served_app):
    with urllib.request.urlopen(served_app, timeout=30) as response:
        page = response.read().decode()
    assert response.status == 200 and "soundedit" in page


def test_edit_endpoint_streams_previews_then_the_final_image(served_app, served_world, sound_file):
    client = Client(served_app, verbose=False)
    job = submit_edit(client, served_world, sound_file)
    image, report = job.result(timeout=120)
    outputs = job.outputs()
    previews = [o[0] for o in outputs[:-1]]
    assert len(previews) >= 2 and all(Path(p).is_file() for p in previews)  # each is a preview
    assert all("similarity" in o[1] for o in outputs[:-1])
    assert Path(image).is_file() and Path(image).suffix == ".png"
    assert report["steps"] == served_world["steps"] and report["stopped"] is False
    assert report["bundle"] == served_world["name"]
    assert report["command"].startswith("python -m soundedit edit")


@pytest.mark.slow  # the world's default number of steps
def test_edit_endpoint_needs_only_the_sound(served_app, served_world, sound_file):
    client = Client(served_app, verbose=False)
    image, report = client.predict(handle_file(sound_file), api_name="/edit")
    assert Path(image).is_file() and report["bundle"] == served_world["name"]


def test_four_simultaneous_sessions_each_get_their_own_result(served_app, served_world, sound_file):
    def one(seed):
        client = Client(served_app, verbose=False)
        return submit_edit(client, served_world, sound_file, seed=seed, steps=4).result(180)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, [11, 12, 13, 14]))
    assert [report["seed"] for _, report in results] == [11, 12, 13, 14]
    images = {Path(image).read_bytes() for image, _ in results}
    assert len(images) == 4


def test_stop_ends_a_run_mid_way(served_app, served_world, sound_file):
    client = Client(served_app, verbose=False)
    job = submit_edit(client, served_world, sound_file, steps=1000)
    deadline = time.monotonic() + 60
    while not job.outputs() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job.outputs(), "no progress arrived"
    client.predict(api_name="/stop")
    image, report = job.result(timeout=60)
    assert report["stopped"] is True and report["stopped_at"] < 1000
    assert Path(image).is_file()


def test_errors_arrive_as_plain_messages(served_app, served_world):
    client = Client(served_app, verbose=False)
    with pytest.raises(AppError, match="Give a sound first"):
        client.predict(None, served_world["name"], 0, 5, "", "sound", api_name="/edit")


def test_host_and_port_come_from_arguments_or_environment(monkeypatch):
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    monkeypatch.delenv("GRADIO_SERVER_PORT", raising=False)
    monkeypatch.delenv("SOUNDEDIT_HOST", raising=False)
    monkeypatch.delenv("SOUNDEDIT_PORT", raising=False)
    args = app.parse_args([])
    assert (args.host, args.port) == ("127.0.0.1", 7860)
    monkeypatch.setenv("SOUNDEDIT_PORT", "8123")
    monkeypatch.setenv("SOUNDEDIT_HOST", "0.0.0.0")
    assert (app.parse_args([]).host, app.parse_args([]).port) == ("0.0.0.0", 8123)
    assert app.parse_args(["--port", "9000"]).port == 9000


def test_bench_times_the_page_against_the_edit(tiny_bundle, tmp_path, sound_file):
    from demo.bench import time_page
    from demo.worlds import WorldCatalog

    catalog = WorldCatalog(default="tiny")
    rows = list(time_page("tiny", sound=sound_file, repeats=2, catalog=catalog))
    assert [r["repeat"] for r in rows[:-1]] == [0, 1]
    for row in rows[:-1]:
        assert 0 < row["edit_s"] and 0 < row["page_final_s"] <= row["page_done_s"]
    summary = rows[-1]
    assert summary["world"] == "tiny" and summary["steps"] == tiny_bundle.defaults.steps
    ratio = summary["median_page_final_s"] / summary["median_edit_s"]
    assert summary["page_final_over_edit"] == pytest.approx(ratio, rel=0.01)


def test_bench_flag_is_checked(capsys):
    assert app.parse_args(["--bench", "--repeats", "5"]).repeats == 5
    with pytest.raises(SystemExit):
        app.parse_args(["--bench", "--repeats", "0"])
    assert "[1, 50]" in capsys.readouterr().err
