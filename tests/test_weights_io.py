"""Our safetensors + json checkpoint pair."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

from soundedit.errors import CheckpointError
from soundedit.weights_io import load_weights, save_weights


@dataclass(frozen=True)
class Tiny:
    width: int  # channels


def test_save_and_load_pair(tmp_path):
    tensors = {"a": torch.arange(6.0).reshape(2, 3).t(), "b": torch.ones(2, dtype=torch.float16)}
    path = save_weights(tmp_path / "m", tensors, kind="toy", config=Tiny(3), meta={"seed": 1})
    assert path.name == "m.safetensors" and (tmp_path / "m.json").is_file()
    loaded, record = load_weights(tmp_path / "m.json", kind="toy")
    assert record == {"kind": "toy", "config": {"width": 3}, "meta": {"seed": 1}}
    assert torch.equal(loaded["a"], tensors["a"]) and loaded["b"].dtype == torch.float16
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.safetensors"]


def test_wrong_kind_missing_and_damaged_files(tmp_path):
    save_weights(tmp_path / "m", {"a": torch.zeros(1)}, kind="toy", config=Tiny(1))
    with pytest.raises(CheckpointError, match="holds a 'toy' model, expected 'stylegan2'"):
        load_weights(tmp_path / "m", kind="stylegan2")
    (tmp_path / "m.safetensors").write_bytes(b"\x00garbage")
    with pytest.raises(CheckpointError, match="damaged"):
        load_weights(tmp_path / "m")
    with pytest.raises(CheckpointError, match="missing"):
        load_weights(tmp_path / "other")
