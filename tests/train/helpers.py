"""Test helpers for soundedit.train: a fixed tiny CLIP, synthetic sound classes, tiny encoders."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

CLASSES = ("hum", "whistle", "hiss", "clicks")
RATE = 8000


class FixedClip(nn.Module):
    """A tiny random 'CLIP': every text that names a class maps to that class's fixed vector.

    Texts that name no class get a fixed pseudo-random vector of their own. Images are
    embedded by a (frozen, random) linear layer, so gradients could reach it if they leaked.
    """

    name = "fixed-clip"

    def __init__(self, classes=CLASSES, dim: int = 16, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.classes = tuple(classes)
        self.class_vectors = F.normalize(torch.randn(len(classes), dim, generator=g), dim=-1)
        self.image_proj = nn.Linear(3 * 4 * 4, dim)
        self.embed_dim = dim
        self.logit_scale = 100.0

    def _text(self, text: str) -> torch.Tensor:
        for c, name in enumerate(self.classes):
            if name in text.split():
                return self.class_vectors[c]
        seed = int(hashlib.sha1(text.encode()).hexdigest()[:8], 16)
        return torch.randn(self.embed_dim, generator=torch.Generator().manual_seed(seed))

    @torch.no_grad()
    def embed_text(self, texts):
        texts = [texts] if isinstance(texts, str) else list(texts)
        return F.normalize(torch.stack([self._text(t) for t in texts]), dim=-1)

    def embed_image(self, images: torch.Tensor) -> torch.Tensor:
        x = F.adaptive_avg_pool2d(images, 4).flatten(1)
        return F.normalize(self.image_proj(x), dim=-1)


@dataclass(frozen=True)
class TinyConfig:
    """Dataclass config so the trainer can checkpoint the tiny encoder."""

    embed_dim: int = 16
    front_end: str = "soundscapes"
    backbone: str = "tiny"


class TinyEncoder(nn.Module):
    """Conv-ReLU-pool-linear, no BatchNorm (so per-rank batches match one process exactly)."""

    def __init__(self, embed_dim: int = 16):
        super().__init__()
        self.config = TinyConfig(embed_dim)
        self.conv1 = nn.Conv2d(1, 8, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.fc = nn.Linear(16, embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        return self.fc(x.mean(dim=(2, 3)))


def synth(label: str, rng: np.random.Generator, seconds: float = 1.0) -> np.ndarray:
    """One clip of a synthetic class with random gain, onset, length and pitch."""
    n = int(RATE * seconds)
    t = np.arange(n) / RATE
    if label == "hum":
        f = rng.uniform(100, 250)
        x = np.sin(2 * math.pi * f * t) + 0.5 * np.sin(4 * math.pi * f * t)
    elif label == "whistle":
        f = rng.uniform(1500, 2500)
        x = np.sin(2 * math.pi * (f * t + rng.uniform(-200, 200) * t**2))
    elif label == "hiss":
        x = rng.standard_normal(n)
    else:  # clicks
        x = np.zeros(n)
        x[rng.integers(0, n, size=int(rng.uniform(8, 20)))] = rng.choice([-1.0, 1.0], size=1)
        x = np.convolve(x, np.exp(-np.arange(40) / 6.0), mode="same")
    start, length = int(rng.uniform(0, 0.3) * n), int(rng.uniform(0.5, 0.7) * n)
    envelope = np.zeros(n)
    envelope[start : start + length] = 1.0
    x = x * envelope * rng.uniform(0.1, 0.8) / (np.abs(x).max() + 1e-9)
    return (x + 0.003 * rng.standard_normal(n)).astype(np.float32)


def log_mel(samples: np.ndarray) -> torch.Tensor:
    """Small level-preserving log-mel features [1, 32, 32] computed with torchaudio."""
    import torchaudio

    mel = torchaudio.transforms.MelSpectrogram(
        sample_rate=RATE, n_fft=512, hop_length=250, n_mels=32, power=2.0
    )(torch.from_numpy(samples))[:, :32]
    return (10 * torch.log10(mel + 1e-8) / 40.0 + 1.0)[None]  # [1, 32, 32]
