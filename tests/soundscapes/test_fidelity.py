"""Pixel error and the judge (G(z) vs render), on a tiny generator."""

import pytest
import torch
from PIL import Image

from soundedit.cli import main
from soundedit.gan.checkpoints import save_generator
from soundedit.soundscapes.evaluate import eval_fidelity
from soundedit.soundscapes.fidelity import (
    comparison_sheet,
    held_out_z,
    judge_test_accuracy,
    paired_images,
    pixel_error,
    train_judge,
)


@pytest.fixture(scope="module")
def tiny_pairs(tiny_bundle):
    G = tiny_bundle.generator
    return paired_images(G, held_out_z(48, 1, G.style_dim))


def test_pixel_error_is_on_zero_to_one_pixels(tiny_pairs):
    fake, real = tiny_pairs
    assert fake.shape == real.shape == (48, 3, 16, 16)
    assert pixel_error(real, real) == 0.0
    assert pixel_error(-torch.ones(2, 3, 4, 4), torch.ones(2, 3, 4, 4)) == 1.0
    assert 0.05 < pixel_error(fake, real) < 1.0  # an untrained generator is far off


def test_the_judge_tells_an_untrained_generator_from_renders_and_is_seeded(tiny_pairs):
    fake, real = tiny_pairs
    judge = train_judge(fake[:32], real[:32], steps=40, batch=16, seed=3)
    accuracy = judge_test_accuracy(judge, fake[32:], real[32:])
    assert accuracy >= 0.9
    again = train_judge(fake[:32], real[:32], steps=40, batch=16, seed=3)
    assert judge_test_accuracy(again, fake[32:], real[32:]) == accuracy


def test_the_judge_cannot_tell_a_picture_from_itself(tiny_pairs):
    _, real = tiny_pairs
    judge = train_judge(real[:32], real[:32], steps=10, batch=16)
    assert judge_test_accuracy(judge, real[32:], real[32:]) == 0.5


def test_eval_fidelity_reports_both_figures_reproducibly(tiny_bundle):
    G = tiny_bundle.generator
    figures = eval_fidelity(G, n=16, n_judge=16, judge_steps=5)
    assert set(figures) == {"pixel_error", "judge"}
    assert 0.0 <= figures["judge"] <= 1.0 and figures["pixel_error"] > 0.0
    assert eval_fidelity(G, n=16, n_judge=16, judge_steps=5) == figures


def test_the_comparison_sheet_puts_each_row_of_pictures_above_its_renders():
    fake = torch.arange(10.0).view(10, 1, 1, 1).expand(10, 3, 2, 2)
    real = -fake
    sheet = comparison_sheet(fake, real, columns=4)
    firsts = sheet[:, 0, 0, 0].tolist()
    assert firsts == [0, 1, 2, 3, 0, -1, -2, -3, 4, 5, 6, 7, -4, -5, -6, -7, 8, 9, -8, -9]


def test_compare_writes_the_sheet_of_a_generator_file(tiny_bundle, tmp_path, capsys):
    save_generator(tiny_bundle.generator, tmp_path / "g", meta={})
    out = tmp_path / "sheet.png"
    args = ["soundscapes", "compare", "--generator", str(tmp_path / "g.safetensors")]
    assert main([*args, "--n", "3", "--out", str(out)]) == 0
    # 2 rows (pictures above renders) of 3 tiles of 16 px + 2 px gaps, scaled 3x
    assert Image.open(out).size == (3 * 18 * 3, 2 * 18 * 3)
    assert "pixel error" in capsys.readouterr().out
    assert main([*args, "--n", "0", "--out", str(out)]) == 2
    assert "--n must be at least 1" in capsys.readouterr().err
