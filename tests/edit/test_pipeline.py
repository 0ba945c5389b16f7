"""run_edit / EditRun / write_result: every mode, stopping, the report, the files, refusals."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from soundedit.edit.mixing import style_mix
from soundedit.edit.pipeline import run_edit, run_to_end, write_result
from soundedit.edit.report import EditReport, PhaseReport, Recognition, SoundMatch
from soundedit.errors import ConfigError
from soundedit.settings import EditRequest


def make_request(**fields) -> EditRequest:
    """A request from inputs and settings mixed (10 steps, a preview every 5 by default)."""
    return EditRequest.of(**{"steps": 10, "preview_every": 5, **fields})


def finish(bundle, **fields):
    run = run_edit(bundle, make_request(**fields))
    steps = list(run)
    return steps, run.result()


def test_sound_mode_streams_steps_and_reports(sound_bundle, tone):
    items, result = finish(sound_bundle, audio=tone, lambda_reg=0.0, steps=20)
    assert [i.step for i in items] == list(range(1, 21))
    assert {i.phase for i in items} == {"sound"}
    assert set(result.images) == set(result.latents) == {"source", "sound"}
    assert result.images["sound"].shape == (16, 16, 3) and result.latents["sound"].shape == (
        1,
        6,
        16,
    )
    assert isinstance(result.report, EditReport)
    report = json.loads(json.dumps(result.report.to_dict()))
    for key in (
        "bundle",
        "generator",
        "steps",
        "seconds",
        "seconds_per_step",
        "similarity_before",
        "similarity_after",
        "losses",
        "seed",
        "notices",
        "settings",
    ):
        assert key in report
    assert report["similarity_after"] > report["similarity_before"]
    assert report["steps"] == 20 and "probe_source" not in report
    assert report["stopped_at"] is None
    assert len(result.frames) == 4  # steps 5, 10, 15, 20


def test_text_mode_uses_the_words(sound_bundle):
    items, result = finish(sound_bundle, mode="text", text="heavy rain")
    assert {i.phase for i in items} == {"text"} and set(result.images) == {"source", "text"}


def test_mix_mode_runs_sound_then_text_and_mixes(sound_bundle, tone):
    items, result = finish(sound_bundle, audio=tone, mode="mix", text="fire", mix_layer=2)
    assert [i.phase for i in items] == ["sound"] * 10 + ["text"] * 10
    assert set(result.images) == {"source", "sound", "text", "mixed"}
    expected = style_mix(result.latents["sound"], result.latents["text"], 2)
    assert torch.equal(result.latents["mixed"], expected)
    assert set(result.report.phases) == {"sound", "text"}


def test_blend_of_one_is_the_sound_run(sound_bundle, tone):
    _, sound = finish(sound_bundle, audio=tone)
    _, blend = finish(sound_bundle, audio=tone, mode="blend", text="snow", blend=1.0)
    assert torch.equal(blend.latents["sound"], sound.latents["sound"])
    _, half = finish(sound_bundle, audio=tone, mode="blend", text="snow", blend=0.5)
    assert not torch.allclose(half.latents["sound"], sound.latents["sound"])


def test_same_request_same_result_and_gain_or_second_sound_change_it(sound_bundle, tone, rain):
    _, a = finish(sound_bundle, audio=tone)
    _, b = finish(sound_bundle, audio=tone)
    assert torch.equal(a.latents["sound"], b.latents["sound"])
    _, quiet = finish(sound_bundle, audio=tone, gain_db=-20.0)
    _, mixed = finish(sound_bundle, audio=tone, audio2=rain, mix=0.7)
    assert not torch.equal(quiet.latents["sound"], a.latents["sound"])
    assert not torch.equal(mixed.latents["sound"], a.latents["sound"])
    assert mixed.report.settings["mix"] == 0.7


def test_gradio_style_audio_tuple_is_accepted(sound_bundle):
    rate = 16000
    samples = (0.2 * np.sin(np.linspace(0, 2000, rate)) * 32767).astype(np.int16)
    _, result = finish(sound_bundle, audio=(rate, samples), steps=3)
    assert "sound" in result.images


def test_a_request_of_inputs_and_settings_splits_them():
    request = EditRequest.of(audio="a.wav", seed=3, steps=50, lr=0.2)
    assert request.seed == 3 and request.given() == {"steps": 50, "lr": 0.2}
    with pytest.raises(ConfigError, match="unknown request field.* stepz"):
        EditRequest.of(audio="a.wav", stepz=50)


def test_max_steps_variable_caps_every_edit_and_says_so(sound_bundle, tone, monkeypatch):
    monkeypatch.setenv("SOUNDEDIT_MAX_STEPS", "4")
    result = run_to_end(sound_bundle, make_request(audio=tone, steps=10))
    assert result.report.steps == 4 and result.report.settings["steps"] == 4
    notice = "10 steps asked, 4 run: SOUNDEDIT_MAX_STEPS=4 caps every edit"
    assert notice in result.report.notices
    short = run_to_end(sound_bundle, make_request(audio=tone, steps=3))
    assert short.report.steps == 3 and not any("MAX_STEPS" in n for n in short.report.notices)
    for bad in ("0", "x", "5001", "2.5"):
        monkeypatch.setenv("SOUNDEDIT_MAX_STEPS", bad)
        with pytest.raises(ConfigError, match="SOUNDEDIT_MAX_STEPS must be a whole number"):
            run_edit(sound_bundle, make_request(audio=tone))


def test_stopping_early_gives_the_result_so_far(sound_bundle, tone):
    run = run_edit(sound_bundle, make_request(audio=tone, steps=50))
    first = []
    for step in run:
        first.append(step.step)
        if step.step == 3:
            run.stop()
    assert first == [1, 2, 3]
    result = run.result()
    full = run_to_end(sound_bundle, make_request(audio=tone, steps=50))
    assert set(result.report.to_dict()) == set(full.report.to_dict())  # one report schema
    assert result.report.stopped_at == 3 and full.report.stopped_at is None
    assert result.report.phases["sound"].steps == 3
    assert set(result.images) == {"source", "sound"}
    assert any("stopped at step 3 of 50" in n for n in result.report.notices)


def test_a_mix_stopped_in_its_sound_run_has_no_text_or_mixed_image(sound_bundle, tone):
    run = run_edit(sound_bundle, make_request(audio=tone, mode="mix", text="fire"))
    for step in run:
        if step.step == 2:
            run.stop()
    result = run.result()
    assert set(result.images) == {"source", "sound"} and result.report.stopped_at == 2


def test_stopping_before_the_first_step_keeps_the_source(sound_bundle, tone):
    run = run_edit(sound_bundle, make_request(audio=tone))
    run.stop()
    result = run.result()
    assert set(result.images) == {"source"} and result.report.stopped_at == 0
    assert result.report.main is None and result.report.to_dict()["similarity_after"] is None


def test_a_probe_measures_source_and_edit(sound_bundle, tone):
    def measure(images):
        return [{"brightness": float(im.mean())} for im in images]

    sound_bundle.measure = measure
    _, result = finish(sound_bundle, audio=tone)
    assert set(result.report.probe_source) == {"brightness"}
    assert result.report.probe_edited != result.report.probe_source


def test_write_result_writes_every_file(sound_bundle, tone, tmp_path):
    _, result = finish(sound_bundle, audio=tone, mode="mix", text="fire")
    paths = write_result(result, tmp_path / "out", frames=True)
    for name in ("source", "edited", "text", "mixed"):
        assert Image.open(paths[name]).size == (16, 16)
    latents = load_file(str(paths["latents"]))
    assert set(latents) == {"w_source", "w_edited", "w_text", "w_mixed"}
    assert torch.equal(latents["w_edited"], result.latents["sound"])
    assert json.loads(paths["report"].read_text())["mode"] == "mix"
    gif = Image.open(paths["trajectory"])
    assert gif.n_frames == len(result.frames) == 4
    assert len(list(paths["frames"].glob("*.png"))) == 4
    text_only = finish(sound_bundle, mode="text", text="fire")[1]
    paths = write_result(text_only, tmp_path / "text", animation=False)
    assert set(load_file(str(paths["latents"]))) == {"w_source", "w_edited"}
    assert "trajectory" not in paths


def test_source_latent_file_is_used(sound_bundle, tone, tmp_path):
    w = torch.randn(1, 6, 16)
    torch.save(w, tmp_path / "w.pt")
    _, result = finish(sound_bundle, audio=tone, source_latent=str(tmp_path / "w.pt"), steps=2)
    assert torch.equal(result.latents["source"], w)
    assert result.report.source["kind"] == "latent"


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"mode": "sound"}, "needs a sound"),
        ({"mode": "text"}, "needs words"),
        ({"mode": "mix", "text": "rain"}, "needs a sound"),
        ({"mode": "paint"}, "mode must be one of sound, text, mix, blend"),
        ({"mode": "text", "text": "x", "steps": 0}, r"steps must be a whole number in \[1, 5000\]"),
        ({"mode": "text", "text": "x", "steps": 100000}, r"steps must be a whole number in \[1,"),
        (
            {"mode": "mix", "text": "x", "audio": "TONE", "mix_layer": 9},
            r"mix layer must be in \[0, 6\]",
        ),
        ({"audio": "TONE", "audio2": "TONE", "mix": 2.0}, r"mix must be a number in \[0, 1\]"),
        ({"audio": "TONE", "mode": "blend", "text": "x", "blend": -1.0}, "blend must be"),
        ({"mode": "text", "text": "x", "truncation": 3.0}, "truncation"),
        ({"mode": "text", "text": "x", "step": 3}, "unknown setting.* step;"),
    ],
)
def test_bad_requests_are_refused_before_any_step(sound_bundle, tone, settings, message):
    settings = {k: (tone if v == "TONE" else v) for k, v in settings.items()}
    if "step" in settings:  # a typo of an override
        request = EditRequest(mode="text", text="x", overrides={"step": 3})
        with pytest.raises(ConfigError, match=message):
            run_edit(sound_bundle, request)
        return
    with pytest.raises(ConfigError, match=message):
        run_edit(sound_bundle, make_request(**settings))


def test_bad_sources_are_refused(sound_bundle, tmp_path):
    torch.save(torch.randn(1, 14, 512), tmp_path / "big.pt")
    nan = torch.zeros(16)
    nan[0] = float("nan")
    np.save(tmp_path / "nan.npy", nan.numpy())
    (tmp_path / "photo.jpg").write_text("not a picture")
    text = {"mode": "text", "text": "x"}
    with pytest.raises(ConfigError, match="does not fit"):
        run_edit(sound_bundle, EditRequest(**text, source_latent=str(tmp_path / "big.pt")))
    with pytest.raises(ConfigError, match="NaN"):
        run_edit(sound_bundle, EditRequest(**text, source_latent=str(tmp_path / "nan.npy")))
    with pytest.raises(ConfigError, match="not an image"):
        run_edit(sound_bundle, EditRequest(**text, source_image=str(tmp_path / "photo.jpg")))
    with pytest.raises(ConfigError, match="not both"):
        run_edit(sound_bundle, EditRequest(**text, source_image="a.png", source_latent="w.pt"))


def test_bundle_defaults_fill_the_request(sound_bundle, tone):
    sound_bundle.defaults = dataclasses.replace(
        sound_bundle.defaults, steps=4, lambda_reg=0.5, autocast="bf16"
    )
    _, result = finish(sound_bundle, audio=tone, steps=None)
    settings = result.report.settings
    assert result.report.steps == 4 and settings["lambda_reg"] == 0.5
    assert settings["autocast"] == "bf16" and settings["truncation"] == 0.7


def test_a_world_that_edits_in_z_starts_from_the_seeds_z(sound_bundle, tone, tmp_path):
    sound_bundle.defaults = dataclasses.replace(
        sound_bundle.defaults, space="z", latent_noise=0.5, samples=2
    )
    _, result = finish(sound_bundle, audio=tone, lambda_reg=0.0, seed=4)
    settings = result.report.settings
    assert settings["space"] == "z" and settings["latent_noise"] == 0.5
    w = result.latents["sound"]
    assert torch.allclose(w, w[:, :1].expand_as(w))  # one mapped w in every layer
    # A latent file has no z: the world's default falls back to W+ (and says so) ...
    torch.save(torch.randn(1, 6, 16), tmp_path / "w.pt")
    _, result = finish(sound_bundle, audio=tone, source_latent=str(tmp_path / "w.pt"), steps=2)
    assert result.report.settings["space"] == "w+"
    assert result.report.settings["latent_noise"] == 0.0
    assert any("edited in W+" in n for n in result.report.notices)
    # ... but asking for z with a file is an error.
    with pytest.raises(ConfigError, match="start from a seed"):
        run_edit(
            sound_bundle, make_request(audio=tone, source_latent=str(tmp_path / "w.pt"), space="z")
        )


def test_a_sound_the_world_does_not_know_gets_a_notice(sound_bundle, tone):
    sound_bundle.defaults = dataclasses.replace(sound_bundle.defaults, steps=5)
    _, result = finish(sound_bundle, audio=tone, steps=None)
    match = result.report.sound_match
    assert isinstance(match, SoundMatch)
    assert match.known and match.threshold == 0.0  # no threshold: every sound is known
    assert match.similarity == result.report.main.similarity_after  # the same number
    assert result.report.to_dict()["sound_match"]["similarity"] == round(match.similarity, 4)
    sound_bundle.known_similarity = 1.01
    _, result = finish(sound_bundle, audio=tone, steps=None)
    assert result.report.sound_match.known is False  # nothing reaches 1.01
    assert any("matches this sound only weakly" in n for n in result.report.notices)
    # A run shorter than the world's default is not judged: the threshold is for full runs.
    _, result = finish(sound_bundle, audio=tone, steps=3)
    assert result.report.sound_match.known is None
    assert not any("only weakly" in n for n in result.report.notices)
    # Text-only edits have no sound to judge.
    assert finish(sound_bundle, mode="text", text="x", steps=2)[1].report.sound_match is None


class _Recogniser:
    """Calls the sound known when its embedding's first coordinate is positive."""

    def __init__(self):
        self.seen = []

    def __call__(self, embedding):
        self.seen.append(embedding)
        score = float(embedding[0, 0] > 0)
        return Recognition("rain", score, 0.5, score >= 0.5)


