"""Projecting a photo into W+ so that it can be edited like a generated image.

Adam on W+ from the mean latent, minimising pixel MSE plus a CLIP-feature loss
(``1 - cos(CLIP(G(w)), CLIP(photo))``) with the same learning-rate schedule as the edit. The
report gives the reconstruction error (MSE in [-1, 1] units and PSNR) and the CLIP similarity.
"""

from __future__ import annotations

import io
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from soundedit.edit.optimize import MAX_STEPS, learning_rate, source_from_mean
from soundedit.errors import ConfigError


def load_image(image, resolution: int) -> torch.Tensor:
    """A photo (path, bytes, PIL image or uint8 HxWx3 array) as [1, 3, R, R] in [-1, 1].

    The largest centred square is cut out and resized (antialiased) to ``resolution``.
    """
    try:
        if isinstance(image, (str, Path)):
            pil = Image.open(Path(image))
            pil.load()
        elif isinstance(image, bytes):
            pil = Image.open(io.BytesIO(image))
            pil.load()
        elif isinstance(image, np.ndarray):
            pil = Image.fromarray(np.asarray(image, dtype=np.uint8))
        elif isinstance(image, Image.Image):
            pil = image
        else:
            raise ConfigError(
                f"a photo must be a path, bytes, PIL image or array, got {type(image)}"
            )
    except FileNotFoundError as e:
        raise ConfigError(f"photo {image} does not exist") from e
    except (UnidentifiedImageError, OSError, TypeError, ValueError) as e:
        raise ConfigError(
            f"{image!s:.80} is not an image PIL can read (PNG, JPEG, WebP...): {e}"
        ) from e
    pil = pil.convert("RGB")
    side = min(pil.size)
    left, top = (pil.width - side) // 2, (pil.height - side) // 2
    pil = pil.crop((left, top, left + side, top + side))
    pil = pil.resize((resolution, resolution), Image.Resampling.LANCZOS)
    array = torch.from_numpy(np.asarray(pil, dtype=np.float32).copy())  # [R, R, 3]
    return (array.permute(2, 0, 1).unsqueeze(0) / 127.5) - 1.0


def project_image(
    bundle, image, *, steps: int = 200, seed: int = 0, lr: float = 0.05, clip_weight: float = 0.5
) -> tuple[torch.Tensor, dict]:
    """Find a W+ latent [1, L, S] whose image looks like ``image``; returns (w_plus, report).

    ``seed`` is accepted for a uniform interface: the projection starts from the mean latent and
    draws nothing random, so it is deterministic anyway.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise ConfigError(f"projection steps must be between 1 and {MAX_STEPS}, got {steps!r}")
    G, clip = bundle.generator, bundle.clip
    device = G.mean_w.device
    target = load_image(image, G.resolution).to(device)
    start = time.perf_counter()
    with torch.no_grad():
        target_embed = clip.embed_image(target).float()
    w = source_from_mean(G).clone().float().requires_grad_(True)
    optimizer = torch.optim.Adam([w], lr=lr)
    for i in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(i / steps, lr, rampup=0.05, rampdown=0.25)
        images = G.synthesis(w)
        pixel = F.mse_loss(images.float(), target)
        feature = 1.0 - (clip.embed_image(images).float() * target_embed).sum(-1).mean()
        (grad,) = torch.autograd.grad(pixel + clip_weight * feature, [w])
        w.grad = grad
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    with torch.no_grad():
        final = G.synthesis(w).float()
        mse = float(F.mse_loss(final, target))
        similarity = float((clip.embed_image(final).float() * target_embed).sum(-1).mean())
    report = {
        "steps": steps,
        "seed": seed,
        "mse": mse,
        # PSNR over the [-1, 1] range (peak-to-peak 2).
        "psnr_db": 10 * math.log10(4.0 / max(mse, 1e-12)),
        "clip_similarity": similarity,
        "seconds": time.perf_counter() - start,
    }
    return w.detach(), report
