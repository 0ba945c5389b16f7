"""The training loop: a trainable audio encoder pulled into a frozen CLIP space.

CLIP never runs inside the loop: the text embeddings of every caption (and its augmented
versions), of every label, and the image embeddings are computed once before the first step
(:class:`ClipCache`). Under ``torchrun`` every rank walks the same seeded order of global
batches and takes its own slice; the encoder is wrapped in DistributedDataParallel and the
contrastive terms see the gathered global batch.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from soundedit.errors import ConfigError
from soundedit.train import distributed as dist_utils
from soundedit.train.config import TrainConfig
from soundedit.train.data import TrainItem, compute_item_features, load_image
from soundedit.train.losses import LossBatch, Temperature, alignment_loss, reported_loss
from soundedit.train.textaug import text_variants

Log = Callable[[str], None]


class AudioTower(nn.Module):
    """What training changes: the audio encoder and (optionally) the temperature."""

    def __init__(self, encoder: nn.Module, temperature: Temperature):
        super().__init__()
        self.encoder = encoder
        self.temperature = temperature

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.encoder(features).float(), dim=-1)  # [B, D] unit


@dataclass
class TrainResult:
    """What a run produced."""

    encoder: nn.Module  # trained encoder (best validation weights when validation ran), eval mode
    logit_scale: float  # final 1 / temperature
    history: list[dict[str, float]]  # one record per epoch
    steps: int  # optimiser steps taken in total (resumed runs included)
    seconds: float  # wall time of this call
    best_metrics: dict[str, float] = field(
        default_factory=dict
    )  # val_r1 / val_r5 of the best epoch
    best_path: Path | None = None  # best checkpoint (safetensors) when out_dir was set
    last_path: Path | None = None  # last checkpoint
    skipped: list[tuple[str, str]] = field(default_factory=list)  # unreadable items and why


# --- CLIP embeddings, computed once ---------------------------------------------------------------


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


# --- checks before training -----------------------------------------------------------------------


def check_inputs(
    items: Sequence[TrainItem], config: TrainConfig, *, what: str = "training"
) -> None:
    """Raise ConfigError for data the active losses cannot use, before any work starts."""
    if not items:
        raise ConfigError(f"the {what} dataset is empty: no readable items to train on")
    losses = config.losses
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


# --- schedule and optimiser -----------------------------------------------------------------------


def learning_rate(step: int, config: TrainConfig, steps_per_epoch: int, total_steps: int) -> float:
    """The learning rate at ``step``: warm-up, then cosine cycles (restarts) or one cosine."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    if config.schedule == "constant":
        return config.lr
    t = step - config.warmup_steps
    if config.schedule == "cosine_cyclic":
        cycle = config.cycle_steps or steps_per_epoch
        phase = (t % cycle) / cycle
    else:
        phase = min(1.0, t / max(1, total_steps - config.warmup_steps))
    return config.min_lr + (config.lr - config.min_lr) * 0.5 * (1 + math.cos(math.pi * phase))


def make_optimizer(params, config: TrainConfig) -> torch.optim.Optimizer:
    """SGD (the papers), Adam or AdamW with the configured peak lr and weight decay."""
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)


# --- the loop -------------------------------------------------------------------------------------


def build_encoder(config: TrainConfig) -> nn.Module:
    """An AudioEncoder from ``config.encoder`` (AudioEncoderConfig fields), seeded."""
    from soundedit.config import from_dict
    from soundedit.encoders.audio import AudioEncoder, AudioEncoderConfig

    torch.manual_seed(config.seed)
    return AudioEncoder(from_dict(AudioEncoderConfig, config.encoder, where="encoder"))


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


