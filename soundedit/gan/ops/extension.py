"""Lazy, cached build of the optional CUDA extension, with a one-time warning on fallback.

The extension is compiled by ``torch.utils.cpp_extension.load`` (ninja) the first time a CUDA
tensor asks for it, never at import. Build results are cached by torch in its extensions
directory, so later processes only link. Any failure warns once and the caller falls back to
the pure-PyTorch reference, which defines the op.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from soundedit.errors import ConfigError

IMPLS = ("auto", "ref", "cuda")
_SOURCES = ("ops.cpp", "bias_act.cu", "upfirdn2d.cu")
_state: dict = {"module": None, "failed": False}
_warned: set[str] = set()


def warn_once(key: str, message: str) -> None:
    """Emit ``message`` as a RuntimeWarning the first time ``key`` is seen in this process."""
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, RuntimeWarning, stacklevel=4)


def build_extension():
    """Compile (or load the cached build of) the extension; raises on any failure."""
    from torch.utils.cpp_extension import load

    here = Path(__file__).parent / "cuda"
    return load(
        name="soundedit_gan_ops",
        sources=[str(here / s) for s in _SOURCES],
        extra_cuda_cflags=["--use_fast_math"],
        verbose=False,
    )


def get_extension():
    """The compiled module, or None (after one warning) when it cannot be built."""
    if _state["module"] is None and not _state["failed"]:
        try:
            _state["module"] = build_extension()
        except Exception as e:  # a compiler, ninja or CUDA toolkit problem: fall back
            _state["failed"] = True
            warn_once("build", f"soundedit CUDA ops could not be built ({e}); using PyTorch ops")
    return _state["module"]


def use_cuda(x: torch.Tensor, impl: str) -> bool:
    """Whether this call should run the extension (see the package docstring)."""
    if impl not in IMPLS:
        raise ConfigError(f"impl must be one of {', '.join(IMPLS)}, got {impl!r}")
    if impl == "ref":
        return False
    if not is_cuda(x):
        if impl == "cuda":
            warn_once(
                "cpu", "impl='cuda' asked for a tensor not on a CUDA device; using PyTorch ops"
            )
        return False
    return get_extension() is not None


def is_cuda(x: torch.Tensor) -> bool:
    return x.device.type == "cuda"


def status() -> dict:
    """{"module": the built extension or None, "failed": whether a build failed} (a copy)."""
    return dict(_state)


def reset() -> None:
    """Forget the build result and the warnings (for tests)."""
    _state.update(module=None, failed=False)
    _warned.clear()
