"""The /edit API holds the limits and the words of the CLI and the library.

``api_refusal`` is the endpoint's own check of its raw values (fast, many cases); the served app
(127.0.0.1, a port of its own) shows that it speaks before Gradio's preprocessing: through
gradio_client and through a raw HTTP call with too few inputs or a path that is not an upload.
"""

from __future__ import annotations

import json
import os
import urllib.request

import pytest
import soundfile as sf

from demo.api import API_INPUTS, api_refusal
from soundedit.edit.limits import check_value
from soundedit.errors import ConfigError

from .conftest import WORLD
from .corpus import RATE, noise
from .surfaces import assert_plain, cli_refusal, edit_argv

UPLOAD = {"path": "/tmp/gradio/x/ok.wav", "meta": {"_type": "gradio.FileData"}}


def values(**given) -> list:
    defaults = {"sound": UPLOAD, "world": WORLD, "seed": 0, "steps": 2, "text": "", "mode": None}
    return [{**defaults, **given}[name] for name in API_INPUTS]


# (input, value, regex of the message): the same words as check_value / the CLI
REFUSED = [
    ("seed", 1.5, r"seed must be a whole number in \[0, 4294967295\], got 1\.5"),
    ("seed", -1, r"seed must be a whole number in \[0, 4294967295\], got -1"),
    ("seed", 2**32, r"seed must be a whole number in \[0, 4294967295\]"),
    ("seed", "3", r"seed must be a whole number in \[0, 4294967295\], got '3'"),
    ("seed", True, r"seed must be a whole number"),
    ("seed", [1], r"seed must be a whole number .*got a list"),
    ("seed", {"a": 1}, r"seed must be a whole number .*got a dict"),
    ("steps", 2.5, r"steps must be a whole number in \[1, 5000\], got 2\.5"),
    ("steps", -5, r"steps must be a whole number in \[1, 5000\], got -5"),
    ("steps", 5001, r"steps must be a whole number in \[1, 5000\]"),
    ("steps", 1e300, r"steps must be a whole number in \[1, 5000\]"),
    ("steps", "abc", r"steps must be a whole number in \[1, 5000\], got 'abc'"),
    ("steps", False, r"steps must be a whole number"),
    ("sound", 5, r"sound must be a sound file; upload it with gradio_client's handle_file"),
    ("sound", "rain.wav", r"sound must be a sound file; upload it"),
    ("sound", {"url": "x"}, r"sound must be a sound file"),
    ("sound", {"path": "rain.wav"}, r"'rain\.wav' is a path on your machine, not an upload"),
    ("sound", {"path": "../../etc/passwd"}, r"'passwd' is a path on your machine"),
    ("world", 3, r"world must be a world's name \(text\), got 3"),
    ("world", ["a"], r"world must be a world's name"),
    ("text", 7, r"text must be words \(a string\), got 7"),
    ("text", "\x00\x01", r"text holds the control character U\+0000"),
    ("text", "rain\x1b[0m", r"control character U\+001B"),
    ("text", "\u200b\u200b", r"no words, only invisible characters"),
    ("mode", "loud", r"mode must be one of sound, text, mix, blend, got 'loud'"),
    ("mode", 3, r"mode must be one of sound, text, mix, blend, got 3"),
]


@pytest.mark.parametrize(
    ("name", "value", "words"), REFUSED, ids=[f"{n}={v!r}" for n, v, _ in REFUSED]
)
def test_api_refuses_raw_values_in_the_shared_words(name, value, words):
    message = api_refusal(values(**{name: value}))
    assert message is not None, f"{name}={value!r} was accepted"
    assert_plain(message, words)


ACCEPTED = [
    ("seed", 0),
    ("seed", 4294967295),
    ("seed", 7.0),
    ("seed", None),
    ("steps", 0),
    ("steps", None),
    ("steps", 5000),
    ("steps", 3.0),
    ("sound", None),
    ("text", None),
    ("text", "heavy rain at night"),
    ("mode", ""),
    ("mode", "blend"),
    ("world", None),
]


@pytest.mark.parametrize(("name", "value"), ACCEPTED, ids=[f"{n}={v!r}" for n, v in ACCEPTED])
def test_api_accepts_what_the_cli_accepts(name, value):
    assert api_refusal(values(**{name: value})) is None


@pytest.mark.parametrize(("key", "value"), [("seed", 1.5), ("steps", 2.5), ("seed", -1)])
def test_the_api_library_and_cli_say_the_same_sentence(key, value, hostile_bundle, tmp_path):
    api = api_refusal(values(**{key: value}))
    with pytest.raises(ConfigError) as library:
        check_value(key, value)
    assert api == str(library.value)
    sound = tmp_path / "ok.wav"
    sf.write(str(sound), noise(0.5), RATE)
    argv = edit_argv(tmp_path / "out", "--audio", str(sound))
    argv[argv.index("--steps") : argv.index("--steps") + 2] = []
    cli = cli_refusal([*argv, f"--{key}={value}"], rf"argument --{key}:")
    assert str(library.value).removeprefix(f"{key} ") in cli


# ---- the served app -----------------------------------------------------------------------

PORT = int(os.environ.get("SOUNDEDIT_TEST_API_PORT", "7883"))


