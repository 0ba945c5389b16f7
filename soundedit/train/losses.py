"""The four alignment losses of Lee et al. (CVPR 2022; Robust Sound-Guided Image Manipulation).

All embeddings are unit-norm. ``logit_scale`` is 1 / temperature. Under ``torchrun`` the
contrastive terms run on the batch gathered from every rank (see :mod:`.distributed`); the weak
KL term is per example and is averaged over the global batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from soundedit.errors import ConfigError
from soundedit.train.distributed import gather_with_grad, is_distributed, world_size

TERMS = ("text", "image", "augment", "weak_kl", "negative")


@dataclass(frozen=True)
class LossConfig:
    """Which terms are on, their weights and the temperature."""

    text: float = 1.0  # weight of InfoNCE audio <-> text (caption or label); 0 switches it off
    image: float = 1.0  # weight of InfoNCE audio <-> image (frame of the same video)
    augment: float = 1.0  # weight of InfoNCE audio <-> SpecAugmented audio (self-supervised)
    weak_kl: float = 0.0  # weight of KL(text->image || audio->image) over same-label images
    weak_pairs: int = 8  # images of the same label from other groups per example (KL term)
    negative: float = 0.0  # weight of the hinge that keeps negative items far from the world
    negative_margin: float = 0.2  # how much closer (cosine) a caption / image is to its own sound
    temperature: float = 0.07  # initial (or fixed) softmax temperature of the audio side
    learn_temperature: bool = True  # train log(1/temperature) with the encoder
    max_logit_scale: float = 100.0  # clamp of 1/temperature, as in CLIP

    def weights(self) -> dict[str, float]:
        """The weight of every term, switched-off ones included."""
        return {name: float(getattr(self, name)) for name in TERMS}

    def active(self) -> tuple[str, ...]:
        """Names of the terms with a non-zero weight."""
        return tuple(name for name, w in self.weights().items() if w != 0.0)

    def validate(self) -> None:
        """Raise ConfigError unless at least one term is on and the numbers make sense."""
        if any(w < 0 for w in self.weights().values()):
            raise ConfigError(f"loss weights must be >= 0, got {self.weights()}")
        if not self.active():
            raise ConfigError(
                "every loss is switched off; set at least one of losses.text, losses.image, "
                "losses.augment, losses.weak_kl to a positive weight"
            )
        if not 0 < self.temperature <= 1:
            raise ConfigError(f"losses.temperature must be in (0, 1], got {self.temperature}")
        if not 0 <= self.negative_margin <= 2:
            raise ConfigError(
                f"losses.negative_margin must be in [0, 2], got {self.negative_margin}"
            )
        if self.weak_kl and self.weak_pairs < 2:
            raise ConfigError(
                f"losses.weak_pairs must be >= 2 for the KL term, got {self.weak_pairs}"
            )


class Temperature(nn.Module):
    """log(1 / temperature), trainable or fixed; ``forward()`` gives the clamped logit scale."""

    def __init__(self, config: LossConfig):
        super().__init__()
        value = torch.tensor(math.log(1.0 / config.temperature))
        if config.learn_temperature:
            self.log_scale = nn.Parameter(value)
        else:
            self.register_buffer("log_scale", value)
        self.max_scale = config.max_logit_scale

    def forward(self) -> torch.Tensor:
        return self.log_scale.exp().clamp(max=self.max_scale)


def pair_targets(keys: torch.Tensor | None, n: int, device: torch.device) -> torch.Tensor:
    """Target distribution [n, n]: uniform over the columns whose key equals the row's key.

    With ``keys=None`` every row's only positive is its own column (the identity).
    """
    if keys is None:
        return torch.eye(n, device=device)
    same = (keys[:, None] == keys[None, :]).float()
    return same / same.sum(1, keepdim=True)


def info_nce(
    a: torch.Tensor,
    b: torch.Tensor,
    logit_scale: torch.Tensor | float,
    *,
    keys: torch.Tensor | None = None,
) -> torch.Tensor:
    """Symmetric InfoNCE between unit rows ``a`` [N, D] and ``b`` [N, D] (row i pairs with row i).

    ``keys`` [N] marks rows that share a positive (e.g. the same caption twice in a batch): the
    target is then spread evenly over them instead of calling the duplicates negatives.
    """
    logits = logit_scale * a @ b.T  # [N, N]
    target = pair_targets(keys, a.shape[0], a.device)
    loss_ab = -(target * F.log_softmax(logits, dim=1)).sum(1).mean()
    loss_ba = -(target.T * F.log_softmax(logits.T, dim=1)).sum(1).mean()
    return (loss_ab + loss_ba) / 2


def weak_pair_kl_sum(
    audio: torch.Tensor,
    text: torch.Tensor,
    images: torch.Tensor,
    valid: torch.Tensor,
    audio_scale: torch.Tensor | float,
    text_scale: float,
) -> torch.Tensor:
    """Sum over valid rows of KL(p_text || p_audio) over each row's K weakly paired images.

    Args:
        audio: [B, D] audio embeddings; text: [B, D] CLIP text embeddings of the labels.
        images: [B, K, D] CLIP embeddings of images with the same label from other groups.
        valid: [B] bool, rows that have such images.
        audio_scale: 1/temperature of the audio side; text_scale: CLIP's own logit scale.
    """
    log_p_audio = F.log_softmax(audio_scale * torch.einsum("bd,bkd->bk", audio, images), dim=1)
    log_p_text = F.log_softmax(text_scale * torch.einsum("bd,bkd->bk", text, images), dim=1)
    kl = (log_p_text.exp() * (log_p_text - log_p_audio)).sum(1)  # [B]
    return (kl * valid.float()).sum()


def negative_hinge(
    negatives: torch.Tensor, targets: torch.Tensor, positive: torch.Tensor, margin: float
) -> torch.Tensor:
    """Mean over negatives of max over targets of max(0, cos(negative, target) - positive + margin).

    A triplet loss with the world's captions and images as anchors: each target's own sound
    must be closer to it than any sound from outside the world, by ``margin`` (in cosine); each
    negative answers for the anchor it comes closest to beating ("none of these" means not even
    the nearest). It is relative, so a larger logit scale cannot satisfy it by shrinking every
    cosine.

    Args:
        negatives: [M, D] unit audio embeddings of sounds from outside the world.
        targets: [T, D] unit CLIP embeddings of the world's captions and images in the batch.
        positive: [T] cosine of each target with the audio it is paired with.
    """
    violation = F.relu(negatives @ targets.T - positive[None, :] + margin)  # [M, T]
    return violation.max(dim=1).values.mean()


@dataclass
class LossBatch:
    """Embeddings of one (local) batch for :func:`alignment_loss`; unused fields may be None."""

    audio: torch.Tensor  # [B, D] unit, with grad
    audio_aug: torch.Tensor | None = None  # [B, D] unit, SpecAugmented view
    text: torch.Tensor | None = None  # [B, D] CLIP text embedding (possibly augmented caption)
    text_ids: torch.Tensor | None = None  # [B] id of the caption before augmentation
    image: torch.Tensor | None = None  # [B, D] CLIP image embedding of the paired image
    image_ids: torch.Tensor | None = None  # [B] id of the paired image (shared frames)
    label_text: torch.Tensor | None = None  # [B, D] CLIP text embedding of the label (KL term)
    weak_images: torch.Tensor | None = None  # [B, K, D]
    weak_valid: torch.Tensor | None = None  # [B] bool
    negative: torch.Tensor | None = None  # [B] bool: items from outside the world


def alignment_loss(
    config: LossConfig,
    batch: LossBatch,
    *,
    logit_scale: torch.Tensor,
    clip_scale: float = 100.0,
) -> dict[str, torch.Tensor]:
    """Weighted sum of the active terms: {"loss": to backpropagate, "<term>": its value}.

    Under a process group, contrastive terms use the global batch (identical on every rank) and
    the KL term is scaled so that DistributedDataParallel's gradient averaging gives the
    global-batch gradient; the reported values are global.
    """
    out: dict[str, torch.Tensor] = {}
    total = batch.audio.new_zeros(())
    gather = gather_with_grad
    audio = gather(batch.audio)
    for name, other, keys in (
        ("text", batch.text, batch.text_ids),
        ("image", batch.image, batch.image_ids),
        ("augment", batch.audio_aug, None),
    ):
        if not config.weights()[name]:
            continue
        if other is None:
            raise ValueError(f"loss term {name!r} is on but the batch has no {name} embeddings")
        keys = gather(keys) if keys is not None else None
        rows, other = audio, gather(other)
        if name != "augment" and keys is not None and bool((keys < 0).any()):
            paired = keys >= 0  # rows without a caption / image take no part in this term
            rows, other, keys = rows[paired], other[paired], keys[paired]
            if rows.shape[0] < 2:
                continue
        term = info_nce(rows, other, logit_scale, keys=keys)
        out[name] = term.detach()
        total = total + config.weights()[name] * term
    if config.weak_kl:
        kl_sum = weak_pair_kl_sum(
            batch.audio,
            batch.label_text,
            batch.weak_images,
            batch.weak_valid,
            logit_scale,
            clip_scale,
        )
        count = batch.weak_valid.float().sum()
        if is_distributed():
            count = count.detach().clone()
            torch.distributed.all_reduce(count)
        term = kl_sum / count.clamp(min=1)
        # DDP averages gradients over ranks, so scale the local share back up.
        total = total + config.weak_kl * term * world_size()
        reported = term.detach().clone()
        if is_distributed():
            torch.distributed.all_reduce(reported)
        out["weak_kl"] = reported
    if (term := _negative_term(config, batch, audio, gather)) is not None:
        out["negative"], total = term.detach(), total + config.negative * term
    out["loss"] = total
    return out


def _negative_term(config: LossConfig, batch: LossBatch, audio, gather) -> torch.Tensor | None:
    """The triplet hinge of the batch's negatives against its world captions and images, each
    anchored by the sound it is paired with (or None when the batch has no such pair)."""
    if not config.negative or batch.negative is None:
        return None
    negative = gather(batch.negative)
    if not bool(negative.any()):
        return None
    targets, positive = [], []
    for other, keys in ((batch.text, batch.text_ids), (batch.image, batch.image_ids)):
        if other is not None and keys is not None:
            keep = (gather(keys) >= 0) & ~negative
            anchors = gather(other)[keep]
            targets.append(anchors)
            positive.append((audio[keep] * anchors).sum(1))
    if not targets or sum(t.shape[0] for t in targets) == 0:
        return None
    return negative_hinge(
        audio[negative], torch.cat(targets), torch.cat(positive), config.negative_margin
    )


def reported_loss(terms: dict[str, torch.Tensor], config: LossConfig) -> float:
    """The global weighted loss for logs (same value on every rank)."""
    return float(sum(config.weights()[k] * terms[k] for k in TERMS if k in terms))