def test_a_bundle_recogniser_is_asked_once_and_reported(sound_bundle, rain):
    recogniser = _Recogniser()
    bundle = dataclasses.replace(sound_bundle, recognise=recogniser, known_sounds=("rain", "fire"))
    _, result = finish(bundle, audio=rain, steps=2)
    assert len(recogniser.seen) == 1 and recogniser.seen[0].shape == (1, 16)
    recognition = result.report.recognition
    assert isinstance(recognition, Recognition)
    assert set(result.report.to_dict()["recognition"]) == {
        "event",
        "score",
        "threshold",
        "known",
        "signal",
    }
    assert recognition.signal is None  # noise with a faint tone is a sound
    unknown = [n for n in result.report.notices if "none of them" in n]
    if recognition.known:
        assert not unknown
    else:
        assert unknown and "This world knows rain, fire" in unknown[0]
        assert result.report.sound_match.known is False


def test_an_unknown_sound_is_never_called_matched(sound_bundle, rain):
    def never(embedding):
        return Recognition("wind", 0.1, 0.5, False)

    bundle = dataclasses.replace(sound_bundle, recognise=never)
    _, result = finish(bundle, audio=rain, steps=sound_bundle.defaults.steps)
    assert result.report.recognition.known is False
    assert result.report.sound_match.known is False
    assert any("closest: wind" in n for n in result.report.notices)
    assert finish(sound_bundle, mode="text", text="x", steps=2)[1].report.recognition is None


