"""The frozen CLIP side of training, computed once before the first step.

Every caption (with its augmented variants), every label and every image of the training items
is embedded by the frozen CLIP model exactly once; :class:`ClipCache` holds those embeddings and,
per item, the index of its caption, label and image, so a batch only gathers rows and CLIP never
runs inside the loop. Caption variants are drawn from a generator of the run's seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from soundedit.train.config import TrainConfig
from soundedit.train.data import TrainItem, load_image
from soundedit.train.textaug import text_variants


@dataclass
class ClipCache:
    """Frozen CLIP embeddings for every item: captions (with variants), labels and images."""

    text: torch.Tensor | None  # [n_captions, V, D] caption variants (None: no captions)
    text_id: torch.Tensor  # [N] caption index per item
    label: torch.Tensor | None  # [n_labels, D]
    label_id: torch.Tensor  # [N] label index per item (-1: none)
    image: torch.Tensor | None  # [n_images, D]
    image_id: torch.Tensor  # [N] image index per item (-1: none)
    clip_scale: float  # CLIP's own logit scale (text -> image softmax of the KL term)
    negative: torch.Tensor | None = None  # [N] bool: items from outside the world


@torch.no_grad()
def build_clip_cache(
    items: Sequence[TrainItem], clip: Any, config: TrainConfig, *, device: torch.device
) -> ClipCache:
    """Embed every caption variant, label and image once with the frozen CLIP."""
    g = torch.Generator().manual_seed(config.seed + 1)
    captions = _index([it.caption(config.text_template) for it in items])
    variants = [v for c in captions[0] for v in text_variants(c, config.text_variants, generator=g)]
    text = (
        _embed_texts(clip, variants).view(len(captions[0]), config.text_variants, -1)
        if variants
        else None
    )
    labels, label_id = _index([it.label for it in items])
    label = _embed_texts(clip, [config.text_template.format(x) for x in labels]) if labels else None
    image_keys, image_id = _index([_image_key(it, i) for i, it in enumerate(items)])
    first: dict[int, int] = {}  # image index -> first item that shows it
    for i, k in enumerate(image_id):
        if k >= 0:
            first.setdefault(k, i)
    image = (
        _embed_images(clip, [items[first[k]] for k in range(len(image_keys))], device)
        if image_keys
        else None
    )
    return ClipCache(
        text,
        torch.tensor(captions[1]),
        label,
        torch.tensor(label_id),
        image,
        torch.tensor(image_id),
        float(getattr(clip, "logit_scale", 100.0)),
        torch.tensor([bool(it.negative) for it in items], dtype=torch.bool),
    )


def _index(values: Sequence[Any]) -> tuple[list, list[int]]:
    """Distinct non-None values in first-seen order, and each value's index (-1 for None)."""
    order: dict[Any, int] = {}
    ids = [-1 if v is None else order.setdefault(v, len(order)) for v in values]
    return list(order), ids


def _image_key(item: TrainItem, i: int) -> Any:
    if item.image_embedding is None and item.image is None:
        return None
    return str(item.image) if isinstance(item.image, (str, Path)) else ("item", i)


def _embed_texts(clip: Any, texts: list[str], chunk: int = 256) -> torch.Tensor:
    parts = [
        clip.embed_text(texts[i : i + chunk]).float().cpu() for i in range(0, len(texts), chunk)
    ]
    return torch.cat(parts)


def _clip_device(clip: Any, fallback: torch.device) -> torch.device:
    """Where the CLIP model lives (it may differ from the encoder's device)."""
    if isinstance(clip, nn.Module):
        for tensor in (*clip.parameters(), *clip.buffers()):
            return tensor.device
    return fallback


def _embed_images(clip: Any, items: list[TrainItem], device, chunk: int = 64) -> torch.Tensor:
    out: list[torch.Tensor | None] = [
        None
        if it.image_embedding is None
        else F.normalize(it.image_embedding.float().flatten(), dim=0)
        for it in items
    ]
    todo = [i for i, v in enumerate(out) if v is None]
    device = _clip_device(clip, device)
    for start in range(0, len(todo), chunk):
        idx = todo[start : start + chunk]
        images = [items[i].image for i in idx]
        images = [load_image(x) if isinstance(x, (str, Path)) else x for x in images]
        sizes = {tuple(x.shape) for x in images}
        if len(sizes) > 1:  # mixed sizes: embed one at a time (CLIP resizes anyway)
            emb = torch.cat([clip.embed_image(x[None].to(device)) for x in images])
        else:
            emb = clip.embed_image(torch.stack(images).to(device))
        for i, e in zip(idx, emb.float().cpu(), strict=True):
            out[i] = e
    return torch.stack(out)
