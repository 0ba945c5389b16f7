"""Our own checkpoint format: ``NAME.safetensors`` beside ``NAME.json``.

The JSON holds ``kind`` (what the tensors are for, e.g. ``"stylegan2"``), ``config`` (the
architecture dataclass as data) and free-form ``meta`` (how it was trained). Nothing is pickled.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from soundedit import strict_json
from soundedit.config import to_dict
from soundedit.errors import CheckpointError


def weight_paths(path: str | Path) -> tuple[Path, Path]:
    """The (safetensors, json) pair for ``path`` given with either suffix or none."""
    path = Path(path)
    stem = path.with_suffix("") if path.suffix in (".safetensors", ".json") else path
    return stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")


def save_weights(
    path: str | Path,
    tensors: dict[str, torch.Tensor],
    *,
    kind: str,
    config: Any,
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write tensors and their config atomically; returns the safetensors path."""
    tensor_path, json_path = weight_paths(path)
    tensor_path.parent.mkdir(parents=True, exist_ok=True)
    record = {"kind": kind, "config": to_dict(config), "meta": meta or {}}
    contiguous = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    _atomic_write(tensor_path, lambda p: save_file(contiguous, str(p)))
    _atomic_write(json_path, lambda p: p.write_text(strict_json.dumps(record, indent=2) + "\n"))
    return tensor_path


def load_weights(
    path: str | Path, *, kind: str | None = None
) -> tuple[dict[str, torch.Tensor], dict]:
    """Read a pair written by :func:`save_weights`: (tensors, record with kind/config/meta).

    Raises:
        CheckpointError: a file is missing or damaged, or the kind is not ``kind``.
    """
    tensor_path, _ = weight_paths(path)
    record = load_record(path, kind=kind)
    try:
        tensors = load_file(str(tensor_path))
    except (SafetensorError, OSError) as e:
        raise CheckpointError(f"{tensor_path} is damaged or not a safetensors file: {e}") from e
    return tensors, record


def load_record(path: str | Path, *, kind: str | None = None) -> dict:
    """Only the JSON record (kind/config/meta) of a pair, without reading its tensors.

    Raises:
        CheckpointError: a file of the pair is missing, the JSON is damaged, or the kind is not
            ``kind``.
    """
    tensor_path, json_path = weight_paths(path)
    for p in (tensor_path, json_path):
        if not p.is_file():
            raise CheckpointError(f"{p} is missing; a checkpoint is a .safetensors + .json pair")
    try:
        record = json.loads(json_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{json_path} is not valid JSON: {e}") from e
    if kind is not None and record.get("kind") != kind:
        found = record.get("kind")
        raise CheckpointError(f"{json_path} holds a {found!r} model, expected {kind!r}")
    return record


def _atomic_write(final: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".part")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        tmp_path.chmod(0o644)  # mkstemp makes owner-only files; weights are meant to be shared
        os.replace(tmp_path, final)
    finally:
        tmp_path.unlink(missing_ok=True)
