"""The optimisation iterator: falls, stays near the source, streams, stops, repeats."""

from __future__ import annotations

import inspect
import math

import pytest
import torch

from soundedit.edit.optimize import (
    blend_targets,
    edit_steps,
    learning_rate,
    source_from_mean,
    source_from_seed,
)
from soundedit.errors import ConfigError
from soundedit.settings import EditConfig
from tests.tolerances import cosine_error, norm_error, sum_error


def run(bundle, target, w_source, **settings):
    config = EditConfig(**{"steps": 50, "lr": 0.1, "preview_every": 0, **settings})
    return list(edit_steps(bundle, target, w_source, config=config))


def distance(w, w_source):
    return float((w - w_source).norm())


def test_guidance_falls_and_similarity_rises(tiny_bundle, toy_target):
    w_source = source_from_seed(tiny_bundle.generator, 0, 0.7)
    steps = run(tiny_bundle, toy_target, w_source, lambda_reg=0.0)
    assert len(steps) == 50 and steps[-1].total == 50
    assert steps[-1].losses["guidance"] < steps[0].losses["guidance"] - 0.05
    assert steps[-1].similarity > steps[0].similarity + 0.05
    assert set(steps[0].losses) == {"guidance", "total"}


def test_hinge_guidance_also_pulls_towards_the_target(tiny_bundle, toy_target):
    w_source = source_from_seed(tiny_bundle.generator, 0, 0.7)
    steps = run(tiny_bundle, toy_target, w_source, lambda_reg=0.0, guidance="hinge")
    # source == edit at start: 1 + s - s, each s a float32 cosine in the 16-d toy CLIP space
    assert steps[0].losses["guidance"] == pytest.approx(1.0, abs=2 * cosine_error(16))
    assert steps[-1].similarity > steps[0].similarity + 0.05


@pytest.mark.parametrize("adaptive", [True, False])
def test_large_lambda_reg_keeps_w_near_the_source(tiny_bundle, toy_target, adaptive):
    w_source = source_from_seed(tiny_bundle.generator, 0, 0.7)
    free = run(tiny_bundle, toy_target, w_source, lambda_reg=0.0, steps=30)[-1].w
    held = run(
        tiny_bundle, toy_target, w_source, lambda_reg=50.0, adaptive_mask=adaptive, steps=30
    )[-1].w
    assert distance(held, w_source) < 0.25 * distance(free, w_source)
    assert "latent" in run(tiny_bundle, toy_target, w_source, lambda_reg=1.0, steps=2)[0].losses


def test_layer_mask_sums_to_one_and_moves(tiny_bundle, toy_target):
    w_source = source_from_seed(tiny_bundle.generator, 0, 0.7)
    steps = run(tiny_bundle, toy_target, w_source, lambda_reg=0.5, lr=0.1)
    n_latent = tiny_bundle.generator.n_latent
    for step in steps:
        assert len(step.layer_mask) == n_latent
        # a float32 softmax: exp, an n_latent-term sum and a division for each entry
        assert sum(step.layer_mask) == pytest.approx(1.0, abs=sum_error(n_latent + 2))
    first, last = steps[0].layer_mask, steps[-1].layer_mask
    assert max(abs(a - b) for a, b in zip(first, last, strict=True)) > 1e-3
    plain = run(tiny_bundle, toy_target, w_source, lambda_reg=0.5, adaptive_mask=False, steps=2)
    assert plain[0].layer_mask is None


def test_same_seed_gives_bit_identical_results(tiny_bundle, toy_target):
    def once():
        w_source = source_from_seed(tiny_bundle.generator, 3, 0.7)
        steps = run(tiny_bundle, toy_target, w_source, steps=15, preview_every=5)
        return steps[-1].w, steps[-1].preview, [s.losses for s in steps]

    (w1, p1, l1), (w2, p2, l2) = once(), once()
    assert torch.equal(w1, w2) and (p1 == p2).all() and l1 == l2
    other = source_from_seed(tiny_bundle.generator, 4, 0.7)
    assert not torch.equal(other, source_from_seed(tiny_bundle.generator, 3, 0.7))


def test_previews_arrive_exactly_every_n_steps(tiny_bundle, toy_target):
    w_source = source_from_seed(tiny_bundle.generator, 0, 0.7)
    steps = run(tiny_bundle, toy_target, w_source, steps=12, preview_every=5)
    with_preview = [s.step for s in steps if s.preview is not None]
    assert with_preview == [5, 10]
    preview = steps[4].preview
    assert preview.dtype.name == "uint8" and preview.shape == (16, 16, 3)
    assert all(s.preview is None for s in run(tiny_bundle, toy_target, w_source, steps=3))


