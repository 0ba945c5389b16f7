"""A fast subset of the issue's targets on the committed SoundScapes weights (few seeds, steps).

Thresholds are regression guards a little below what the committed weights measure with
``python -m soundedit soundscapes eval`` (see the README table); the edit-success target is not
reached yet and its test is an expected failure.
"""

import pytest

from soundedit.soundscapes.training import WEIGHTS_DIR

FILES = ("generator", "clip", "audio_encoder", "probe")
pytestmark = pytest.mark.skipif(
    not all((WEIGHTS_DIR / f"{f}.safetensors").is_file() for f in FILES),
    reason="SoundScapes weights not built",
)


@pytest.fixture(scope="module")
def bundle():
    from soundedit.soundscapes.bundle import load_soundscapes_bundle

    return load_soundscapes_bundle("cpu")


def test_bundle_parts_fit(bundle):
    G = bundle.generator
    assert G.resolution == 64 and bundle.clip.embed_dim == bundle.audio_encoder.embed_dim
    assert bundle.probe.param_names[2] == "rain"
    assert bundle.defaults.steps == 100


def test_generator_follows_its_scene(bundle):
    from soundedit.soundscapes.evaluate import eval_generator

    assert eval_generator(bundle, n=64) <= 0.15


def test_clip_names_scenes(bundle):
    from soundedit.soundscapes.evaluate import eval_clip

    assert eval_clip(bundle.clip, n_per_class=8) >= 0.8


def test_audio_encoder_names_sounds(bundle):
    from soundedit.soundscapes.evaluate import eval_audio

    assert eval_audio(bundle, n_per_class=4) >= 0.7


def test_rain_sound_makes_rain(bundle):
    from soundedit.soundscapes.evaluate import _edit, class_sound

    result = _edit(bundle, audio=class_sound("rain", 123), seed=100_000, steps=60)
    report = result.report
    assert report["similarity_after"] > report["similarity_before"] + 0.2
    before, after = report["probe_source"], report["probe_edited"]
    assert after["rain"] > before["rain"] + 0.05, (before, after)
