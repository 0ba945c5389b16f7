"""The probe: an independent image -> scene-parameter regressor, used only to *measure* edits.

It is trained on renders (never on generator output) and never guides an edit, so "the probe says
rain went up" is evidence that the picture got rainier, not that the optimiser fooled its own loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from soundedit.config import from_dict
from soundedit.soundscapes.params import PARAM_NAMES
from soundedit.weights_io import load_weights, save_weights

KIND = "soundscapes_probe"


@dataclass(frozen=True)
class ProbeConfig:
    image_size: int = 64  # input resolution (images are resized to it)
    widths: tuple[int, ...] = (32, 64, 96, 128)  # channels of the stride-2 conv stages
    hidden: int = 256  # width of the regression head
    n_params: int = len(PARAM_NAMES)  # outputs, one per scene parameter


class Probe(nn.Module):
    """A small CNN: images [B, 3, H, W] in [-1, 1] -> parameters [B, P] in [0, 1]."""

    param_names: tuple[str, ...] = PARAM_NAMES

    def __init__(self, config: ProbeConfig = ProbeConfig()):
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        c_in = 3
        for c in config.widths:
            layers += [
                nn.Conv2d(c_in, c, 3, stride=2, padding=1),
                nn.GroupNorm(8, c),
                nn.SiLU(),
                nn.Conv2d(c, c, 3, padding=1),
                nn.SiLU(),
            ]
            c_in = c
        self.features = nn.Sequential(*layers)
        side = config.image_size // 2 ** len(config.widths)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c_in * side * side, config.hidden),
            nn.SiLU(),
            nn.Linear(config.hidden, config.n_params),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Parameters [B, P], clamped to [0, 1]."""
        return self.regress(images).clamp(0, 1)

    def regress(self, images: torch.Tensor) -> torch.Tensor:
        """The raw linear outputs [B, P] (trained with L1; not squashed, so no unit dies at 0)."""
        size = self.config.image_size
        if images.shape[-1] != size or images.shape[-2] != size:
            images = nn.functional.interpolate(
                images, size=(size, size), mode="bilinear", antialias=True, align_corners=False
            )
        return self.head(self.features(images))

    @torch.no_grad()
    def describe(self, images: torch.Tensor) -> list[dict[str, float]]:
        """Parameters of each image as ``{name: value}`` dicts (images [B, 3, H, W] in [-1, 1])."""
        device = next(self.parameters()).device
        values = self(images.detach().float().to(device)).cpu()
        return [
            {k: round(float(v), 4) for k, v in zip(PARAM_NAMES, row, strict=True)} for row in values
        ]


    def measure(self, images: list) -> list[dict[str, float]]:
        """Parameters of uint8 images [H, W, 3] as ``{name: value}`` dicts (a bundle's hook)."""
        batch = torch.stack([torch.from_numpy(image).permute(2, 0, 1) for image in images])
        return self.describe(batch.float() / 127.5 - 1.0)  # [B, 3, H, W] in [-1, 1]


def save_probe(probe: Probe, path: str | Path, meta: dict | None = None) -> Path:
    """Write the probe as a safetensors + json pair."""
    tensors = {k: v.half() for k, v in probe.state_dict().items()}
    return save_weights(path, tensors, kind=KIND, config=probe.config, meta=meta)


def load_probe(path: str | Path, *, device: str | torch.device = "cpu") -> Probe:
    """Read a probe written by :func:`save_probe`."""
    tensors, record = load_weights(path, kind=KIND)
    probe = Probe(from_dict(ProbeConfig, record["config"]))
    probe.load_state_dict({k: v.float() for k, v in tensors.items()})
    return probe.eval().to(device)
