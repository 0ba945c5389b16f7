"""The generator's losses: G(z) against the render of its scene, params_from_z(z).

Pixel terms (:func:`regression_loss`), the error where the events show (:func:`event_mask`,
:func:`event_weights`) and a perceptual term on the tiny CLIP's embeddings
(:func:`feature_distance`); the adversarial term is in :mod:`soundedit.soundscapes.adversarial`.
"""

from __future__ import annotations

import torch
from torch import nn

from soundedit.soundscapes.params import INDEX, SPARSE, params_from_z
from soundedit.soundscapes.render import render


def generator_images(G, z: torch.Tensor) -> torch.Tensor:
    """G(z) through the mapping network at truncation 1: [B, 3, R, R]."""
    return G.synthesis(G.w_plus(G.mapping(z)))


def regression_loss(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """L1 + L2 at full resolution, L1 at half resolution, on image gradients and on edge energy.

    The L2 term pulls towards the conditional mean early on (L1 alone first settles on the
    median scene, where sparse events such as fire are absent). The gradient term asks for each
    edge where the render has it; the edge-energy term (gradient magnitude pooled over 4 x 4
    pixels) asks for as much detail in each neighbourhood as the render has even where the
    exact position is not learned yet, which is what keeps G(z) from settling on a blur.
    """
    loss = (fake - real).abs().mean() + 2 * (fake - real).square().mean()
    loss = (
        loss + (nn.functional.avg_pool2d(fake, 2) - nn.functional.avg_pool2d(real, 2)).abs().mean()
    )
    for dim in (2, 3):
        loss = loss + 1.5 * (fake.diff(dim=dim) - real.diff(dim=dim)).abs().mean()
    return loss + 2 * (edge_energy(fake) - edge_energy(real)).abs().mean()


def edge_energy(images: torch.Tensor) -> torch.Tensor:
    """Mean |gradient| over the channels, pooled over 4 x 4 pixels: [B, 1, H/4, W/4]."""
    gx = images.diff(dim=3).abs()[..., :-1, :]
    gy = images.diff(dim=2).abs()[..., :, :-1]
    return nn.functional.avg_pool2d((gx + gy).mean(dim=1, keepdim=True), 4)


def generator_loss(
    G, z: torch.Tensor, features=None, events: float = 0.0, per_event: bool = False
) -> torch.Tensor:
    """The loss of G(z) against render(params_from_z(z)): :func:`regression_loss`, plus with
    ``features`` = (weight, embed) the weighted :func:`feature_distance` of their embeddings,
    plus ``events`` times the mean error where the scene's events show (:func:`event_mask`;
    with ``per_event`` each event's pixels are averaged on their own: :func:`event_weights`)."""
    return paired_loss(G, z, features, events=events, per_event=per_event)[0]


def paired_loss(G, z: torch.Tensor, features=None, *, events: float = 0.0, per_event=False):
    """(:func:`generator_loss`, G(z), the render, the scene params [B, P]) of latents ``z``."""
    params = params_from_z(z)
    with torch.no_grad():
        target = render(params)
        weights = None
        if events:
            weights = event_weights(params, target) if per_event else event_mask(params, target)
            weights = weights / (weights.sum() + 1e-6)
    fake = generator_images(G, z)
    loss = regression_loss(fake, target)
    if features is not None:
        weight, embed = features
        loss = loss + weight * feature_distance(embed, fake, target)
    if weights is not None:
        error = (fake - target).abs().mean(dim=1, keepdim=True)
        loss = loss + events * (weights * error).sum()
    return loss, fake, target, params


def event_weights(params: torch.Tensor, rendered: torch.Tensor) -> torch.Tensor:
    """Each sparse event present in the batch gets the same total weight, spread over where it
    shows (|render - render without that event|): [B, 1, H, W], summing to the event count.

    Under :func:`event_mask` a flock of birds is a few percent of the batch's event pixels next
    to rain and sea; here it weighs as much as each of them.
    """
    total = torch.zeros_like(rendered[:, :1])
    for name in SPARSE:
        present = params[:, INDEX[name]] > 0
        if not present.any():
            continue
        without = params[present].clone()
        without[:, INDEX[name]] = 0.0
        diff = (rendered[present] - render(without)).abs().mean(dim=1, keepdim=True)
        total[present] += diff / (diff.sum() + 1e-6)
    return total


def event_mask(params: torch.Tensor, rendered: torch.Tensor) -> torch.Tensor:
    """Where the sparse events (rain ... sea) show: |render - render without them|, [B, 1, H, W].

    A small event (a flock of birds is 6 % of the picture) weighs little in a mean over all
    pixels; the error averaged over this mask counts it as much as a downpour.
    """
    without = params.clone()
    without[:, [INDEX[name] for name in SPARSE]] = 0.0
    return (rendered - render(without)).abs().mean(dim=1, keepdim=True)


def feature_distance(embed, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Mean cosine distance between the unit embeddings (``embed``) of G(z) and of the render
    it should draw.

    With the tiny CLIP's image tower this asks for what the captions name (a flock of birds,
    bent trees) even where a small shape's pixel error is small.
    """
    with torch.no_grad():
        wanted = embed(real)
    return (1 - (embed(fake) * wanted).sum(dim=-1)).mean()