@pytest.fixture(scope="module")
def served(hostile_bundle, tmp_path_factory):
    """The app on 127.0.0.1:PORT serving the tiny world: yields its URL."""
    from demo import WorldCatalog, build_demo, launch_options, queue_options
    from demo.handlers import Handlers
    from demo.session import Sessions

    handlers = Handlers(WorldCatalog(default=WORLD), Sessions(tmp_path_factory.mktemp("s")))
    demo = build_demo(handlers=handlers)
    demo.queue(**queue_options())
    demo.launch(
        server_name="127.0.0.1", server_port=PORT, prevent_thread_lock=True, quiet=True,
        **launch_options(),
    )  # fmt: skip
    yield f"http://127.0.0.1:{PORT}/"
    demo.close()


@pytest.fixture(scope="module")
def client(served):
    from gradio_client import Client

    return Client(served, verbose=False)


@pytest.fixture
def upload(tmp_path):
    from gradio_client import handle_file

    path = tmp_path / "ok.wav"
    sf.write(str(path), noise(0.5), RATE)
    return handle_file(str(path))


CLIENT_REFUSED = [
    ((0, 2.5), r"steps must be a whole number in \[1, 5000\], got 2\.5"),
    ((1.5, 2), r"seed must be a whole number in \[0, 4294967295\], got 1\.5"),
    ((0, "abc"), r"steps must be a whole number in \[1, 5000\], got 'abc'"),
    (("x", 2), r"seed must be a whole number in \[0, 4294967295\], got 'x'"),
]


@pytest.mark.parametrize(
    ("numbers", "words"), CLIENT_REFUSED, ids=[w[:20] for _, w in CLIENT_REFUSED]
)
def test_gradio_client_gets_the_shared_words(numbers, words, client, upload):
    from gradio_client.exceptions import AppError

    seed, steps = numbers
    with pytest.raises(AppError) as caught:
        client.predict(upload, WORLD, seed, steps, "", "sound", api_name="/edit")
    assert_plain(str(caught.value), words)


def test_gradio_client_gets_a_plain_sentence_for_a_number_as_the_sound(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as caught:
        client.predict(5, WORLD, 0, 2, "", "sound", api_name="/edit")
    assert_plain(str(caught.value), r"sound must be a sound file")


def _raw_call(url: str, data: list) -> str:
    body = json.dumps({"data": data}).encode()
    request = urllib.request.Request(
        url + "gradio_api/call/edit", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        event = json.loads(response.read())["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/call/edit/{event}", timeout=120) as response:
        return response.read().decode()


@pytest.mark.parametrize("data", [[], [None], [None, WORLD]], ids=["no-inputs", "one", "two"])
def test_a_raw_call_with_too_few_inputs_gets_a_sentence_not_reprs(data, served):
    stream = _raw_call(served, data)
    assert "event: error" in stream
    assert_plain(stream.split("data:", 1)[1].strip(), r"Give a sound first")


@pytest.mark.parametrize("path", ["ok.wav", "sub/ok.wav", "./ok.wav"])
def test_a_relative_path_never_reveals_the_server_s_folder(path, served):
    stream = _raw_call(served, [{"path": path, "meta": {"_type": "gradio.FileData"}}])
    message = stream.split("data:", 1)[1]
    assert_plain(message.strip(), r"is a path on your machine, not an upload")
    assert os.getcwd() not in message


def test_a_short_call_with_a_real_upload_edits_with_the_defaults(client, upload):
    from pathlib import Path

    image, report = client.predict(upload, api_name="/edit")
    assert Path(image).is_file() and report["seed"] == 0
    json.dumps(report, allow_nan=False)


# ---- the hostile sounds and words of the other files, through the served app ----------------


def _sound_upload(tmp_path, name: str, table: dict):
    from gradio_client import handle_file

    from .test_decoders import _write

    filename, fmt, patch, subtype = table[name][:4]
    return handle_file(str(_write(tmp_path / filename, fmt, patch, subtype)))


@pytest.mark.parametrize("name", ["wav-rate-0", "au-rate-0", "wav-channels-0", "wav-bits-0"])
def test_api_names_what_is_wrong_with_a_lying_header(name, client, tmp_path):
    from gradio_client.exceptions import AppError

    from .test_decoders import REFUSED

    with pytest.raises(AppError) as caught:
        client.predict(
            _sound_upload(tmp_path, name, REFUSED), WORLD, 0, 2, "", "sound", api_name="/edit"
        )
    assert_plain(str(caught.value), REFUSED[name][4], r"accepted: WAV")


@pytest.mark.parametrize("name", ["wav-data-size-beyond-file", "au-size-beyond-file"])
def test_api_edits_with_a_file_whose_header_overstates_its_data(name, client, tmp_path):
    from .test_decoders import READABLE

    upload = _sound_upload(tmp_path, name, READABLE)
    image, report = client.predict(upload, WORLD, 0, 2, "", "sound", api_name="/edit")
    assert os.path.isfile(image) and report["steps"] == 2


@pytest.mark.parametrize("name", ["escape-sequence", "bidi-override", "zero-width-spaces", "bell"])
def test_api_refuses_words_of_control_or_invisible_characters(name, client, upload):
    from gradio_client.exceptions import AppError

    from .test_numbers import ALL_TEXTS, TEXT_REFUSED

    with pytest.raises(AppError) as caught:
        client.predict(upload, WORLD, 0, 2, ALL_TEXTS[name], "text", api_name="/edit")
    assert_plain(str(caught.value), TEXT_REFUSED)


def test_api_joins_the_lines_of_words_and_edits(client, upload):
    image, report = client.predict(upload, WORLD, 0, 2, "rain\nat night", "text", api_name="/edit")
    assert report["settings"]["text"] == "rain at night"
    assert "\n" not in report["command"]
