"""Projecting a photo into W+ so that it can be edited like a generated image.

Adam on W+ from the mean latent, minimising pixel MSE plus a CLIP-feature loss
(``1 - cos(CLIP(G(w)), CLIP(photo))``) with the same learning-rate schedule as the edit. The
report gives the reconstruction error (MSE in [-1, 1] units and PSNR) and the CLIP similarity.
"""

from __future__ import annotations

import io
import math
import os
import re
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from soundedit.edit.optimize import EditStep, learning_rate, source_from_mean, to_uint8
from soundedit.errors import ConfigError, shown
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


PROJECTION_STEPS = 200  # Adam steps of a projection
PROJECTION_SECONDS = 120.0  # a projection ends here however far it got (and says so)
PREVIEW_EVERY = 20  # a projection step carries a preview image this often


def projection_seconds() -> float:
    """The time limit of a projection: ``SOUNDEDIT_PROJECTION_SECONDS`` or the default."""
    text = os.environ.get("SOUNDEDIT_PROJECTION_SECONDS", "")
    try:
        seconds = float(text) if text.strip() else PROJECTION_SECONDS
    except ValueError:
        seconds = PROJECTION_SECONDS
    return seconds if math.isfinite(seconds) and seconds > 0 else PROJECTION_SECONDS


class Projection:
    """Projecting one photo: iterate it for its steps (``EditStep`` records of phase
    "projection", a preview every :data:`PREVIEW_EVERY`), ``stop()`` it, ask for its
    ``result()`` (w_plus [1, L, S], report). It also ends by itself after ``max_seconds``;
    ``report["ended"]`` says why it ended: "done", "stopped" or "time limit".

    The photo is read and checked when the projection is made, before any step runs.
    """

    def __init__(
        self,
        bundle,
        image,
        *,
        steps: int = PROJECTION_STEPS,
        lr: float = 0.05,
        clip_weight: float = 0.5,
        max_seconds: float = PROJECTION_SECONDS,
    ) -> None:
        if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
            raise ConfigError(
                f"projection steps must be between 1 and {MAX_STEPS}, got {shown(steps)}"
            )
        if not (isinstance(max_seconds, (int, float)) and max_seconds > 0):
            raise ConfigError(f"projection seconds must be above 0, got {shown(max_seconds)}")
        self.bundle, self.steps, self.lr, self.clip_weight = bundle, steps, lr, clip_weight
        self.max_seconds = float(max_seconds)
        G = bundle.generator
        self._target = load_image(image, G.resolution).to(G.mean_w.device)  # [1, 3, R, R]
        self._w = source_from_mean(G).clone().float().requires_grad_(True)  # [1, L, S]
        self._done, self._stopped, self._ended = 0, False, "done"
        self._seconds = 0.0

    def stop(self) -> None:
        """End the projection after the step in progress."""
        self._stopped = True

    def __iter__(self) -> Iterator[EditStep]:
        G, clip = self.bundle.generator, self.bundle.clip
        start = time.perf_counter()
        with torch.no_grad():
            target_embed = clip.embed_image(self._target).float()
        optimizer = torch.optim.Adam([self._w], lr=self.lr)
        for i in range(self.steps):
            if self._stopped or time.perf_counter() - start > self.max_seconds:
                self._ended = "stopped" if self._stopped else "time limit"
                break
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(i / self.steps, self.lr, rampup=0.05, rampdown=0.25)
            images = G.synthesis(self._w)
            pixel = F.mse_loss(images.float(), self._target)
            similarity = (clip.embed_image(images).float() * target_embed).sum(-1).mean()
            total = pixel + self.clip_weight * (1.0 - similarity)
            (self._w.grad,) = torch.autograd.grad(total, [self._w])
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            self._done, self._seconds = i + 1, time.perf_counter() - start
            yield self._step_record(images, pixel, similarity, total)
        self._seconds = time.perf_counter() - start

    def _step_record(self, images, pixel, similarity, total) -> EditStep:
        show = self._done % PREVIEW_EVERY == 0 or self._done == self.steps
        return EditStep(
            step=self._done,
            total=self.steps,
            losses={"pixel": pixel.item(), "clip": 1.0 - similarity.item(), "total": total.item()},
            similarity=similarity.item(),
            w=self._w.detach().clone(),
            preview=to_uint8(images.detach()) if show else None,
            layer_mask=None,
            phase="projection",
        )

    def result(self) -> tuple[torch.Tensor, dict]:
        """(w_plus [1, L, S], report): the steps left are run first (none after a stop)."""
        for _ in self:
            pass
        G, clip = self.bundle.generator, self.bundle.clip
        with torch.no_grad():
            final = G.synthesis(self._w).float()
            mse = float(F.mse_loss(final, self._target))
            target_embed = clip.embed_image(self._target).float()
            similarity = float((clip.embed_image(final).float() * target_embed).sum(-1).mean())
        report = {
            "steps": self._done,
            "of_steps": self.steps,
            "ended": self._ended,
            "mse": mse,
            "psnr_db": 10 * math.log10(4.0 / max(mse, 1e-12)),  # over [-1, 1] (peak-to-peak 2)
            "clip_similarity": similarity,
            "seconds": self._seconds,
        }
        return self._w.detach(), report

    def notice(self, report: dict) -> str:
        """The notice of a finished projection (says when it ended early, and why)."""
        text = f"photo projected into W+ (PSNR {report['psnr_db']:.1f} dB)"
        if report["ended"] == "time limit":
            text += (
                f"; it reached its time limit of {self.max_seconds:g} s at step "
                f"{report['steps']} of {self.steps}, so the start picture is a rougher likeness"
            )
        elif report["ended"] == "stopped":
            text += f"; stopped at step {report['steps']} of {self.steps}"
        return text


def project_image(
    bundle,
    image,
    *,
    steps: int = PROJECTION_STEPS,
    seed: int = 0,
    lr: float = 0.05,
    clip_weight: float = 0.5,
    max_seconds: float = PROJECTION_SECONDS,
) -> tuple[torch.Tensor, dict]:
    """Find a W+ latent [1, L, S] whose image looks like ``image``; returns (w_plus, report).

    ``seed`` is accepted for a uniform interface: the projection starts from the mean latent and
    draws nothing random, so it is deterministic anyway (up to where a time limit stops it).
    """
    projection = Projection(
        bundle, image, steps=steps, lr=lr, clip_weight=clip_weight, max_seconds=max_seconds
    )
    w, report = projection.result()
    return w, {**report, "seed": seed}
