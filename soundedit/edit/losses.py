"""The losses of sound-guided latent optimisation.

Guidance pulls the CLIP embedding of the edited image towards the target (a sound or text
embedding); the regulariser keeps the edited latent ``w_plus`` near the source ``w_source``;
the identity loss keeps a face the same person. All functions take unit-norm embeddings and
return scalar tensors.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def cosine_similarity(embed: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean cosine similarity of unit-norm rows ``embed`` [B, D] with ``target`` [1, D]."""
    return (embed.float() * target.float()).sum(dim=-1).mean()


def cosine_guidance(embed: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The CVPR guidance: ``1 - cos(CLIP(G(w)), target)``."""
    return 1.0 - cosine_similarity(embed, target)


def hinge_guidance(
    embed: torch.Tensor, source_embed: torch.Tensor, target: torch.Tensor, *, margin: float = 1.0
) -> torch.Tensor:
    """The Robust paper's guidance, a hinge on how much closer the edit is than the source.

    ``max(d(G(w_a), a) - d(G(w_s), a) + margin, 0)`` with ``d`` the cosine distance, which equals
    ``max(cos(G(w_s), a) - cos(G(w_a), a) + margin, 0)``: the paper's formula read with ``d`` as a
    similarity. (Read literally with a distance it would push the image *away* from the sound.)
    """
    gap = cosine_similarity(source_embed, target) - cosine_similarity(embed, target)
    return F.relu(gap + margin)


def layer_distances(w_plus: torch.Tensor, w_source: torch.Tensor) -> torch.Tensor:
    """Per-layer Euclidean distance ``||w_i - w_s,i||_2`` averaged over the batch -> [L]."""
    diff = w_plus.float() - w_source.float()  # [B, L, S]
    # eps keeps the gradient finite at the start, where w_plus == w_source exactly.
    return torch.sqrt(diff.pow(2).sum(dim=-1) + 1e-8).mean(dim=0)


def masked_latent_loss(
    w_plus: torch.Tensor, w_source: torch.Tensor, mask_logits: torch.Tensor
) -> torch.Tensor:
    """Adaptive layer masking: ``sum_i softmax(g)_i ||w_i - w_s,i||_2`` with trainable ``g`` [L]."""
    return (torch.softmax(mask_logits.float(), dim=0) * layer_distances(w_plus, w_source)).sum()


def l2_latent_loss(w_plus: torch.Tensor, w_source: torch.Tensor) -> torch.Tensor:
    """The plain regulariser of the CVPR code: ``sum (w - w_s)^2`` (batch mean)."""
    diff = w_plus.float() - w_source.float()
    return diff.pow(2).sum() / diff.shape[0]


def identity_loss(embed: torch.Tensor, source_embed: torch.Tensor) -> torch.Tensor:
    """``1 - cos(R(G(w_s)), R(G(w_a)))`` on unit-norm identity embeddings [B, 512]."""
    return 1.0 - (embed.float() * source_embed.float()).sum(dim=-1).mean()
