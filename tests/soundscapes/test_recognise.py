"""The open-set recogniser: fitted on clusters it must tell apart, saved and loaded exactly."""

import pytest
import torch
import torch.nn.functional as F

from soundedit.soundscapes.evaluate_real import auroc
from soundedit.soundscapes.params import CLASSES
from soundedit.soundscapes.recognise import (
    ACCEPT,
    Recognition,
    fit_recogniser,
    load_recogniser,
    save_recogniser,
)

D = 16


def _world(seed: int = 0):
    """Prompts, and samplers of in-world (near a prompt) and outside (elsewhere) embeddings."""
    g = torch.Generator().manual_seed(seed)
    prompts = F.normalize(torch.randn(len(CLASSES), D, generator=g), dim=-1)
    elsewhere = F.normalize(torch.randn(5, D, generator=g), dim=-1)

    def draw(centres, n):
        idx = torch.randint(len(centres), (n,), generator=g)
        return F.normalize(centres[idx] + 0.15 * torch.randn(n, D, generator=g), dim=-1), idx

    return prompts, (lambda n: draw(prompts[:7], n)), (lambda n: draw(elsewhere, n)[0])


def _fitted(seed: int = 0):
    prompts, inside, outside = _world(seed)
    real, _ = inside(300)
    negatives = outside(600)
    folds_in = [1 + i % 3 for i in range(300)]
    folds_out = [1 + i % 3 for i in range(600)]
    model, figures = fit_recogniser(prompts, real, folds_in, negatives, folds_out, inside(500)[0])
    return model, figures, inside, outside


def test_the_fitted_score_separates_inside_from_outside():
    model, figures, inside, outside = _fitted()
    test_in, idx = inside(300)
    test_out = outside(300)
    score_in, score_out = model.score(test_in), model.score(test_out)
    assert auroc(score_in, score_out) > 0.95 and figures["oof_auroc"] > 0.95
    assert abs(float((score_in >= model.threshold).float().mean()) - ACCEPT) < 0.06
    assert float((score_out < model.threshold).float().mean()) > 0.8
    assert figures["folds"] == [1, 2, 3] and abs(figures["oof_accepted"] - ACCEPT) < 0.03
    agree = sum(
        e == CLASSES[i] for e, i in zip(model.events_of(test_in), idx.tolist(), strict=True)
    )
    assert agree / len(idx) > 0.9


def test_one_sound_gives_a_recognition():
    model, _, inside, outside = _fitted()
    sound, idx = inside(1)
    known = model(sound[0])
    assert isinstance(known, Recognition) and known.event == CLASSES[int(idx)]
    assert 0.0 <= known.score <= 1.0 and known.known == (known.score >= known.threshold)
    assert set(known.to_dict()) == {"event", "score", "threshold", "known", "signal"}
    assert known.signal is None  # only the signal check names a signal


def test_the_threshold_needs_two_folds():
    prompts, inside, outside = _world()
    with pytest.raises(ValueError, match="at least 2 folds"):
        fit_recogniser(prompts, inside(10)[0], [1] * 10, outside(10), [1] * 10, inside(10)[0])


def test_auroc_counts_ties_half():
    assert auroc(torch.tensor([1.0, 2.0]), torch.tensor([0.0])) == 1.0
    assert auroc(torch.tensor([0.5]), torch.tensor([0.5])) == 0.5


def test_save_and_load_give_the_same_scores(tmp_path):
    model, _, inside, _ = _fitted()
    sounds, _ = inside(20)
    path = save_recogniser(model, tmp_path / "recogniser", {"command": "test"})
    loaded = load_recogniser(path)
    assert torch.equal(loaded.score(sounds), model.score(sounds))
    assert float(loaded.threshold) == float(model.threshold)


def test_a_hidden_layer_learns_none_of_these_where_a_line_cannot():
    """In-world sounds on a shell, non-sounds at its centre and far out: no hyperplane separates
    them, a ReLU layer does; each non-sound kind's out-of-fold score comes from a fit without it."""
    g = torch.Generator().manual_seed(1)
    prompts, inside_draw, outside_draw = _world(1)
    real = inside_draw(300)[0]
    centre = prompts[:7].mean(0)
    kinds = [F.normalize(centre + s * torch.randn(60, D, generator=g), dim=-1) for s in (0.2, 0.3)]
    far = [F.normalize(-centre + 0.3 * torch.randn(60, D, generator=g), dim=-1)]
    nonsounds = torch.cat(kinds + far)
    nonsound_folds = [1] * 60 + [2] * 60 + [3] * 60
    args = (prompts, real, [1 + i % 3 for i in range(300)], outside_draw(300))
    args += ([1 + i % 3 for i in range(300)], inside_draw(300)[0], nonsounds, nonsound_folds)
    linear, f_linear = fit_recogniser(*args)
    hidden, f_hidden = fit_recogniser(*args, hidden=32, seed=0)
    assert hidden.config.hidden == 32 and linear.config.hidden == 0
    assert "hidden_weight" in dict(hidden.named_buffers())
    assert "hidden_weight" not in dict(linear.named_buffers())
    assert f_hidden["oof_nonsounds_accepted"] < f_linear["oof_nonsounds_accepted"]
    assert f_hidden["oof_auroc"] > 0.9 and abs(f_hidden["oof_accepted"] - ACCEPT) < 0.03
    again, _ = fit_recogniser(*args, hidden=32, seed=0)
    assert torch.equal(again.score(nonsounds), hidden.score(nonsounds))  # seeded


def test_a_recogniser_with_a_hidden_layer_saves_and_loads_exactly(tmp_path):
    prompts, inside, outside = _world(2)
    folds = [1 + i % 3 for i in range(90)]
    model, _ = fit_recogniser(
        prompts, inside(90)[0], folds, outside(90), folds, inside(30)[0], hidden=8, seed=3
    )
    sounds = torch.cat([inside(20)[0], outside(20)])
    loaded = load_recogniser(save_recogniser(model, tmp_path / "r", {"command": "test"}))
    assert loaded.config.hidden == 8 and torch.equal(loaded.score(sounds), model.score(sounds))
