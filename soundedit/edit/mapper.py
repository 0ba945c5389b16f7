"""The mapped edit and the mapper's training objective (the edit's own).

:func:`map_edit` moves a source towards a target in one forward pass of a
:class:`~soundedit.mapper.LatentMapper`; :func:`mapper_loss` is the objective its trainer
(:mod:`soundedit.edit.mapper_training`) minimises: the bundle's guidance, ``lambda_reg`` and
``lambda_id``, with latent noise as the world's defaults say.
"""

from __future__ import annotations

import torch

from soundedit.edit import losses
from soundedit.mapper import LatentMapper, mapped_latent
from soundedit.settings import EditConfig


def to_w_plus(generator, latent: torch.Tensor, *, space: str, truncation: float):
    """The W+ latents [B, L, S] of latents of ``space`` (z through the mapping network)."""
    if space == "z":
        return generator.w_plus(generator.mapping(latent, truncation=truncation))
    return latent


def map_edit(
    bundle, mapper: LatentMapper, target: torch.Tensor, latent: torch.Tensor, *, truncation: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """The mapped edit of ``latent`` (z [1, S] or W+ [1, L, S]) towards ``target`` [1, D].

    Returns (moved latent in the mapper's space, its W+ [1, L, S]), detached.
    """
    device = bundle.device
    with torch.no_grad():
        moved = mapped_latent(mapper, latent.to(device).float(), target.to(device).float())
        w = to_w_plus(bundle.generator, moved, space=mapper.config.space, truncation=truncation)
    return moved.detach(), w.detach()


def mapper_loss(
    bundle,
    mapper: LatentMapper,
    latent: torch.Tensor,
    target: torch.Tensor,
    config: EditConfig,
    rng: torch.Generator,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The edit's own objective of a batch of mapped edits; (loss, each term as a float).

    ``latent`` holds sources (z [B, S] or W+ [B, L, S]), ``target`` unit embeddings [B, D].
    Guidance is ``1 - cos`` averaged over ``config.samples`` noisy copies of each moved latent
    (std ``config.latent_noise``), as the optimisation sees it; the regulariser is plain L2 on
    z, or the mean per-layer distance on W+ (a uniform layer mask); identity as ``lambda_id``.
    """
    G, space = bundle.generator, mapper.config.space
    moved = mapped_latent(mapper, latent, target)
    noisy, k = _noisy(moved, config, rng)
    w = to_w_plus(G, noisy, space=space, truncation=config.truncation)
    images = G.synthesis(w).float()
    embed = bundle.clip.embed_image(images).float()  # [B * K, D]
    target_k = target.float().repeat_interleave(k, dim=0)
    guidance = 1.0 - (embed * target_k).sum(-1).mean()
    terms = {"guidance": guidance}
    if config.lambda_reg > 0:
        terms["latent"] = config.lambda_reg * _reg(moved, latent, space)
    if bundle.identity is not None and config.lambda_id > 0:
        identity = _identity(bundle, latent, images, k, space, config.truncation)
        terms["identity"] = config.lambda_id * identity
    total = sum(terms.values())
    values = {n: float(v.detach()) for n, v in terms.items()}
    return total, {**values, "total": float(total.detach())}


def _noisy(moved: torch.Tensor, config: EditConfig, rng) -> tuple[torch.Tensor, int]:
    """``config.samples`` noisy copies of each latent (one clean copy without noise)."""
    if config.latent_noise <= 0:
        return moved, 1
    k = config.samples
    copies = moved.repeat_interleave(k, dim=0)
    noise = torch.randn(copies.shape, generator=rng).to(moved.device)
    return copies + noise * config.latent_noise, k


def _reg(moved: torch.Tensor, latent: torch.Tensor, space: str) -> torch.Tensor:
    if space == "z":
        return losses.l2_latent_loss(moved, latent)
    return losses.layer_distances(moved, latent).mean()


def _identity(bundle, latent, images, k: int, space: str, truncation: float) -> torch.Tensor:
    with torch.no_grad():
        w = to_w_plus(bundle.generator, latent, space=space, truncation=truncation)
        source = bundle.identity.embed(bundle.generator.synthesis(w).float()).float()
    edited = bundle.identity.embed(images).float()
    return losses.identity_loss(edited, source.repeat_interleave(k, dim=0))
