"""The page's values -> EditRequest, with plain-language refusals."""

from __future__ import annotations

import pytest

from demo.form import MAX_SEED, build_request, clamp_seed, new_seed
from soundedit.settings import resolve


def test_sound_mode_needs_a_sound():
    with pytest.raises(ValueError, match="Give a sound first"):
        build_request(dict(sound=None, mode="sound"))


@pytest.mark.parametrize("mode", ["text", "mix", "blend"])
def test_text_modes_need_words(mode):
    with pytest.raises(ValueError, match="needs a text prompt"):
        build_request(dict(sound="a.wav", mode=mode, text="   "))


def test_unknown_mode_and_source_list_the_valid_ones():
    with pytest.raises(ValueError, match="sound, text, mix, blend"):
        build_request(dict(sound="a.wav", mode="dance"))
    with pytest.raises(ValueError, match="seed, drawn, latent, photo"):
        build_request(dict(sound="a.wav", source="dream"))


def test_latent_and_photo_sources_need_their_file():
    with pytest.raises(ValueError, match="latent file"):
        build_request(dict(sound="a.wav", source="latent"))
    with pytest.raises(ValueError, match="photo"):
        build_request(dict(sound="a.wav", source="photo"))


def test_steps_are_bounded(tiny_bundle):
    """The form passes the page's numbers on as numbers; they are checked once, where they
    become the run's settings, in the command line's words."""
    request = build_request(dict(sound="a.wav", steps=0.0, mix_layer=3.0))
    assert request.given() == {"steps": 0, "mix_layer": 3}
    assert type(request.given()["mix_layer"]) is int  # a slider's float, as a whole number
    with pytest.raises(ValueError, match=r"steps must be a whole number in \[1, 5000\], got 0"):
        resolve(tiny_bundle, request)


def test_request_keeps_only_what_the_mode_uses():
    request = build_request(
        dict(sound="a.wav", sound2="b.wav", mode="text", text=" rain ", seed=5.0)
    )
    assert request.audio is None and request.audio2 is None
    assert request.text == "rain" and request.seed == 5
    request = build_request(
        dict(
            sound="a.wav",
            mode="sound",
            text="ignored",
            source="latent",
            latent_file="w.npy",
            photo="p.png",
        )
    )
    assert request.text is None and request.source_latent == "w.npy"
    assert request.source_image is None


def test_a_seed_starts_where_the_world_says_and_drawn_keeps_the_seeds_own_scene():
    assert build_request(dict(sound="a.wav", source="seed", seed=3)).start == "world"
    drawn = build_request(dict(sound="a.wav", source="drawn", seed=3))
    assert drawn.start == "seed" and drawn.seed == 3 and drawn.source_latent is None


def test_none_leaves_settings_to_the_world():
    request = build_request(dict(sound="a.wav", guidance=None))
    assert request.given() == {}  # every setting is the world's (the API uses its hinge)


def test_seeds_outside_the_shared_range_are_refused_not_wrapped():
    # the CLI and the library accept the same range: a seed means one image everywhere
    assert clamp_seed(MAX_SEED) == MAX_SEED and clamp_seed(5.0) == 5
    for bad in (MAX_SEED + 3, -1, "abc", 2.5):
        with pytest.raises(ValueError, match=r"seed must be a whole number in \[0, 4294967295\]"):
            clamp_seed(bad)
    assert 0 <= new_seed() <= MAX_SEED
