"""Audio encoders: a mel spectrogram [B, 1, H, W] -> a vector in CLIP space [B, D].

Two parts, named as in the authors' released model (kuai-lab/sound-guided-semantic-image-
manipulation) so their state dict loads into :class:`AudioEncoder` unchanged:

- ``conv``: the stem. ``"conv3x3"`` is theirs, ``Conv2d(1, 3, 3x3)`` without padding, which turns
  the one-channel spectrogram into the three channels an ImageNet backbone expects; ``"timm1"``
  has no separate stem and builds the backbone with ``in_chans=1`` instead;
- ``feature_extractor``: a timm ResNet (18/34/50, created with ``pretrained=False``: nothing is
  downloaded) whose classifier outputs ``embed_dim`` values, or ``"small_cnn"``, a few
  conv-BN-ReLU stages (``widths``) for the small CPU bundles.

``forward`` returns the raw output, as the authors' model does; :meth:`AudioEncoder.embed` and
:func:`embed_sound` return unit-norm embeddings, comparable with CLIP's by a dot product.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from soundedit.audio.features import compute_features, get_front_end
from soundedit.audio.io import load_sound
from soundedit.config import from_dict
from soundedit.errors import CheckpointError, ConfigError
from soundedit.weights_io import load_weights, save_weights

KIND = "audio_encoder"
RESNETS = ("resnet18", "resnet34", "resnet50")


@dataclass(frozen=True)
class AudioEncoderConfig:
    """Architecture of an audio encoder (stored beside its weights)."""

    backbone: Literal["resnet18", "resnet34", "resnet50", "small_cnn"]  # feature extractor
    stem: Literal["conv3x3", "timm1"] = "conv3x3"  # authors' 1->3 conv, or a 1-channel backbone
    embed_dim: int = 512  # output width = the CLIP embedding width
    front_end: str = "soundclip"  # name of the mel front end (soundedit.audio.features)
    widths: tuple[int, ...] = (32, 64, 128, 256)  # small_cnn stage widths (ignored by ResNets)


class SmallCNN(nn.Module):
    """Conv-BN-ReLU stages, each halving the resolution, then average pooling and a linear head."""

    def __init__(self, in_chans: int, widths: tuple[int, ...], num_classes: int):
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_chans
        for width in widths:
            layers += [
                nn.Conv2d(channels, width, 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
            ]
            channels = width
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x).mean(dim=(2, 3))  # [B, C]
        return self.fc(x)


class AudioEncoder(nn.Module):
    """Spectrogram -> CLIP-space vector; see the module docstring for the parts."""

    def __init__(self, config: AudioEncoderConfig):
        super().__init__()
        _check_config(config)
        self.config = config
        in_chans = 3 if config.stem == "conv3x3" else 1
        self.conv = nn.Conv2d(1, 3, (3, 3)) if config.stem == "conv3x3" else None
        if config.backbone == "small_cnn":
            self.feature_extractor = SmallCNN(in_chans, tuple(config.widths), config.embed_dim)
        else:
            import timm

            self.feature_extractor = timm.create_model(
                config.backbone, pretrained=False, num_classes=config.embed_dim, in_chans=in_chans
            )

    @property
    def embed_dim(self) -> int:
        """Width of the output embedding."""
        return self.config.embed_dim

    @property
    def front_end(self) -> Any:
        """The :class:`soundedit.audio.features.FrontEnd` this encoder was trained with."""
        return get_front_end(self.config.front_end)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Raw (not normalised) output [B, D] for features [B, 1, H, W] (or [B, H, W])."""
        if features.ndim == 3:
            features = features.unsqueeze(1)
        if features.ndim != 4 or features.shape[1] != 1:
            raise ValueError(
                f"expected spectrogram features [B, 1, H, W], got {tuple(features.shape)}"
            )
        x = features.to(self._dtype())
        if self.conv is not None:
            x = self.conv(x)  # [B, 3, H-2, W-2]
        return self.feature_extractor(x)

    def embed(self, features: torch.Tensor) -> torch.Tensor:
        """Unit-norm embeddings [B, D]."""
        return F.normalize(self(features).float(), dim=-1)

    def _dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype


@torch.no_grad()
def embed_sound(encoder: AudioEncoder, sound_or_source: Any) -> torch.Tensor:
    """Unit-norm embedding [1, D] of a sound, through the encoder's own front end.

    Args:
        encoder: the audio encoder (evaluated in eval mode; its mode is restored afterwards).
        sound_or_source: a :class:`soundedit.audio.io.Sound`, a path, bytes, or
            ``(sample_rate, array)`` as Gradio gives it (see ``load_sound``).

    Raises:
        AudioError: the sound cannot be read or breaks the limits.
    """
    sound = load_sound(sound_or_source)
    features = compute_features(sound, encoder.front_end)  # [1, H, W]
    device = next(encoder.parameters()).device
    was_training = encoder.training
    encoder.eval()
    try:
        return encoder.embed(features.unsqueeze(0).to(device))  # [1, D]
    finally:
        encoder.train(was_training)


