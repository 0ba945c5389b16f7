"""A representative share of the corpus against the running app, through gradio_client.

Every refused case must come back as the app's plain message (never Gradio's "Could not
preprocess", never a server path) and the server must go on serving: a normal edit after the
whole share still works.
"""

from __future__ import annotations

import math
import re
import urllib.request
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from .conftest import WORLD
from .corpus import all_cases, noise

pytestmark = pytest.mark.slow  # every API case through the served app

API_CASES = [c for c in all_cases() if c.api]
LEAKS = ("Traceback", "Could not preprocess", "/tmp/", "gradio/", "weights_only")


@pytest.fixture(scope="module")
def client(hostile_app):
    return Client(hostile_app[0], verbose=False)


def edit(client, *, sound=None, world=WORLD, seed=0, steps=2, text="", mode="sound"):
    sound = handle_file(sound) if sound else None
    return client.predict(sound, world, seed, steps, text, mode, api_name="/edit")


def serving(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status == 200


def api_arguments(case, folder: Path) -> dict:
    args = dict(case.make(folder)["api"])
    for key in list(args):
        if key not in ("sound", "seed", "steps", "text", "mode"):
            args.pop(key)  # the endpoint has no such input
    return args


@pytest.mark.parametrize("case", API_CASES, ids=[c.id for c in API_CASES])
def test_api(case, client, hostile_app, tmp_path):
    args = api_arguments(case, tmp_path)
    if not case.expect:
        image, report = edit(client, **args)
        assert Path(image).is_file() and math.isfinite(report["similarity_after"])
        return
    with pytest.raises(AppError) as caught:
        edit(client, **args)
    message = str(caught.value)
    for pattern in case.expect:
        assert re.search(pattern, message), f"{case.id}: {pattern!r} not in: {message}"
    for leak in LEAKS:
        assert leak not in message, f"{case.id}: {leak!r} in: {message}"
    assert serving(hostile_app[0])


def test_an_unknown_world_is_named_with_the_known_ones(client, tmp_path):
    import soundfile as sf

    sound = tmp_path / "ok.wav"
    sf.write(str(sound), noise(0.5), 16000)
    # Gradio's own check of the dropdown answers first; it names the value and the choices
    with pytest.raises(AppError, match=r"atlantis.*(choices|Known worlds).*tiny-hostile"):
        edit(client, sound=str(sound), world="atlantis")


def test_the_server_still_edits_after_the_whole_share(client, hostile_app, tmp_path):
    import soundfile as sf

    sound = tmp_path / "ok.wav"
    sf.write(str(sound), noise(0.5), 16000)
    image, report = edit(client, sound=str(sound), seed=7, steps=3)
    assert Path(image).is_file() and report["steps"] == 3 and report["seed"] == 7
    assert serving(hostile_app[0])
