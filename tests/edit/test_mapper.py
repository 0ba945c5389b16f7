"""Latent mappers: shapes, the identity at init, files, the trainer (loss, resume), instant
edits and warm starts through the pipeline and the CLI, the registry's mapper field."""

from __future__ import annotations

import argparse
import dataclasses
import json

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from soundedit import bundle as bundles
from soundedit.edit import bench, mapper_commands
from soundedit.edit.commands import register
from soundedit.edit.mapper import map_edit
from soundedit.edit.mapper_training import (
    MapperTraining,
    draw_batch,
    held_out_loss,
    train_mapper,
)
from soundedit.edit.optimize import z_from_seed
from soundedit.edit.pipeline import instant_edit, run_to_end
from soundedit.errors import ConfigError, WeightsNotFoundError
from soundedit.hub import RegistryEntry
from soundedit.mapper import check_mapper, load_mapper, mapped_latent, new_mapper, save_mapper
from soundedit.settings import EditRequest

from .conftest import write_tone


def bank(n: int = 24, seed: int = 0) -> torch.Tensor:
    return F.normalize(torch.randn(n, 16, generator=torch.Generator().manual_seed(seed)), dim=-1)


def moving_mapper(bundle, seed: int = 3):
    """A mapper whose head is random (an untrained one changes nothing)."""
    mapper = new_mapper(bundle, hidden=32, depth=2)
    torch.manual_seed(seed)
    torch.nn.init.normal_(mapper.head.weight, std=0.05)
    return mapper.eval()


@pytest.fixture
def z_bundle(make_bundle):
    """A tiny bundle that edits in z, like SoundScapes (noisy guidance, 6 steps)."""
    defaults = dataclasses.replace(
        bundles.EditConfig(steps=6, preview_every=0),
        space="z", latent_noise=0.5, samples=2, lambda_reg=0.01,
    )  # fmt: skip
    return make_bundle(defaults=defaults)


@pytest.mark.parametrize("space", ["z", "w+"])
def test_mapper_shapes_and_identity_at_init(make_bundle, space):
    bundle = make_bundle(defaults=bundles.EditConfig(space=space))
    G = bundle.generator
    mapper = new_mapper(bundle, hidden=32, depth=2)
    n_latent = 1 if space == "z" else G.n_latent
    latent = torch.randn(3, n_latent, G.style_dim)
    assert mapper(latent, bank(3)).shape == (3, n_latent, G.style_dim)
    assert torch.equal(mapped_latent(mapper, latent, bank(3)), latent)
    if space == "z":
        z = torch.randn(2, G.style_dim)
        assert torch.equal(mapped_latent(mapper, z, bank(2)), z)  # z [B, S] is one layer
    # Trained (here: any non-zero head), the change depends on the target.
    moved = moving_mapper(bundle)
    a, b = (mapped_latent(moved, latent[:1], bank(1, seed)) for seed in (1, 2))
    assert not torch.allclose(a, b)


def test_mapper_files_round_trip_and_refuse_a_wrong_world(tmp_path, make_bundle, z_bundle):
    mapper = moving_mapper(z_bundle)
    save_mapper(mapper, tmp_path / "m", {"command": "test"})
    loaded = load_mapper(tmp_path / "m")
    latent, target = torch.randn(2, 1, 16), bank(2)
    assert torch.equal(loaded(latent, target), mapper(latent, target))
    assert json.loads((tmp_path / "m.json").read_text())["meta"]["command"] == "test"
    check_mapper(z_bundle, loaded)
    with pytest.raises(ConfigError, match="this world edits in w\\+"):
        check_mapper(make_bundle(), loaded)


def test_training_lowers_the_objective(make_bundle, tmp_path):
    bundle = make_bundle(defaults=bundles.EditConfig(lambda_reg=0.001))  # edits in W+
    training = MapperTraining(steps=30, batch=4, lr=1e-2, hidden=32, depth=2, log_every=10)
    targets = bank(4)
    before = held_out_loss(bundle, new_mapper(bundle, hidden=32, depth=2), targets, batch=8)
    lines = []
    mapper = train_mapper(bundle, targets, tmp_path, training=training, log=lines.append)
    after = held_out_loss(bundle, mapper, targets, batch=8)  # sources it never saw
    assert after < before - 0.01
    assert lines[-1].startswith("mapper step 30: guidance")
    assert (tmp_path / "mapper.safetensors").is_file() and (tmp_path / "state.json").is_file()


