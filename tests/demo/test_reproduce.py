"""settings.json and the command line that reproduces a result, built from the request."""

from __future__ import annotations

import json
import shlex

from demo.form import build_request, only_changes, world_settings
from demo.reproduce import request_record, write_settings
from soundedit.cli import build_parser
from soundedit.edit.commands import reproduce_command, request_from_args
from soundedit.settings import resolve


def parse(command: str):
    tokens = shlex.split(command)
    assert tokens[:4] == ["python", "-m", "soundedit", "edit"]
    return build_parser().parse_args(tokens[3:])


def test_the_command_parses_back_to_the_same_request(tiny_bundle):
    request = build_request(
        dict(sound="/tmp/x/upload.wav", gain_db=-6, seed=7, steps=40, adaptive_mask=False, lr=0.05)
    )
    command, missing = reproduce_command(
        tiny_bundle, request, world="tiny", files={"audio": "sound.wav"}
    )
    again = request_from_args(parse(command))
    assert missing == []
    assert (again.audio, again.seed, again.gain_db) == ("sound.wav", 7, -6)
    assert resolve(tiny_bundle, again) == resolve(tiny_bundle, request)


def test_the_seed_as_drawn_is_on_the_command_and_parses_back(tiny_bundle):
    request = build_request(dict(sound="/tmp/up.wav", source="drawn", seed=9))
    command, _ = reproduce_command(tiny_bundle, request, world="tiny", files={"audio": "s.wav"})
    assert "--start seed" in command
    again = request_from_args(parse(command))
    assert (again.start, again.seed) == ("seed", 9)
    assert request_record(request, world="tiny", files={})["start"] == "seed"


def test_world_defaults_and_unset_inputs_stay_off_the_command(tiny_bundle):
    """The page sends only the settings the visitor changed: widgets left at the world's own
    values add no flag."""
    d = tiny_bundle.defaults
    form = build_request(
        dict(
            sound="up.wav", mode="sound", steps=d.steps, lr=d.lr, lambda_reg=d.lambda_reg,
            lambda_id=d.lambda_id, seed=4, truncation=d.truncation, guidance=d.guidance,
            mix_layer=tiny_bundle.generator.n_latent // 2, adaptive_mask=True,
        )
    )  # fmt: skip
    request = only_changes(form, world_settings(tiny_bundle))
    assert request.given() == {}
    command, missing = reproduce_command(
        tiny_bundle, request, world="tiny", files={"audio": "sound.wav"}
    )
    tokens = shlex.split(command)[4:]
    assert set(tokens[::2]) == {"--audio", "--generator", "--seed", "--steps", "--mode"}
    assert missing == []
    args = parse(command)
    assert (args.audio, args.generator, args.seed, args.steps) == ("sound.wav", "tiny", 4, d.steps)


def test_an_override_the_cli_lacks_is_listed_not_dropped(tiny_bundle):
    from soundedit.settings import EditRequest

    request = EditRequest(audio="a.wav", overrides={"rampup": 0.1})
    _, missing = reproduce_command(tiny_bundle, request, world="tiny", files={})
    assert missing == ["rampup"]


def test_settings_file_holds_request_settings_command_and_note(tiny_bundle, tmp_path):
    request = build_request(dict(sound="/tmp/up.wav", seed=1, lr=0.3))
    record = write_settings(tmp_path / "settings.json", tiny_bundle, request, "tiny", {})
    assert json.loads((tmp_path / "settings.json").read_text()) == record
    assert (
        record["request"]["overrides"]
        == request_record(request, world="tiny", files={})["overrides"]
    )
    assert record["settings"]["lr"] == 0.3 and record["settings"]["steps"] == 12
    assert record["command"].startswith("python -m soundedit edit")
    assert "--lr 0.3" in record["command"]
    assert "downloaded sound" in record["command_note"]
