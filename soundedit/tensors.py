"""What a tensor read from a file must be before any code computes with it.

Readers of latents and checkpoints (``torch.load(weights_only=True)``, safetensors, our restricted
unpickler) can hand back tensors that load but break later: sparse or quantized layouts, tensors
on the ``meta`` device (no data at all), complex or integer numbers. :func:`plain_float` lets
through only dense, strided, CPU tensors of a floating dtype and refuses the rest with one plain
sentence, so nothing exotic reaches the generator.
"""

from __future__ import annotations

import torch

from soundedit.errors import SoundEditError

# float16/bfloat16 are how half-precision checkpoints and latents are saved; they are widened.
FLOAT_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)
ACCEPTED_TENSORS = "dense CPU tensors of float32, float64, float16 or bfloat16"


def tensor_problem(value) -> str | None:
    """Why ``value`` is not a plain float tensor (a few words), or None when it is one."""
    if not isinstance(value, torch.Tensor):
        return f"a {type(value).__name__}, not a tensor"
    if value.layout != torch.strided or value.is_sparse:
        return f"a sparse tensor ({str(value.layout).removeprefix('torch.')})"
    if value.is_quantized:
        return f"a quantized tensor ({str(value.dtype).removeprefix('torch.')})"
    if value.device.type != "cpu":
        where = "the meta device (it holds no numbers)" if value.is_meta else str(value.device)
        return f"a tensor on {where}"
    if value.is_nested:
        return "a nested tensor"
    if value.dtype not in FLOAT_DTYPES:
        return f"a tensor of {str(value.dtype).removeprefix('torch.')} numbers"
    return None


def plain_float(
    value, *, where: str, error: type[SoundEditError], accepted: str = ACCEPTED_TENSORS
) -> torch.Tensor:
    """``value`` as a dense float32 CPU tensor, or ``error`` naming ``where`` and what is accepted.

    Non-finite values are left for the caller, which knows what they mean in its setting.
    """
    problem = tensor_problem(value)
    if problem is not None:
        raise error(f"{where} holds {problem}; accepted: {accepted}")
    return value.detach().to(torch.float32).contiguous()


# What readers say when a few bytes claim a tensor of terabytes (numpy, PyTorch's allocator and
# storages), in words: the file is damaged, not the machine short of memory.
_SIZE_CLAIMS = (
    "unable to allocate",
    "can't allocate memory",
    "resize storage that is not resizable",
    "out of bounds for storage",
    "cannot reshape array of size",
    "buffer is too small",
)
IMPOSSIBLE_SIZE = "it claims tensors far larger than the file itself"


def read_failure(error: BaseException) -> str:
    """A reader's failure in a few plain words (its first sentence, or the impossible size)."""
    text = " ".join(str(error).split())
    if isinstance(error, MemoryError) or any(claim in text.lower() for claim in _SIZE_CLAIMS):
        return IMPOSSIBLE_SIZE
    for advice in (" (Could this error", " Could this error", " Please file an issue"):
        text = text.split(advice)[0]
    return text.rstrip(" .") or type(error).__name__
