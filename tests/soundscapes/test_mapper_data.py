"""The SoundScapes mapper's target bank (tiny scale) and the committed mapper (slow)."""

from __future__ import annotations

import functools
import hashlib

import pytest
import torch

from soundedit.errors import ConfigError
from soundedit.mapper import new_mapper, save_mapper
from soundedit.settings import EditConfig
from soundedit.soundscapes import mapper_data
from soundedit.soundscapes.params import CLASSES, INDEX

from .conftest import write_esc50


def test_synthetic_scenes_hold_every_class_alone_and_mixed():
    params = mapper_data.synthetic_scenes(2, torch.Generator().manual_seed(0))
    events = params[:, [INDEX[c] for c in CLASSES]]
    assert len(params) == 2 * len(CLASSES) + len(CLASSES) + 4
    for c, name in enumerate(CLASSES):
        alone = events[2 * c : 2 * c + 2]
        assert (alone[:, c] >= 0.15).all(), name
    mixed = events[2 * len(CLASSES) : 3 * len(CLASSES)]
    assert ((mixed > 0).sum(dim=1) >= 2).all()


def test_the_bank_never_takes_the_report_fold(tmp_path, make_bundle):
    folder = write_esc50(tmp_path / "esc50", {"rain": 1, "dog": 1}, folds=(1, 4), seconds=1.0)
    encoder = make_bundle().audio_encoder
    with pytest.raises(ConfigError, match="fold 4 is the held-out report fold"):
        mapper_data.real_targets(encoder, folder, folds=(1, 4), seed=0)
    rows = mapper_data.real_targets(encoder, folder, folds=(1,), seed=0, takes=2)
    assert rows.shape == (2, 16)  # the one in-world clip of fold 1, two takes; not the dog
    rows = mapper_data.real_targets(encoder, folder, folds=(1,), seed=0)
    assert rows.shape == (mapper_data.REAL_TAKES, 16)
    assert len({tuple(r.tolist()) for r in rows}) == mapper_data.REAL_TAKES  # takes differ
    with pytest.raises(ConfigError, match="real takes per clip must be 1 or more"):
        mapper_data.real_targets(encoder, folder, folds=(1,), seed=0, takes=0)


def test_bank_is_cached_and_rebuilt_when_its_inputs_change(tmp_path, make_bundle, monkeypatch):
    bundle = make_bundle()
    calls = []

    def fake_build(bundle, *, real, folds, takes, seed, log):
        calls.append((seed, takes))
        return torch.nn.functional.normalize(torch.randn(5, 16), dim=-1)

    monkeypatch.setattr(mapper_data, "build_bank", fake_build)
    cached = functools.partial(mapper_data.cached_bank, bundle, real=None, folds=(1,), log=print)
    first = cached(seed=0, out_dir=tmp_path)
    again = cached(seed=0, out_dir=tmp_path)
    assert torch.equal(first, again) and calls == [(0, mapper_data.REAL_TAKES)]
    cached(seed=1, out_dir=tmp_path)
    assert calls[-1] == (1, mapper_data.REAL_TAKES)
    cached(seed=1, out_dir=tmp_path, takes=2)  # a bank with other takes is another bank
    cached(seed=1, out_dir=tmp_path, takes=2)
    assert calls[-1] == (1, 2) and len(calls) == 3


def test_a_fine_tune_records_the_mapper_it_starts_from(tmp_path, make_bundle):
    bundle = make_bundle(defaults=EditConfig(space="z"))
    mapper = new_mapper(bundle, hidden=16, depth=1)
    stem = tmp_path / "mapper"
    save_mapper(mapper, stem, {"command": "python -m soundedit ... --steps 7", "step": 7})
    loaded, record = mapper_data.fine_tune_start(stem)
    digest = hashlib.sha256((tmp_path / "mapper.safetensors").read_bytes()).hexdigest()
    assert record == {
        "path": str(stem), "sha256": digest, "step": 7,
        "command": "python -m soundedit ... --steps 7",
    }  # fmt: skip
    assert loaded.config == mapper.config


@pytest.mark.slow
def test_the_committed_mapper_brings_rain_for_a_rain_sound():
    from soundedit.bundle import load_bundle
    from soundedit.edit.pipeline import instant_edit
    from soundedit.settings import EditRequest
    from soundedit.soundscapes.evaluate import class_sound

    bundle = load_bundle("soundscapes")
    if bundle.mapper is None:
        pytest.skip("no mapper committed in weights/soundscapes/")
    rises = []
    for i in range(3):
        seed = 100_000 + 10 * i
        result = instant_edit(
            bundle, EditRequest(audio=class_sound("rain", 100_000 + i), seed=seed)
        )
        rises.append(result.report.probe_edited["rain"] - result.report.probe_source["rain"])
    assert min(rises) > 0.3, rises
