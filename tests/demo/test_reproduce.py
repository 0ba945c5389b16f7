"""settings.json and the command line that reproduces a result."""

from __future__ import annotations

import argparse
import json
import shlex

from demo.form import build_request
from demo.reproduce import (
    command_line,
    edit_parser,
    request_defaults,
    request_settings,
    write_settings,
)


def _parser():
    parser = argparse.ArgumentParser()
    parser.add_argument("--audio")
    parser.add_argument("--generator", default="soundscapes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int)
    parser.add_argument("--gain-db", type=float, default=0.0)
    parser.add_argument("--text")
    parser.add_argument("--mode", default="sound")
    parser.add_argument("--adaptive-mask", action=argparse.BooleanOptionalAction, default=True)
    return parser


def test_command_line_parses_back_to_the_settings():
    request = build_request(
        sound="/tmp/x/upload.wav", gain_db=-6, seed=7, steps=40, adaptive_mask=False, lr=0.05
    )
    settings = request_settings(request, world="soundscapes", files={"audio": "sound.wav"})
    command, missing = command_line(settings, parser=_parser())
    tokens = shlex.split(command)
    assert tokens[:4] == ["python", "-m", "soundedit", "edit"]
    args = _parser().parse_args(tokens[4:])
    assert args.audio == "sound.wav" and args.seed == 7 and args.steps == 40
    assert args.gain_db == -6 and args.adaptive_mask is False and args.generator == "soundscapes"
    assert "lr" in missing  # this parser has no --lr: listed, not silently dropped


def test_defaults_are_left_out_but_world_seed_steps_mode_stay():
    settings = {"world": "soundscapes", "seed": 0, "steps": 10, "mode": "sound", "gain_db": 0.0}
    command, _ = command_line(settings, parser=_parser())
    assert "--gain-db" not in command
    for flag in ("--generator soundscapes", "--seed 0", "--steps 10", "--mode sound"):
        assert flag in command


def test_the_real_cli_parser_is_used():
    parser = edit_parser()
    dests = {a.dest for a in parser._actions}
    assert {"audio", "seed", "steps"} <= dests


def test_settings_file_holds_settings_command_and_note(tmp_path):
    path = write_settings(
        tmp_path / "settings.json", {"seed": 1}, "python -m soundedit edit", ["lr"]
    )
    record = json.loads(path.read_text())
    assert record["settings"] == {"seed": 1}
    assert record["command"].startswith("python -m soundedit edit")
    assert "lr" in record["command_note"]


def test_world_defaults_and_irrelevant_settings_stay_off_the_command(tiny_bundle):
    d = tiny_bundle.defaults
    request = build_request(
        sound="up.wav",
        mode="sound",
        text=None,
        steps=d.steps,
        lr=d.lr,
        lambda_reg=d.lambda_reg,
        lambda_id=d.lambda_id,
        seed=4,
        truncation=d.truncation,
        preview_every=7,
        mix_layer=2,
        blend=0.9,
    )
    settings = request_settings(request, world="tiny", files={"audio": "sound.wav"})
    command, missing = command_line(settings, defaults=request_defaults(tiny_bundle))
    tokens = shlex.split(command)[4:]
    assert set(tokens[::2]) == {"--audio", "--generator", "--seed", "--steps", "--mode"}
    assert missing == []
    args = edit_parser().parse_args(tokens)
    assert (args.audio, args.generator, args.seed, args.steps) == ("sound.wav", "tiny", 4, d.steps)
