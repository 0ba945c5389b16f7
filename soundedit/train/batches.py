"""The audio side of training: checked inputs, their features, and seeded batches.

Before any work starts the items are checked against the active losses (captions, labels, images,
the encoder's embedding width) and their features computed or read from the feature cache, the
unreadable ones set aside. :class:`FeatureBank` then serves the features of any set of items, and
:func:`make_batch` assembles one batch: features, their SpecAugment view and the cached CLIP
embeddings the losses compare them with. Every random choice in a batch comes from a generator of
(seed, step, position in the global batch), so every rank of a distributed run agrees with a
single process.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from torch import nn

from soundedit.audio.augment import spec_augment
from soundedit.errors import ConfigError
from soundedit.train import distributed as dist_utils
from soundedit.train.cache import ClipCache
from soundedit.train.config import TrainConfig
from soundedit.train.data import TrainItem, compute_item_features
from soundedit.train.losses import LossBatch


def check_inputs(
    items: Sequence[TrainItem], config: TrainConfig, *, what: str = "training"
) -> None:
    """Raise ConfigError for data the active losses cannot use, before any work starts."""
    if not items:
        raise ConfigError(f"the {what} dataset is empty: no readable items to train on")
    losses = config.losses
    negatives = sum(1 for it in items if it.negative)
    if negatives and not losses.negative:
        raise ConfigError(
            f"{negatives} {what} items are negatives (from outside the world) but "
            "losses.negative is 0; give it a weight or leave those items out"
        )
    if negatives == len(items):
        raise ConfigError(f"all {len(items)} {what} items are negatives; the world has no sound")
    items = [it for it in items if not it.negative]  # negatives need no caption, label or image
    if losses.text or losses.weak_kl:
        n = sum(1 for it in items if it.caption(config.text_template) is None)
        if n:
            raise ConfigError(
                f"{n} {what} items have neither caption nor label; the text terms need one"
            )
    if losses.image or losses.weak_kl:
        # Items without an image (real clips weakly paired to a world) skip the audio<->image
        # term and are never a weak pair; but the terms need images somewhere.
        if all(it.image is None and it.image_embedding is None for it in items):
            term = "losses.image" if losses.image else "losses.weak_kl"
            raise ConfigError(
                f"none of the {len(items)} {what} items has an image but {term} is on; give "
                "images or set it to 0"
            )
    if losses.weak_kl:
        n = sum(1 for it in items if not it.label)
        if n:
            raise ConfigError(
                f"{n} {what} items have no label but losses.weak_kl is on: the weakly paired KL "
                "term needs a label per item (or set losses.weak_kl = 0)"
            )


def weak_candidates(items: Sequence[TrainItem]) -> list[torch.Tensor]:
    """For each item, the indices of items with an image and the same label from another group."""
    by_label: dict[str, list[int]] = {}
    for i, it in enumerate(items):
        if it.image is not None or it.image_embedding is not None:
            by_label.setdefault(it.label, []).append(i)
    out = []
    for i, it in enumerate(items):
        group = it.group if it.group is not None else ("item", i)
        same = [
            j
            for j in by_label.get(it.label, [])
            if j != i and (items[j].group if items[j].group is not None else ("item", j)) != group
        ]
        out.append(torch.tensor(same, dtype=torch.long))
    return out


def check_embed_dim(encoder: nn.Module, clip: Any, sample: torch.Tensor) -> int:
    """The encoder's output width; ConfigError when it differs from CLIP's."""
    dim = getattr(encoder, "embed_dim", None)
    if dim is None:
        with torch.no_grad():
            was = encoder.training
            encoder.eval()
            dim = int(encoder(sample[None].to(_device_of(encoder))).shape[-1])
            encoder.train(was)
    if int(dim) != int(clip.embed_dim):
        raise ConfigError(
            f"the audio encoder outputs {dim}-d embeddings but the CLIP model "
            f"{getattr(clip, 'name', '')!s} has embed_dim {clip.embed_dim}; set encoder.embed_dim "
            f"to {clip.embed_dim}"
        )
    return int(dim)


def _device_of(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


def prepare_items(
    items: Sequence[TrainItem], encoder: nn.Module, config: TrainConfig, *, what: str
) -> tuple[list[TrainItem], list, list[tuple[str, str]]]:
    """Items whose sound could be read, their features (or cached paths), and the skipped ones."""
    items = list(items)
    check_inputs(items, config, what=what)
    front_end = getattr(encoder, "front_end", None)
    if config.cache_dir and dist_utils.is_distributed():
        # Each rank fills its share of the cache first; the full pass below then only reads.
        share = items[dist_utils.rank() :: dist_utils.world_size()]
        compute_item_features(share, front_end, cache_dir=config.cache_dir, lazy=True)
        torch.distributed.barrier()
    features, skipped = compute_item_features(
        items,
        front_end,
        cache_dir=config.cache_dir,
        progress=config.progress and dist_utils.rank() == 0,
        lazy=config.cache_dir is not None,
    )
    kept = [i for i, f in enumerate(features) if f is not None]
    items, features = [items[i] for i in kept], [features[i] for i in kept]
    if not items:
        raise ConfigError(f"the {what} dataset is empty: all {len(skipped)} items were unreadable")
    return items, features, skipped


def read_features(entry: torch.Tensor | Path) -> torch.Tensor:
    """One item's features [1, H, W]: the tensor itself, or read from its cached file."""
    if isinstance(entry, torch.Tensor):
        return entry
    return load_file(str(entry))["features"]


