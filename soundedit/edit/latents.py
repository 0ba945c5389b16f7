"""Reading and writing source latents: W [S] / [1, S] or W+ [L, S] / [1, L, S].

Accepted files: ``.pt`` / ``.pth`` (a tensor, or a dict with one latent under ``w_plus``,
``w``, ``latent`` or ``w_source``; loaded with ``weights_only=True``), ``.npy`` and
``.safetensors`` (one tensor, or one of the names above).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from soundedit.errors import ConfigError

LATENT_SUFFIXES = (".pt", ".pth", ".npy", ".safetensors")
LATENT_KEYS = ("w_plus", "w_source", "w", "latent", "w_edited")


def load_latent(path: str | Path, *, n_latent: int, style_dim: int) -> torch.Tensor:
    """A latent file as W+ [1, n_latent, style_dim] float32 on the CPU.

    A W latent is repeated over the layers. Raises :class:`ConfigError` for a missing file, an
    unknown suffix, a damaged file, a shape that does not fit the generator, or NaN/inf values.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"latent file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix not in LATENT_SUFFIXES:
        raise ConfigError(f"{path.name}: latent files must be one of {', '.join(LATENT_SUFFIXES)}")
    try:
        value = _read(path, suffix)
    except ConfigError:
        raise
    except Exception as e:  # each reader fails its own way on a damaged file
        raise ConfigError(f"{path.name} could not be read as a {suffix} latent: {e}") from e
    return as_w_plus(value, n_latent=n_latent, style_dim=style_dim, where=path.name)


def as_w_plus(value, *, n_latent: int, style_dim: int, where: str = "latent") -> torch.Tensor:
    """Check and reshape a W or W+ tensor to [1, n_latent, style_dim] float32."""
    w = torch.as_tensor(value).detach().float().cpu()
    accepted = (
        f"[{style_dim}], [1, {style_dim}], [{n_latent}, {style_dim}] "
        f"or [1, {n_latent}, {style_dim}]"
    )
    if w.ndim == 1 and w.shape[0] == style_dim:
        w = w.reshape(1, 1, style_dim).repeat(1, n_latent, 1)
    elif w.ndim == 2 and tuple(w.shape) == (1, style_dim):
        w = w.reshape(1, 1, style_dim).repeat(1, n_latent, 1)
    elif w.ndim == 2 and tuple(w.shape) == (n_latent, style_dim):
        w = w.unsqueeze(0)
    elif not (w.ndim == 3 and tuple(w.shape) == (1, n_latent, style_dim)):
        raise ConfigError(
            f"{where}: shape {list(w.shape)} does not fit this generator; accepted: {accepted}"
        )
    if not torch.isfinite(w).all():
        raise ConfigError(f"{where}: the latent contains NaN or infinite values")
    return w.contiguous()


def _read(path: Path, suffix: str):
    if suffix == ".npy":
        return torch.from_numpy(np.load(path, allow_pickle=False).astype(np.float32))
    if suffix == ".safetensors":
        from safetensors.torch import load_file

        return _pick(load_file(str(path)), path)
    return _pick(torch.load(path, map_location="cpu", weights_only=True), path)


def _pick(value, path: Path) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, dict):
        for key in LATENT_KEYS:
            if isinstance(value.get(key), torch.Tensor):
                return value[key]
        tensors = [v for v in value.values() if isinstance(v, torch.Tensor)]
        if len(tensors) == 1:
            return tensors[0]
    raise ConfigError(
        f"{path.name}: expected one tensor or a dict with one of {', '.join(LATENT_KEYS)}"
    )
