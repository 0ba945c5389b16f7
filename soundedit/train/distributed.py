"""Helpers for running the training loop under ``torchrun`` (one process per GPU or machine).

The contrastive terms need every rank's embeddings: :func:`gather_with_grad` concatenates them in
rank order and sends each rank's share of the gradient back to it, so the loss computed on the
global batch is identical on every rank and, after DistributedDataParallel averages the parameter
gradients, equal to the single-process gradient (the scheme of open_clip's ``ClipLoss`` with
``gather_with_grad=True, local_loss=False``). Written with ``all_gather`` + ``all_reduce`` only, so
it also runs on the gloo backend (which has no reduce-scatter).
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def is_distributed() -> bool:
    """True inside an initialised process group with more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's rank (0 when not distributed)."""
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    """Number of processes (1 when not distributed)."""
    return dist.get_world_size() if is_distributed() else 1


def init_from_env(device: str | torch.device) -> bool:
    """Join the process group torchrun describes; False when not under torchrun."""
    if (
        "RANK" not in os.environ
        or "WORLD_SIZE" not in os.environ
        or int(os.environ["WORLD_SIZE"]) < 2
    ):
        return False
    if not dist.is_initialized():
        device = torch.device(device)
        if device.type == "cuda" and device.index is not None:
            torch.cuda.set_device(device)  # NCCL works on the current device
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
    return True


class _GatherWithGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, local: torch.Tensor) -> torch.Tensor:
        ctx.rank, ctx.world, ctx.n = dist.get_rank(), dist.get_world_size(), local.shape[0]
        parts = [torch.empty_like(local) for _ in range(ctx.world)]
        dist.all_gather(parts, local.contiguous())
        return torch.cat(parts)  # [world * n, ...] in rank order

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.contiguous()
        dist.all_reduce(grad)  # every rank's loss depends on every slice: sum their gradients
        return grad[ctx.rank * ctx.n : (ctx.rank + 1) * ctx.n]


def gather_with_grad(local: torch.Tensor) -> torch.Tensor:
    """All ranks' ``local`` tensors concatenated along dim 0 (a no-op outside a process group).

    Every rank must pass the same number of rows.
    """
    if not is_distributed():
        return local
    return _GatherWithGrad.apply(local)
