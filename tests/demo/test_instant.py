"""The instant preview: the handler as a plain function on a tiny world with a mapper (and on
one without), its wiring on the page, and on the committed SoundScapes world a rain sound whose
picture gets rainier as the volume slider goes up."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
import torch
from scipy.stats import spearmanr  # librosa's own dependency; ties get their mean rank

from demo import WorldCatalog, build_demo
from demo.form import SETTINGS
from demo.handlers import INSTANT_INPUTS, INSTANT_OUTPUTS, RUN_OUTPUTS, Handlers
from demo.instant import INSTANT_QUEUE, instant_preview, preview_request
from demo.page.sound import VOLUME_DB
from demo.results import on_screen
from demo.session import Sessions
from demo.words import INSTANT_CAPTION, INSTANT_LABEL, INSTANT_NEEDS_SEED
from soundedit import bundle as bundles
from soundedit.edit.pipeline import instant_edit
from soundedit.mapper import new_mapper
from soundedit.settings import EditRequest

from .conftest import soundscapes_ready

MAPPED = "tiny-mapped"  # a tiny world that edits z, like SoundScapes, with a mapper
ROOT = Path(__file__).resolve().parents[2]
RAIN = ROOT / "assets" / "sounds" / "rain.wav"
# The volumes where the example rain sound turns the starting picture from dry to rainy (the
# README's docs/live-volume.png shows the same positions).
RAIN_VOLUMES = (-30, -27, -24, -21, -18, -15)


@pytest.fixture(scope="module")
def mapped_bundle(make_bundle):
    defaults = dataclasses.replace(
        bundles.EditConfig(steps=6, preview_every=3),
        space="z", latent_noise=0.5, samples=2, lambda_reg=0.01,
    )  # fmt: skip
    bundle = make_bundle(MAPPED, defaults=defaults)
    mapper = new_mapper(bundle, hidden=32, depth=2)
    torch.manual_seed(3)
    torch.nn.init.normal_(mapper.head.weight, std=0.05)  # an untrained mapper changes nothing
    bundle.mapper = mapper.eval()
    bundles.register_bundle(MAPPED, lambda device: bundle, title="Tiny mapped world")
    yield bundle
    bundles.unregister_bundle(MAPPED)


@pytest.fixture
def handlers(mapped_bundle, tiny_bundle, tmp_path):
    return Handlers(WorldCatalog(default=MAPPED), Sessions(tmp_path / "sessions"))


def form(**overrides):
    """The page's form (INSTANT_INPUTS by name) with the settings left to the world."""
    values = dict.fromkeys(SETTINGS)
    values.update(
        sound=None, sound2=None, mix=0.5, gain_db=0.0, world=MAPPED, source="seed", seed=3,
        latent_file=None, photo=None, mode="sound", text="", blend=0.5, truncation=0.7,
    )  # fmt: skip
    values.update(overrides)
    assert set(values) == set(INSTANT_INPUTS)
    return values


def preview(handlers, **overrides) -> dict:
    """What the page shows under the volume after one instant event: {output: (visible, value)};
    the pair beside the words shows the same in the modes with words, and nothing otherwise."""
    updates = handlers.instant(form(**overrides))
    shown = {
        name: (update["visible"], update["value"])
        for name, update in zip(INSTANT_OUTPUTS, updates, strict=True)
    }
    words = {"instant": shown.pop("instant_words"), "instant_note": shown.pop("instant_words_note")}
    if (overrides.get("mode") or "sound") == "sound":
        assert words == {"instant": (False, None), "instant_note": (False, "")}
    else:
        assert all(value_equal(words[k], shown[k]) for k in words), (words, shown)
    return shown


def value_equal(a: tuple, b: tuple) -> bool:
    """Two (visible, value) pairs alike: the same visibility and the same text or picture."""
    if isinstance(a[1], np.ndarray) or isinstance(b[1], np.ndarray):
        return a[0] == b[0] and np.array_equal(a[1], b[1])
    return a == b


def test_nothing_is_shown_before_a_sound(handlers):
    assert preview(handlers) == {"instant": (False, None), "instant_note": (False, "")}
    assert preview(handlers, mode="text", text="  ") == preview(handlers)


def test_a_sound_shows_the_mapper_edit_as_run_starts_from_it(handlers, mapped_bundle, sound_file):
    shown = preview(handlers, sound=sound_file, gain_db=-6)
    visible, picture = shown["instant"]
    assert visible and shown["instant_note"] == (True, INSTANT_CAPTION)
    want = instant_edit(mapped_bundle, EditRequest(audio=sound_file, gain_db=-6, seed=3))
    assert np.array_equal(picture, on_screen(want.images["sound"]))
    # Run is warm-started by the same edit and refines it.
    run = {**form(sound=sound_file, gain_db=-6), "steps": 6}
    views = list(handlers.run(run, request=SimpleNamespace(session_hash="s")))
    report = dict(zip(RUN_OUTPUTS, views[-1], strict=True))["report"]
    assert report["mapper"] == {"instant": False, "warm_start": True} and report["steps"] == 6