class FeatureBank:
    """Features of every item: one stacked tensor in memory, or cached files read per batch."""

    def __init__(self, features: Sequence[torch.Tensor | Path]):
        self.entries = list(features)
        first = self._load(self.entries[0])
        self.data: torch.Tensor | None = None
        if all(isinstance(f, torch.Tensor) for f in self.entries):
            shapes = {tuple(f.shape) for f in self.entries}
            if len(shapes) != 1:
                raise ConfigError(f"all features must have one shape; found {sorted(shapes)[:4]}")
            self.data = torch.stack(self.entries)  # [N, 1, H, W]
        self.shape = tuple(first.shape)

    @staticmethod
    def _load(entry: torch.Tensor | Path) -> torch.Tensor:
        if isinstance(entry, torch.Tensor):
            return entry
        from safetensors.torch import load_file

        return load_file(str(entry))["features"]

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, index: torch.Tensor) -> torch.Tensor:
        """Features [b, 1, H, W] of the items at ``index``."""
        if self.data is not None:
            return self.data[index]
        batch = [self._load(self.entries[i]) for i in index.tolist()]
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
        from soundedit.audio.augment import spec_augment

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
        text_id = cache.text_id[index]
        batch.text = cache.text[text_id, variant].to(device)
        batch.text_ids = text_id.to(device)
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
        batch.label_text = cache.label[cache.label_id[index]].to(device)
    return features.to(device), None if augmented is None else augmented.to(device), batch


def compute_loss(
    model: nn.Module,
    features: torch.Tensor,
    augmented: torch.Tensor | None,
    batch: LossBatch,
    config: TrainConfig,
    *,
    logit_scale: torch.Tensor,
    clip_scale: float,
    amp: bool = False,
) -> dict[str, torch.Tensor]:
    """Forward the audio (and its augmented view in the same pass) and evaluate the losses."""
    x = features if augmented is None else torch.cat([features, augmented])
    with torch.autocast("cuda", dtype=torch.float16, enabled=amp):
        audio = model(x).float()  # [b or 2b, D]
    b = features.shape[0]
    batch = dataclasses.replace(
        batch, audio=audio[:b], audio_aug=None if augmented is None else audio[b:]
    )
    return alignment_loss(config.losses, batch, logit_scale=logit_scale, clip_scale=clip_scale)


def _log_skipped(skipped: list, n_items: int, log: Log) -> None:
    for row, why in skipped[:5]:
        log(f"skipped {row}: {why}")
    if skipped:
        log(f"{len(skipped)} items skipped (unreadable); training on {n_items}")


def _check_batch_size(config: TrainConfig, n_items: int) -> None:
    world = dist_utils.world_size()
    if config.batch_size % world or config.batch_size > n_items:
        raise ConfigError(
            f"batch_size {config.batch_size} must be a multiple of the {world} processes and "
            f"at most the {n_items} training items"
        )


def train_audio_encoder(
    config: TrainConfig,
    train_items: Sequence[TrainItem],
    val_items: Sequence[TrainItem] | None = None,
    *,
    clip: Any,
    encoder: nn.Module | None = None,
    device: str | torch.device = "cpu",
    log: Log = print,
    meta: dict[str, Any] | None = None,
) -> TrainResult:
    """Train an audio encoder into ``clip``'s frozen embedding space.

    Args:
        config: the run's settings (:class:`TrainConfig`).
        train_items: training items (in memory or from :func:`load_items`).
        val_items: items for the audio->text R@1/R@5 that picks the best checkpoint.
        clip: a ClipBridge, or any object with ``embed_text``, ``embed_image`` and ``embed_dim``.
        encoder: the module to train (features [B, 1, H, W] -> [B, D]); None builds an
            AudioEncoder from ``config.encoder``.
        device: where the encoder trains. Under ``torchrun`` the process group is joined here.
        log: receives one line per epoch (rank 0 only).
        meta: extra entries for the checkpoints' json ``meta`` (e.g. how to load the CLIP).

    Raises:
        ConfigError: all losses off, an empty dataset, labels missing with the KL term on,
            images missing with an image term on, or an embedding size CLIP does not have.
    """
    start = time.time()
    config.validate()
    device = torch.device(device)
    distributed = dist_utils.init_from_env(device)
    encoder = (encoder if encoder is not None else build_encoder(config)).to(device)
    rank0 = dist_utils.rank() == 0
    log = log if rank0 else (lambda _line: None)
    items, features, skipped = prepare_items(train_items, encoder, config, what="training")
    val = prepare_items(val_items, encoder, config, what="validation") if val_items else None
    skipped += val[2] if val else []
    _log_skipped(skipped, len(items), log)
    check_embed_dim(encoder, clip, FeatureBank._load(features[0]))
    _check_batch_size(config, len(items))
    cache = build_clip_cache(items, clip, config, device=device)
    weak = weak_candidates(items) if config.losses.weak_kl else None
    if weak is not None and not any(len(w) for w in weak):
        raise ConfigError(
            "losses.weak_kl is on but no item has a same-label image from another group"
        )
    bank = FeatureBank(features)
    tower = AudioTower(encoder, Temperature(config.losses)).to(device)
    model: nn.Module = tower
    if distributed:
        if config.sync_batchnorm and device.type == "cuda":  # SyncBatchNorm is CUDA-only
            tower = nn.SyncBatchNorm.convert_sync_batchnorm(tower)
        model = nn.parallel.DistributedDataParallel(tower)
    optimizer = make_optimizer(tower.parameters(), config)
    run = _Run(config, tower, model, optimizer, bank, cache, weak, items, val, clip, device, log)
    run.extra_meta = dict(meta or {})
    run.resume()
    run.fit(start)
    return run.result(start, skipped)


