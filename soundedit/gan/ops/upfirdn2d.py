"""Upsample, FIR-filter, downsample: the resampling op behind StyleGAN2's blur and skips.

``upfirdn2d(x, k, up, down, pad)`` is defined as: insert ``up - 1`` zeros after every sample
(the signal becomes ``H * up`` long), pad by ``pad`` (negative values crop), *convolve* with
``k`` keeping only fully covered positions, then keep every ``down``-th sample. The reference
does this per channel with grouped (depthwise) convolutions and never materialises the zeros:
up-sampling runs as a strided transposed convolution.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from soundedit.gan.ops import extension


def make_kernel(taps: Sequence[float], *, gain: float = 1.0) -> torch.Tensor:
    """The normalised 2-D kernel ``outer(taps, taps) / sum * gain`` ([K, K] float32)."""
    k = torch.as_tensor(taps, dtype=torch.float32)
    if k.ndim == 1:
        k = k[None, :] * k[:, None]
    return k / k.sum() * gain


def _pads(pad: int | Sequence[int]) -> tuple[int, int, int, int]:
    """(x0, x1, y0, y1) from an int, (p0, p1) for both axes, or all four."""
    if isinstance(pad, int):
        return pad, pad, pad, pad
    pad = tuple(int(p) for p in pad)
    if len(pad) == 2:
        return pad[0], pad[1], pad[0], pad[1]
    if len(pad) == 4:
        return pad  # type: ignore[return-value]
    raise ValueError(f"pad must be an int, (p0, p1) or (x0, x1, y0, y1), got {pad!r}")


def output_size(size: int, k: int, up: int, down: int, p0: int, p1: int) -> int:
    """Length of one axis after upfirdn2d."""
    return (size * up + p0 + p1 - k) // down + 1


def upfirdn2d_ref(
    x: torch.Tensor, kernel: torch.Tensor, up: int, down: int, pad: tuple[int, int, int, int]
) -> torch.Tensor:
    """Pure-PyTorch reference; ``x`` [B, C, H, W], ``kernel`` [K, K]."""
    b, c, h, w = x.shape
    ky, kx = kernel.shape
    px0, px1, py0, py1 = pad
    k = kernel.to(x.dtype)
    if up > 1:
        # Full convolution of the zero-stuffed signal = transposed conv with stride `up`.
        weight = k[None, None].expand(c, 1, ky, kx)
        full = F.conv_transpose2d(x, weight, stride=up, groups=c)
        # Valid output m of the padded signal sits at full[m + K - 1 - p0].
        lv_y = h * up + py0 + py1 - ky + 1
        lv_x = w * up + px0 + px1 - kx + 1
        oy, ox = ky - 1 - py0, kx - 1 - px0
        out = F.pad(full, [-ox, ox + lv_x - full.shape[3], -oy, oy + lv_y - full.shape[2]])
        return out[:, :, ::down, ::down] if down > 1 else out
    weight = k.flip([0, 1])[None, None].expand(c, 1, ky, kx)
    if px0 == px1 >= 0 and py0 == py1 >= 0:  # the convolution pads with the same zeros, faster
        return F.conv2d(x, weight, stride=down, padding=(py0, px0), groups=c)
    x = F.pad(x, [px0, px1, py0, py1])
    return F.conv2d(x, weight, stride=down, groups=c)


def upfirdn2d(
    x: torch.Tensor,
    kernel: torch.Tensor,
    *,
    up: int = 1,
    down: int = 1,
    pad: int | Sequence[int] = 0,
    impl: str = "auto",
) -> torch.Tensor:
    """Resample ``x`` [B, C, H, W] with the FIR ``kernel`` [K, K] (see the module docstring).

    Args:
        x: images or feature maps.
        kernel: 2-D filter (e.g. :func:`make_kernel` of ``(1, 3, 3, 1)``), applied per channel.
        up: integer up-sampling factor (zeros inserted before filtering).
        down: integer down-sampling factor (taken after filtering).
        pad: padding before filtering, ``p``, ``(p0, p1)`` or ``(x0, x1, y0, y1)``; may be < 0.
        impl: ``"auto"``, ``"ref"`` or ``"cuda"`` (see :mod:`soundedit.gan.ops`).
    """
    if x.ndim != 4 or kernel.ndim != 2:
        raise ValueError(
            f"expected x [B, C, H, W] and kernel [K, K], got {x.shape}, {kernel.shape}"
        )
    if up < 1 or down < 1:
        raise ValueError(f"up and down must be >= 1, got {up}, {down}")
    pads = _pads(pad)
    if extension.use_cuda(x, impl):
        return _UpFirDn2d.apply(x, kernel, up, down, tuple(pads))
    return upfirdn2d_ref(x, kernel, up, down, pads)


def adjoint_args(
    in_size: tuple[int, int], kernel: torch.Tensor, up: int, down: int, pad: tuple[int, ...]
) -> tuple[torch.Tensor, int, int, tuple[int, int, int, int]]:
    """(kernel, up, down, pad) of the upfirdn2d that is the adjoint (gradient) of this one."""
    h, w = in_size
    ky, kx = kernel.shape
    px0, px1, py0, py1 = pad
    out_h = output_size(h, ky, up, down, py0, py1)
    out_w = output_size(w, kx, up, down, px0, px1)
    adj = (
        kx - 1 - px0,
        w * up - out_w * down + px0 - up + 1,
        ky - 1 - py0,
        h * up - out_h * down + py0 - up + 1,
    )
    return kernel.flip([0, 1]), down, up, adj


# The compiled kernel runs the forward pass; its gradient is another upfirdn2d (flipped kernel,
# up and down swapped, pads from adjoint_args).
class _UpFirDn2d(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, kernel, up, down, pad):
        ctx.save_for_backward(kernel)
        ctx.args = (tuple(x.shape[2:]), up, down, pad)
        k = kernel.to(device=x.device, dtype=torch.float32)
        return extension.get_extension().upfirdn2d(x, k, up, down, *pad)

    @staticmethod
    def backward(ctx, dy):
        (kernel,) = ctx.saved_tensors
        size, up, down, pad = ctx.args
        k, up2, down2, pad2 = adjoint_args(size, kernel, up, down, pad)
        return _UpFirDn2d.apply(dy, k, up2, down2, pad2), None, None, None, None
