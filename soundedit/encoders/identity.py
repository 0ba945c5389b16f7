"""ArcFace IR-SE50, the face-identity network behind the identity loss (faces only).

The module tree and parameter names follow the ``model_ir_se50.pth`` file that the pSp and
StyleCLIP projects use (TreB1eN/InsightFace_Pytorch's ``Backbone(50, mode="ir_se")``), so that
file loads strictly into :class:`IRSE50`:

- ``input_layer``: Conv 3->64 (3x3) . BN . PReLU;
- ``body.N``: 24 ``bottleneck_IR_SE`` units in stages of 3/4/14/3 (64/128/256/512 channels; the
  first unit of each stage has stride 2). Each unit is ``shortcut_layer`` (1x1 stride-2 max
  pool when the width is kept, else conv 1x1 + BN) plus ``res_layer`` = BN . conv3x3 . PReLU .
  conv3x3 (stride) . BN . squeeze-excitation (``fc1``/``fc2`` 1x1 convs, reduction 16);
- ``output_layer``: BN2d . dropout . flatten . Linear(512*7*7 -> 512) . BN1d, then L2 norm.

:class:`IdentityModel` adds the pSp/StyleCLIP input pipeline: the generator image in [-1, 1]
is brought to 256 px, cropped to the face ``[35:223, 32:220]`` and average-pooled to 112 px.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from soundedit.encoders.audio import load_strict, read_torch_file
from soundedit.errors import CheckpointError

STAGES_50 = (3, 4, 14, 3)  # units per stage of IR-SE50
WIDTHS = (64, 128, 256, 512)  # channels per stage
CROP = (slice(35, 223), slice(32, 220))  # rows, columns of the face in a 256 px FFHQ image


class SEModule(nn.Module):
    """Squeeze-and-excitation: channel weights from globally pooled features."""

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1, bias=False)
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = F.adaptive_avg_pool2d(x, 1)  # [B, C, 1, 1]
        w = torch.sigmoid(self.fc2(F.relu(self.fc1(w))))
        return x * w


class BottleneckIRSE(nn.Module):
    """One improved-residual unit with squeeze-excitation."""

    def __init__(self, in_channels: int, depth: int, stride: int):
        super().__init__()
        if in_channels == depth:
            self.shortcut_layer: nn.Module = nn.MaxPool2d(1, stride)
        else:
            self.shortcut_layer = nn.Sequential(
                nn.Conv2d(in_channels, depth, 1, stride, bias=False), nn.BatchNorm2d(depth)
            )
        self.res_layer = nn.Sequential(
            nn.BatchNorm2d(in_channels),
            nn.Conv2d(in_channels, depth, 3, 1, 1, bias=False),
            nn.PReLU(depth),
            nn.Conv2d(depth, depth, 3, stride, 1, bias=False),
            nn.BatchNorm2d(depth),
            SEModule(depth, 16),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut_layer(x) + self.res_layer(x)


class IRSE50(nn.Module):
    """ArcFace IR-SE backbone for 112 px faces -> unit-norm identity vectors [B, 512].

    Args:
        stages: units per stage; (3, 4, 14, 3) is IR-SE50 (smaller values only for tests).
        drop_ratio: dropout before the linear layer (inactive in eval mode).
    """

    def __init__(self, stages: tuple[int, ...] = STAGES_50, drop_ratio: float = 0.6):
        super().__init__()
        self.input_layer = nn.Sequential(
            nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.PReLU(64)
        )
        units = []
        in_channels = 64
        for n_units, depth in zip(stages, WIDTHS, strict=True):
            units.append(BottleneckIRSE(in_channels, depth, 2))
            units += [BottleneckIRSE(depth, depth, 1) for _ in range(n_units - 1)]
            in_channels = depth
        self.body = nn.Sequential(*units)
        self.output_layer = nn.Sequential(
            nn.BatchNorm2d(512),
            nn.Dropout(drop_ratio),
            nn.Flatten(),
            nn.Linear(512 * 7 * 7, 512),
            nn.BatchNorm1d(512),
        )

    def forward(self, faces: torch.Tensor) -> torch.Tensor:
        """Faces [B, 3, 112, 112] in [-1, 1] -> unit-norm [B, 512]."""
        x = self.body(self.input_layer(faces))  # [B, 512, 7, 7]
        return F.normalize(self.output_layer(x), dim=-1)


def load_ir_se50(path: str | Path, *, device: str | torch.device = "cpu") -> IRSE50:
    """``model_ir_se50.pth`` loaded strictly into :class:`IRSE50` (eval mode).

    Raises:
        CheckpointError: unreadable file, or tensors that do not match (listed).
    """
    path = Path(path)
    state = read_torch_file(path, what="IR-SE50 weights")
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} does not hold a state dict")
    state = {k.removeprefix("module.").removeprefix("facenet."): v for k, v in state.items()}
    model = IRSE50()
    load_strict(model, state, source=str(path), what="IR-SE50")
    return model.to(device).eval()


class IdentityModel(nn.Module):
    """Identity embeddings of generator images, with pSp/StyleCLIP's crop and pooling."""

    def __init__(self, backbone: IRSE50):
        super().__init__()
        self.backbone = backbone.eval().requires_grad_(False)

    def crop_faces(self, images: torch.Tensor) -> torch.Tensor:
        """Images [B, 3, H, W] in [-1, 1] -> face crops [B, 3, 112, 112] (differentiable)."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"expected images [B, 3, H, W], got {tuple(images.shape)}")
        h, w = images.shape[-2:]
        if (h, w) != (256, 256):
            if h % 256 == 0 and w % 256 == 0:
                images = F.adaptive_avg_pool2d(images, (256, 256))  # as StyleCLIP does
            else:
                images = F.interpolate(images, size=(256, 256), mode="bilinear", antialias=True)
        faces = images[:, :, CROP[0], CROP[1]]  # [B, 3, 188, 188]
        return F.adaptive_avg_pool2d(faces, (112, 112))

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """Unit-norm identity vectors [B, 512] of images in [-1, 1] (differentiable)."""
        return self.backbone(self.crop_faces(images))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Same as :meth:`embed`."""
        return self.embed(images)
