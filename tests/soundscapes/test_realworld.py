"""Real recordings in the world: the category map, decoding an ESC-50 folder, training items."""

import random

import numpy as np
import pytest
import torch

from soundedit.errors import ConfigError
from soundedit.soundscapes.params import CLASSES, INDEX
from soundedit.soundscapes.realworld import (
    MAPPING_PATH,
    level_intensity,
    load_mapping,
    outside_items,
    read_clips,
    real_caption,
    real_items,
    real_scene,
    real_takes,
)


def test_the_shipped_map_names_world_events_and_no_category_twice():
    mapping = load_mapping()
    assert set(mapping.events.values()) <= set(CLASSES)
    assert mapping.events["thunderstorm"] == "lightning" and mapping.also["thunderstorm"] == (
        "rain",
    )
    assert mapping.role("rain") == "event" and mapping.role("dog") == "outside"
    assert mapping.role("footsteps") == "ignored" and mapping.role("nonsense") is None
    assert MAPPING_PATH.suffix == ".toml"


def test_a_map_with_an_unknown_key_or_event_is_refused(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[events]\nrain = "drizzle"\n')
    with pytest.raises(ConfigError, match="'drizzle' is not a world event"):
        load_mapping(bad)
    bad.write_text('[events]\nrain = "rain"\n[colours]\nx = 1\n')
    with pytest.raises(ConfigError, match="unknown setting.*colours"):
        load_mapping(bad)
    bad.write_text('[events]\nrain = "rain"\n[outside]\ncategories = ["rain"]\n')
    with pytest.raises(ConfigError, match="listed twice: rain"):
        load_mapping(bad)


def test_clips_of_an_esc50_folder_are_decoded_at_16k_and_sorted_by_role(esc50_folder):
    clips = read_clips(esc50_folder, folds=(4,))
    assert {c.category for c in clips} == {"rain", "thunderstorm", "dog"}  # footsteps: ignored
    assert all(c.fold == 4 and len(c.samples) == 5 * 16_000 for c in clips)
    assert all(np.abs(c.samples).max() == pytest.approx(1.0) for c in clips)
    assert {c.category: c.event for c in clips} == {
        "rain": "rain",
        "thunderstorm": "lightning",
        "dog": None,
    }
    inside = read_clips(esc50_folder, roles=("event",))
    assert len(inside) == 4  # two folds
    with pytest.raises(ConfigError, match="no clips"):
        read_clips(esc50_folder, folds=(2,))


def test_loudness_maps_onto_the_synthesisers_intensity_scale():
    from soundedit.soundscapes.synth import level_db

    noise = np.random.default_rng(0).standard_normal(16_000)
    for value in (0.1, 0.5, 0.9):
        x = noise / np.sqrt(np.mean(noise**2)) * 10 ** (level_db(value) / 20)
        assert level_intensity(x) == pytest.approx(value, abs=0.01)
    assert level_intensity(np.zeros(100)) == 0.0


def test_captions_name_the_events_and_daytime_unless_crickets():
    rng = random.Random(0)
    storm = [real_caption(("lightning", "rain"), 0.9, rng) for _ in range(20)]
    assert all(" and " in c for c in storm)
    night = [real_caption(("night",), 0.5, rng) for _ in range(20)]
    assert all(any(w in c for w in ("night", "stars", "dark")) for c in night)
    day = [real_caption(("fire",), 0.5, rng) for _ in range(30)]
    assert not any("night" in c or "stars" in c for c in day)


def test_training_items_are_seeded_takes_whose_caption_follows_loudness(esc50_folder):
    clips = read_clips(esc50_folder, folds=(1,), roles=("event",))
    items = real_items(clips, variants=6, seed=0)
    again = real_items(clips, variants=6, seed=0)
    assert len(items) == 12 and [i.text for i in items] == [i.text for i in again]
    assert all(i.image is None and i.label in ("rain", "lightning") for i in items)
    assert all(i.group == clips[0].name for i in items[:6])
    rate, x = items[0].audio
    assert rate == 16_000 and x.shape == (64_000,) and x.dtype == np.float32
    loud = real_takes(clips[:1], variants=1, seed=1, gain_db=(0, 0), recorded=0)[0][1]
    quiet = real_takes(clips[:1], variants=1, seed=1, gain_db=(-30, -30), recorded=0)[0][1]
    assert level_intensity(loud) > level_intensity(quiet) + 0.5


def test_a_real_scene_holds_its_events_at_the_takes_intensity_and_no_other_sound():
    g = torch.Generator().manual_seed(0)
    storm = real_scene(("lightning", "rain"), 0.7, g)[0]
    assert storm[INDEX["lightning"]] == pytest.approx(0.7) and storm[INDEX["rain"]] == 0.7
    others = [e for e in CLASSES if e not in ("lightning", "rain", "night")]
    assert all(storm[INDEX[e]] == 0 for e in others) and storm[INDEX["night"]] < 0.65
    quiet = real_scene(("fire",), 0.0, g)[0]
    assert quiet[INDEX["fire"]] > 0.1  # a quiet take still shows its event
    crickets = real_scene(("night",), 0.5, g)[0]
    assert crickets[INDEX["night"]] > 0.65  # crickets are the world's night


def test_real_takes_can_pair_with_renders_of_their_event(esc50_folder):
    clips = read_clips(esc50_folder, folds=(1,), roles=("event",))
    plain = real_items(clips, variants=3, seed=0)
    items = real_items(clips, variants=3, seed=0, images=True)
    assert [i.text for i in items] == [i.text for i in plain]
    assert all(tuple(i.image.shape) == (3, 64, 64) for i in items)
    assert not torch.equal(items[0].image, items[1].image)  # each take has its own picture
    storm = [i for i in items if i.label == "lightning"]
    rain = [i for i in items if i.label == "rain"]
    # a thunderstorm's picture has lightning's bright bolts; rain's does not
    brightest = lambda its: max(float(i.image.max()) for i in its)  # noqa: E731
    assert storm and rain and brightest(storm) > brightest(rain)


def test_clips_from_outside_the_world_are_negatives_without_words(esc50_folder):
    clips = read_clips(esc50_folder, folds=(1,))
    negatives = outside_items(clips, variants=2, seed=0, microphone=0.3)
    assert len(negatives) == 2 and all(i.negative for i in negatives)
    assert all(i.text is None and i.label is None and i.image is None for i in negatives)
    assert {i.group for i in negatives} == {c.name for c in clips if c.event is None}


def test_microphone_takes_change_some_takes_and_leave_the_rest_as_before(esc50_folder):
    clips = read_clips(esc50_folder, folds=(1,), roles=("event",))
    before = real_takes(clips, variants=8, seed=2)
    mic = real_takes(clips, variants=8, seed=2, microphone=0.4)
    same = [np.array_equal(a[1], b[1]) for a, b in zip(before, mic, strict=True)]
    assert 0 < sum(same) < len(same)