def test_the_picture_follows_the_volume_mix_and_words(handlers, sound_files):
    pictures = [
        preview(handlers, sound=sound_files[0], gain_db=gain)["instant"][1]
        for gain in (-30, -12, 0)
    ]
    pictures.append(
        preview(handlers, sound=sound_files[0], sound2=sound_files[1], mix=0.8)["instant"][1]
    )
    pictures.append(
        preview(handlers, sound=sound_files[0], mode="blend", text="heavy rain")["instant"][1]
    )
    pictures.append(preview(handlers, mode="text", text="heavy rain")["instant"][1])  # no sound
    for i, a in enumerate(pictures):
        assert a is not None and a.dtype == np.uint8
        assert all(not np.array_equal(a, b) for b in pictures[i + 1 :]), i


def test_what_the_preview_cannot_use_is_said_in_one_sentence(handlers, sound_file, tmp_path):
    blend = preview(handlers, sound=sound_file, mode="blend", text="")
    assert blend["instant"] == (False, None)
    assert blend["instant_note"] == (True, "The 'blend' mode needs a text prompt, e.g. “heavy "
                                           "rain at night”.")  # fmt: skip
    latent = tmp_path / "w.pt"
    torch.save(torch.zeros(1, 16), latent)
    for source in ({"source": "latent", "latent_file": str(latent)}, {"source": "photo",
                   "photo": str(tmp_path / "photo.png")}):  # fmt: skip
        shown = preview(handlers, sound=sound_file, **source)
        assert shown == {"instant": (False, None), "instant_note": (True, INSTANT_NEEDS_SEED)}
    refused = preview(handlers, sound=sound_file, seed=-1)
    assert refused["instant"] == (False, None)
    seed = "Seed must be a whole number in [0, 4294967295], got -1."
    assert refused["instant_note"] == (True, seed)


def test_a_world_without_a_mapper_shows_nothing_extra(handlers, tiny, sound_file):
    shown = preview(handlers, sound=sound_file, world=tiny, mode="blend", text="")
    assert shown == {"instant": (False, None), "instant_note": (False, "")}


def test_instant_preview_takes_gradio_audio_and_says_what_changed(mapped_bundle, sound_file):
    """The call other panels make (a microphone's latest second, as Gradio hands it over)."""
    samples, rate = sf.read(sound_file, dtype="int16")
    shown = instant_preview(mapped_bundle, EditRequest(audio=(rate, samples), seed=3))
    from_file = instant_preview(mapped_bundle, EditRequest(audio=sound_file, seed=3))
    assert np.array_equal(shown.image, from_file.image) and shown.report.mapper["instant"]
    silent = instant_preview(mapped_bundle, EditRequest(audio=sound_file, gain_db=-120, seed=3))
    assert silent.image is not None and silent.note == ""
    assert any("makes the sound silent" in n for n in silent.report.notices)
    assert instant_preview(mapped_bundle, None).image is None
    assert preview_request(form(sound=sound_file)).gain_db == 0.0


def test_the_page_wires_every_input_to_one_live_event(mapped_bundle):
    demo = build_demo(WorldCatalog(default=MAPPED))
    config = demo.get_config_file()
    ids = {c["id"]: c for c in config["components"]}
    by_elem = {c["props"].get("elem_id"): c["id"] for c in ids.values()}
    instant = by_elem["instant"]
    assert ids[instant]["props"]["visible"] is False  # no empty box before a sound
    assert ids[instant]["props"]["label"] == INSTANT_LABEL
    [event] = [d for d in config["dependencies"] if instant in d["outputs"]]
    assert by_elem["instant-words"] in event["outputs"]  # the copy beside the words
    assert event["trigger_mode"] == "always_last" and event["show_progress"] == "hidden"
    [fn] = [f for f in demo.fns.values() if any(o._id == instant for o in f.outputs)]
    assert fn.concurrency_id == INSTANT_QUEUE and fn.concurrency_limit >= 1
    triggers = {(ids[i]["props"].get("label"), name) for i, name in event["targets"]}
    for label in ("Volume (dB)", "Mix (0 = first, 1 = second)", "Text"):
        assert (label, "input") in triggers, label
    assert ("Sound (record or upload)", "change") in triggers
    slider = ids[by_elem["gain"]]["props"]
    assert (slider["minimum"], slider["maximum"]) == VOLUME_DB


def world_pixels(picture: np.ndarray, bundle) -> np.ndarray:
    """A picture as the page shows it, back at the world's own size (one pixel per block)."""
    step = picture.shape[0] // bundle.generator.resolution
    return picture[::step, ::step]


@pytest.mark.slow  # the committed SoundScapes world
@pytest.mark.skipif(not soundscapes_ready(), reason="the SoundScapes weights are not here")
def test_a_rain_sound_gets_rainier_with_the_volume(tmp_path):
    handlers = Handlers(WorldCatalog(default="soundscapes"), Sessions(tmp_path / "sessions"))
    bundle = handlers.bundle("soundscapes")
    rain = []
    for gain in RAIN_VOLUMES:
        updates = handlers.instant({**form(sound=str(RAIN), gain_db=gain, seed=0),
                                    "world": "soundscapes"})  # fmt: skip
        picture = dict(zip(INSTANT_OUTPUTS, updates, strict=True))["instant"]["value"]
        rain.append(bundle.measure([world_pixels(picture, bundle)])[0]["rain"])
    assert spearmanr(RAIN_VOLUMES, rain).statistic >= 0.8, rain
    assert rain[-1] - rain[0] >= 0.5, rain
