"""Style mixing and interpolation of W+ latents, and a fast renderer for sliders."""

from __future__ import annotations

import torch

from soundedit.errors import ConfigError


def style_mix(w_sound: torch.Tensor, w_text: torch.Tensor, k: int) -> torch.Tensor:
    """Layers [0, k) from the sound-guided latent, [k, L) from the text-guided one.

    Coarse layers (pose, layout) come first in W+, so a small ``k`` lets the words decide most of
    the image and a large one the sound. ``k = 0`` is ``w_text``; ``k = L`` is ``w_sound``.
    """
    if w_sound.shape != w_text.shape or w_sound.ndim != 3:
        raise ConfigError(
            f"style_mix needs two W+ latents [B, L, S] of one shape, got "
            f"{list(w_sound.shape)} and {list(w_text.shape)}"
        )
    n_latent = w_sound.shape[1]
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= n_latent:
        raise ConfigError(f"mix layer must be a whole number in [0, {n_latent}], got {k!r}")
    return torch.cat([w_sound[:, :k], w_text[:, k:]], dim=1)  # [B, L, S]


def interpolate(w_a: torch.Tensor, w_b: torch.Tensor, t: float) -> torch.Tensor:
    """Linear interpolation in W+: ``t = 0`` gives ``w_a``, ``t = 1`` gives ``w_b``."""
    if w_a.shape != w_b.shape:
        raise ConfigError(
            f"interpolate needs latents of one shape, got {list(w_a.shape)} and {list(w_b.shape)}"
        )
    if not 0.0 <= t <= 1.0:
        raise ConfigError(f"interpolation position must be in [0, 1], got {t}")
    return torch.lerp(w_a, w_b.to(w_a.dtype), float(t))
