"""Randomly jittered views of an image for the guidance loss.

A small CLIP is easy to fool: plain gradient ascent on ``cos(CLIP(G(w)), target)`` finds pixel
patterns that raise the similarity without drawing what the target names. Averaging the guidance
over a few randomly shifted, softened and noised copies of the image (the augmentation trick of
CLIP-guided drawing) leaves the optimiser only changes that survive every view, which are the
changes a person sees too. ``views = 0`` in :class:`~soundedit.edit.optimize.EditConfig` turns
this off (the paper's loss on the image itself).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def random_views(
    images: torch.Tensor,
    n: int,
    *,
    generator: torch.Generator,
    shift: float = 1 / 16,
    blur: float = 0.6,
    noise: float = 0.03,
) -> torch.Tensor:
    """``n`` jittered copies of each image, differentiable in ``images``.

    Args:
        images: [B, 3, H, W] in [-1, 1].
        n: number of views.
        generator: CPU random generator (the run's seed), so a run is reproducible anywhere.
        shift: largest translation as a fraction of the side (edges are replicated).
        blur: largest share of a 3x3 box blur mixed into a view.
        noise: standard deviation of the added Gaussian noise.

    Returns:
        [B * n, 3, H, W] views (the n views of image 0 first).
    """
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"expected images [B, 3, H, W], got {tuple(images.shape)}")
    b, _, h, w = images.shape
    k = b * n
    pad = max(1, round(shift * max(h, w)))
    offsets = torch.randint(0, 2 * pad + 1, (k, 2), generator=generator).tolist()
    amounts = torch.rand(k, 1, 1, 1, generator=generator).to(images.device) * blur
    grain = torch.randn((k, *images.shape[1:]), generator=generator).to(images.device) * noise
    padded = F.pad(images, (pad, pad, pad, pad), mode="replicate").repeat_interleave(n, dim=0)
    x = torch.stack(
        [padded[i, :, dy : dy + h, dx : dx + w] for i, (dy, dx) in enumerate(offsets)]
    )  # [B * n, 3, H, W]
    soft = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    return x + (soft - x) * amounts + grain
