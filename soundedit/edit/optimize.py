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

import numpy as np
import torch

from soundedit.edit import losses
from soundedit.errors import ConfigError
from soundedit.settings import EditConfig


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
    phase: str = "sound"  # which run of an edit the step belongs to ("sound" or "text")
    # cos(CLIP(preview), target): how close the picture shown is (None without a preview).
    # ``similarity`` is what the guidance saw *before* the update, averaged over noisy copies
    # of the latent when ``latent_noise`` > 0, so it can be far from this one.
    preview_similarity: float | None = None


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
    """``normalize(blend * audio + (1 - blend) * text)`` for unit embeddings [1, D].

    The ends are the inputs themselves: normalising an already unit vector again moves it by
    rounding (a few ulps, machine-dependent), and 100 steps of Adam amplify that, so a blend of 1
    would not be the sound-only run.
    """
    if not 0.0 <= blend <= 1.0:
        raise ConfigError(f"blend must be in [0, 1], got {blend}")
    if blend == 1.0:
        return audio.float()
    if blend == 0.0:
        return text.float()
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
    final_preview: bool = True,
    start: torch.Tensor | None = None,
) -> Iterator[EditStep]:
    """Optimise the latent towards ``target``; yields one :class:`EditStep` per step.

    In ``space="w+"`` Adam moves the W+ latent itself (the paper). In ``space="z"`` it moves the
    source's ``z`` and every step's latent is ``w_plus(mapping(z, truncation))``: each image is
    one the generator was trained to draw (for generators whose W+ holds little else). With
    ``latent_noise`` the guidance is averaged over ``samples`` noisy copies of the latent, which
    smooths it: a sound can then pull in an event the source lacks entirely.

    Args:
        bundle: a :class:`soundedit.bundle.Bundle` (generator, CLIP, optional identity model).
        target: unit-norm target embedding [1, D] in CLIP space (sound, text or a blend).
        w_source: the source latent [1, L, S]; the regulariser keeps the edit near it.
        config: the run's settings.
        z_source: the source's z [1, S] (``space="z"`` only; ``w_source`` must be its latent
            at ``config.truncation``).
        final_preview: False leaves the last step without a preview, for a caller that renders
            the result itself (the pipeline): the final latent is then decoded once.
        start: where Adam starts (a mapper's edit, in the edit's space); None = the source.

    Raises:
        ConfigError: a wrong shape, NaN in ``w_source``, or ``space="z"`` without ``z_source``.
    """
    _check_inputs(bundle, target, w_source)
    G, clip, device = bundle.generator, bundle.clip, bundle.generator.mean_w.device
    w_source, target = (t.detach().to(device, torch.float32) for t in (w_source, target))
    latent, anchor, to_w_plus = _start(G, config, w_source, z_source, start)
    mask_logits = _mask_logits(G, config, device)
    params = [latent] if mask_logits is None else [latent, mask_logits]
    use_id = bundle.identity is not None and config.lambda_id > 0
    source_embed, source_id = _source_embeddings(bundle, w_source, config, use_id)
    optimizer = torch.optim.Adam(params, lr=config.lr)
    rng = torch.Generator().manual_seed(config.seed)  # the latent noise
    for i in range(config.steps):
        _set_learning_rate(optimizer, i / config.steps, config)
        with _autocast(device, config.autocast):
            # fp32 images into CLIP: its antialiased resize has no bf16 backward on the CPU;
            # CLIP's matmuls still run in bf16 under autocast.
            images = G.synthesis(_guidance_latents(latent, to_w_plus, config, rng)).float()
            embed = clip.embed_image(images)  # [K, D]: one per noisy latent (K = 1 without)
            id_embed = bundle.identity.embed(images) if use_id else None
        terms, similarity = _loss_terms(
            config, embed, source_embed, target, latent, anchor, mask_logits, id_embed, source_id
        )
        values = _update(optimizer, params, terms)
        del images, embed, id_embed, terms
        with torch.no_grad():
            w = to_w_plus(latent)
        previews = final_preview or i + 1 < config.steps
        yield _step_record(bundle, config, i, w, mask_logits, values, similarity, target, previews)


def _set_learning_rate(optimizer, t: float, config: EditConfig) -> None:
    """The schedule's learning rate at ``t`` = step / steps (ramped up and down)."""
    for group in optimizer.param_groups:
        group["lr"] = learning_rate(t, config.lr, rampup=config.rampup, rampdown=config.rampdown)


def _mask_logits(G, config: EditConfig, device) -> torch.Tensor | None:
    """The trainable per-layer mask logits [L] (adaptive masking of a W+ regulariser) or None."""
    if config.adaptive_mask and config.lambda_reg > 0 and config.space == "w+":
        return torch.zeros(G.n_latent, device=device, requires_grad=True)
    return None


def _source_embeddings(bundle, w_source, config: EditConfig, use_id: bool):
    """CLIP and identity embeddings of the source image, needed only by the hinge guidance and
    the identity loss: (None, None) otherwise."""
    if config.guidance != "hinge" and not use_id:
        return None, None
    with torch.no_grad(), _autocast(w_source.device, config.autocast):
        source_images = bundle.generator.synthesis(w_source).float()
        source_embed = bundle.clip.embed_image(source_images).float()
        source_id = bundle.identity.embed(source_images).float() if use_id else None
    return source_embed, source_id


def _update(optimizer, params: list[torch.Tensor], terms: dict) -> dict[str, float]:
    """One Adam step on the summed loss terms; returns each term and "total" as floats."""
    total = sum(terms.values())
    grads = torch.autograd.grad(total, params)
    for p, g in zip(params, grads, strict=True):
        p.grad = g
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    values = {k: float(v.detach()) for k, v in terms.items()}
    values["total"] = float(total.detach())
    return values


def _start(G, config: EditConfig, w_source, z_source, start):
    """The tensor Adam moves (at ``start`` when given), its anchor (the source: the regulariser
    keeps the moved latent near it) and the map to W+."""
    latent, to_w_plus = _latent(G, config, w_source, z_source)
    anchor = latent.detach().clone()
    if start is not None:
        with torch.no_grad():
            latent.copy_(start.detach().to(latent.device, torch.float32).reshape(latent.shape))
    return latent, anchor, to_w_plus


def _latent(G, config: EditConfig, w_source, z_source):
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
    return z, lambda z: G.w_plus(G.mapping(z, truncation=config.truncation))


def _guidance_latents(latent, to_w_plus, config: EditConfig, rng) -> torch.Tensor:
    """The W+ latents whose images the guidance sees: the latent's [1, L, S] or noisy copies
    [K, L, S] (the latent's own W+ is then not needed)."""
    if config.latent_noise <= 0:
        return to_w_plus(latent)
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


def _step_record(bundle, config, i, w, mask_logits, values, similarity, target, previews):
    step = i + 1
    preview = preview_similarity = None
    if previews and config.preview_every and step % config.preview_every == 0:
        with torch.no_grad(), _autocast(w.device, config.autocast):
            images = bundle.generator.synthesis(w.detach()).float()
            preview = to_uint8(images)
            embed = bundle.clip.embed_image(images).float()
        preview_similarity = float(losses.cosine_similarity(embed, target))
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
        preview_similarity=preview_similarity,
    )
