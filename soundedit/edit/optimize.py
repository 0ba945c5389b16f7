"""Sound-guided latent optimisation as an iterator of frozen step records.

``edit_steps`` runs Adam on the W+ latent (and, with adaptive masking, on per-layer mask logits)
to pull the CLIP embedding of ``G.synthesis(w_plus)`` towards a target embedding, yielding one
:class:`EditStep` per step. Callers stop by not iterating; closing the iterator frees the graph,
the optimiser state and every tensor it held. Gradients are taken only with respect to the latent
and the mask (``torch.autograd.grad``), so the generator's and CLIP's weights never collect
``.grad``. The learning-rate schedule is the one of the authors' loop (StyleGAN's projector):
linear warm-up over ``rampup`` of the run, cosine ramp-down over the last ``rampdown``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from soundedit.edit import losses
from soundedit.errors import ConfigError

MAX_STEPS = 5000  # more is a typo, not an edit: 300 is the paper's setting
MAX_SAMPLES = 64  # noisy latents per guidance step (each costs a generator and a CLIP pass)


@dataclass(frozen=True)
class EditConfig:
    """Settings of one optimisation run (paper defaults for LSUN-like domains)."""

    steps: int = 300  # Adam steps
    lr: float = 0.1  # peak learning rate
    lambda_reg: float = 0.008  # weight of the latent regulariser (0 = free generation; z: plain L2)
    lambda_id: float = 0.0  # weight of the identity loss (faces only)
    guidance: Literal["cosine", "hinge"] = "cosine"  # CVPR cosine or Robust-paper hinge
    adaptive_mask: bool = True  # trainable per-layer softmax mask on the regulariser, else plain L2
    preview_every: int = 10  # decode a preview image every N steps (0 = never)
    rampup: float = 0.05  # fraction of the run spent warming the lr up from 0
    rampdown: float = 0.25  # fraction of the run spent ramping the lr down (cosine)
    seed: int = 0  # seed of the run (the source seed in the pipeline): the latent noise
    autocast: Literal["off", "bf16"] = "off"  # bf16 autocast of generator and CLIP forward
    space: Literal["w+", "z"] = "w+"  # what Adam moves: the W+ latent, or the seed's z (mapping)
    latent_noise: float = 0.0  # std of Gaussian noise on the latent for each guidance sample
    samples: int = 1  # noisy copies of the latent per step (used when latent_noise > 0)

    def __post_init__(self) -> None:
        if isinstance(self.steps, bool) or not isinstance(self.steps, int):
            raise ConfigError(f"steps must be a whole number, got {self.steps!r}")
        if not 1 <= self.steps <= MAX_STEPS:
            raise ConfigError(f"steps must be between 1 and {MAX_STEPS}, got {self.steps}")
        _check_range("lr", self.lr, 0.0, 10.0, low_open=True)
        _check_range("lambda_reg", self.lambda_reg, 0.0, 1e4)
        _check_range("lambda_id", self.lambda_id, 0.0, 1e4)
        _check_range("rampup", self.rampup, 0.0, 1.0, low_open=True)
        _check_range("rampdown", self.rampdown, 0.0, 1.0, low_open=True)
        if self.guidance not in ("cosine", "hinge"):
            raise ConfigError(f"guidance must be 'cosine' or 'hinge', got {self.guidance!r}")
        if self.autocast not in ("off", "bf16"):
            raise ConfigError(f"autocast must be 'off' or 'bf16', got {self.autocast!r}")
        if self.space not in ("w+", "z"):
            raise ConfigError(f"space must be 'w+' or 'z', got {self.space!r}")
        _check_range("latent_noise", self.latent_noise, 0.0, 10.0)
        if isinstance(self.samples, bool) or not isinstance(self.samples, int):
            raise ConfigError(f"samples must be a whole number, got {self.samples!r}")
        if not 1 <= self.samples <= MAX_SAMPLES:
            raise ConfigError(f"samples must be between 1 and {MAX_SAMPLES}, got {self.samples}")
        if not isinstance(self.preview_every, int) or self.preview_every < 0:
            raise ConfigError(
                f"preview_every must be 0 (never) or more, got {self.preview_every!r}"
            )


def _check_range(name: str, value: float, low: float, high: float, *, low_open=False) -> None:
    ok = isinstance(value, (int, float)) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and value <= high
    if not ok:
        bracket = "(" if low_open else "["
        raise ConfigError(f"{name} must be in {bracket}{low}, {high}], got {value!r}")


@dataclass(frozen=True)
class EditStep:
    """What one optimisation step did (all tensors detached)."""

    step: int  # 1-based index of this step
    total: int  # number of steps in the run
    losses: dict[str, float]  # each loss term and "total", before the update
    similarity: float  # cos(CLIP(G(w)), target) as the guidance saw it this step (sample mean)
    w: torch.Tensor  # [1, L, S] W+ latent after the update (in space "z": of the updated z)
    preview: np.ndarray | None  # uint8 [H, W, 3] of ``w``, every ``preview_every`` steps
    layer_mask: tuple[float, ...] | None  # softmax of the mask logits after the update


def learning_rate(t: float, lr: float, *, rampup: float, rampdown: float) -> float:
    """The authors' schedule at progress ``t`` in [0, 1): warm-up, plateau, cosine ramp-down."""
    ramp = min(1.0, (1.0 - t) / rampdown)
    ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
    return lr * ramp * min(1.0, t / rampup)