class _Run:
    """The mutable state of one training run (epochs, steps, best metric, checkpoints)."""

    def __init__(
        self, config, tower, model, optimizer, bank, cache, weak, items, val, clip, device, log
    ):
        self.config, self.tower, self.model, self.optimizer = config, tower, model, optimizer
        self.bank, self.cache, self.weak, self.items, self.val = bank, cache, weak, items, val
        self.val_bank: FeatureBank | None = None
        self.clip, self.device, self.log = clip, device, log
        self.amp = config.amp and device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.epoch, self.step, self.history = 0, 0, []
        self.best: dict[str, float] = {}
        self.best_state: dict[str, torch.Tensor] | None = None
        self.out = Path(config.out_dir) if config.out_dir else None
        self.extra_meta: dict[str, Any] = {}
        self.rank, self.world = dist_utils.rank(), dist_utils.world_size()
        self.steps_per_epoch = len(bank) // config.batch_size
        total = self.steps_per_epoch * config.epochs
        self.total_steps = min(total, config.max_steps) if config.max_steps else total

    # -- resume and checkpoints --
    def resume(self) -> None:
        from soundedit.train.checkpoint import has_state, load_state

        if not (self.out and self.config.resume and has_state(self.out / "state")):
            return
        info = load_state(self.out / "state", self.tower, self.optimizer)
        self.epoch, self.step = int(info["epoch"]), int(info["step"])
        self.history, self.best = list(info.get("history", [])), dict(info.get("best", {}))
        self.log(f"resumed from {self.out / 'state'} at epoch {self.epoch}, step {self.step}")

    def save(self, metrics: dict[str, float], is_best: bool) -> None:
        from soundedit.train.checkpoint import encoder_meta, save_encoder, save_state

        if self.rank != 0 or self.out is None:
            return
        meta = encoder_meta(
            self.tower.encoder,
            self.clip,
            {
                "epoch": self.epoch,
                "step": self.step,
                **metrics,
                "losses": self.config.losses.weights(),
                "logit_scale": float(self.tower.temperature().detach()),
                **self.extra_meta,
            },
        )
        save_encoder(self.tower.encoder, self.out / "last", meta)
        if is_best:
            save_encoder(self.tower.encoder, self.out / "best", meta)
        info = {"epoch": self.epoch, "step": self.step, "history": self.history, "best": self.best}
        save_state(self.out / "state", self.tower, self.optimizer, self.config, info)

    # -- training --
    def fit(self, start: float) -> None:
        config = self.config
        deadline = start + 60 * config.max_minutes if config.max_minutes else math.inf
        while (
            self.epoch < config.epochs and self.step < self.total_steps and time.time() < deadline
        ):
            totals = self.train_epoch(deadline)
            self.epoch += 1
            record = {
                "epoch": self.epoch,
                "step": self.step,
                **totals,
                "seconds": round(time.time() - start, 2),
            }
            if self.val is not None and (
                self.epoch % config.val_every == 0 or self.epoch == config.epochs
            ):
                record.update(self.validate())
            self.history.append(record)
            is_best = self._is_better(record)
            if is_best:
                self.best = {k: v for k, v in record.items() if k.startswith("val_")}
                self.best_state = {
                    k: v.detach().clone() for k, v in self.tower.encoder.state_dict().items()
                }
            self.save({k: v for k, v in record.items() if k.startswith("val_")}, is_best)
            self.log(
                " ".join(
                    f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                    for k, v in record.items()
                )
            )

    def _is_better(self, record: dict[str, float]) -> bool:
        if "val_r1" not in record:
            return self.val is None
        key = (record["val_r1"], record["val_r5"])
        return not self.best or key > (self.best.get("val_r1", -1), self.best.get("val_r5", -1))

    def train_epoch(self, deadline: float) -> dict[str, float]:
        config, b = self.config, self.config.batch_size // self.world
        order = torch.randperm(
            len(self.bank), generator=torch.Generator().manual_seed(config.seed * 7919 + self.epoch)
        )
        sums: dict[str, float] = {}
        count = 0
        self.model.train()
        batches = range(self.steps_per_epoch)
        if config.progress and self.rank == 0:
            from tqdm.auto import tqdm

            batches = tqdm(batches, desc=f"epoch {self.epoch + 1}", leave=False)
        for k in batches:
            if self.step >= self.total_steps or time.time() >= deadline:
                break
            index = order[k * config.batch_size : (k + 1) * config.batch_size][
                self.rank * b : (self.rank + 1) * b
            ]
            terms = self.train_step(index, self.rank * b)
            for name, value in terms.items():
                sums[name] = sums.get(name, 0.0) + value
            count += 1
            if hasattr(batches, "set_postfix"):
                batches.set_postfix(loss=f"{terms['loss']:.3f}")
        return {name: value / max(count, 1) for name, value in sums.items()}

    def train_step(self, index: torch.Tensor, offset: int) -> dict[str, float]:
        config = self.config
        lr = learning_rate(self.step, config, self.steps_per_epoch, self.total_steps)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        features, augmented, batch = make_batch(
            index, offset, self.step, self.bank, self.cache, self.weak, config, self.device
        )
        terms = compute_loss(
            self.model,
            features,
            augmented,
            batch,
            config,
            logit_scale=self.tower.temperature(),
            clip_scale=self.cache.clip_scale,
            amp=self.amp,
        )
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(terms["loss"]).backward()
        if config.grad_clip:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.tower.parameters(), config.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.step += 1
        out = {f"loss_{k}": float(v) for k, v in terms.items() if k != "loss"}
        out["loss"] = reported_loss(terms, config.losses)
        out["lr"] = lr
        return out

    def validate(self) -> dict[str, float]:
        from soundedit.train.evaluate import audio_to_text_recall

        items, features, _ = self.val
        captions = [it.caption(self.config.text_template) for it in items]
        if any(c is None for c in captions):
            return {}  # unlabelled validation audio: nothing to retrieve
        if self.val_bank is None:  # stacked once, not every validation
            self.val_bank = FeatureBank(features)
        return {
            f"val_{k}": v
            for k, v in audio_to_text_recall(
                self.tower.encoder,
                self.val_bank.all(),
                captions,
                self.clip,
                device=self.device,
            ).items()
        }

    def result(self, start: float, skipped) -> TrainResult:
        encoder = self.tower.encoder
        if self.best_state is not None and self.val is not None:
            encoder.load_state_dict(self.best_state)
        out = self.out
        return TrainResult(
            encoder=encoder.eval(),
            logit_scale=float(self.tower.temperature().detach()),
            history=self.history,
            steps=self.step,
            seconds=time.time() - start,
            best_metrics=self.best,
            best_path=out / "best.safetensors"
            if out and (out / "best.safetensors").is_file()
            else None,
            last_path=out / "last.safetensors"
            if out and (out / "last.safetensors").is_file()
            else None,
            skipped=list(skipped),
        )
