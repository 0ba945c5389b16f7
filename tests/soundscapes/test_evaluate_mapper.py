"""The mapper's eval rows on a tiny world: warm-start steps and the table line."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from soundedit.mapper import new_mapper
from soundedit.settings import EditConfig
from soundedit.soundscapes.evaluate import mapper_line
from soundedit.soundscapes.evaluate_mapper import format_mapper, warm_steps_to_cold


def test_an_identity_mapper_reaches_the_cold_end_on_the_cold_path(make_bundle):
    defaults = EditConfig(steps=8, preview_every=0, space="z", latent_noise=0.5, samples=2)
    bundle = make_bundle(defaults=defaults)
    bundle.mapper = new_mapper(bundle, hidden=16, depth=1)  # untrained: changes nothing
    sound = (16_000, np.random.default_rng(0).standard_normal(16_000).astype(np.float32) * 0.1)
    steps = warm_steps_to_cold(bundle, audio=sound, seed=5)
    # The warm run is the cold run here: it ends exactly where the cold run ends.
    assert 1 <= steps <= defaults.steps
    moved = dataclasses.replace(bundle, mapper=new_mapper(bundle, hidden=16, depth=1))
    with torch.no_grad():
        moved.mapper.head.bias.fill_(3.0)  # a large move: it may help or not, never crashes
    assert 0 <= warm_steps_to_cold(moved, audio=sound, seed=5) <= defaults.steps + 1


def test_mapper_line_pairs_each_class_with_the_optimisation():
    line = mapper_line(
        {"rain": 0.9, "fire": 0.8},
        {"edit_success": {"rain": 1.0, "fire": 0.7}, "intensity_spearman": 0.93,
         "warm_steps_median": 12},
    )  # fmt: skip
    assert "rain 1.00/0.90, fire 0.70/0.80" in line
    assert "instant intensity 0.93" in line and "in 12 steps" in line


def test_format_mapper_shows_the_rows_it_was_given():
    synthetic = format_mapper(
        {"edit_success": {"rain": 1.0, "birds": 0.8}, "intensity_spearman": 0.95,
         "preservation": 0.1, "warm_steps_median": 3, "warm_steps": [0, 3, 30]},
    )  # fmt: skip
    assert synthetic.startswith("instant edit success per class: rain 1.00, birds 0.80")
    assert "(Spearman): 0.950" in synthetic and "median of 3 steps (2 of 3 within 25" in synthetic
    real = format_mapper({"edit_success": {"rain": 0.5}, "gain_spearman": 0.7})
    assert "real rain gain sweep" in real and "warm start" not in real