def test_stopping_early_releases_everything(tiny_bundle, toy_target):
    w_source = source_from_seed(tiny_bundle.generator, 0, 0.7)
    config = EditConfig(steps=100, preview_every=0)
    it = edit_steps(tiny_bundle, toy_target, w_source, config=config)
    taken = [next(it) for _ in range(3)]
    assert taken[-1].step == 3
    it.close()
    assert inspect.getgeneratorstate(it) == inspect.GEN_CLOSED
    assert it.gi_frame is None  # the frame, and with it the graph and Adam state, is gone
    for module in (tiny_bundle.generator, tiny_bundle.clip):
        assert all(p.grad is None for p in module.parameters())
    assert not taken[-1].w.requires_grad and taken[-1].w.grad_fn is None


def test_identity_loss_is_used_only_with_an_identity_model(make_bundle, toy_target):
    faces = make_bundle(identity=True)
    w_source = source_from_seed(faces.generator, 0, 0.7)
    steps = run(faces, toy_target, w_source, lambda_id=1.0, steps=5)
    assert steps[0].losses["identity"] == pytest.approx(0.0, abs=cosine_error(8))  # 8-d toy
    assert steps[-1].losses["identity"] > 0
    assert "identity" not in run(faces, toy_target, w_source, lambda_id=0.0, steps=2)[0].losses


def test_bf16_autocast_runs_and_stays_close_to_fp32(tiny_bundle, toy_target):
    w_source = source_from_seed(tiny_bundle.generator, 0, 0.7)
    fp32 = run(tiny_bundle, toy_target, w_source, steps=20)[-1]
    bf16 = run(tiny_bundle, toy_target, w_source, steps=20, autocast="bf16")[-1]
    assert fp32.w.dtype == bf16.w.dtype == torch.float32
    moved = distance(fp32.w, w_source)
    assert distance(bf16.w, fp32.w) < 0.5 * moved
    assert abs(bf16.similarity - fp32.similarity) < 0.1


def test_free_generation_from_the_mean_latent(tiny_bundle, toy_target):
    w_mean = source_from_mean(tiny_bundle.generator)
    assert w_mean.shape == (1, 6, 16)
    config = EditConfig(steps=30, lambda_reg=0.0)
    *_, last = edit_steps(tiny_bundle, toy_target, w_mean, config=config)
    assert last.step == 30 and set(last.losses) == {"guidance", "total"}


def test_learning_rate_ramps_up_and_down():
    lr = [learning_rate(i / 100, 0.1, rampup=0.05, rampdown=0.25) for i in range(100)]
    assert lr[0] == 0.0 and lr[50] == pytest.approx(0.1)
    assert lr[2] < lr[4] < lr[50] and lr[99] < 0.001


def test_blend_targets_are_unit_and_weighted():
    a = torch.nn.functional.normalize(torch.randn(1, 8), dim=-1)
    t = torch.nn.functional.normalize(torch.randn(1, 8), dim=-1)
    assert torch.equal(blend_targets(a, t, 1.0), a)
    assert torch.equal(blend_targets(a, t, 0.0), t)
    assert blend_targets(a, t, 0.3).norm().item() == pytest.approx(1.0, abs=norm_error(8))
    with pytest.raises(ConfigError, match="blend"):
        blend_targets(a, t, 1.5)


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"steps": 0}, "steps must be a whole number in \\[1, 5000\\]"),
        ({"steps": -5}, "steps must be a whole number in \\[1, 5000\\]"),
        ({"steps": 10**7}, "steps must be a whole number in \\[1, 5000\\]"),
        ({"steps": 2.5}, "whole number"),
        ({"lr": math.nan}, "lr must be a number in"),
        ({"lr": 0.0}, "lr must be a number in"),
        ({"lambda_reg": -1.0}, "lambda_reg"),
        ({"guidance": "dot"}, "cosine' or 'hinge"),
        ({"autocast": "fp16"}, "'off' or 'bf16'"),
        ({"preview_every": -1}, "preview_every"),
    ],
)
def test_bad_settings_are_refused(settings, message):
    with pytest.raises(ConfigError, match=message):
        EditConfig(**settings)


def test_bad_tensors_are_refused(tiny_bundle, toy_target):
    G = tiny_bundle.generator
    good = source_from_seed(G, 0, 0.7)
    config = EditConfig(steps=2)
    with pytest.raises(ConfigError, match=r"w_source must have shape \[1, 6, 16\]"):
        next(edit_steps(tiny_bundle, toy_target, good[:, :3], config=config))
    bad = good.clone()
    bad[0, 1, 2] = float("nan")
    with pytest.raises(ConfigError, match="NaN"):
        next(edit_steps(tiny_bundle, toy_target, bad, config=config))
    with pytest.raises(ConfigError, match="target must have shape"):
        next(edit_steps(tiny_bundle, toy_target[:, :5], good, config=config))
    with pytest.raises(ConfigError, match="truncation"):
        source_from_seed(G, 0, 1.5)


