"""Reading and writing source latents: W [S] / [1, S] or W+ [L, S] / [1, L, S].

Accepted files: ``.pt`` / ``.pth`` (a tensor, or a dict with one latent under ``w_plus``,
``w``, ``latent`` or ``w_source``; loaded with ``weights_only=True``), ``.npy`` and
``.safetensors`` (one tensor, or one of the names above), holding a dense CPU float tensor.

A latent that loads must also be one the generator could have made: :func:`check_distance`
measures each layer's distance from ``mean_w`` in "reaches" (how far the generator's own
latents go) and refuses a latent far outside them (values around 1e6 give a blank picture and
no gradient, around 1e30 NaN), with a notice for one somewhat outside.
"""

from __future__ import annotations

import pickle
import weakref
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from soundedit.errors import ConfigError
from soundedit.tensors import ACCEPTED_TENSORS, plain_float, read_failure

LATENT_SUFFIXES = (".pt", ".pth", ".npy", ".safetensors")
LATENT_KEYS = ("w_plus", "w_source", "w", "latent", "w_edited")
MAX_LATENT_BYTES = 16_000_000  # a 1024 px W+ latent is 37 kB; a larger file is not a latent
ACCEPTED = "a W or W+ tensor saved with torch.save, numpy.save or safetensors (.pt, .npy...)"
REAL_LATENT = f"real numbers in {ACCEPTED_TENSORS}"


def load_latent(path: str | Path, *, n_latent: int, style_dim: int) -> torch.Tensor:
    """A latent file as W+ [1, n_latent, style_dim] float32 on the CPU.

    A W latent is repeated over the layers. Raises :class:`ConfigError` for a missing file, an
    unknown suffix, a damaged file, a shape that does not fit the generator, or NaN/inf values.
    """
    path = _check_file(Path(path))
    suffix = path.suffix.lower()
    try:
        value = _read(path, suffix)
        return as_w_plus(value, n_latent=n_latent, style_dim=style_dim, where=path.name)
    except ConfigError:
        raise
    except Exception as e:  # each reader fails its own way on a damaged file
        raise ConfigError(
            f"{path.name} could not be read as a {suffix} latent ({_reason(e)}); give {ACCEPTED}"
        ) from e


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
    text = str(error)
    if isinstance(error, pickle.UnpicklingError) or "weights_only" in text:
        return "it holds Python objects besides tensors, which are refused unrun"
    return read_failure(error)


def as_w_plus(value, *, n_latent: int, style_dim: int, where: str = "latent") -> torch.Tensor:
    """Check and reshape a W or W+ tensor to [1, n_latent, style_dim] float32."""
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(_real_array(value, where))
    w = plain_float(value, where=where, error=ConfigError, accepted=REAL_LATENT)
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
        return _real_array(np.load(path, allow_pickle=False), path.name)
    if suffix == ".safetensors":
        return _pick(load_file(str(path)), path)
    return _pick(torch.load(path, map_location="cpu", weights_only=True), path)


def _real_array(array, where: str) -> np.ndarray:
    """A numpy latent as float32, or ConfigError: integers, text or complex are not latents."""
    if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
        kind = getattr(array, "dtype", type(array).__name__)
        raise ConfigError(f"{where}: a latent holds real numbers (floating point), got {kind}")
    return np.ascontiguousarray(array, dtype=np.float32)


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


# ---- is a latent one the generator could have made? ---------------------------------------------

REFERENCE_SAMPLES = 2048  # seeded z drawn to measure how far the generator's own w reach
FAR_NOTICE = 2.0  # a layer beyond this many reaches from mean_w: accepted with a notice
FAR_REFUSED = 50.0  # beyond this many reaches the picture is noise or black: refused
_REACH: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def generator_reach(generator) -> float:
    """How far from ``mean_w`` the generator's own latents go: the 99.9th percentile of
    ``|mapping(z) - mean_w|`` over :data:`REFERENCE_SAMPLES` seeded z (measured once)."""
    if generator not in _REACH:
        rng = torch.Generator().manual_seed(0)
        z = torch.randn(REFERENCE_SAMPLES, generator.style_dim, generator=rng)  # [N, S]
        mean_w = generator.mean_w.detach().float()
        with torch.no_grad():
            w = generator.mapping(z.to(mean_w.device)).float()  # [N, S]
        distances = (w - mean_w).norm(dim=-1)
        _REACH[generator] = max(float(torch.quantile(distances, 0.999)), 1e-6)
    return _REACH[generator]


def distance_in_reaches(w_plus: torch.Tensor, generator) -> tuple[float, float]:
    """(farthest layer's distance from ``mean_w``, that distance in reaches) of W+ [1, L, S]."""
    mean_w = generator.mean_w.detach().double().cpu()
    distance = float((w_plus.detach().double().cpu() - mean_w).norm(dim=-1).max())
    return distance, distance / generator_reach(generator)


def check_distance(w_plus: torch.Tensor, generator, *, where: str, notices) -> float:
    """Refuse a W+ latent [1, L, S] far outside the generator's own latents, add a notice to
    ``notices`` (:class:`~soundedit.edit.report.Notices`) when it is somewhat outside; returns
    its farthest layer's distance in reaches (see above)."""
    distance, ratio = distance_in_reaches(w_plus, generator)
    reach = generator_reach(generator)
    if not ratio <= FAR_REFUSED:  # also NaN: a sum of huge squares overflows to inf
        raise ConfigError(
            f"{where} lies {ratio:.3g} times farther from this generator's average latent than "
            f"its own latents go (distance {distance:.3g}, theirs at most {reach:.3g}); latents "
            f"up to {FAR_REFUSED:g} times that are accepted (was it saved for another generator?)"
        )
    if ratio > FAR_NOTICE:
        notices.add(
            f"{where} lies {ratio:.1f} times farther from this generator's average latent than "
            "its own latents go: expect an unusual picture"
        )
    return ratio
