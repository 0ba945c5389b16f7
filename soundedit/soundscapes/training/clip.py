"""Training the tiny CLIP: open_clip's CLIP and ClipLoss on (degraded render, caption) pairs."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import open_clip
import torch
from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD
from open_clip.loss import ClipLoss
from torch import nn

from soundedit.soundscapes.captions import CLASS_PROMPTS, captions
from soundedit.soundscapes.params import CLASSES, sample_for_class, sample_params
from soundedit.soundscapes.render import render
from soundedit.soundscapes.training.fit import (
    WEIGHTS_DIR,
    Log,
    Progress,
    cosine_lr,
    degrade,
    fit,
    previous_runs,
    seeded,
    train_command,
)
from soundedit.weights_io import load_weights, save_weights

# The open_clip architecture of the tiny CLIP, as open_clip model-config data.
CLIP_CONFIG: dict = {
    "embed_dim": 64,
    "vision_cfg": {
        "image_size": 64,
        "layers": 4,
        "width": 128,
        "patch_size": 8,
        "head_width": 32,
        "mlp_ratio": 2.0,
    },
    "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 64, "heads": 4, "layers": 3},
}


@dataclass(frozen=True)
class ClipModelConfig:
    embed_dim: int  # joint embedding width
    vision_cfg: dict  # open_clip CLIPVisionCfg fields
    text_cfg: dict  # open_clip CLIPTextCfg fields


def build_tiny_clip(config: dict = CLIP_CONFIG) -> nn.Module:
    """A fresh open_clip ``CLIP`` model from :data:`CLIP_CONFIG`."""
    return open_clip.model.CLIP(
        embed_dim=config["embed_dim"],
        vision_cfg=open_clip.model.CLIPVisionCfg(**config["vision_cfg"]),
        text_cfg=open_clip.model.CLIPTextCfg(**config["text_cfg"]),
    )


def clip_normalize(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] images -> CLIP input (OpenAI mean/std, open_clip's default preprocess)."""
    mean = torch.tensor(OPENAI_DATASET_MEAN, device=images.device).view(1, 3, 1, 1)
    std = torch.tensor(OPENAI_DATASET_STD, device=images.device).view(1, 3, 1, 1)
    return ((images + 1) / 2 - mean) / std


def tokenize(texts: list[str], config: dict = CLIP_CONFIG) -> torch.Tensor:
    return open_clip.tokenize(texts, context_length=config["text_cfg"]["context_length"])


def train_clip(
    *, seed: int = 0, steps: int = 1500, batch: int = 96, resume: bool = False, log: Log = print
) -> Path:
    """Train the tiny CLIP with open_clip's ClipLoss on (render, caption) pairs.

    With ``resume`` it continues from the committed CLIP at half the learning rate.
    """
    g = seeded(seed)
    model = build_tiny_clip()
    history = []
    if resume:
        tensors, _ = load_weights(WEIGHTS_DIR / "clip", kind="open_clip")
        model.load_state_dict({k: v.float() for k, v in tensors.items()})
        history = previous_runs(WEIGHTS_DIR / "clip")
    peak = 5e-4 if resume else 1e-3
    loss = _ContrastiveLoss(model)
    start = time.time()
    fit(
        _optimizer(model),
        loss,
        clip_batches(batch, g, seed=seed),
        steps=steps,
        schedule=partial(cosine_lr, steps=steps, base=peak, warmup=200),
        progress=Progress("clip", log, figures=loss.figures),
        after_step=loss.clamp_scale,
    )
    model.eval()
    accuracy = clip_zero_shot(model, n_per_class=50, seed=20_000 + seed)
    log(f"clip zero-shot accuracy {accuracy:.3f}")
    meta = {
        "command": train_command("clip", seed, steps, resume=resume),
        "seconds": round(time.time() - start, 1),
        "history": history,
        "zero_shot_accuracy": round(accuracy, 4),
    }
    return save_clip(model, WEIGHTS_DIR / "clip", meta)


def _optimizer(model: nn.Module) -> torch.optim.Optimizer:
    """AdamW with weight decay on the matrices (not the embeddings), CLIP's betas."""
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embedding" not in n]
    rest = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "embedding" not in n)]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0}],
        lr=1e-3,
        betas=(0.9, 0.98),
    )


def clip_batches(batch: int, g: torch.Generator, *, seed: int) -> Iterator:
    """Endless (CLIP-normalised degraded renders, caption tokens) of prior samples: the
    scenes from ``g``, the captions of batch ``i`` from seed ``seed * 1_000_003 + i``."""
    step = 0
    while True:
        params = sample_params(batch, g)
        images = clip_normalize(degrade(render(params), g))
        yield images, tokenize(captions(params, seed=seed * 1_000_003 + step))
        step += 1


class _ContrastiveLoss:
    """ClipLoss of a batch, remembering the logit scale for the progress line."""

    def __init__(self, model: nn.Module):
        self.model, self.loss, self.scale = model, ClipLoss(), torch.zeros(())

    def __call__(self, batch) -> torch.Tensor:
        image_features, text_features, logit_scale = self.model(*batch)
        self.scale = logit_scale.detach()
        return self.loss(image_features, text_features, logit_scale)

    def clamp_scale(self) -> None:
        """Keep the learned temperature in [0, ln 100] (CLIP's clip at 100)."""
        with torch.no_grad():
            self.model.logit_scale.clamp_(0, math.log(100))

    def figures(self, loss: float) -> str:
        return f"loss {loss:.3f} scale {self.scale.item():.1f}"


def save_clip(model: nn.Module, path: Path, meta: dict) -> Path:
    """fp16 open_clip state dict + its model config (the open_clip JSON) as the record's config."""
    tensors = {k: v.half() for k, v in model.state_dict().items()}
    config = ClipModelConfig(**CLIP_CONFIG)
    return save_weights(path, tensors, kind="open_clip", config=config, meta=meta)


@torch.no_grad()
def clip_zero_shot(model: nn.Module, *, n_per_class: int = 50, seed: int = 20_000) -> float:
    """Accuracy of CLIP naming the dominant event of held-out renders from the class prompts."""
    g = torch.Generator().manual_seed(seed)
    text = nn.functional.normalize(
        model.encode_text(tokenize(list(CLASS_PROMPTS.values()))), dim=-1
    )
    correct = 0
    for label, name in enumerate(CLASSES):
        images = clip_normalize(render(sample_for_class(name, n_per_class, g)))
        image = nn.functional.normalize(model.encode_image(images), dim=-1)
        correct += int(((image @ text.T).argmax(dim=1) == label).sum())
    return correct / (n_per_class * len(CLASSES))
