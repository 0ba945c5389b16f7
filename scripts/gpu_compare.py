"""Compare the CUDA ops with the PyTorch reference at generator sizes (part of gpu_check.sh).

Prints one line per comparison with the largest absolute difference (outputs and gradients)
and exits 1 when any exceeds ``--atol`` (default 1e-3), 2 when CUDA or the extension is missing.
"""

from __future__ import annotations

import argparse
import sys

import torch

from soundedit.gan.ops import _ext
from soundedit.gan.ops.bias_act import bias_act
from soundedit.gan.ops.upfirdn2d import make_kernel, upfirdn2d

# (batch, channels, size): a 256 px and a 1024 px config-f generator's layer shapes
SHAPES = [(4, 512, 8), (4, 512, 64), (2, 256, 256), (1, 32, 1024)]
UPFIRDN = [(2, 1, (2, 1)), (1, 2, (1, 1)), (1, 1, (1, 2))]  # (up, down, pad): up, down, blur


def max_diff(pairs) -> float:
    return max(float((a - b).abs().max()) for a, b in pairs)


def compare_bias_act(x: torch.Tensor, act: str) -> float:
    b = torch.randn(x.shape[1], device=x.device, requires_grad=True)
    y = bias_act(x, b, act=act, impl="cuda")
    want = bias_act(x, b, act=act, impl="ref")
    dy = torch.randn_like(y)
    grads = torch.autograd.grad(y, (x, b), dy)
    want_grads = torch.autograd.grad(want, (x, b), dy)
    return max_diff([(y, want), *zip(grads, want_grads, strict=True)])


def compare_upfirdn(x: torch.Tensor, up: int, down: int, pad) -> float:
    k = make_kernel([1, 3, 3, 1], gain=up * up).to(x.device)
    y = upfirdn2d(x, k, up=up, down=down, pad=pad, impl="cuda")
    want = upfirdn2d(x, k, up=up, down=down, pad=pad, impl="ref")
    dy = torch.randn_like(y)
    (g,) = torch.autograd.grad(y, x, dy)
    (want_g,) = torch.autograd.grad(want, x, dy)
    return max_diff([(y, want), (g, want_g)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--atol", type=float, default=1e-3)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("gpu_compare: no CUDA device here", file=sys.stderr)
        return 2
    if _ext.get_extension() is None:
        print("gpu_compare: the CUDA ops did not build (see the warning above)", file=sys.stderr)
        return 2
    torch.manual_seed(0)
    worst = 0.0
    for batch, channels, size in SHAPES:
        x = torch.randn(batch, channels, size, size, device="cuda", requires_grad=True)
        for act in ("linear", "lrelu"):
            diff = compare_bias_act(x, act)
            worst = max(worst, diff)
            print(f"bias_act {act:6s} {tuple(x.shape)}: max |cuda - ref| = {diff:.2e}")
        for up, down, pad in UPFIRDN:
            diff = compare_upfirdn(x, up, down, pad)
            worst = max(worst, diff)
            print(f"upfirdn2d up={up} down={down} pad={pad} {tuple(x.shape)}: {diff:.2e}")
    verdict = "OK" if worst <= args.atol else "TOO FAR"
    print(f"largest difference {worst:.2e} (limit {args.atol:g}): {verdict}")
    return 0 if worst <= args.atol else 1


if __name__ == "__main__":
    sys.exit(main())
