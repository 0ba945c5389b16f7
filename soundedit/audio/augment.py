"""SpecAugment as the authors use it: frequency and time masks drawn from an explicit generator."""

from __future__ import annotations

import torch

from soundedit.errors import ConfigError


def spec_augment(
    features: torch.Tensor,
    *,
    generator: torch.Generator,
    max_freq: float = 0.15,
    max_time: float = 0.30,
    n_masks: int = 2,
    value: float = 0.0,
) -> torch.Tensor:
    """Mask bands of ``features`` [..., F, T]; returns a new tensor (the input is unchanged).

    Each of ``n_masks`` frequency masks covers ``floor(u * max_freq * F)`` consecutive bins
    (u uniform in [0, 1)) at a uniform start, and likewise for time with ``max_time``: each
    mask is at most 15 % / 30 % of its axis, as in the authors' training, so the union is at most
    ``n_masks`` times that. Masks are drawn independently for every leading index (every item
    of a batch [B, 1, F, T]) and filled with ``value`` (0 is silence for every front end here).

    Args:
        features: tensor [..., F, T].
        generator: the random generator (on the CPU or on ``features``' device).
        max_freq: largest fraction of F one frequency mask covers, in [0, 1].
        max_time: largest fraction of T one time mask covers, in [0, 1].
        n_masks: masks of each kind.
        value: what masked cells become.
    """
    if features.dim() < 2:
        raise ConfigError(f"spec_augment needs [..., F, T], got shape {tuple(features.shape)}")
    if not (0.0 <= max_freq <= 1.0 and 0.0 <= max_time <= 1.0) or n_masks < 0:
        raise ConfigError("max_freq and max_time must be in [0, 1] and n_masks >= 0")
    *lead, n_freq, n_time = features.shape
    count = 1
    for size in lead:
        count *= size
    freq_mask = _band_masks(count, n_freq, max_freq, n_masks, generator)  # [N, F]
    time_mask = _band_masks(count, n_time, max_time, n_masks, generator)  # [N, T]
    mask = freq_mask[:, :, None] | time_mask[:, None, :]  # [N, F, T]
    mask = mask.reshape(*lead, n_freq, n_time).to(features.device)
    return features.masked_fill(mask, value)


def _band_masks(count: int, size: int, max_fraction: float, n_masks: int, generator):
    """[count, size] booleans: the union of ``n_masks`` random bands per row."""
    device = generator.device
    draws = torch.rand(count, n_masks, 2, generator=generator, device=device, dtype=torch.float64)
    widths = (draws[..., 0] * max_fraction * size).floor().long()  # [count, n_masks]
    starts = (draws[..., 1] * (size - widths + 1)).floor().long().clamp(max=size - 1)
    index = torch.arange(size, device=device)  # [size]
    inside = (index >= starts[..., None]) & (index < (starts + widths)[..., None])
    return inside.any(dim=1).cpu()  # [count, size]
