"""Jittered guidance views: shape, seeding, gradients, and their use in the edit loop."""

from __future__ import annotations

import pytest
import torch

from soundedit.edit.optimize import EditConfig, edit_steps, source_from_seed
from soundedit.edit.views import random_views
from soundedit.errors import ConfigError


def image(seed: int = 0) -> torch.Tensor:
    """A smooth random picture [1, 3, 32, 32] in [-1, 1] (coarse noise, upsampled)."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, 4, 4, generator=g) * 2 - 1
    return torch.nn.functional.interpolate(coarse, size=(32, 32), mode="bilinear")


def test_views_are_jittered_copies_of_the_image():
    x = image()
    views = random_views(x, 6, generator=torch.Generator().manual_seed(0))
    assert views.shape == (6, 3, 32, 32)
    # Each view differs from the image, but stays close to it (shift <= 2 px, light blur/noise).
    for v in views:
        assert not torch.allclose(v, x[0])
        assert (v - x[0]).abs().mean() < 0.25
    # A flat image stays flat up to the noise: shifts replicate the edges, blur keeps the mean.
    flat = torch.full((1, 3, 32, 32), 0.25)
    views = random_views(flat, 4, generator=torch.Generator().manual_seed(1))
    assert (views - 0.25).abs().max() < 0.2 and abs(float(views.mean()) - 0.25) < 0.01


def test_views_follow_the_seed_and_pass_gradients():
    x = image().requires_grad_(True)
    a = random_views(x, 3, generator=torch.Generator().manual_seed(5))
    b = random_views(x, 3, generator=torch.Generator().manual_seed(5))
    c = random_views(x, 3, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    a.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_a_batch_gives_its_views_image_by_image():
    x = torch.cat([image(0), image(1)])
    views = random_views(x, 3, generator=torch.Generator().manual_seed(2))
    assert views.shape == (6, 3, 32, 32)
    for i, v in enumerate(views):
        own, other = x[i // 3], x[1 - i // 3]
        assert (v - own).abs().mean() < (v - other).abs().mean()
    with pytest.raises(ValueError, match=r"expected images \[B, 3, H, W\]"):
        random_views(torch.zeros(2, 1, 8, 8), 2, generator=torch.Generator())


@pytest.mark.parametrize("views", [-1, 65, 2.5, True])
def test_bad_view_counts_are_refused(views):
    with pytest.raises(ConfigError, match="views"):
        EditConfig(views=views)


def test_edit_with_views_is_seeded_and_still_pulls_towards_the_target(tiny_bundle, toy_target):
    w_source = source_from_seed(tiny_bundle.generator, 0, 0.7)

    def run(seed):
        config = EditConfig(steps=40, lr=0.1, lambda_reg=0.0, views=4, seed=seed, preview_every=0)
        return list(edit_steps(tiny_bundle, toy_target, w_source, config=config))

    first, again, other = run(0), run(0), run(1)
    assert torch.equal(first[-1].w, again[-1].w)
    assert not torch.equal(first[-1].w, other[-1].w)  # a different seed jitters differently
    assert first[-1].similarity > first[0].similarity + 0.05
