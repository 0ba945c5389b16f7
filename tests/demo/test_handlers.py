"""The page's handlers, called as plain functions on the tiny world."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest

from demo.form import SETTINGS
from demo.handlers import API_OUTPUTS, RUN_INPUTS, RUN_OUTPUTS, WORLD_OUTPUTS, Handlers
from demo.results import on_screen
from demo.session import Sessions
from demo.worlds import WorldCatalog

TINY = "tiny"  # registered by the tiny_bundle fixture


@pytest.fixture
def handlers(tiny_bundle, tmp_path):
    return Handlers(WorldCatalog(default=TINY), Sessions(tmp_path / "sessions"))


def run_form(**overrides):
    """The Run handler's form (RUN_INPUTS by name), with the tiny world's small settings; a
    setting not named here is left to the world (None), as a widget the visitor left alone."""
    form = dict.fromkeys(SETTINGS)
    form.update(
        sound=None,
        sound2=None,
        mix=0.5,
        gain_db=0.0,
        world=TINY,
        source="seed",
        seed=3,
        truncation=0.7,
        latent_file=None,
        photo=None,
        mode="text",
        text="heavy rain",
        mix_layer=3,
        blend=0.5,
        steps=9,
        lr=0.1,
        lambda_reg=0.008,
        adaptive_mask=True,
        lambda_id=0.0,
        guidance="cosine",
        preview_every=3,
    )
    form.update(overrides)
    assert set(form) == set(RUN_INPUTS)
    return form


def run_views(handlers, session="s1", **overrides):
    request = SimpleNamespace(session_hash=session)
    views = list(handlers.run(run_form(**overrides), request=request))
    return [dict(zip(RUN_OUTPUTS, v, strict=True)) for v in views]


def shown(views):
    """What the page shows once the run is over: each output's last value that was not a skip
    (the value of an update; whether it is visible under "NAME.visible")."""
    page = {}
    for view in views:
        for key, value in view.items():
            if is_skip(value):
                continue
            if isinstance(value, dict) and value.get("__type__") == "update":
                if "visible" in value:
                    page[f"{key}.visible"] = value["visible"]
                if "value" not in value:
                    continue
                value = value["value"]
            page[key] = value
    return page


def run_final(handlers, session="s1", **overrides):
    return shown(run_views(handlers, session, **overrides))


def is_skip(x):
    return isinstance(x, dict) and x == gr.skip()


def is_image(x):
    return isinstance(x, np.ndarray) and x.dtype == np.uint8 and x.ndim == 3 and x.shape[2] == 3


def test_select_world_gives_its_defaults(handlers, tiny_bundle):
    out = dict(zip(WORLD_OUTPUTS, handlers.select_world(TINY), strict=True))
    assert "Tiny test world" in out["world_status"] and "ready" in out["world_status"]
    assert out["steps"] == 12 and out["preview_every"] == 3
    assert out["mix_layer"]["maximum"] == tiny_bundle.generator.n_latent


def test_soundscapes_without_weights_says_how_to_build_them(tmp_path):
    from soundedit.soundscapes.bundle import load_soundscapes_bundle, weights_status

    ready, message = weights_status(tmp_path)  # the world's own words for its empty folder
    info = SimpleNamespace(
        name="soundscapes", title="SoundScapes", domain="soundscapes", status="missing",
        message=message,
    )  # fmt: skip

    def load(name, device):  # the real loader, pointed at an empty folder
        return load_soundscapes_bundle(device, folder=tmp_path)

    catalog = WorldCatalog(lambda: [info], load, default="soundscapes")
    handlers = Handlers(catalog, Sessions(tmp_path / "sessions"))
    assert "weights missing" in catalog.choices()[0][0]
    status = handlers.select_world("soundscapes")[0]
    assert not ready and "weights missing" in status
    assert "python -m soundedit soundscapes train" in status
    with pytest.raises(gr.Error, match="soundscapes train"):
        list(handlers.run(run_form(world="soundscapes")))


def test_source_preview_is_the_seeded_image(handlers):
    a = handlers.show_source(TINY, "seed", 3, 0.7, None)
    b = handlers.show_source(TINY, "seed", 3, 0.7, None)
    c = handlers.show_source(TINY, "seed", 4, 0.7, None)
    assert is_image(a) and np.array_equal(a, b) and not np.array_equal(a, c)


def test_text_run_streams_previews_then_results_and_downloads(handlers):
    views = run_views(handlers)
    assert views[0]["status"] == "Getting the picture ready…"
    assert is_image(views[1]["watch_source"])  # the source first, beside the coming previews
    steps = [v for v in views if isinstance(v["status"], str) and " of 9" in v["status"]]
    # plain words in the status line, the numbers under Details
    plain = "**Following your words “heavy rain”…** step "
    assert all(v["status"].startswith(plain) for v in steps)
    assert not any("similarity" in v["status"].lower() for v in steps)
    assert all("Loss" in v["details"] and "s per step" in v["details"] for v in steps)
    assert len([v for v in steps if is_image(v["live"])]) == 3  # steps 3, 6 and 9 of 9
    assert [v["bar"].count('value="100"') for v in steps][-1] == 1
    pictures, downloads = views[-2], views[-1]  # the result at once, the files after it
    assert is_image(pictures["live"]) and is_skip(pictures["files"])
    assert "Writing the downloads" in pictures["status"] and is_skip(downloads["live"])
    final = shown(views)
    assert final["status"].startswith("**Done** in ")
    assert "the picture now follows your words “heavy rain”" in final["status"]
    assert final["results.visible"] is True
    assert is_image(final["out_source"]) and is_image(final["out_text"])
    # only the boxes of what the run made are shown
    assert final["out_source.visible"] and final["out_text.visible"]
    assert not final["out_sound.visible"] and not final["out_mixed.visible"]
    assert final["out_sound"] is None and final["out_mixed"] is None
    names = {Path(p).name for p in final["files"]}
    assert {
        "source.png",
        "edited.png",
        "latents.safetensors",
        "report.json",
        "settings.json",
        "trajectory.gif",
    } <= names
    settings = json.loads(
        next(Path(p) for p in final["files"] if p.endswith("settings.json")).read_text()
    )
    assert settings["command"].startswith("python -m soundedit edit")
    assert "--seed 3" in settings["command"] and "--steps 9" in settings["command"]
    assert final["report"]["command"] == settings["command"]
    assert final["state"]["chain"] == ["source", "text"]


def test_small_pictures_reach_the_page_enlarged_pixel_for_pixel():
    small = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    big = on_screen(small)
    assert big.shape == (512, 512, 3) and np.array_equal(big[::8, ::8], small)
    assert np.array_equal(big[5:8, 13:16], np.broadcast_to(small[0, 1], (3, 3, 3)))  # blocks
    photo = np.zeros((1024, 1024, 3), np.uint8)
    assert on_screen(photo) is photo and on_screen(None) is None
    assert on_screen(np.zeros((300, 200, 3), np.uint8)).shape == (300, 200, 3)  # k would be 1


def test_the_same_settings_give_the_same_image(handlers):
    a = run_final(handlers, session="a")["out_text"]
    b = run_final(handlers, session="b")["out_text"]
    assert np.array_equal(a, b)


def test_interpolation_slider_renders_between_the_ends(handlers):
    final = run_final(handlers)
    state = final["state"]
    start = handlers.interpolate(state, 0.0)
    end = handlers.interpolate(state, 1.0)
    middle = handlers.interpolate(state, 0.5)
    assert np.array_equal(start, final["out_source"]) and np.array_equal(end, final["out_text"])
    assert is_image(middle)
    assert isinstance(handlers.interpolate(None, 0.5), dict)  # no result yet: nothing changes


def test_stop_ends_the_run_between_steps_and_keeps_the_last_image(handlers):
    request = SimpleNamespace(session_hash="stopper")
    run = handlers.run(run_form(steps=300, preview_every=2), request=request)
    views = []
    for view in run:
        views.append(dict(zip(RUN_OUTPUTS, view, strict=True)))
        if len(views) == 2:
            assert handlers.stop(request).startswith("Stopping")
    final = shown(views)
    assert final["status"].startswith("**Stopped**")
    assert 0 < final["report"]["stopped_at"] < 300 and final["report"]["steps"] == 300
    assert is_image(final["out_text"]) and is_image(final["out_source"])
    assert len(views) < 10
    # The next run of the same session is not stopped by the old request.
    assert run_final(handlers, session="stopper")["status"].startswith("**Done**")


def test_errors_reach_the_page_as_plain_messages(handlers):
    with pytest.raises(gr.Error, match="Give a sound first"):
        list(handlers.run(run_form(mode="sound")))
    with pytest.raises(gr.Error, match="Unknown world 'mars'"):
        list(handlers.run(run_form(world="mars")))
    with pytest.raises(gr.Error, match="latent"):
        list(handlers.run(run_form(source="latent", latent_file="/nonexistent/w.npy")))


def test_a_latent_file_can_be_the_source(handlers, tiny_bundle, tmp_path):
    G = tiny_bundle.generator
    path = tmp_path / "w.npy"
    np.save(path, np.zeros((G.n_latent, G.style_dim), np.float32))
    assert is_image(handlers.show_source(TINY, "latent", 0, 0.7, str(path)))
    final = run_final(handlers, source="latent", latent_file=str(path))
    assert final["report"]["source"]["kind"] == "latent"
    assert "source_latent.npy" in {Path(p).name for p in final["files"]}


def test_sound_run_with_gain_and_a_second_sound(handlers, sound_files):
    final = run_final(
        handlers, sound=sound_files[0], sound2=sound_files[1], mix=0.3, gain_db=-6, mode="sound"
    )
    assert is_image(final["out_sound"]) and final["state"]["chain"] == ["source", "sound"]
    names = {Path(p).name for p in final["files"]}
    assert {"sound.wav", "sound2.wav"} <= names
    assert "--gain-db -6" in final["command"]


def test_mix_mode_fills_the_whole_result_row(handlers, sound_file):
    final = run_final(handlers, sound=sound_file, mode="mix", mix_layer=2)
    for key in ("out_source", "out_sound", "out_text", "out_mixed"):
        assert is_image(final[key]), key
    assert final["state"]["chain"] == ["source", "sound", "text"]
    assert is_image(handlers.interpolate(final["state"], 1.5))


def test_api_edit_streams_progress_then_image_and_report(handlers):
    views = [
        dict(zip(API_OUTPUTS, v, strict=True))
        for v in handlers.api_edit(None, TINY, 3, 6, "heavy rain", "text")
    ]
    assert all(v["report"]["step"] <= 6 for v in views[:-1])
    assert all(is_image(v["image"]) for v in views)  # every streamed item is a preview
    final = views[-1]
    assert is_image(final["image"]) and final["report"]["steps"] == 6
    assert final["report"]["stopped"] is False and "command" in final["report"]
    # the similarity streamed is that of the preview: the last one is the final picture's
    assert views[-2]["report"]["step"] == 6
    assert views[-2]["report"]["similarity"] == final["report"]["similarity_after"]


def test_closing_the_page_deletes_its_files(handlers):
    files = run_final(handlers, session="closing")["files"]
    names = {Path(p).name for p in files}  # the downloads: an empty list would prove nothing
    assert {"source.png", "report.json", "settings.json"} <= names, names
    assert all(Path(p).exists() for p in files)
    handlers.end_session(SimpleNamespace(session_hash="closing"))
    assert not any(Path(p).exists() for p in files)


def test_a_real_world_that_cannot_be_fetched_names_the_file_and_folder(tmp_path):
    from soundedit.errors import WeightsNotFoundError

    info = SimpleNamespace(
        name="churches",
        title="churches 256px",
        domain="churches",
        status="missing",
        message="not downloaded",
    )

    def load(name, device):
        raise WeightsNotFoundError("church.pt is not on this machine; put it in /repo/weights/")

    handlers = Handlers(WorldCatalog(lambda: [info], load, default="churches"), Sessions(tmp_path))
    status = handlers.select_world("churches")[0]
    assert "weights missing" in status and "church.pt" in status and "weights/" in status
    assert "/repo/" not in status  # the panel never shows the machine's own folders
    with pytest.raises(gr.Error, match="church.pt is not on this machine"):
        list(handlers.run(run_form(world="churches")))


def test_the_command_line_in_the_downloads_reproduces_the_result(
    handlers, sound_file, tmp_path, monkeypatch
):
    from PIL import Image

    from soundedit.cli import main

    final = run_final(handlers, sound=sound_file, mode="sound", gain_db=-3, seed=5, lr=0.2)
    downloads = Path(final["files"][0]).parent
    monkeypatch.chdir(downloads)  # the command names the downloaded sound.wav
    tokens = shlex.split(final["command"])
    assert main([*tokens[3:], "--out", str(tmp_path / "cli")]) == 0
    again = np.asarray(Image.open(tmp_path / "cli" / "edited.png").convert("RGB"))
    assert np.array_equal(on_screen(again), final["out_sound"])


def test_the_similarity_when_done_is_the_last_one_shown_while_running(handlers):
    """The page once showed the guidance's own similarity (before the update, on noisy copies
    of the latent) while running, and the final picture's when done: 0.321 then 0.513."""
    import re

    views = run_views(handlers, steps=8, preview_every=3)  # the last step is no preview step
    running = [v["details"] for v in views if "Similarity of the picture shown" in str(v)]
    last_shown = re.search(r"to your words: (-?\d\.\d+)", running[-1]).group(1)
    done = shown(views)["details"]
    assert re.search(r"→ (-?\d\.\d+) at the end", done).group(1) == last_shown
    assert "(step 8)" in running[-1]


