"""SoundScapes models: bundle files, the probe on the committed weights."""

import pytest
import torch

from soundedit.errors import CheckpointError, WeightsNotFoundError
from soundedit.soundscapes import bundle as ss_bundle
from soundedit.soundscapes.params import PARAM_NAMES, sample_params
from soundedit.soundscapes.probe import Probe, load_probe, save_probe
from soundedit.soundscapes.render import render
from soundedit.soundscapes.training import generator as generator_training
from soundedit.soundscapes.training import probe as probe_training
from soundedit.soundscapes.training.fit import WEIGHTS_DIR
from soundedit.soundscapes.training.generator_loss import (
    event_mask,
    event_weights,
    feature_distance,
)
from soundedit.soundscapes.training.probe import probe_errors

needs_weights = pytest.mark.skipif(
    not (WEIGHTS_DIR / "probe.safetensors").is_file(), reason="SoundScapes weights not built"
)


def test_missing_file_names_the_file_and_the_command(tmp_path):
    with pytest.raises(WeightsNotFoundError) as info:
        ss_bundle.load_soundscapes_bundle(folder=tmp_path)
    message = str(info.value)
    assert "generator.safetensors" in message
    assert "python -m soundedit soundscapes train --model generator" in message


def test_damaged_file_names_the_file_and_the_command(tmp_path):
    save_probe(Probe(), tmp_path / "probe")
    (tmp_path / "probe.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError) as info:
        ss_bundle.load_part("probe", tmp_path)
    assert "probe" in str(info.value) and "--model probe" in str(info.value)


def test_probe_round_trip_and_describe(tmp_path):
    probe = Probe().eval()
    save_probe(probe, tmp_path / "probe")
    loaded = load_probe(tmp_path / "probe")
    images = render(sample_params(2, torch.Generator().manual_seed(0)))
    described = loaded.describe(images)
    assert len(described) == 2 and tuple(described[0]) == PARAM_NAMES
    assert all(0 <= v <= 1 for v in described[0].values())


@pytest.mark.slow  # the committed weights
@needs_weights
def test_committed_probe_reads_renders():
    probe = load_probe(WEIGHTS_DIR / "probe")
    errors = probe_errors(probe, n=128, seed=123_457)
    assert max(errors.values()) < 0.08, errors


def test_committed_files_are_small():
    files = sorted(WEIGHTS_DIR.glob("*.safetensors"))
    # every model of the world and its mapper are committed (an empty list would pass the size
    # checks below)
    assert {f.stem for f in files} == {*ss_bundle.FILES.values(), ss_bundle.MAPPER}, files
    assert all(f.stat().st_size < 20_000_000 for f in files)
    assert sum(f.stat().st_size for f in files) <= 30_000_000


def test_a_resumed_run_starts_from_the_committed_weights_and_names_every_run(
    tmp_path, monkeypatch
):
    import json
    import shutil

    for suffix in (".safetensors", ".json"):
        shutil.copy(WEIGHTS_DIR / f"probe{suffix}", tmp_path / f"probe{suffix}")
    before = json.loads((tmp_path / "probe.json").read_text())["meta"]
    monkeypatch.setattr(probe_training, "WEIGHTS_DIR", tmp_path)
    probe_training.train_probe(seed=3, steps=1, batch=4, resume=True, log=lambda line: None)
    meta = json.loads((tmp_path / "probe.json").read_text())["meta"]
    assert meta["command"].endswith("--seed 3 --steps 1 --resume")
    assert meta["history"][-1]["command"] == before["command"]
    assert meta["history"][:-1] == before.get("history", [])
    # one step at a small learning rate from the committed probe still reads renders well
    assert max(probe_errors(load_probe(tmp_path / "probe"), n=64, seed=7).values()) < 0.1


@needs_weights
def test_a_generator_snapshot_run_with_the_clip_term_names_its_whole_command(
    tmp_path, monkeypatch
):
    import json
    import shutil

    for name in ("generator", "clip"):
        for suffix in (".safetensors", ".json"):
            shutil.copy(WEIGHTS_DIR / f"{name}{suffix}", tmp_path / f"{name}{suffix}")
    monkeypatch.setattr(generator_training, "WEIGHTS_DIR", tmp_path)
    steps = []
    generator_training.train_generator(
        seed=4, steps=50, stop_after=2, batch=2, resume=True, clip_features=1.5,
        event_weight=2.0, snapshot_every=0, log=steps.append,
    )  # fmt: skip
    meta = json.loads((tmp_path / "generator.json").read_text())["meta"]
    wanted = "--steps 50 --resume --stop-after 2 --clip-features 1.5 --event-weight 2"
    assert meta["command"].endswith(wanted)
    assert [line.split()[2] for line in steps] == ["0/50"]  # two steps run, the first logged


@needs_weights
def test_the_clip_term_is_zero_for_the_render_itself_and_grows_for_a_blur():
    from soundedit.encoders.clip import ClipBridge

    embed = ClipBridge.from_file(WEIGHTS_DIR / "clip").embed_image
    images = render(sample_params(4, torch.Generator().manual_seed(0)))
    blurred = torch.nn.functional.avg_pool2d(images, 5, stride=1, padding=2)
    assert feature_distance(embed, images, images).abs() < 1e-5
    assert feature_distance(embed, blurred, images) > 0.01


def test_the_event_mask_covers_the_events_and_nothing_else():
    from soundedit.soundscapes.params import make_params
    quiet = make_params(2, night=0.2, clouds=0.5, mountains=0.4)
    assert event_mask(quiet, render(quiet)).max() == 0  # no sparse event: nothing to weigh
    birds = make_params(1, birds=1.0)
    mask = event_mask(birds, render(birds))[0, 0]
    share = (mask > 0.1).float().mean()
    assert 0.03 < share < 0.3  # the flock, not the whole sky
    sky, ground = mask[: mask.shape[0] // 2], mask[mask.shape[0] * 3 // 4 :]
    assert sky.max() > 0.5 and ground.max() == 0


def test_per_event_weights_give_a_small_flock_as_much_as_a_downpour():
    from soundedit.soundscapes.params import make_params
    scenes = torch.cat([make_params(birds=1.0), make_params(rain=1.0, sea=1.0)])
    images = render(scenes)
    weights = event_weights(scenes, images)
    assert float(weights.sum()) == pytest.approx(3.0, rel=1e-4)  # birds, rain, sea: 1 each
    assert float(weights[0].sum()) == pytest.approx(1.0, rel=1e-4)
    mask = event_mask(scenes, images)
    assert float(mask[0].sum() / mask.sum()) < 0.25  # the flock's share when pooled
