"""Read StyleGAN2 generators from the files people have into one canonical form.

``read_checkpoint`` returns rosinality-named tensors (plus ``mean_w``) and a
:class:`GeneratorConfig` read from the tensors themselves, whatever the source:

* ``safetensors`` — our own ``NAME.safetensors`` + ``NAME.json`` (kind ``"stylegan2"``);
* ``rosinality`` — ``.pt`` from rosinality/stylegan2-pytorch, converted (``g_ema`` +
  ``latent_avg``) or straight from its train.py (g, d, g_ema, optimisers, argparse args);
* ``nvidia`` — stylegan2-ada-pytorch / stylegan3 persistence pickles (``G_ema``);
* ``tensorflow`` — the original StyleGAN2 pickles (``(G, D, Gs)`` of ``tflib.Network``).

Pickles are read by restricted unpicklers with an allow-list: nothing in them is imported or
executed (not NVIDIA's embedded ``module_src``, not TF's ``build_module_src``); anything else
is refused with a :class:`CheckpointError` naming the global that was asked for.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from soundedit import hub
from soundedit.config import to_dict
from soundedit.errors import CheckpointError, ConfigError
from soundedit.gan.readers import ACCEPTED, LoadedCheckpoint, checked_tensor, read_file
from soundedit.gan.stylegan2 import Generator, config_from_dict
from soundedit.tensors import read_failure
from soundedit.weights_io import load_weights, save_weights, weight_paths

KIND = "stylegan2"
FORMATS = ("safetensors", "rosinality", "nvidia", "tensorflow")
def save_generator(
    generator: Generator, path: str | Path, meta: dict[str, Any] | None = None
) -> Path:
    """Write ``generator`` as NAME.safetensors + NAME.json (kind "stylegan2")."""
    return save_weights(path, generator.state_dict(), kind=KIND, config=generator.config, meta=meta)


def read_checkpoint(path: str | Path) -> LoadedCheckpoint:
    """Read any supported StyleGAN2 file (see the module docstring).

    Raises:
        CheckpointError: missing, damaged, unsupported or refused as unsafe; the message says
            which formats are accepted.
    """
    path = Path(path)
    try:
        return _read_any(path)
    except CheckpointError:
        raise
    except Exception as e:  # whatever a reader trips on inside a damaged file
        raise CheckpointError(
            f"{path.name} could not be read as a checkpoint ({read_failure(e)}); "
            f"accepted: {ACCEPTED}"
        ) from e


def _read_any(path: Path) -> LoadedCheckpoint:
    if path.suffix in (".safetensors", ".json") or (
        not path.exists() and weight_paths(path)[0].is_file()
    ):
        return _read_safetensors(path)
    if path.is_dir():
        raise CheckpointError(
            f"{path} is a directory; give a checkpoint file (rosinality .pt, NVIDIA or "
            "TensorFlow .pkl, or soundedit .safetensors with its .json)"
        )
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    return read_file(path)


def load_generator(path: str | Path, *, device: str | torch.device = "cpu") -> Generator:
    """A ready :class:`Generator` (eval mode) from any supported file.

    ``path`` may also be a registry name (resolved with :func:`soundedit.hub.resolve`) when no
    such file exists.
    """
    if not Path(path).exists() and not weight_paths(path)[0].is_file():
        path = _resolve_registry_name(str(path))
    loaded = read_checkpoint(path)
    generator = Generator(loaded.config)
    missing, unexpected = generator.load_state_dict(loaded.state_dict, strict=False)
    if missing or unexpected:
        raise CheckpointError(
            f"{path}: tensors do not fit a StyleGAN2 generator "
            f"(missing {', '.join(missing[:5]) or 'none'}; "
            f"unexpected {', '.join(unexpected[:5]) or 'none'})"
        )
    return generator.to(device).eval()


def _resolve_registry_name(name: str) -> Path:
    if Path(name).suffix or "/" in name or "\\" in name:  # a path, not a registry name
        raise CheckpointError(
            f"checkpoint {name} does not exist; give an existing checkpoint file or a "
            "registry name (see `soundedit models`)"
        )
    return Path(hub.resolve(name))


def _read_safetensors(path: Path) -> LoadedCheckpoint:
    tensors, record = load_weights(path, kind=KIND)
    try:
        config = config_from_dict(record.get("config", {}))
    except ConfigError as e:
        raise CheckpointError(f"{path}: bad generator config in its .json: {e}") from e
    tensors = {k: checked_tensor(v, f"{path.name}: tensor {k}") for k, v in tensors.items()}
    info = {"has_mean_w": "mean_w" in tensors, "meta": record.get("meta", {})}
    return LoadedCheckpoint(tensors, config, "safetensors", info)


def describe(loaded: LoadedCheckpoint) -> dict[str, Any]:
    """JSON-ready summary of a checkpoint (what ``soundedit inspect`` prints)."""
    config = loaded.config
    return {
        "format": loaded.format,
        "resolution": config.resolution,
        "style_dim": config.style_dim,
        "n_mlp": config.n_mlp,
        "n_latent": config.n_latent,
        "channels": config.channel_table(),
        "channel_multiplier": None if config.channels else config.channel_multiplier,
        "has_mean_w": bool(loaded.info.get("has_mean_w")),
        "config": to_dict(dataclasses.replace(config)),
        **{k: v for k, v in loaded.info.items() if k not in ("has_mean_w", "meta")},
    }