def z_from_seed(generator, seed: int) -> torch.Tensor:
    """The z [1, S] of a seed, on the generator's device."""
    rng = torch.Generator().manual_seed(int(seed))
    # z is drawn on the CPU so that a seed means the same image on every device.
    z = torch.randn(1, generator.style_dim, generator=rng)  # [1, S]
    return z.to(generator.mean_w.device)


def source_from_seed(generator, seed: int, truncation: float = 0.7) -> torch.Tensor:
    """The W+ latent [1, L, S] of a seeded z through the mapping network with truncation."""
    return source_from_z(generator, z_from_seed(generator, seed), truncation)


def source_from_z(generator, z: torch.Tensor, truncation: float = 0.7) -> torch.Tensor:
    """The W+ latent [1, L, S] of ``z`` [1, S] through the mapping network with truncation."""
    if not 0.0 <= truncation <= 1.0:
        raise ConfigError(f"truncation must be in [0, 1], got {truncation}")
    with torch.no_grad():
        w = generator.mapping(z, truncation=truncation)  # [1, S]
        return generator.w_plus(w).detach()  # [1, L, S]


def source_from_mean(generator) -> torch.Tensor:
    """The mean latent as W+ [1, L, S]: the start of free generation (use ``lambda_reg=0``)."""
    return generator.w_plus(generator.mean_w.detach()[None])


def blend_targets(audio: torch.Tensor, text: torch.Tensor, blend: float) -> torch.Tensor:
    """``normalize(blend * audio + (1 - blend) * text)`` for unit embeddings [1, D]."""
    if not 0.0 <= blend <= 1.0:
        raise ConfigError(f"blend must be in [0, 1], got {blend}")
    mixed = blend * audio.float() + (1.0 - blend) * text.float()
    return torch.nn.functional.normalize(mixed, dim=-1)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """The first image of a [-1, 1] batch [B, 3, H, W] as uint8 [H, W, 3]."""
    image = (images[0].detach().float().clamp(-1, 1) + 1) * 127.5
    return image.round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()


def _autocast(device: torch.device, mode: str):
    if mode == "off":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def _check_inputs(bundle, target: torch.Tensor, w_source: torch.Tensor) -> None:
    G = bundle.generator
    want = (1, G.n_latent, G.style_dim)
    if tuple(w_source.shape) != want:
        raise ConfigError(f"w_source must have shape {list(want)}, got {list(w_source.shape)}")
    if not torch.isfinite(w_source).all():
        raise ConfigError("w_source contains NaN or infinite values")
    if target.ndim != 2 or target.shape[0] != 1 or target.shape[1] != bundle.clip.embed_dim:
        raise ConfigError(
            f"target must have shape [1, {bundle.clip.embed_dim}], got {list(target.shape)}"
        )


