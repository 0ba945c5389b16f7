from __future__ import annotations

import pytest
import torch

from soundedit.errors import CheckpointError
from soundedit.gan.checkpoints import load_generator, read_checkpoint, save_generator


def test_round_trip_through_our_format(tmp_path, tiny_generator, tiny_config):
    out = save_generator(tiny_generator, tmp_path / "gen", {"note": "test"})
    assert out.name == "gen.safetensors" and (tmp_path / "gen.json").is_file()
    loaded = read_checkpoint(tmp_path / "gen")
    assert loaded.format == "safetensors" and loaded.config == tiny_config
    assert loaded.info["has_mean_w"]
    g = load_generator(out)
    w = tiny_generator.w_plus(tiny_generator.mapping(torch.randn(1, 32), 0.7))
    with torch.no_grad():
        assert torch.equal(g.synthesis(w), tiny_generator.synthesis(w))
    assert torch.equal(g.mean_w, tiny_generator.mean_w)


def test_missing_and_wrong_kind(tmp_path, tiny_config):
    with pytest.raises(CheckpointError):
        read_checkpoint(tmp_path / "nothing.pt")
    from soundedit.weights_io import save_weights

    save_weights(tmp_path / "enc", {"a": torch.zeros(1)}, kind="audio_encoder", config=tiny_config)
    with pytest.raises(CheckpointError, match="audio_encoder"):
        read_checkpoint(tmp_path / "enc.safetensors")
