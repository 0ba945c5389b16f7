"""A fast subset of the issue's targets on the committed SoundScapes weights (few seeds, steps).

Thresholds are regression guards a little below what the committed weights measure with
``python -m soundedit soundscapes eval`` (see the README table). Every class the world hears is
edited once here, wind, birds and night included.
"""

import pytest

from soundedit.soundscapes.bundle import weights_status

pytestmark = [
    pytest.mark.slow,  # the committed weights, edits at the world's length
    pytest.mark.skipif(not weights_status()[0], reason=weights_status()[1]),
]


@pytest.fixture(scope="module")
def bundle():
    from soundedit.soundscapes.bundle import load_soundscapes_bundle

    return load_soundscapes_bundle("cpu")


def test_bundle_parts_fit(bundle):
    G = bundle.generator
    assert G.resolution == 64 and bundle.clip.embed_dim == bundle.audio_encoder.embed_dim
    assert bundle.probe.param_names[2] == "rain"
    assert bundle.defaults.steps == 100 and bundle.defaults.space == "z"


def test_generator_follows_its_scene(bundle):
    from soundedit.soundscapes.evaluate import eval_generator

    figures = eval_generator(bundle, n=64)
    assert figures["generator_mae"] <= 0.10, figures
    # the worst parameter is mountains (0.255 in the eval; the target 0.10 is not met, README)
    assert figures["generator_mae_max"] <= 0.30, figures["generator_mae_per_param"]


def test_generator_draws_near_its_render(bundle):
    from soundedit.soundscapes.fidelity import held_out_z, paired_images, pixel_error

    G = bundle.generator
    # 0.061 on these 32 latents, 0.055 on the eval's 256 (README); the target 0.025 is not met
    assert pixel_error(*paired_images(G, held_out_z(32, 100_003, G.style_dim))) <= 0.065


def test_the_default_start_is_a_calm_scene(bundle):
    from soundedit.soundscapes.evaluate import eval_calm_start

    figures = eval_calm_start(bundle, seeds=4)
    assert figures["calm_start"] <= 0.22, figures  # measured 0.188 on seeds 0-9 (README)


def test_clip_names_scenes(bundle):
    from soundedit.soundscapes.evaluate import eval_clip

    assert eval_clip(bundle.clip, n_per_class=8) >= 0.8


def test_audio_encoder_names_sounds(bundle):
    from soundedit.soundscapes.evaluate import eval_audio

    assert eval_audio(bundle, n_per_class=4) >= 0.7


@pytest.mark.parametrize(
    ("name", "seed"),
    [
        ("wind", 100_000),
        ("birds", 100_010),
        ("night", 100_000),
    ],
)
def test_the_sounds_that_used_to_do_nothing_show(bundle, name, seed):
    from soundedit.soundscapes.evaluate import class_sound, edit_with

    report = edit_with(bundle, audio=class_sound(name, 4321), seed=seed).report
    before, after = report.probe_source, report.probe_edited
    assert after[name] > before[name] + 0.3, (before, after)


def test_rain_sound_makes_rain_and_keeps_the_land(bundle):
    from soundedit.soundscapes.evaluate import class_sound, edit_with
    from soundedit.soundscapes.params import SHAPES

    report = edit_with(bundle, audio=class_sound("rain", 123), seed=100_000).report
    assert report.main.similarity_after > report.main.similarity_before + 0.15
    before, after = report.probe_source, report.probe_edited
    assert after["rain"] > before["rain"] + 0.3, (before, after)
    assert max(abs(after[s] - before[s]) for s in SHAPES) < 0.25, (before, after)
    assert report.sound_match.known


def test_louder_rain_makes_more_rain(bundle):
    from soundedit.soundscapes.evaluate import class_sound, edit_with

    sound = class_sound("rain", 321)
    # From the calm start, rain is just inside "absent": -18 dB already reads 0.91 and 0 dB 1.0
    # (from the seed as drawn 0.76 and 1.0); -24 dB brings in a trace (0.07).
    rains = [
        edit_with(bundle, audio=sound, gain_db=gain, seed=100_010).report.probe_edited["rain"]
        for gain in (-24.0, 0.0)
    ]
    assert rains[1] > rains[0] + 0.1, rains


def test_a_beep_is_not_a_sound_of_this_world(bundle):
    """The real-audio encoder hears a steady 3 kHz beep near the world's sounds (its edit ends
    above known_similarity and the recogniser accepts it, #10); the signal check names it."""
    import numpy as np

    from soundedit.soundscapes.evaluate import edit_with
    from soundedit.soundscapes.synth import RATE

    t = np.arange(2 * RATE) / RATE
    beep = (0.3 * np.sin(2 * np.pi * 3000 * t)).astype(np.float32)
    report = edit_with(bundle, audio=(RATE, beep), seed=100_000).report
    assert not report.sound_match.known, report.sound_match
    assert report.recognition.signal["kind"] == "tone"
    assert any("a steady 3000 Hz tone, not a sound" in n for n in report.notices)