def z_run(bundle, target, z, **settings):
    G = bundle.generator
    w_source = G.w_plus(G.mapping(z, truncation=0.7)).detach()
    config = EditConfig(**{"steps": 40, "lr": 0.1, "preview_every": 0, "space": "z", **settings})
    steps = edit_steps(bundle, target, w_source, config=config, z_source=z)
    return w_source, list(steps)


def test_z_space_edits_stay_in_the_mapping_networks_image(tiny_bundle, toy_target):
    from soundedit.edit.optimize import z_from_seed

    G = tiny_bundle.generator
    z = z_from_seed(G, 3)
    w_source, steps = z_run(tiny_bundle, toy_target, z, lambda_reg=0.0)
    # The suite's one tiny CLIP (8 px patches) moves less than the former 4 px one: +0.028.
    assert steps[-1].similarity > steps[0].similarity + 0.02
    w = steps[-1].w
    assert not torch.allclose(w, w_source)
    # Every layer holds the same w (W+ from one mapped z): the edit never left W.
    assert torch.allclose(w, w[:, :1].expand_as(w))
    # ... and that w is the mapping of some z: mapping from the mean towards it is a line in W.
    w_free = run(tiny_bundle, toy_target, w_source, lambda_reg=0.0, steps=40)[-1].w
    assert not torch.allclose(w_free, w_free[:, :1].expand_as(w_free), atol=1e-3)


def test_latent_noise_is_seeded_and_changes_the_path(tiny_bundle, toy_target):
    from soundedit.edit.optimize import z_from_seed

    z = z_from_seed(tiny_bundle.generator, 1)
    noisy = dict(latent_noise=0.7, samples=3, lambda_reg=0.0, steps=15)
    a = z_run(tiny_bundle, toy_target, z, **noisy)[1][-1]
    b = z_run(tiny_bundle, toy_target, z, **noisy)[1][-1]
    c = z_run(tiny_bundle, toy_target, z, **{**noisy, "seed": 9})[1][-1]
    plain = z_run(tiny_bundle, toy_target, z, lambda_reg=0.0, steps=15)[1][-1]
    assert torch.equal(a.w, b.w) and not torch.equal(a.w, c.w) and not torch.equal(a.w, plain.w)
    # Noise works in W+ too (a noisy copy of the W+ latent per sample).
    w_source = source_from_seed(tiny_bundle.generator, 1, 0.7)
    w_noisy = run(tiny_bundle, toy_target, w_source, latent_noise=0.3, samples=2, steps=5)
    assert not torch.equal(w_noisy[-1].w, run(tiny_bundle, toy_target, w_source, steps=5)[-1].w)


def test_z_space_needs_the_seeds_z(tiny_bundle, toy_target):
    w_source = source_from_seed(tiny_bundle.generator, 0, 0.7)
    config = EditConfig(steps=2, space="z")
    with pytest.raises(ConfigError, match="start from a seed"):
        next(edit_steps(tiny_bundle, toy_target, w_source, config=config))
    with pytest.raises(ConfigError, match=r"z_source must have shape \[1, 16\]"):
        next(
            edit_steps(tiny_bundle, toy_target, w_source, config=config, z_source=torch.zeros(1, 5))
        )


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"space": "s"}, "space must be 'w\\+' or 'z'"),
        ({"latent_noise": -0.1}, "latent_noise"),
        ({"samples": 0}, "samples must be a whole number in \\[1, 64\\]"),
        ({"samples": 1.5}, "samples must be a whole number"),
    ],
)
def test_bad_space_settings_are_refused(settings, message):
    with pytest.raises(ConfigError, match=message):
        EditConfig(**settings)


def test_z_space_regulariser_holds_z_and_has_no_layer_mask(tiny_bundle, toy_target):
    from soundedit.edit.optimize import z_from_seed

    z = z_from_seed(tiny_bundle.generator, 2)
    w_source, free = z_run(tiny_bundle, toy_target, z, lambda_reg=0.0, steps=30)
    _, held = z_run(tiny_bundle, toy_target, z, lambda_reg=50.0, steps=30)
    assert distance(held[-1].w, w_source) < 0.25 * distance(free[-1].w, w_source)
    assert held[-1].layer_mask is None and "latent" in held[0].losses
