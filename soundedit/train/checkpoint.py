"""Checkpoints of a run: the encoder (safetensors + json) and the state needed to resume.

``best`` and ``last`` are ordinary audio-encoder pairs (``load_audio_encoder`` reads them); their
json ``meta`` names the front end, backbone, embedding size and the CLIP model the encoder is
aligned to. ``state`` holds the temperature, the optimiser's tensors and the loop position.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from torch import nn

from soundedit.encoders.audio import AudioEncoder, save_audio_encoder
from soundedit.errors import CheckpointError, ConfigError
from soundedit.weights_io import load_weights, save_weights, weight_paths

STATE_KIND = "audio_train_state"


def encoder_meta(encoder: nn.Module, clip: Any, extra: dict[str, Any]) -> dict[str, Any]:
    """What a reader needs to know about an aligned encoder."""
    config = getattr(encoder, "config", None)
    return {
        "front_end": getattr(config, "front_end", None),
        "backbone": getattr(config, "backbone", type(encoder).__name__),
        "embed_dim": int(clip.embed_dim),
        "clip": getattr(clip, "name", "") or type(clip).__name__,
        "clip_embed_dim": int(clip.embed_dim),
        **extra,
    }


def save_encoder(encoder: nn.Module, path: str | Path, meta: dict[str, Any]) -> Path:
    """Write an encoder pair (kind "audio_encoder"); the module needs a dataclass ``.config``."""
    config = getattr(encoder, "config", None)
    if not dataclasses.is_dataclass(config):
        raise ConfigError(
            f"cannot checkpoint a {type(encoder).__name__}: it has no dataclass .config; "
            "use soundedit.encoders.audio.AudioEncoder or train with out_dir=None"
        )
    try:
        if isinstance(encoder, AudioEncoder):
            return save_audio_encoder(encoder, path, meta)
    except ImportError:
        pass
    return save_weights(path, encoder.state_dict(), kind="audio_encoder", config=config, meta=meta)


def save_state(
    path: str | Path,
    tower: nn.Module,
    optimizer: torch.optim.Optimizer,
    config: Any,
    info: dict[str, Any],
) -> Path:
    """Model + temperature + optimiser tensors (safetensors) and the loop position (json)."""
    tensors = {f"model.{k}": v for k, v in tower.state_dict().items()}
    opt = optimizer.state_dict()
    scalars: dict[str, dict[str, Any]] = {}
    for index, state in opt["state"].items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"opt.{index}.{key}"] = value
            else:
                scalars.setdefault(str(index), {})[key] = value
    meta = {**info, "param_groups": opt["param_groups"], "opt_scalars": scalars}
    return save_weights(path, tensors, kind=STATE_KIND, config=config, meta=meta)


def has_state(path: str | Path) -> bool:
    """True when a resumable state pair exists at ``path``."""
    return all(p.is_file() for p in weight_paths(path))


def load_state(
    path: str | Path, tower: nn.Module, optimizer: torch.optim.Optimizer
) -> dict[str, Any]:
    """Restore ``tower`` and ``optimizer`` in place; returns the saved loop position."""
    tensors, record = load_weights(path, kind=STATE_KIND)
    meta = record["meta"]
    model_state = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    try:
        tower.load_state_dict(model_state)
    except RuntimeError as e:
        raise CheckpointError(f"{path}: the saved run does not fit this encoder: {e}") from e
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("opt."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    for index, values in meta.get("opt_scalars", {}).items():
        state.setdefault(int(index), {}).update(values)
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    return meta