class FeatureBank:
    """Features of every item: one stacked tensor in memory, or cached files read per batch."""

    def __init__(self, features: Sequence[torch.Tensor | Path]):
        self.entries = list(features)
        first = read_features(self.entries[0])
        self.data: torch.Tensor | None = None
        if all(isinstance(f, torch.Tensor) for f in self.entries):
            shapes = {tuple(f.shape) for f in self.entries}
            if len(shapes) != 1:
                raise ConfigError(f"all features must have one shape; found {sorted(shapes)[:4]}")
            self.data = torch.stack(self.entries)  # [N, 1, H, W]
        self.shape = tuple(first.shape)

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, index: torch.Tensor) -> torch.Tensor:
        """Features [b, 1, H, W] of the items at ``index``."""
        if self.data is not None:
            return self.data[index]
        batch = [read_features(self.entries[i]) for i in index.tolist()]
        if any(tuple(f.shape) != self.shape for f in batch):
            raise ConfigError(f"all features must have shape {self.shape}; the cache is mixed")
        return torch.stack(batch)

    def all(self) -> torch.Tensor:
        """Every item's features [N, 1, H, W]."""
        return self.data if self.data is not None else self.get(torch.arange(len(self)))


def item_generator(config: TrainConfig, step: int, position: int) -> torch.Generator:
    """The generator of one item at one step: the same whichever rank handles it."""
    return torch.Generator().manual_seed(
        (config.seed * 1_000_003 + step * 65_537 + position) % 2**62
    )


def make_batch(
    index: torch.Tensor,
    offset: int,
    step: int,
    bank: FeatureBank,
    cache: ClipCache,
    weak: list[torch.Tensor] | None,
    config: TrainConfig,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor | None, LossBatch]:
    """Features, their augmented view and the CLIP side of one (local) batch.

    ``offset`` is the position of ``index[0]`` in the global batch: every random choice comes
    from a generator of (seed, step, global position), so ranks agree with a single process.
    """
    losses = config.losses
    gens = [item_generator(config, step, offset + k) for k in range(len(index))]
    features = bank.get(index)  # [b, 1, H, W]
    augmented = None
    if losses.augment:
        augmented = torch.stack(
            [
                spec_augment(
                    f,
                    generator=g,
                    max_freq=config.max_freq,
                    max_time=config.max_time,
                    n_masks=config.n_masks,
                )
                for f, g in zip(features, gens, strict=True)
            ]
        )
    variant = torch.stack([torch.randint(config.text_variants, (), generator=g) for g in gens])
    batch = LossBatch(audio=torch.empty(0))
    if losses.text:
        text_id = cache.text_id[index]  # -1: no caption (a negative, left out of this term)
        batch.text = cache.text[text_id.clamp(min=0), variant].to(device)
        batch.text_ids = text_id.to(device)
    if losses.negative:
        batch.negative = cache.negative[index].to(device)
    if cache.image is not None:
        image_id = cache.image_id[index]  # -1: no paired image (left out of the image term)
        batch.image = cache.image[image_id.clamp(min=0)].to(device)
        batch.image_ids = image_id.to(device)
    if losses.weak_kl:
        picks, valid = [], []
        for i, g in zip(index.tolist(), gens, strict=True):
            options = weak[i]
            valid.append(len(options) > 0)
            chosen = (
                options[torch.randint(len(options), (losses.weak_pairs,), generator=g)]
                if len(options)
                else torch.zeros(losses.weak_pairs, dtype=torch.long)
            )
            picks.append(cache.image_id[chosen])
        batch.weak_images = cache.image[torch.stack(picks)].to(device)  # [b, K, D]
        batch.weak_valid = torch.tensor(valid, device=device)
        batch.label_text = cache.label[cache.label_id[index].clamp(min=0)].to(device)
    return features.to(device), None if augmented is None else augmented.to(device), batch
