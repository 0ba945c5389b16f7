"""The training run: a trainable audio encoder pulled into a frozen CLIP space.

:func:`train_audio_encoder` checks the settings, builds the CLIP cache and the feature bank, then
runs epochs of optimiser steps (learning-rate schedule, loss, gradient clipping, mixed precision on
CUDA), validates, keeps the best and last checkpoints and resumes from the saved state. Under
``torchrun`` every rank walks the same seeded order of global batches and takes its own slice; the
encoder is wrapped in DistributedDataParallel and the contrastive terms see the gathered global
batch. The CLIP embeddings live in :mod:`soundedit.train.cache`, the batches in
:mod:`soundedit.train.batches`.
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
from tqdm.auto import tqdm

from soundedit.config import from_dict
from soundedit.encoders.audio import AudioEncoder, AudioEncoderConfig
from soundedit.errors import ConfigError
from soundedit.train import distributed as dist_utils
from soundedit.train.batches import (
    FeatureBank,
    check_embed_dim,
    make_batch,
    prepare_items,
    read_features,
    weak_candidates,
)
from soundedit.train.cache import build_clip_cache
from soundedit.train.checkpoint import (
    encoder_meta,
    has_state,
    load_state,
    save_encoder,
    save_state,
)
from soundedit.train.config import TrainConfig
from soundedit.train.data import TrainItem
from soundedit.train.evaluate import audio_to_text_recall
from soundedit.train.losses import LossBatch, Temperature, alignment_loss, reported_loss

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
    torch.manual_seed(config.seed)
    return AudioEncoder(from_dict(AudioEncoderConfig, config.encoder, where="encoder"))


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
    check_embed_dim(encoder, clip, read_features(features[0]))
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
        if not (self.out and self.config.resume and has_state(self.out / "state")):
            return
        info = load_state(self.out / "state", self.tower, self.optimizer)
        self.epoch, self.step = int(info["epoch"]), int(info["step"])
        self.history, self.best = list(info.get("history", [])), dict(info.get("best", {}))
        self.log(f"resumed from {self.out / 'state'} at epoch {self.epoch}, step {self.step}")

    def save(self, metrics: dict[str, float], is_best: bool) -> None:
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