def calm_first_four(seed: int, z: torch.Tensor) -> torch.Tensor:
    """A world start like SoundScapes': the seed's z with some coordinates set."""
    z = z.clone()
    z[:, :4] = -3.0
    return z


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_sources_are_drawn_at_the_world_start_in_the_asked_share(z_bundle, share):
    with_start = dataclasses.replace(z_bundle, start=calm_first_four)
    training = MapperTraining(batch=64, start_share=share, start_seeds=50)
    z, targets, rng = draw_batch(with_start, bank(), training, with_start.defaults, 7)
    at_start = (z[:, :4] == -3.0).all(dim=1)
    assert z.shape == (64, z_bundle.generator.style_dim)
    if share == 0.0:
        # No world starts: the very draws of a world without the hook, noise included.
        plain, plain_targets, plain_rng = draw_batch(
            z_bundle, bank(), training, z_bundle.defaults, 7
        )
        assert torch.equal(z, plain) and torch.equal(targets, plain_targets)
        assert torch.equal(torch.randn(3, generator=rng), torch.randn(3, generator=plain_rng))
        assert not at_start.any()
        return
    assert at_start.all() if share == 1.0 else 10 < int(at_start.sum()) < 54
    # Each start is the world's start of a training seed: its own z with the hook applied.
    starts = {tuple(calm_first_four(s, z_from_seed(z_bundle.generator, s))[0].tolist())
              for s in range(50)}  # fmt: skip
    assert all(tuple(row.tolist()) in starts for row in z[at_start])
    assert len({tuple(row.tolist()) for row in z[at_start]}) > 5  # varied seeds


