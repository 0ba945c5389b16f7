"""Bias + activation + gain (+ clamp) in one call, as StyleGAN2 applies after every layer."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from soundedit.errors import ConfigError
from soundedit.gan.ops import extension

# name -> (code used by the CUDA kernel, default alpha, default gain)
ACTIVATIONS = {
    "linear": (0, 0.0, 1.0),
    "relu": (1, 0.0, math.sqrt(2)),
    "lrelu": (2, 0.2, math.sqrt(2)),
    "tanh": (3, 0.0, 1.0),
    "sigmoid": (4, 0.0, 1.0),
}


def bias_act_ref(
    x: torch.Tensor,
    b: torch.Tensor | None,
    dim: int,
    act: str,
    alpha: float,
    gain: float,
    clamp: float | None,
) -> torch.Tensor:
    """Pure-PyTorch reference (defines the op)."""
    if b is not None:
        shape = [1] * x.ndim
        shape[dim] = -1
        x = x + b.to(x.dtype).reshape(shape)
    if act == "lrelu":
        x = F.leaky_relu(x, alpha)
    elif act == "relu":
        x = F.relu(x)
    elif act == "tanh":
        x = torch.tanh(x)
    elif act == "sigmoid":
        x = torch.sigmoid(x)
    if gain != 1:
        x = x * gain
    if clamp is not None:
        x = x.clamp(-clamp, clamp)
    return x


def bias_act(
    x: torch.Tensor,
    b: torch.Tensor | None = None,
    *,
    dim: int = 1,
    act: str = "linear",
    alpha: float | None = None,
    gain: float | None = None,
    clamp: float | None = None,
    impl: str = "auto",
) -> torch.Tensor:
    """``act(x + b) * gain``, optionally clamped to ``[-clamp, clamp]``.

    Args:
        x: any tensor; ``b`` [x.shape[dim]] is broadcast along ``dim``.
        act: one of ``linear``, ``relu``, ``lrelu``, ``tanh``, ``sigmoid``.
        alpha: leaky-relu slope (default 0.2).
        gain: output scale; default √2 for relu/lrelu (keeps the variance), else 1.
        impl: ``"auto"``, ``"ref"`` or ``"cuda"`` (see :mod:`soundedit.gan.ops`).
    """
    if act not in ACTIVATIONS:
        raise ConfigError(f"act must be one of {', '.join(ACTIVATIONS)}, got {act!r}")
    _, default_alpha, default_gain = ACTIVATIONS[act]
    alpha = default_alpha if alpha is None else float(alpha)
    gain = default_gain if gain is None else float(gain)
    dim = dim % x.ndim
    if b is not None and (b.ndim != 1 or b.shape[0] != x.shape[dim]):
        raise ValueError(f"bias must be [{x.shape[dim]}] for dim {dim}, got {list(b.shape)}")
    if extension.use_cuda(x, impl):
        return _BiasAct.apply(x, b, dim, act, alpha, gain, clamp)
    return bias_act_ref(x, b, dim, act, alpha, gain, clamp)


# The compiled kernel runs the forward pass; the gradient is the reference formula's, from the
# saved input (an elementwise op, cheap on GPU).
class _BiasAct(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, b, dim, act, alpha, gain, clamp):
        ctx.save_for_backward(x, b)
        ctx.args = (dim, act, alpha, gain, clamp)
        bias = b if b is not None else x.new_empty(0)
        code = ACTIVATIONS[act][0]
        return extension.get_extension().bias_act(
            x, bias, dim, code, alpha, gain, -1.0 if clamp is None else float(clamp)
        )

    @staticmethod
    def backward(ctx, dy):
        x, b = ctx.saved_tensors
        with torch.enable_grad():
            xr = x.detach().requires_grad_(True)
            br = b.detach().requires_grad_(True) if b is not None else None
            y = bias_act_ref(xr, br, *ctx.args)
            inputs = [xr] + ([br] if br is not None else [])
            grads = torch.autograd.grad(y, inputs, dy)
        db = grads[1] if b is not None else None
        return grads[0], db, None, None, None, None, None
