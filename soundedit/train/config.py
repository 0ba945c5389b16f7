"""Settings of a training run (loaded strictly from JSON/TOML with soundedit.config.load_file)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from soundedit.errors import ConfigError
from soundedit.train.losses import LossConfig


@dataclass(frozen=True)
class DataConfig:
    """Where a split of the data lives (used by the ``train-audio`` command)."""

    path: str  # a .csv / .jsonl manifest or a dataset folder
    layout: str = "auto"  # auto | manifest | vggsound | audioset | esc50 | urbansound8k
    split: str | None = None  # manifest/VGGSound/AudioSet split to keep
    folds: tuple[int, ...] | None = None  # ESC-50 / UrbanSound8K folds to keep


@dataclass(frozen=True)
class TrainConfig:
    """One training run of an audio encoder into a frozen CLIP space."""

    # AudioEncoderConfig fields (used when no encoder module is passed)
    encoder: dict[str, Any] = field(default_factory=lambda: {"backbone": "resnet18"})
    clip: str = "ViT-B-32"  # CLIP aligned to: open_clip name, weights file or config json (CLI)
    clip_pretrained: str = "openai"  # open_clip pretrained tag or weights file (CLI)
    train_data: DataConfig | None = None  # training data (command line; the API takes items)
    val_data: DataConfig | None = None  # validation data (command line)
    out_dir: str | None = None  # checkpoints best/last/state go here; None keeps them in memory
    resume: bool = True  # continue from out_dir/state when it exists
    epochs: int = 10  # passes over the training items
    max_steps: int | None = None  # stop after this many optimiser steps (None: epochs decide)
    max_minutes: float | None = None  # stop after this much wall time (checked every step)
    batch_size: int = 64  # global batch (split evenly over torchrun ranks)
    optimizer: Literal["sgd", "adam", "adamw"] = "sgd"  # the papers use SGD
    lr: float = 1e-3  # peak learning rate
    min_lr: float = 0.0  # learning rate at the bottom of each cosine cycle
    momentum: float = 0.9  # SGD momentum
    weight_decay: float = 1e-4  # L2 / decoupled weight decay
    schedule: Literal["cosine_cyclic", "cosine", "constant"] = "cosine_cyclic"  # lr schedule
    cycle_steps: int | None = None  # length of one cosine cycle (None: one epoch)
    warmup_steps: int = 0  # linear warm-up before the schedule
    losses: LossConfig = field(default_factory=LossConfig)  # terms, weights, temperature
    max_freq: float = 0.15  # SpecAugment: largest fraction of mel bins one mask covers
    max_time: float = 0.30  # SpecAugment: largest fraction of frames one mask covers
    n_masks: int = 2  # SpecAugment: masks of each kind
    text_variants: int = 4  # captions per item: original + augmented ones (1: no augmentation)
    text_template: str = "{}"  # turns a label into a caption when an item has none
    seed: int = 0  # every random choice (init, order, masks, captions, weak pairs)
    amp: bool = True  # float16 autocast on CUDA (ignored on CPU)
    grad_clip: float | None = None  # clip the gradient norm to this value
    cache_dir: str | None = None  # feature cache folder (safetensors per sound file)
    val_every: int = 1  # validate every this many epochs
    progress: bool = True  # tqdm bar on rank 0
    sync_batchnorm: bool = True  # under torchrun, convert BatchNorm to SyncBatchNorm

    def validate(self) -> None:
        """Raise ConfigError for settings that cannot work (before any work starts)."""
        self.losses.validate()
        positive = {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "text_variants": self.text_variants,
            "val_every": self.val_every,
        }
        for name, value in positive.items():
            if value < 1:
                raise ConfigError(f"{name} must be >= 1, got {value}")
        if self.batch_size < 2 and (self.losses.text or self.losses.image or self.losses.augment):
            raise ConfigError("batch_size must be >= 2 for the contrastive terms")
        if self.lr <= 0 or self.min_lr < 0 or self.min_lr > self.lr:
            raise ConfigError(
                f"need 0 <= min_lr <= lr and lr > 0, got lr={self.lr} min_lr={self.min_lr}"
            )
        if "{}" not in self.text_template:
            raise ConfigError(f"text_template must contain '{{}}', got {self.text_template!r}")
