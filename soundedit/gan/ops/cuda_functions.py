"""Autograd wrappers around the compiled CUDA kernels (forward only in C++).

Gradients reuse the same kernels: the gradient of upfirdn2d is another upfirdn2d (flipped kernel,
up and down swapped, pads from :func:`adjoint_args`), and the gradient of bias_act is computed
from the saved input by the reference formula in PyTorch (an elementwise op, cheap on GPU).
"""

from __future__ import annotations

import torch

from soundedit.gan.ops import _ext
from soundedit.gan.ops.bias_act import ACTIVATIONS, bias_act_ref
from soundedit.gan.ops.upfirdn2d import adjoint_args


class _UpFirDn2d(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, kernel, up, down, pad):
        ctx.save_for_backward(kernel)
        ctx.args = (tuple(x.shape[2:]), up, down, pad)
        k = kernel.to(device=x.device, dtype=torch.float32)
        return _ext.get_extension().upfirdn2d(x, k, up, down, *pad)

    @staticmethod
    def backward(ctx, dy):
        (kernel,) = ctx.saved_tensors
        size, up, down, pad = ctx.args
        k, up2, down2, pad2 = adjoint_args(size, kernel, up, down, pad)
        return _UpFirDn2d.apply(dy, k, up2, down2, pad2), None, None, None, None


class _BiasAct(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, b, dim, act, alpha, gain, clamp):
        ctx.save_for_backward(x, b)
        ctx.args = (dim, act, alpha, gain, clamp)
        bias = b if b is not None else x.new_empty(0)
        code = ACTIVATIONS[act][0]
        return _ext.get_extension().bias_act(
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


def upfirdn2d_cuda(x, kernel, up, down, pad):
    return _UpFirDn2d.apply(x, kernel, up, down, tuple(pad))


def bias_act_cuda(x, b, dim, act, alpha, gain, clamp):
    return _BiasAct.apply(x, b, dim, act, alpha, gain, clamp)
