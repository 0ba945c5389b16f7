"""The SoundScapes world: parameters, renderer, synthesiser and captions."""

import numpy as np
import pytest
import torch

from soundedit.errors import ConfigError
from soundedit.soundscapes.captions import captions
from soundedit.soundscapes.params import (
    CLASSES,
    INDEX,
    N_PARAMS,
    SHAPES,
    SPARSE,
    calm_z,
    check_params,
    dominant_class,
    make_params,
    params_from_z,
    sample_for_class,
    sample_params,
)
from soundedit.soundscapes.render import render
from soundedit.soundscapes.synth import synthesize


def test_prior_is_in_range_and_seeded():
    a = sample_params(64, torch.Generator().manual_seed(0))
    b = sample_params(64, torch.Generator().manual_seed(0))
    assert a.shape == (64, N_PARAMS) and torch.equal(a, b)
    assert a.min() >= 0 and a.max() <= 1
    assert (a[:, INDEX["rain"]] == 0).float().mean() > 0.4  # events are sparse


def test_params_from_z_is_a_fixed_function():
    z = torch.randn(8, 32, generator=torch.Generator().manual_seed(1))
    assert torch.equal(params_from_z(z), params_from_z(z.clone()))
    check_params(params_from_z(z))


@pytest.mark.parametrize("bad", [1.5, -0.1, float("nan")])
def test_out_of_range_params_are_refused(bad):
    p = make_params()
    p[0, INDEX["rain"]] = bad
    with pytest.raises(ConfigError, match="rain|NaN"):
        render(p)


def test_wrong_shape_and_unknown_name_are_refused():
    with pytest.raises(ConfigError, match="columns"):
        check_params(torch.zeros(2, 3))
    with pytest.raises(ConfigError, match="drizzle"):
        make_params(drizzle=0.5)


def test_sample_for_class_dominates():
    g = torch.Generator().manual_seed(2)
    for name in CLASSES:
        assert set(dominant_class(sample_for_class(name, 16, g))) == {name}


def test_render_is_deterministic_and_in_range():
    p = sample_params(4, torch.Generator().manual_seed(3))
    a, b = render(p), render(p)
    assert a.shape == (4, 3, 64, 64) and torch.equal(a, b)
    assert a.min() >= -1 and a.max() <= 1


@pytest.mark.parametrize(
    "name", ["rain", "snow", "fire", "birds", "sea", "lightning", "clouds", "wind"]
)
def test_render_is_graded(name):
    base = make_params(batch=4)
    levels = torch.tensor([0.0, 0.33, 0.66, 1.0])
    p = base.clone()
    p[:, INDEX[name]] = levels
    images = render(p)
    change = (images - images[:1]).abs().mean(dim=(1, 2, 3))
    assert (change[1:] > change[:-1] + 1e-3).all(), change


def test_night_darkens_steadily():
    p = make_params(batch=9)
    p[:, INDEX["night"]] = torch.linspace(0, 1, 9)
    brightness = render(p).mean(dim=(1, 2, 3))
    steps = brightness[:-1] - brightness[1:]
    assert (steps > 0.05).all(), brightness  # no plateau at dusk: every eighth of the way darker


@pytest.mark.parametrize("name", ["wind", "birds", "fire", "rain", "sea"])
def test_every_event_is_broad_enough_to_see_at_64_px(name):
    # The generator learns what changes many pixels; thin details (1-px streaks, 4-px birds)
    # were never learned. A full-strength event changes at least a tenth of the picture.
    p = make_params(batch=2)
    p[1, INDEX[name]] = 1.0
    change = (render(p)[1] - render(p)[0]).abs().amax(dim=0)
    assert (change > 0.2).float().mean() >= 0.1, name


def test_wind_bends_trees_and_sweeps_the_ground():
    p = make_params(batch=2)
    p[1, INDEX["wind"]] = 1.0
    images = render(p)
    horizon = int(0.58 * 64) + 4
    ground = (images[1, :, horizon:] - images[0, :, horizon:]).abs().amax(dim=0)
    sky = (images[1, :, : horizon - 8] - images[0, :, : horizon - 8]).abs().amax(dim=0)
    assert (ground > 0.15).float().mean() > 0.2 and (sky > 0.2).float().mean() > 0.2


def test_synth_is_seeded_and_level_follows_rain():
    p = make_params(batch=4)
    p[:, INDEX["rain"]] = torch.tensor([0.2, 0.4, 0.7, 1.0])
    a = synthesize(p, seed=5)
    assert a.shape == (4, 64000) and a.dtype == np.float32
    assert np.array_equal(a, synthesize(p, seed=5))
    assert not np.array_equal(a, synthesize(p, seed=6))
    rms = np.sqrt((a**2).mean(axis=1))
    assert (np.diff(rms) > 0).all()


@pytest.mark.parametrize("name", CLASSES)
def test_each_class_is_audible(name):
    quiet = synthesize(make_params(), seed=0)[0]
    loud = synthesize(make_params(**{name: 0.9}), seed=0)[0]
    assert np.sqrt((loud**2).mean()) > 10 * np.sqrt((quiet**2).mean())


def test_captions_use_intensity_words():
    light, heavy = make_params(rain=0.15), make_params(rain=0.95)
    light_words = " ".join(captions(light.expand(20, -1), seed=0))
    heavy_words = " ".join(captions(heavy.expand(20, -1), seed=0))
    assert any(w in light_words for w in ("drizzle", "light rain", "raindrops"))
    assert any(w in heavy_words for w in ("heavy rain", "downpour", "pouring", "torrential"))
    assert captions(heavy, seed=3) == captions(heavy, seed=3)


def test_thunderstorm_at_night_caption():
    words = " ".join(captions(make_params(night=0.95, lightning=0.9).expand(30, -1), seed=1))
    assert "thunderstorm" in words or "lightning" in words
    assert "night" in words or "stars" in words


def test_calm_z_is_a_clear_day_with_the_seeds_shapes():
    z = torch.randn(16, 32, generator=torch.Generator().manual_seed(5))
    calm = calm_z(z)
    params = params_from_z(calm)
    assert (params[:, [INDEX[e] for e in SPARSE]] == 0).all()  # no weather, no event
    assert params[:, INDEX["night"]].max() < 0.1 and params[:, INDEX["clouds"]].max() < 0.15
    shapes = [INDEX[s] for s in SHAPES]
    assert torch.equal(params[:, shapes], params_from_z(z)[:, shapes])
    assert torch.equal(calm[:, N_PARAMS:], z[:, N_PARAMS:])
    assert params[:, shapes].std(dim=0).min() > 0.1  # the seeds' shapes keep their variety
    # just inside "absent": a small step up brings each sparse event in
    for name in SPARSE:
        nudged = calm.clone()
        nudged[:, INDEX[name]] += 1.0
        assert (params_from_z(nudged)[:, INDEX[name]] > 0).all(), name