def test_the_last_step_shows_the_result_and_its_reported_similarity(tiny_bundle):
    """What a page shows last while running is what the report then says (the guidance's own
    similarity is measured before the update, on noisy copies of the latent)."""
    config = {"steps": 7, "preview_every": 3, "latent_noise": 0.5, "samples": 2}
    steps, result = finish(tiny_bundle, mode="text", text="heavy rain", **config)
    assert [s.step for s in steps if s.preview is not None] == [3, 6, 7]
    assert all(s.preview_similarity is not None for s in steps if s.preview is not None)
    last = steps[-1]
    assert last.preview_similarity == result.report.main.similarity_after
    assert isinstance(result.report.phases["text"], PhaseReport)
    assert np.array_equal(last.preview, result.images["text"])
    assert last.similarity != last.preview_similarity  # why the page no longer shows it


def test_a_steady_tone_is_named_and_never_known_even_when_the_recogniser_knows_it(
    sound_bundle, tone
):
    def always(embedding):
        return Recognition("lightning", 0.95, 0.5, True)

    bundle = dataclasses.replace(sound_bundle, recognise=always, known_sounds=("rain", "fire"))
    _, result = finish(bundle, audio=tone, steps=sound_bundle.defaults.steps)
    recognition = result.report.recognition
    assert recognition.known is False and recognition.event == "lightning"
    assert recognition.signal == {"kind": "tone", "description": "a steady 440 Hz tone"}
    assert result.report.sound_match.known is False
    notices = [n for n in result.report.notices if "not a sound from the world" in n]
    assert notices == [
        "This is a steady 440 Hz tone, not a sound from the world, so the edit will not match "
        "it: try rain, fire…"
    ]
    # A world without a recogniser says nothing about which sounds it knows: no check.
    _, plain = finish(sound_bundle, audio=tone, steps=2)
    assert plain.report.recognition is None
    assert not any("not a sound from the world" in n for n in plain.report.notices)


