"""The loss terms against their formulas."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from soundedit.edit import losses
from tests.tolerances import cosine_error, sum_error


def unit(*shape, seed=0):
    return F.normalize(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)), dim=-1)


def test_cosine_guidance_is_one_minus_cosine():
    a, t = unit(1, 8, seed=1), unit(1, 8, seed=2)
    assert losses.cosine_guidance(a, t).item() == pytest.approx(
        1 - F.cosine_similarity(a, t).item(), abs=2 * cosine_error(8)  # two float32 cosines
    )
    assert losses.cosine_guidance(t, t).item() == pytest.approx(0.0, abs=cosine_error(8))


def test_hinge_guidance_rewards_getting_closer_than_the_source():
    source, target = unit(1, 8, seed=1), unit(1, 8, seed=2)
    closer = F.normalize(source + 2 * target, dim=-1)
    sim = losses.cosine_similarity
    expected = max(sim(source, target) - sim(closer, target) + 1.0, 0.0)
    got = losses.hinge_guidance(closer, source, target).item()
    assert got == pytest.approx(float(expected), abs=4 * cosine_error(8))  # two cosines each
    assert losses.hinge_guidance(closer, source, target) < losses.hinge_guidance(
        source, source, target
    )
    assert losses.hinge_guidance(target, -target, target, margin=1.0).item() == 0.0  # saturates


def test_masked_latent_loss_weights_layer_distances_by_a_softmax():
    w_source = torch.zeros(1, 4, 3)
    w = w_source.clone()
    w[0, 2] = torch.tensor([3.0, 4.0, 0.0])  # only layer 2 moved, by 5
    logits = torch.tensor([0.0, 0.0, 1.0, 0.0])
    p = torch.softmax(logits.double(), 0).tolist()
    # the distances carry the sqrt(d^2 + 1e-8) that keeps gradients finite: 1e-4 for still layers
    expected = sum(pi * math.sqrt(d * d + 1e-8) for pi, d in zip(p, (0, 0, 5, 0), strict=True))
    # float32: the softmax (exp, a 4-term sum, a division), a sqrt and a 4-term weighted sum
    got = losses.masked_latent_loss(w, w_source, logits).item()
    assert got == pytest.approx(expected, abs=sum_error(4 + 6, magnitude=5.0))
    assert losses.l2_latent_loss(w, w_source).item() == 25.0  # 3^2 + 4^2: exact in float32


def test_latent_loss_has_finite_gradients_at_the_source():
    w_source = torch.randn(1, 4, 3)
    w = w_source.clone().requires_grad_(True)
    logits = torch.zeros(4, requires_grad=True)
    gw, gl = torch.autograd.grad(losses.masked_latent_loss(w, w_source, logits), [w, logits])
    assert torch.isfinite(gw).all() and torch.isfinite(gl).all()


def test_identity_loss_is_zero_for_the_same_face():
    a, b = unit(2, 8, seed=3), unit(2, 8, seed=4)
    assert losses.identity_loss(a, a).item() == pytest.approx(0.0, abs=cosine_error(8))
    assert losses.identity_loss(a, b).item() > 0
