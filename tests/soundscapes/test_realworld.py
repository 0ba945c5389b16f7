"""Real recordings in the world: the category map, decoding an ESC-50 folder, training items."""

import random

import numpy as np
import pytest

from soundedit.errors import ConfigError
from soundedit.soundscapes.params import CLASSES
from soundedit.soundscapes.realworld import (
    MAPPING_PATH,
    level_intensity,
    load_mapping,
    read_clips,
    real_caption,
    real_items,
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