def test_a_seed_starts_where_the_world_says_unless_asked_for_the_seed_as_drawn(sound_bundle, tone):
    from soundedit.edit.optimize import z_from_seed
    from soundedit.edit.targets import start_z

    sound_bundle.defaults = dataclasses.replace(sound_bundle.defaults, space="z")
    own = z_from_seed(sound_bundle.generator, 4)
    assert torch.equal(start_z(sound_bundle, 4), own)  # no hook: the seed's own z
    sound_bundle.start = lambda seed, z: z * 0.0 + seed  # a world whose start is z = seed
    assert torch.equal(start_z(sound_bundle, 4), torch.full_like(own, 4.0))
    assert torch.equal(start_z(sound_bundle, 4, start="seed"), own)
    _, world = finish(sound_bundle, audio=tone, seed=4, steps=2)
    _, drawn = finish(sound_bundle, audio=tone, seed=4, steps=2, start="seed")
    assert world.report.source["start"] == "world" and drawn.report.source["start"] == "seed"
    assert not torch.equal(world.latents["source"], drawn.latents["source"])
    with pytest.raises(ConfigError, match="start must be one of world, seed"):
        run_edit(sound_bundle, make_request(audio=tone, start="calm"))


def test_the_final_latent_is_decoded_once(tiny_bundle, monkeypatch):
    """The last step's preview is the result's own rendering, not a second decode."""
    G = tiny_bundle.generator
    decoded, synthesis = [], G.synthesis

    def counting(w_plus, *args, **kwargs):
        if not torch.is_grad_enabled():
            decoded.append(w_plus.detach().cpu().clone())
        return synthesis(w_plus, *args, **kwargs)

    monkeypatch.setattr(G, "synthesis", counting)
    steps, result = finish(tiny_bundle, mode="text", text="rain", steps=6, preview_every=3)
    assert steps[-1].preview is not None  # the last step still shows the result
    final = result.latents["text"]
    assert sum(torch.equal(w.reshape(final.shape), final) for w in decoded) == 1
