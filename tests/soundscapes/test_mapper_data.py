"""The SoundScapes mapper's target bank (tiny scale) and the committed mapper (slow)."""

from __future__ import annotations

import pytest
import torch

from soundedit.errors import ConfigError
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
    rows = mapper_data.real_targets(encoder, folder, folds=(1,), seed=0)
    assert rows.shape == (2, 16)  # the one in-world clip of fold 1, two takes; not the dog


def test_bank_is_cached_and_rebuilt_when_its_inputs_change(tmp_path, make_bundle, monkeypatch):
    bundle = make_bundle()
    calls = []

    def fake_build(bundle, *, real, folds, seed, log):
        calls.append(seed)
        return torch.nn.functional.normalize(torch.randn(5, 16), dim=-1)

    monkeypatch.setattr(mapper_data, "build_bank", fake_build)
    first = mapper_data.cached_bank(
        bundle, real=None, folds=(1,), seed=0, out_dir=tmp_path, log=print
    )
    again = mapper_data.cached_bank(
        bundle, real=None, folds=(1,), seed=0, out_dir=tmp_path, log=print
    )
    assert torch.equal(first, again) and calls == [0]
    mapper_data.cached_bank(bundle, real=None, folds=(1,), seed=1, out_dir=tmp_path, log=print)
    assert calls == [0, 1]


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