def save_audio_encoder(
    encoder: AudioEncoder, path: str | Path, meta: dict | None = None
) -> Path:
    """Write ``NAME.safetensors`` + ``NAME.json`` (kind ``"audio_encoder"``); returns the first."""
    return save_weights(path, encoder.state_dict(), kind=KIND, config=encoder.config, meta=meta)


def load_audio_encoder(path: str | Path, *, device: str | torch.device = "cpu") -> AudioEncoder:
    """Read a pair written by :func:`save_audio_encoder` (strict: every tensor must fit).

    Raises:
        CheckpointError: missing or damaged files, another kind, or tensors that do not fit.
        ConfigError: the stored config is not a valid :class:`AudioEncoderConfig`.
    """
    tensors, record = load_weights(path, kind=KIND)
    config = from_dict(AudioEncoderConfig, record.get("config", {}), where=f"{path} config")
    encoder = AudioEncoder(config)
    load_strict(encoder, tensors, source=str(path))
    return encoder.to(device).eval()


def load_authors_checkpoint(
    path: str | Path, *, front_end: str = "soundclip", device: str | torch.device = "cpu"
) -> AudioEncoder:
    """The authors' released encoder (e.g. ``resnet18_57.pth``), loaded strictly.

    The file is a plain state dict with keys ``conv.*`` and ``feature_extractor.*`` (a
    ``module.`` prefix from DataParallel is stripped). The ResNet depth and embedding width are
    read from the tensors; the file is read with ``torch.load(weights_only=True)``.

    Raises:
        CheckpointError: unreadable file, or keys/shapes that do not match (listed).
    """
    path = Path(path)
    state = _unwrap_state_dict(read_torch_file(path, what="audio encoder checkpoint"), path)
    config = AudioEncoderConfig(
        backbone=_infer_resnet(state),
        stem="conv3x3",
        embed_dim=_infer_embed_dim(state),
        front_end=front_end,
    )
    encoder = AudioEncoder(config)
    load_strict(encoder, state, source=str(path))
    return encoder.to(device).eval()


def read_torch_file(path: Path, *, what: str) -> Any:
    """``torch.load`` of a data-only file (``weights_only``); errors name ``what`` and the path."""
    if not path.is_file():
        raise CheckpointError(f"{what} {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for damaged or unsafe files
        raise CheckpointError(f"{path} is not a readable PyTorch state dict: {e}") from e


def load_strict(
    module: nn.Module,
    state: dict[str, torch.Tensor],
    *,
    source: str,
    what: str = "audio encoder",
) -> None:
    """``module.load_state_dict(state)`` requiring every key and shape to match.

    Raises:
        CheckpointError: naming missing, unexpected and mis-shaped tensors.
    """
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shapes = sorted(
        f"{k} {tuple(state[k].shape)} (expected {tuple(v.shape)})"
        for k, v in expected.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    )
    if missing or unexpected or shapes:
        parts = []
        for label, items in (("missing", missing), ("unexpected", unexpected), ("shape", shapes)):
            if items:
                more = f" (+{len(items) - 8} more)" if len(items) > 8 else ""
                parts.append(f"{label}: {', '.join(items[:8])}{more}")
        raise CheckpointError(f"{source} does not fit the {what}; " + "; ".join(parts))
    module.load_state_dict(state, strict=True)


def _unwrap_state_dict(state: Any, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(state, dict):
        for key in ("state_dict", "model", "audio_encoder"):
            if isinstance(state.get(key), dict):
                state = state[key]
                break
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path} does not hold a state dict of tensors")
    return {k.removeprefix("module."): v for k, v in state.items()}


def _infer_resnet(state: dict[str, torch.Tensor]) -> str:
    """resnet18/34/50 from the block layout (50 has bottleneck conv3; 34 has 6 layer3 blocks)."""
    if "feature_extractor.layer1.0.conv3.weight" in state:
        return "resnet50"
    if "feature_extractor.layer3.5.conv1.weight" in state:
        return "resnet34"
    return "resnet18"


def _infer_embed_dim(state: dict[str, torch.Tensor]) -> int:
    fc = state.get("feature_extractor.fc.weight")
    return int(fc.shape[0]) if fc is not None and fc.ndim == 2 else 512


def _check_config(config: AudioEncoderConfig) -> None:
    if config.backbone not in (*RESNETS, "small_cnn"):
        raise ConfigError(
            f"unknown audio backbone {config.backbone!r}; valid: {', '.join(RESNETS)}, small_cnn"
        )
    if config.stem not in ("conv3x3", "timm1"):
        raise ConfigError(f"unknown audio stem {config.stem!r}; valid: conv3x3, timm1")
    if config.embed_dim < 1:
        raise ConfigError(f"embed_dim must be positive, got {config.embed_dim}")
    if config.backbone == "small_cnn" and not config.widths:
        raise ConfigError("a small_cnn needs at least one stage width in `widths`")
