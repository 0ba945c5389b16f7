"""Numbers that would give confident nonsense: refused (or explained) on every surface.

Latents are judged by their distance from the generator's own latents, settings by the shared
limits (numpy numbers are numbers), words by their characters; a setting that cannot change the
picture is refused; every JSON the project writes is strict.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import soundfile as sf
import torch

from soundedit.edit.latents import FAR_REFUSED, check_distance, generator_reach
from soundedit.edit.limits import LIMITS, check_text, check_value
from soundedit.edit.pipeline import run_to_end
from soundedit.edit.report import Notices, PhaseReport, check_outcome
from soundedit.errors import ConfigError, user_message
from soundedit.settings import EditRequest, resolve
from soundedit.strict_json import dumps, finite

from .corpus import N_LATENT, RATE, STYLE_DIM, noise
from .surfaces import assert_plain, cli_refusal, edit_argv, run_cli

FAR = r"times farther from this generator's average latent"


@pytest.fixture
def sound(tmp_path):
    path = tmp_path / "ok.wav"
    sf.write(str(path), noise(0.5), RATE)
    return str(path)


def _latent(tmp_path, value: float, shape=(STYLE_DIM,)):
    path = tmp_path / "w.pt"
    torch.save(torch.full(shape, value), path)
    return str(path)


# ---- latents far from the generator's own --------------------------------------------------

FAR_VALUES = [1e30, -1e30, 1e6, -3e5, 1e4, 2e3, 3.4e38]


@pytest.mark.parametrize("value", FAR_VALUES)
def test_library_refuses_a_latent_far_from_the_generator(value, hostile_bundle, tmp_path, sound):
    from soundedit.edit.pipeline import run_edit

    request = EditRequest.of(audio=sound, steps=1, source_latent=_latent(tmp_path, value))
    with pytest.raises(ConfigError) as caught:
        run_edit(hostile_bundle, request)
    assert_plain(user_message(caught.value), FAR, r"latents up to 50 times that are accepted")


@pytest.mark.parametrize("value", FAR_VALUES)
def test_cli_refuses_a_latent_far_from_the_generator(value, hostile_bundle, tmp_path, sound):
    latent = _latent(tmp_path, value)
    argv = edit_argv(tmp_path / "out", "--audio", sound, "--source-latent", latent)
    cli_refusal(argv, FAR)
    assert not (tmp_path / "out" / "report.json").exists()


@pytest.mark.parametrize("layer", [0, N_LATENT - 1])
def test_one_far_layer_of_a_w_plus_latent_is_enough_to_refuse(layer, hostile_bundle, tmp_path):
    w = hostile_bundle.generator.mean_w.repeat(1, N_LATENT, 1).clone()  # [1, L, S]
    w[0, layer] += 1e5
    with pytest.raises(ConfigError, match=FAR):
        check_distance(w, hostile_bundle.generator, where="w.pt", notices=Notices())


def test_a_latent_somewhat_out_runs_with_a_notice(hostile_bundle, tmp_path, sound):
    G = hostile_bundle.generator
    reach = generator_reach(G)
    w = G.mean_w.clone()
    w[0] += 5 * reach  # five reaches: outside, but within FAR_REFUSED
    path = tmp_path / "w.pt"
    torch.save(w, path)
    report = run_to_end(
        hostile_bundle, EditRequest.of(audio=sound, steps=2, source_latent=str(path))
    ).report
    assert any("expect an unusual picture" in n for n in report.notices), report.notices
    assert math.isfinite(report.main.similarity_after)


def test_the_generator_s_own_latents_are_all_accepted_without_a_notice(hostile_bundle):
    G = hostile_bundle.generator
    z = torch.randn(64, G.style_dim, generator=torch.Generator().manual_seed(5))
    notices = Notices()
    with torch.no_grad():
        for w in G.mapping(z):
            ratio = check_distance(G.w_plus(w[None]), G, where="w", notices=notices)
            assert ratio < FAR_REFUSED
    assert list(notices) == []


# ---- numpy numbers are numbers; messages never show a repr ----------------------------------

NUMPY_VALUES = [
    ("seed", np.int64(3)),
    ("seed", np.uint32(7)),
    ("steps", np.int64(2)),
    ("steps", np.int32(1)),
    ("lr", np.float32(0.05)),
    ("lr", np.float64(0.1)),
    ("lambda_reg", np.float16(0.5)),
    ("truncation", np.float64(0.5)),
    ("gain_db", np.int16(-6)),
    ("mix_layer", np.int64(2)),
    ("blend", np.float32(0.25)),
    ("preview_every", np.int8(1)),
]


@pytest.mark.parametrize(
    ("key", "value"), NUMPY_VALUES, ids=[f"{k}-{v!r}" for k, v in NUMPY_VALUES]
)
def test_numpy_numbers_are_accepted_as_numbers(key, value, hostile_bundle):
    assert check_value(key, value) == pytest.approx(float(value))
    fields = {key: value} if key != "preview_every" else {key: value, "steps": 2}
    if key in ("gain_db", "blend"):
        return  # inputs, not settings: check_value is what the library applies to them
    config = resolve(hostile_bundle, EditRequest.of(**fields))
    if key != "seed":
        assert getattr(config, key) == pytest.approx(float(value))
        assert type(getattr(config, key)) in (int, float)


NUMPY_BAD = [(key, np.float64("nan")) for key in LIMITS] + [
    ("seed", np.int64(-1)),
    ("steps", np.int64(0)),
    ("lr", np.float32(-1)),
    ("seed", np.float64(1.5)),
]


@pytest.mark.parametrize(("key", "value"), NUMPY_BAD, ids=[f"{k}-{v!r}" for k, v in NUMPY_BAD])
def test_numpy_numbers_out_of_range_are_refused_in_plain_words(key, value):
    with pytest.raises(ConfigError) as caught:
        check_value(key, value)
    assert_plain(str(caught.value), rf"{key} must be a (whole )?number in")


# ---- words -------------------------------------------------------------------------------

CONTROL_TEXTS = {
    "nul": "\x00",
    "nul-and-more": "\x00\x01\x02\x03",
    "word-then-nul": "rain\x00",
    "escape-sequence": "\x1b[31mred rain",
    "delete": "rain\x7f",
    "bell": "\x07\x07",
    "bidi-override": "rain \u202eniaga",
    "bidi-isolate": "\u2066rain\u2069",
    "line-break-in-words": "rain\nat night",
    "carriage-return": "rain\rnight",
    "private-use": "\ue000\ue001",
}
INVISIBLE_TEXTS = {
    "zero-width-spaces": "\u200b\u200b\u200b",
    "word-joiner": "\u2060",
    "byte-order-mark": "\ufeff",
    "soft-hyphen": "\u00ad\u00ad",
}
ALL_TEXTS = {**CONTROL_TEXTS, **INVISIBLE_TEXTS}
TEXT_REFUSED = r"(control character U\+[0-9A-F]{4}|no words, only invisible characters)"


@pytest.mark.parametrize("name", sorted(ALL_TEXTS))
def test_library_refuses_words_made_of_control_or_invisible_characters(name, hostile_bundle):
    from soundedit.edit.pipeline import run_edit

    with pytest.raises(ConfigError) as caught:
        run_edit(hostile_bundle, EditRequest.of(mode="text", text=ALL_TEXTS[name], steps=1))
    assert_plain(user_message(caught.value), TEXT_REFUSED, "plain words")


@pytest.mark.parametrize("name", sorted(ALL_TEXTS))
def test_cli_refuses_words_made_of_control_or_invisible_characters(name, hostile_bundle, tmp_path):
    if "\x00" in ALL_TEXTS[name]:
        pytest.skip("a command line cannot hold NUL")
    argv = edit_argv(tmp_path / "out", "--mode", "text", "--text", ALL_TEXTS[name])
    cli_refusal(argv, TEXT_REFUSED)


def test_a_lone_surrogate_is_refused_not_a_crash():
    with pytest.raises(ConfigError, match=r"U\+D800"):
        check_text("rain \ud800")


@pytest.mark.parametrize("text", ["   ", "\t \n", "\u2028", "\u3000\u3000"])
def test_only_spaces_is_left_to_the_mode_which_asks_for_words(text, hostile_bundle):
    from soundedit.edit.pipeline import run_edit

    check_text(text)
    with pytest.raises(ConfigError, match=r"needs words"):
        run_edit(hostile_bundle, EditRequest.of(mode="text", text=text, steps=1))


def test_the_page_joins_lines_and_no_control_character_reaches_the_command(hostile_bundle):
    from demo.form import build_request
    from soundedit.edit.commands import reproduce_command

    request = build_request({"mode": "text", "text": "rain\n\tat night\r\n", "seed": 1})
    assert request.text == "rain at night"
    command, _ = reproduce_command(hostile_bundle, request, world="w", files={})
    assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in command), command


def test_the_command_writes_numpy_numbers_as_plain_numbers(hostile_bundle):
    from soundedit.edit.commands import reproduce_command

    request = EditRequest.of(audio="a.wav", seed=np.int64(4), lr=np.float64(0.05))
    command, _ = reproduce_command(hostile_bundle, request, world="w", files={"audio": "a.wav"})
    assert "--seed 4" in command and "--lr 0.05" in command and "np." not in command


# ---- settings that cannot change the picture ----------------------------------------------


def test_library_refuses_truncation_0_in_a_world_that_edits_z(hostile_bundle, sound):
    from soundedit.edit.pipeline import run_edit

    request = EditRequest.of(audio=sound, steps=1, space="z", truncation=0.0)
    with pytest.raises(ConfigError) as caught:
        run_edit(hostile_bundle, request)
    assert_plain(str(caught.value), r"truncation 0", r"above 0 and at most 1")


def test_truncation_0_is_fine_where_the_edit_moves_w_plus(hostile_bundle, sound):
    result = run_to_end(hostile_bundle, EditRequest.of(audio=sound, steps=2, truncation=0.0))
    assert not torch.equal(result.latents["sound"], result.latents["source"])


def test_a_run_that_cannot_move_the_latent_says_so(hostile_bundle, sound):
    result = run_to_end(hostile_bundle, EditRequest.of(audio=sound, steps=2, lr=1e-30))
    assert torch.equal(result.latents["sound"], result.latents["source"])
    assert any("exactly as it started" in n for n in result.report.notices)


def test_a_run_that_moves_gives_no_such_notice(hostile_bundle, sound):
    result = run_to_end(hostile_bundle, EditRequest.of(audio=sound, steps=2))
    assert not any("exactly as it started" in n for n in result.report.notices)


# ---- strict JSON -------------------------------------------------------------------------

NON_FINITE = [float("nan"), float("inf"), -float("inf"), np.float32("nan"), np.float64("inf")]


@pytest.mark.parametrize("value", NON_FINITE, ids=repr)
def test_strict_json_writes_non_finite_numbers_as_null(value):
    text = dumps({"a": value, "b": [1.5, value, (value,)], "c": {"d": np.int64(3)}})
    data = json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in {text}"))
    assert data == {"a": None, "b": [1.5, None, [None]], "c": {"d": 3}}


def test_strict_json_keeps_plain_data_as_it_is():
    data = {"s": "x", "i": 1, "f": 0.25, "b": True, "n": None, "l": [1, 2]}
    assert finite(data) == data


def test_report_json_is_strict_even_when_a_value_is_not_finite(hostile_bundle, sound, tmp_path):
    from soundedit.edit.pipeline import write_result

    result = run_to_end(hostile_bundle, EditRequest.of(audio=sound, steps=1))
    sound_run = dataclasses.replace(result.report.phases["sound"], similarity_after=math.nan)
    phases = {"sound": sound_run}
    report = dataclasses.replace(result.report, phases=phases, seconds=math.inf)
    paths = write_result(dataclasses.replace(result, report=report), tmp_path, animation=False)
    text = paths["report"].read_text()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c}"))
    assert json.loads(text)["similarity_after"] is None


def test_cli_report_of_a_valid_edit_is_strict_json(hostile_bundle, sound, tmp_path):
    status, stderr = run_cli(edit_argv(tmp_path / "out", "--audio", sound, steps=2))
    assert status == 0, stderr
    text = (tmp_path / "out" / "report.json").read_text()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c}"))


def _phase(similarity=0.5):
    return PhaseReport(0.1, similarity, steps=2, losses={"total": 0.3}, layer_mask=None, seconds=1)


@pytest.mark.parametrize("shift", [0.0, 1e3])
def test_an_edit_that_drifts_far_from_the_generator_says_so(shift, hostile_bundle):
    G = hostile_bundle.generator
    source = G.mean_w.repeat(1, N_LATENT, 1).clone()  # [1, L, S]
    edited = source + 0.01
    edited[0, 0] += shift
    notices = Notices()
    config = hostile_bundle.defaults
    check_outcome(G, {"source": source, "sound": edited}, {"sound": _phase()}, config, notices)
    assert any("times farther" in n for n in notices) == (shift > 0), notices


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_an_edit_that_diverges_is_an_error_not_a_result(bad, hostile_bundle):
    G = hostile_bundle.generator
    source = G.mean_w.repeat(1, N_LATENT, 1).clone()
    phases = {"sound": _phase(similarity=bad)}
    with pytest.raises(ConfigError) as caught:
        check_outcome(
            G, {"source": source, "sound": source + 1}, phases, hostile_bundle.defaults, Notices()
        )
    assert_plain(str(caught.value), r"diverged to NaN or infinite values", "smaller learning rate")


@pytest.mark.parametrize(("gain", "silenced"), [(-120.0, True), (-6.0, False)])
def test_a_gain_that_silences_the_sound_says_so(gain, silenced, hostile_bundle, sound):
    report = run_to_end(hostile_bundle, EditRequest.of(audio=sound, steps=1, gain_db=gain)).report
    assert any("makes the sound silent" in n for n in report.notices) == silenced


# ---- settings under which one input cannot reach the picture --------------------------------

UNUSED = [
    ({"mode": "blend", "blend": 1.0}, "follows only the sound, so your words did not"),
    ({"mode": "blend", "blend": 0.0}, "follows only your words, so the sound did not"),
    ({"mode": "mix", "mix_layer": 0}, "every layer from your words, so the sound did not"),
    ({"mode": "mix", "mix_layer": N_LATENT}, "every layer from the sound, so your words did not"),
]


@pytest.mark.parametrize(("fields", "words"), UNUSED, ids=["blend1", "blend0", "mix0", "mixL"])
def test_an_input_the_settings_leave_unused_is_named_in_a_notice(
    fields, words, hostile_bundle, sound
):
    request = EditRequest.of(audio=sound, text="snow", seed=1, steps=2, **fields)
    notices = " ".join(run_to_end(hostile_bundle, request).report.notices)
    assert words in notices


@pytest.mark.parametrize("fields", [{"mode": "blend", "blend": 0.5}, {"mode": "mix"}])
def test_settings_that_use_both_inputs_give_no_such_notice(fields, hostile_bundle, sound):
    request = EditRequest.of(audio=sound, text="snow", seed=1, steps=2, **fields)
    notices = " ".join(run_to_end(hostile_bundle, request).report.notices)
    assert "did not change" not in notices
