"""Projecting a photo into W+ so that it can be edited like a generated image.

Adam on W+ from the mean latent, minimising pixel MSE plus a CLIP-feature loss
(``1 - cos(CLIP(G(w)), CLIP(photo))``) with the same learning-rate schedule as the edit. The
report gives the reconstruction error (MSE in [-1, 1] units and PSNR) and the CLIP similarity.
"""

from __future__ import annotations

import io
import math
import re
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from soundedit.edit.optimize import learning_rate, source_from_mean
from soundedit.errors import ConfigError
from soundedit.settings import MAX_STEPS

MAX_PHOTO_PIXELS = 50_000_000  # 50 megapixels: any camera's photo; a decoded RGB copy is 150 MB
MAX_PHOTO_SIDE = 20_000  # pixels on the longer side
MIN_PHOTO_SIDE = 16  # pixels on the shorter side: less holds nothing to project
MAX_PHOTO_BYTES = 100_000_000  # larger files are refused unread
PHOTO_FORMATS = "PNG, JPEG, WebP, BMP, GIF or TIFF"


def load_image(image, resolution: int) -> torch.Tensor:
    """A photo (path, bytes, PIL image or uint8 HxWx3 array) as [1, 3, R, R] in [-1, 1].

    The photo's size is read from its header and checked against :data:`MAX_PHOTO_PIXELS`
    before any pixel is decoded (a small PNG can claim 12000 x 12000 pixels). The largest
    centred square is cut out and resized (antialiased) to ``resolution``.

    Raises:
        ConfigError: not an image, damaged, too large or too small; the message names the
            photo (by its file name) and what is accepted.
    """
    pil = _open_image(image)
    pil = _to_rgb(pil)
    side = min(pil.size)
    left, top = (pil.width - side) // 2, (pil.height - side) // 2
    pil = pil.crop((left, top, left + side, top + side))
    pil = pil.resize((resolution, resolution), Image.Resampling.LANCZOS)
    array = torch.from_numpy(np.asarray(pil, dtype=np.float32).copy())  # [R, R, 3]
    return (array.permute(2, 0, 1).unsqueeze(0) / 127.5) - 1.0


def _open_image(image) -> Image.Image:
    """A decoded PIL image, its size checked before decoding."""
    if isinstance(image, Image.Image):
        return _check_size(image, "the photo")
    if isinstance(image, np.ndarray):
        if image.ndim not in (2, 3) or image.size == 0:
            raise ConfigError(f"a photo array must be HxW or HxWx3, got shape {image.shape}")
        return _check_size(Image.fromarray(np.asarray(image, dtype=np.uint8)), "the photo")
    if isinstance(image, (bytes, bytearray)):
        return _decode(io.BytesIO(bytes(image)), "the photo bytes", len(image))
    if isinstance(image, (str, Path)):
        path = Path(image)
        if path.is_dir():
            raise ConfigError(f"{path.name} is a directory; give a photo file ({PHOTO_FORMATS})")
        if not path.is_file():
            raise ConfigError(f"photo {path} does not exist; give an existing image file")
        return _decode(path, path.name, path.stat().st_size)
    raise ConfigError(
        f"a photo must be a path, bytes, PIL image or array, got {type(image).__name__}"
    )


def _decode(file, name: str, size: int) -> Image.Image:
    if size == 0:
        raise ConfigError(f"{name} is empty (0 bytes); give a photo ({PHOTO_FORMATS})")
    if size > MAX_PHOTO_BYTES:
        raise ConfigError(
            f"{name} is {size / 1e6:.0f} MB; photos up to {MAX_PHOTO_BYTES / 1e6:.0f} MB "
            "are accepted"
        )
    try:
        with warnings.catch_warnings():
            # our own limit, checked on the header, is far below Pillow's warning threshold
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            pil = _check_size(Image.open(file), name)  # reads the header only
        pil.load()
        return ImageOps.exif_transpose(pil)
    except ConfigError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as e:
        raise ConfigError(
            f"{name} is not an image that can be read ({_first_line(e)}); give {PHOTO_FORMATS}"
        ) from e
    except Image.DecompressionBombError as e:  # Pillow refuses > 2x its limit at open
        pixels = re.search(r"\((\d+) pixels\)", str(e))
        size = f"{int(pixels.group(1)) / 1e6:.0f} megapixels" if pixels else "too large"
        raise ConfigError(f"{name} is {size}; {_size_rule()}") from e


def _check_size(pil: Image.Image, name: str) -> Image.Image:
    width, height = pil.size
    if width * height > MAX_PHOTO_PIXELS or max(width, height) > MAX_PHOTO_SIDE:
        raise ConfigError(f"{name} is {width} x {height} pixels; {_size_rule()}")
    if min(width, height) < MIN_PHOTO_SIDE:
        raise ConfigError(
            f"{name} is {width} x {height} pixels; photos at least {MIN_PHOTO_SIDE} pixels "
            "on each side are accepted"
        )
    return pil


def _size_rule() -> str:
    return (
        f"photos up to {MAX_PHOTO_PIXELS / 1e6:.0f} megapixels and {MAX_PHOTO_SIDE} pixels "
        "on a side are accepted"
    )


def _to_rgb(pil: Image.Image) -> Image.Image:
    """8-bit RGB; 16/32-bit greyscale is scaled down, not clipped to white."""
    if pil.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        array = np.asarray(pil, dtype=np.float64)
        top = 65535.0 if array.max(initial=0) > 255 else 255.0
        pil = Image.fromarray(np.clip(array / top * 255.0, 0, 255).astype(np.uint8))
    return pil.convert("RGB")


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__).rstrip(".")


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