def edit_steps(
    bundle,
    target: torch.Tensor,
    w_source: torch.Tensor,
    *,
    config: EditConfig,
    z_source: torch.Tensor | None = None,
    truncation: float = 1.0,
) -> Iterator[EditStep]:
    """Optimise the latent towards ``target``; yields one :class:`EditStep` per step.

    In ``space="w+"`` Adam moves the W+ latent itself (the paper). In ``space="z"`` it moves the
    source's ``z`` and every step's latent is ``w_plus(mapping(z, truncation))``: each image is
    one the generator was trained to draw, for generators whose W+ holds little else (the
    SoundScapes world). With ``latent_noise`` the guidance is averaged over ``samples`` noisy
    copies of the latent, which smooths it: a sound can then pull in an event the source lacks
    entirely, where the unsmoothed gradient is flat.

    Args:
        bundle: a :class:`soundedit.bundle.Bundle` (generator, CLIP, optional identity model).
        target: unit-norm target embedding [1, D] in CLIP space (sound, text or a blend).
        w_source: the source latent [1, L, S]; the regulariser keeps the edit near it.
        config: the run's settings.
        z_source: the source's z [1, S] (``space="z"`` only; ``w_source`` must be its latent).
        truncation: the truncation that made ``w_source`` from ``z_source``.

    Raises:
        ConfigError: a tensor of the wrong shape, NaN in ``w_source``, or ``space="z"``
            without ``z_source``.
    """
    _check_inputs(bundle, target, w_source)
    G, clip = bundle.generator, bundle.clip
    device = G.mean_w.device
    w_source = w_source.detach().to(device, torch.float32)
    target = target.detach().to(device, torch.float32)
    latent, to_w_plus = _latent(G, config, w_source, z_source, truncation)
    anchor = latent.detach().clone()  # the regulariser keeps the moved latent near its start
    params = [latent]
    mask_logits = None
    if config.adaptive_mask and config.lambda_reg > 0 and config.space == "w+":
        mask_logits = torch.zeros(G.n_latent, device=device, requires_grad=True)
        params.append(mask_logits)
    use_id = bundle.identity is not None and config.lambda_id > 0
    # The source image is needed only by the hinge guidance and the identity loss.
    source_embed = source_id = None
    if config.guidance == "hinge" or use_id:
        with torch.no_grad(), _autocast(device, config.autocast):
            source_images = G.synthesis(w_source).float()
            source_embed = clip.embed_image(source_images).float()
            source_id = bundle.identity.embed(source_images).float() if use_id else None
        del source_images
    optimizer = torch.optim.Adam(params, lr=config.lr)
    rng = torch.Generator().manual_seed(config.seed)  # the latent noise
    for i in range(config.steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(
                i / config.steps, config.lr, rampup=config.rampup, rampdown=config.rampdown
            )
        w = to_w_plus(latent)  # [1, L, S]
        with _autocast(device, config.autocast):
            # fp32 images into CLIP: its antialiased resize has no bf16 backward on the CPU;
            # CLIP's matmuls still run in bf16 under autocast.
            images = G.synthesis(_guidance_latents(latent, to_w_plus, w, config, rng)).float()
            embed = clip.embed_image(images)  # [K, D]: one per noisy latent (K = 1 without)
            id_embed = bundle.identity.embed(images) if use_id else None
        terms, similarity = _loss_terms(
            config, embed, source_embed, target, latent, anchor, mask_logits, id_embed, source_id
        )
        total = sum(terms.values())
        grads = torch.autograd.grad(total, params)
        for p, g in zip(params, grads, strict=True):
            p.grad = g
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        values = {k: float(v.detach()) for k, v in terms.items()}
        values["total"] = float(total.detach())
        del w, images, embed, id_embed, terms, total, grads
        with torch.no_grad():
            w = to_w_plus(latent)
        yield _step_record(bundle, config, i, w, mask_logits, values, similarity)


def _latent(G, config: EditConfig, w_source, z_source, truncation):
    """The tensor Adam moves and the map from it to W+ [1, L, S]."""
    if config.space == "w+":
        return w_source.clone().requires_grad_(True), lambda w: w
    if z_source is None:
        raise ConfigError(
            "space 'z' edits start from a seed's z; a latent file or a photo has none (use 'w+')"
        )
    if tuple(z_source.shape) != (1, G.style_dim):
        raise ConfigError(
            f"z_source must have shape [1, {G.style_dim}], got {list(z_source.shape)}"
        )
    z = z_source.detach().to(w_source.device, torch.float32).clone().requires_grad_(True)
    return z, lambda z: G.w_plus(G.mapping(z, truncation=truncation))


def _guidance_latents(latent, to_w_plus, w, config: EditConfig, rng) -> torch.Tensor:
    """The W+ latents whose images the guidance sees: ``w`` or noisy copies [K, L, S]."""
    if config.latent_noise <= 0:
        return w
    noise = torch.randn((config.samples, *latent.shape[1:]), generator=rng)
    return to_w_plus(latent + noise.to(latent.device) * config.latent_noise)


def _loss_terms(config, embed, source_embed, target, latent, anchor, mask_logits, id_embed, src_id):
    """Guidance, regulariser (on the moved latent: W+ per layer, or z as plain L2), identity."""
    embed = embed.float()
    similarity = float(losses.cosine_similarity(embed, target).detach())
    if config.guidance == "hinge":
        terms = {"guidance": losses.hinge_guidance(embed, source_embed, target)}
    else:
        terms = {"guidance": losses.cosine_guidance(embed, target)}
    if config.lambda_reg > 0:
        if mask_logits is not None:
            reg = losses.masked_latent_loss(latent, anchor, mask_logits)
        else:
            reg = losses.l2_latent_loss(latent, anchor)
        terms["latent"] = config.lambda_reg * reg
    if id_embed is not None:
        terms["identity"] = config.lambda_id * losses.identity_loss(id_embed.float(), src_id)
    return terms, similarity


def _step_record(bundle, config, i, w, mask_logits, values, similarity) -> EditStep:
    step = i + 1
    preview = None
    if config.preview_every and step % config.preview_every == 0:
        with torch.no_grad(), _autocast(w.device, config.autocast):
            preview = to_uint8(bundle.generator.synthesis(w.detach()))
    mask = None
    if mask_logits is not None:
        mask = tuple(torch.softmax(mask_logits.detach(), dim=0).tolist())
    return EditStep(
        step=step,
        total=config.steps,
        losses=values,
        similarity=similarity,
        w=w.detach().clone(),
        preview=preview,
        layer_mask=mask,
    )


def edit(bundle, target: torch.Tensor, w_source: torch.Tensor, *, config: EditConfig) -> EditStep:
    """Run :func:`edit_steps` to the end and return its last step (``.w`` is the edit)."""
    last = None
    for step in edit_steps(bundle, target, w_source, config=config):
        last = step
    return last