def test_a_fine_tune_starts_from_the_given_mapper(z_bundle, tmp_path):
    small = dict(batch=3, lr=1e-3, hidden=32, depth=2)
    start = moving_mapper(z_bundle)
    untouched = train_mapper(
        z_bundle, bank(), tmp_path / "a", training=MapperTraining(steps=0, **small), init=start
    )
    for (name, a), b in zip(
        start.state_dict().items(), untouched.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name
    tuned = train_mapper(
        z_bundle, bank(), tmp_path / "b", training=MapperTraining(steps=2, **small), init=start
    )
    assert not torch.equal(tuned.head.weight, start.head.weight)
    assert not torch.equal(start.head.weight, new_mapper(z_bundle, hidden=32, depth=2).head.weight)
    with pytest.raises(ConfigError, match="the mapper to start from"):
        train_mapper(
            z_bundle, bank(), tmp_path / "c", init=start,
            training=MapperTraining(steps=1, batch=3, hidden=16, depth=1),
        )  # fmt: skip


@pytest.mark.parametrize("world_start", [False, True])
def test_a_resumed_run_is_the_unbroken_run(z_bundle, tmp_path, world_start):
    if world_start:
        z_bundle = dataclasses.replace(z_bundle, start=calm_first_four)
    small = dict(batch=3, lr=1e-3, hidden=16, depth=1)
    whole = train_mapper(
        z_bundle, bank(), tmp_path / "a", training=MapperTraining(steps=6, **small), log=print
    )
    train_mapper(z_bundle, bank(), tmp_path / "b", training=MapperTraining(steps=3, **small))
    lines = []
    resumed = train_mapper(
        z_bundle, bank(), tmp_path / "b", training=MapperTraining(steps=6, **small),
        resume=True, log=lines.append,
    )  # fmt: skip
    assert lines[0] == "mapper: resumed at step 3"
    for (name, a), b in zip(whole.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_instant_edit_is_the_mapper_in_one_pass(z_bundle, tmp_path):
    z_bundle.mapper = moving_mapper(z_bundle)
    tone = write_tone(tmp_path / "tone.wav")
    result = instant_edit(z_bundle, EditRequest(audio=str(tone), seed=4))
    report = result.report
    assert report.mapper == {"instant": True, "warm_start": False}
    assert report.steps == 0 and report.seconds > 0
    target = z_bundle.audio_encoder  # the request's target, embedded as the pipeline does
    from soundedit.encoders.audio import embed_sound

    target = embed_sound(z_bundle.audio_encoder, str(tone)).float()
    z = z_from_seed(z_bundle.generator, 4)
    _, w = map_edit(z_bundle, z_bundle.mapper, target, z, truncation=0.7)
    assert torch.equal(result.latents["sound"], w)
    assert not torch.equal(result.latents["sound"], result.latents["source"])


def test_instant_needs_a_mapper_and_a_seed(z_bundle, tmp_path):
    tone = str(write_tone(tmp_path / "tone.wav"))
    with pytest.raises(ConfigError, match="has no mapper"):
        instant_edit(z_bundle, EditRequest(audio=tone))
    z_bundle.mapper = moving_mapper(z_bundle)
    w = run_to_end(z_bundle, EditRequest.of(audio=tone, steps=1)).latents["source"]
    torch.save(w, tmp_path / "w.pt")
    with pytest.raises(ConfigError, match="instant edits start from a seed"):
        instant_edit(z_bundle, EditRequest(audio=tone, source_latent=str(tmp_path / "w.pt")))


def test_warm_start_begins_at_the_mapped_edit(z_bundle, tmp_path):
    z_bundle.mapper = moving_mapper(z_bundle)
    tone = str(write_tone(tmp_path / "tone.wav"))
    # With a vanishing learning rate the optimisation stays where it starts.
    frozen = {"audio": tone, "seed": 2, "steps": 2, "lr": 1e-9}
    mapped = instant_edit(z_bundle, EditRequest.of(**frozen)).latents["sound"]
    warm = run_to_end(z_bundle, EditRequest.of(**frozen))
    cold = run_to_end(z_bundle, EditRequest.of(**frozen, warm_start=False))
    assert warm.report.mapper == {"instant": False, "warm_start": True}
    assert torch.allclose(warm.latents["sound"], mapped, atol=1e-5)
    assert torch.allclose(cold.latents["sound"], cold.latents["source"], atol=1e-5)
    assert not torch.allclose(warm.latents["sound"], cold.latents["sound"], atol=1e-3)


def cli(argv, module=None):
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers(dest="command", required=True)
    (module.register if module else register)(subparsers)
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture
def z_registered(z_bundle):
    bundles.register_bundle("tiny-z", lambda device: z_bundle)
    yield z_bundle
    bundles.unregister_bundle("tiny-z")


def test_cli_instant_writes_the_usual_outputs(z_registered, tmp_path, capsys):
    z_registered.mapper = moving_mapper(z_registered)
    tone = str(write_tone(tmp_path / "tone.wav"))
    out = tmp_path / "out"
    argv = ["edit", "--audio", tone, "--generator", "tiny-z", "--instant", "--out", str(out)]
    assert cli(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["mapper"]["instant"] and report["steps"] == 0
    assert (out / "edited.png").is_file() and (out / "source.png").is_file()
    latents = load_file(str(out / "latents.safetensors"))
    assert not torch.equal(latents["w_edited"], latents["w_source"])
    assert "similarity" in capsys.readouterr().out


def test_train_mapper_command_at_tiny_scale(z_registered, tmp_path, capsys):
    sounds = tmp_path / "sounds"
    sounds.mkdir()
    for i, freq in enumerate((300.0, 900.0)):
        write_tone(sounds / f"{i}.wav", freq=freq)
    captions = tmp_path / "captions.txt"
    captions.write_text("heavy rain\n\na blazing fire\n")
    argv = ["train-mapper", "--generator", "tiny-z", "--sounds", str(sounds), "--captions",
            str(captions), "--steps", "2", "--batch", "2", "--out", str(tmp_path / "run"),
            "--weights", str(tmp_path / "w" / "tiny-mapper")]  # fmt: skip
    assert cli(argv, mapper_commands) == 0
    mapper = load_mapper(tmp_path / "w" / "tiny-mapper")
    meta = json.loads((tmp_path / "w" / "tiny-mapper.json").read_text())["meta"]
    assert meta["bank"] == 4 and meta["step"] == 2 and "train-mapper" in meta["command"]
    check_mapper(z_registered, mapper)


def test_registry_mapper_field(make_bundle, tmp_path):
    bundle = make_bundle()
    entry = RegistryEntry(name="tiny", domain="test", kind="stylegan2", mapper="tiny-mapper")
    with pytest.raises(WeightsNotFoundError, match="train-mapper --generator tiny"):
        bundles.registry_mapper(entry, bundle, weights_dir=tmp_path)
    save_mapper(moving_mapper(bundle), tmp_path / "tiny-mapper")
    mapper = bundles.registry_mapper(entry, bundle, weights_dir=tmp_path)
    check_mapper(bundle, mapper)
    assert bundles.registry_mapper(dataclasses.replace(entry, mapper=""), bundle) is None


def test_bench_times_the_instant_edit(z_bundle):
    assert "has no mapper" in bench.time_instant(z_bundle)["skipped"]
    z_bundle.mapper = moving_mapper(z_bundle)
    row = bench.time_instant(z_bundle, repeats=2)
    assert row["instant_core_ms"] > 0 and row["instant_edit_ms"] > row["instant_core_ms"] / 10