def test_hearing_a_sound_says_before_any_run_whether_the_world_knows_it(
    handlers, tmp_path, sound_file, make_bundle
):
    import dataclasses

    from soundedit.bundle import register_bundle
    from soundedit.soundscapes.recognise import Recognition

    def unknown(embedding):
        return Recognition("wind", 0.05, 0.2, False)

    def known(embedding):
        return Recognition("rain", 0.9, 0.2, True)

    notes = {}
    for name, recognise in (("tiny-deaf", unknown), ("tiny-ears", known)):
        bundle = dataclasses.replace(
            make_bundle(name), recognise=recognise, known_sounds=("rain", "fire")
        )
        register_bundle(name, lambda device, b=bundle: b)
        h = Handlers(WorldCatalog(default=name), Sessions(tmp_path / name))
        preview, notes[name] = h.hear(name, sound_file, None, 0.5, 0.0)
        rate, samples = preview
        assert samples.dtype == np.int16
    assert "This world knows rain, fire; this sound is none of them" in notes["tiny-deaf"]
    assert "closest: wind" in notes["tiny-deaf"] and "will still run" in notes["tiny-deaf"]
    assert notes["tiny-ears"].startswith("Heard as **rain**")
    assert handlers.hear(TINY, sound_file, None, 0.5, 0.0)[1] == ""  # no recogniser: no note
    assert handlers.hear(TINY, None, None, 0.5, 0.0) == (None, "")


def test_hearing_a_test_tone_names_it_before_the_recogniser(tmp_path, make_bundle):
    import dataclasses

    import soundfile

    from soundedit.bundle import register_bundle
    from soundedit.soundscapes.recognise import Recognition

    def knows_everything(embedding):
        return Recognition("lightning", 0.95, 0.2, True)

    bundle = dataclasses.replace(
        make_bundle("tiny-tone"), recognise=knows_everything, known_sounds=("rain", "fire")
    )
    register_bundle("tiny-tone", lambda device, b=bundle: b)
    tone = tmp_path / "tone.wav"
    t = np.arange(32_000) / 16_000
    soundfile.write(str(tone), 0.3 * np.sin(2 * np.pi * 1000 * t), 16_000)
    h = Handlers(WorldCatalog(default="tiny-tone"), Sessions(tmp_path / "s"))
    _, note = h.hear("tiny-tone", str(tone), None, 0.5, 0.0)
    assert note == (
        "⚠️ This is a steady 1000 Hz tone, not a sound from the world, so the edit will not "
        "match it: try rain, fire…"
    )
