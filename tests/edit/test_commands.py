"""The ``edit`` and ``bench`` commands, end to end on tiny models."""

from __future__ import annotations

import argparse
import json

import pytest
import torch
from safetensors.torch import load_file

from soundedit import bundle as bundles
from soundedit.edit import bench
from soundedit.edit.commands import register
from soundedit.errors import ConfigError


def cli(argv):
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture
def tiny_registered(sound_bundle):
    bundles.register_bundle("tiny-cli", lambda device: sound_bundle)
    yield sound_bundle
    bundles.unregister_bundle("tiny-cli")


def test_edit_runs_from_a_sound_file_to_report_json(tiny_registered, tone, tmp_path, capsys):
    out = tmp_path / "out"
    argv = [
        "edit",
        "--audio",
        str(tone),
        "--generator",
        "tiny-cli",
        "--steps",
        "10",
        "--seed",
        "3",
        "--gain-db",
        "-6",
        "--out",
        str(out),
        "--frames",
    ]
    assert cli(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert (
        report["generator"] == tiny_registered.name
        and report["steps"] == 10
        and report["seed"] == 3
    )
    for key in ("seconds", "seconds_per_step", "similarity_before", "similarity_after", "losses"):
        assert key in report
    assert report["settings"]["gain_db"] == -6.0
    assert (out / "source.png").is_file() and (out / "edited.png").is_file()
    assert set(load_file(str(out / "latents.safetensors"))) == {"w_source", "w_edited"}
    assert (out / "trajectory.gif").is_file() and len(list((out / "frames").glob("*.png"))) == 2
    assert "similarity" in capsys.readouterr().out


def test_edit_mix_mode_writes_text_and_mixed(tiny_registered, tone, tmp_path):
    out = tmp_path / "mix"
    argv = [
        "edit",
        "--audio",
        str(tone),
        "--text",
        "rain",
        "--mode",
        "mix",
        "--mix-layer",
        "2",
        "--generator",
        "tiny-cli",
        "--steps",
        "3",
        "--out",
        str(out),
    ]
    assert cli(argv) == 0
    assert {p.name for p in out.iterdir()} == {
        "source.png",
        "edited.png",
        "text.png",
        "mixed.png",
        "latents.safetensors",
        "report.json",
    }


def test_edit_from_a_latent_file_with_every_loss_option(tiny_registered, tone, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    base = ["edit", "--audio", str(tone), "--generator", "tiny-cli", "--steps", "4"]
    assert cli([*base, "--seed", "5", "--out", str(first)]) == 0
    latent = first / "latents.safetensors"
    w_source = load_file(str(latent))["w_source"]
    options = ["--no-adaptive-mask", "--guidance", "hinge", "--lambda-id", "0.0"]
    assert cli([*base, "--source-latent", str(latent), *options, "--out", str(second)]) == 0
    assert torch.equal(load_file(str(second / "latents.safetensors"))["w_source"], w_source)
    settings = json.loads((second / "report.json").read_text())["settings"]
    assert settings["guidance"] == "hinge" and settings["adaptive_mask"] is False


def test_edit_refusals(tiny_registered, tone, tmp_path, capsys):
    base = ["edit", "--audio", str(tone), "--out", str(tmp_path)]
    with pytest.raises(ConfigError, match="valid names"):
        cli([*base, "--generator", "no-such-domain"])
    with pytest.raises(SystemExit):  # the parser checks the range shared with the library
        cli([*base, "--generator", "tiny-cli", "--steps", "0"])
    expected = "argument --steps: must be a whole number in [1, 5000], got 0"  # as the API says
    assert expected in capsys.readouterr().err
    with pytest.raises(ConfigError, match="--mix needs --audio2"):
        cli([*base, "--generator", "tiny-cli", "--mix", "0.3"])
    with pytest.raises(SystemExit):  # argparse: one of --generator / --checkpoint
        cli([*base, "--generator", "a", "--checkpoint", "b.pt"])
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            cli([*base, "--generator", "tiny-cli", "--device", "cuda"])


def test_resize_paths_give_clip_sized_images():
    for size in (256, 1024):
        image = torch.randn(1, 3, size, size)
        assert bench.authors_resize(image).shape == (1, 3, 224, 224)
        assert bench.our_resize(image).shape == (1, 3, 224, 224)
    flat = torch.full((1, 3, 256, 256), 0.5)
    assert torch.allclose(bench.authors_resize(flat), bench.our_resize(flat), atol=1e-5)


def test_bench_rows_on_a_tiny_bundle(tiny_registered, monkeypatch):
    rows = list(bench.time_resize(64, device=torch.device("cpu"), repeats=1))
    assert [r["resize"] for r in rows] == ["authors", "ours"]
    row = bench.time_edit_step(tiny_registered, steps=2, autocast="off")
    assert set(row) == {
        "ms_per_step",
        "min_ms_per_step",
        "first_step_ms",
        "preview_ms",
        "peak_memory_mb",
    }
    assert all(v > 0 for v in row.values())
    edit = bench.time_world_edit(tiny_registered, repeats=2)
    assert edit["config"] == f"edit-{tiny_registered.name}" and edit["repeats"] == 2
    assert edit["edit_steps"] == tiny_registered.defaults.steps  # the world's whole edit
    assert 0 < edit["fastest_edit_s"] <= edit["edit_s"] and edit["load_average"] >= 0
    monkeypatch.setattr(bench, "time_resize", lambda res, **kw: iter([{"resize": res}]))
    skipped = list(bench.run_bench(device="cpu", configs=("1024",), steps=1))
    assert "skipped" in skipped[0] and "--configs 1024" in skipped[0]["skipped"]
    assert skipped[1] == {"resize": 1024}  # the resize comparison still runs
