"""The generator's conditional adversarial term: discriminator, R1, resumable runs (tiny scale)."""

import json

import pytest
import torch

from soundedit.errors import ConfigError
from soundedit.soundscapes.adversarial import (
    PatchDiscriminator,
    RunState,
    discriminator_loss,
    r1_penalty,
)
from soundedit.soundscapes.params import sample_params
from soundedit.soundscapes.render import render
from soundedit.soundscapes.training import generator as generator_training


def test_the_discriminator_judges_patches_against_their_scene():
    torch.manual_seed(0)
    D = PatchDiscriminator()
    params = sample_params(2, torch.Generator().manual_seed(1))
    images = render(params)
    logits = D(images, params)
    assert logits.shape == (2, 1, 8, 8)
    assert not torch.allclose(logits, D(images, params.flip(0)))  # the scene is an input
    assert float(r1_penalty(D, images, params).detach()) > 0
    plain = discriminator_loss(D, images.flip(0), images, params, r1=0.0)
    assert float(discriminator_loss(D, images.flip(0), images, params, r1=10.0).detach()) > float(
        plain.detach()
    )


def small_run(tmp_path, name, **kwargs):
    lines = []
    path = generator_training.train_generator(
        seed=2, steps=4, batch=2, adversarial=0.1, r1=2.0, snapshot_every=2,
        snapshot_dir=tmp_path / "snapshots", out=tmp_path / name, log=lines.append, **kwargs,
    )  # fmt: skip
    return path, lines


def test_an_adversarial_run_snapshots_its_state_and_carries_on_exactly(tmp_path):
    from safetensors.torch import load_file

    whole, _ = small_run(tmp_path, "whole")
    state = tmp_path / "snapshots" / "state-000002.pt"
    assert (tmp_path / "snapshots" / "generator-000002.safetensors").is_file()
    saved = RunState.load(state)
    assert saved.step == 2 and saved.discriminator and saved.discriminator_opt["state"]
    carried, lines = small_run(tmp_path, "carried", continue_from=state)
    assert [line.split()[2] for line in lines] == ["3/4"]  # only the last two steps ran
    a, b = load_file(str(whole)), load_file(str(carried))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    meta = json.loads((tmp_path / "whole" / "generator.json").read_text())["meta"]
    assert meta["command"].endswith("--seed 2 --steps 4 --adversarial 0.1 --r1 2")


def test_a_state_from_another_kind_of_run_is_refused(tmp_path):
    small_run(tmp_path, "whole")
    with pytest.raises(ConfigError, match="adversarial term"):
        generator_training.train_generator(
            seed=2, steps=4, batch=2, continue_from=tmp_path / "snapshots" / "state-000002.pt",
            out=tmp_path / "plain", snapshot_every=0, log=lambda line: None,
        )  # fmt: skip
    with pytest.raises(FileNotFoundError, match="does not exist"):
        RunState.load(tmp_path / "nothing.pt")


def test_the_train_command_passes_the_adversarial_flags(tmp_path, monkeypatch):
    from soundedit.cli import main

    seen = {}
    fake = lambda **kw: seen.update(kw) or tmp_path  # noqa: E731
    monkeypatch.setattr(generator_training, "train_generator", fake)
    argv = ["soundscapes", "train", "--model", "generator", "--steps", "3", "--adversarial",
            "0.05", "--r1", "4", "--snapshot-every", "50", "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    assert (seen["adversarial"], seen["r1"], seen["snapshot_every"]) == (0.05, 4.0, 50)
    assert seen["out"] == tmp_path and seen["continue_from"] is None
