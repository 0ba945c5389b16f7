"""python -m soundedit soundscapes render / synth / examples."""

import pytest
import soundfile as sf
from PIL import Image

from soundedit.cli import main


def test_render_writes_a_sheet(tmp_path):
    out = tmp_path / "sheet.png"
    assert main(["soundscapes", "render", "--out", str(out), "--n", "4", "--set", "rain=0.5"]) == 0
    assert Image.open(out).size[0] > 64


def test_synth_writes_16k_wav(tmp_path):
    out = tmp_path / "rain.wav"
    assert main(["soundscapes", "synth", "--out", str(out), "--set", "rain=0.8", "night=1"]) == 0
    audio, rate = sf.read(out)
    assert rate == 16000 and len(audio) == 64000


def test_bad_parameter_is_one_clear_error(tmp_path, capsys):
    code = main(["soundscapes", "synth", "--out", str(tmp_path / "x.wav"), "--set", "rain=2"])
    assert code == 2
    assert "rain = 2 is out of range" in capsys.readouterr().err


def test_examples_fit_the_asset_budget(tmp_path):
    from soundedit.soundscapes.examples import EXAMPLES, write_examples

    paths = write_examples(tmp_path, seed=0)
    wavs = [p for p in paths if p.suffix == ".wav"]
    assert len(wavs) == len(EXAMPLES) >= 8
    assert sum(p.stat().st_size for p in paths) <= 3_000_000


@pytest.mark.slow
def test_examples_strip_tiles_source_over_result_for_every_example(tmp_path):
    from soundedit.soundscapes.examples import EXAMPLES

    sounds, strip = tmp_path / "sounds", tmp_path / "strip.png"
    assert main(["soundscapes", "examples", "--out", str(sounds)]) == 0
    from soundedit.soundscapes.examples import write_strip

    write_strip(sounds, strip, seed=3, steps=2)
    width, height = Image.open(strip).size
    assert width == len(EXAMPLES) * (64 * 3 + 4) - 4 and height == 2 * 64 * 3 + 14


def test_recogniser_options_below_zero_are_one_clear_error(tmp_path, capsys):
    args = ["soundscapes", "train", "--model", "recogniser", "--real", str(tmp_path)]
    assert main([*args, "--nonsounds", "-1"]) == 2
    assert "--nonsounds and --hidden must be 0 or more, got -1 and 0" in capsys.readouterr().err
    assert main([*args, "--hidden", "-8"]) == 2
    assert "got 0 and -8" in capsys.readouterr().err


def test_audio_ear_options_out_of_range_are_one_clear_error(tmp_path, capsys):
    args = ["soundscapes", "train", "--model", "audio", "--real", str(tmp_path)]
    assert main([*args, "--microphone", "0.9"]) == 2
    assert "--microphone within [0, 0.4]; got 0, 0 and 0.9" in capsys.readouterr().err
    assert main([*args, "--nonsounds", "5"]) == 2  # negatives without their weight
    assert "--nonsounds needs --negatives W > 0" in capsys.readouterr().err
