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
MAX_LATENT_BYTES = 16_000_000  # a 1024 px W+ latent is 37 kB; a larger file is not a latent
ACCEPTED = "a W or W+ tensor saved with torch.save, numpy.save or safetensors (.pt, .npy...)"


def load_latent(path: str | Path, *, n_latent: int, style_dim: int) -> torch.Tensor:
    """A latent file as W+ [1, n_latent, style_dim] float32 on the CPU.

    A W latent is repeated over the layers. Raises :class:`ConfigError` for a missing file, an
    unknown suffix, a damaged file, a shape that does not fit the generator, or NaN/inf values.
    """
    path = _check_file(Path(path))
    suffix = path.suffix.lower()
    try:
        value = _read(path, suffix)
    except ConfigError:
        raise
    except Exception as e:  # each reader fails its own way on a damaged file
        raise ConfigError(
            f"{path.name} could not be read as a {suffix} latent ({_reason(e)}); give {ACCEPTED}"
        ) from e
    return as_w_plus(value, n_latent=n_latent, style_dim=style_dim, where=path.name)


def _check_file(path: Path) -> Path:
    """``path`` if it is a latent file of a sane size; ConfigError naming the problem."""
    if path.is_dir():
        raise ConfigError(f"{path.name} is a directory; give a latent file ({ACCEPTED})")
    if not path.is_file():
        raise ConfigError(f"latent file {path} does not exist; give an existing file")
    if path.suffix.lower() not in LATENT_SUFFIXES:
        raise ConfigError(
            f"{path.name}: latent files must end in one of {', '.join(LATENT_SUFFIXES)}"
        )
    size = path.stat().st_size
    if size == 0:
        raise ConfigError(f"{path.name} is empty (0 bytes); give {ACCEPTED}")
    if size > MAX_LATENT_BYTES:
        raise ConfigError(
            f"{path.name} is {size / 1e6:.0f} MB; latent files are at most "
            f"{MAX_LATENT_BYTES / 1e6:.0f} MB (a W+ latent takes a few kB)"
        )
    return path


def _reason(error: Exception) -> str:
    """The reader's reason in one line, without PyTorch's advice to load unsafely."""
    import pickle

    text = str(error)
    if isinstance(error, pickle.UnpicklingError) or "weights_only" in text:
        return "it holds Python objects besides tensors, which are refused unrun"
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first.rstrip(".") or type(error).__name__


def as_w_plus(value, *, n_latent: int, style_dim: int, where: str = "latent") -> torch.Tensor:
    """Check and reshape a W or W+ tensor to [1, n_latent, style_dim] float32."""
    w = torch.as_tensor(value).detach()
    if w.is_complex() or w.dtype == torch.bool:
        raise ConfigError(f"{where}: a latent holds real numbers, got {w.dtype}")
    w = w.float().cpu()
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
        array = np.load(path, allow_pickle=False)
        if not isinstance(array, np.ndarray) or array.dtype.kind not in "fiu":
            kind = getattr(array, "dtype", type(array).__name__)
            raise ConfigError(f"{path.name}: a latent holds real numbers, got {kind}")
        return torch.from_numpy(array.astype(np.float32))
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
