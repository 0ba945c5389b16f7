"""The four losses against values computed by hand on tiny matrices."""

from __future__ import annotations

import math

import pytest
import torch

from soundedit.errors import ConfigError
from soundedit.train.losses import (
    LossBatch,
    LossConfig,
    Temperature,
    alignment_loss,
    info_nce,
    weak_pair_kl_sum,
)
from tests.tolerances import softmax_error


def lse(*xs: float) -> float:
    return math.log(sum(math.exp(x) for x in xs))


def test_info_nce_identity_pairs():
    eye = torch.eye(2)
    # logits = I: each row/column CE is log(e + 1) - 1 = log(1 + 1/e)
    got = info_nce(eye, eye, 1.0).item()
    assert got == pytest.approx(math.log(1 + math.exp(-1)), abs=softmax_error(2, 2, 1.0))


def test_info_nce_by_hand():
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    b = torch.tensor([[0.6, 0.8], [1.0, 0.0]])
    # logits = 2 * a @ b.T = [[1.2, 2.0], [1.6, 0.0]]
    rows = (-1.2 + lse(1.2, 2.0)) + (-0.0 + lse(1.6, 0.0))
    cols = (-1.2 + lse(1.2, 1.6)) + (-0.0 + lse(2.0, 0.0))
    expected = (rows / 2 + cols / 2) / 2
    assert info_nce(a, b, 2.0).item() == pytest.approx(expected, abs=softmax_error(2, 2, 2.0))


def test_info_nce_duplicate_keys_share_the_target():
    a = torch.eye(3)
    b = torch.eye(3)
    # keys [0, 0, 1]: rows 0 and 1 target columns 0 and 1 with weight 1/2 each
    logits = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    row0 = -0.5 * (1.0 - lse(*logits[0])) - 0.5 * (0.0 - lse(*logits[0]))
    row2 = -(1.0 - lse(*logits[2]))
    expected = (2 * row0 + row2) / 3  # symmetric matrix: both directions equal
    got = info_nce(a, b, 1.0, keys=torch.tensor([0, 0, 1]))
    assert got.item() == pytest.approx(expected, abs=softmax_error(3, 3, 1.0))


def test_weak_pair_kl_by_hand():
    audio = torch.tensor([[1.0, 0.0]])
    text = torch.tensor([[0.0, 1.0]])
    images = torch.tensor([[[1.0, 0.0], [0.6, 0.8]]])  # [1, K=2, 2]
    # audio logits (scale 2): [2.0, 1.2]; text logits (scale 3): [0.0, 2.4]
    pa = [math.exp(2.0 - lse(2.0, 1.2)), math.exp(1.2 - lse(2.0, 1.2))]
    pt = [math.exp(0.0 - lse(0.0, 2.4)), math.exp(2.4 - lse(0.0, 2.4))]
    expected = sum(p * math.log(p / q) for p, q in zip(pt, pa, strict=True))
    got = weak_pair_kl_sum(audio, text, images, torch.tensor([True]), 2.0, 3.0)
    assert got.item() == pytest.approx(expected, abs=softmax_error(2, 2, 2.4))
    masked = weak_pair_kl_sum(audio, text, images, torch.tensor([False]), 2.0, 3.0)
    assert masked.item() == 0.0


def tiny_batch(requires_grad: bool = True) -> LossBatch:
    g = torch.Generator().manual_seed(0)

    def unit(*shape):
        return torch.nn.functional.normalize(torch.randn(*shape, generator=g), dim=-1)

    audio = unit(4, 3).requires_grad_(requires_grad)
    return LossBatch(
        audio=audio,
        audio_aug=unit(4, 3),
        text=unit(4, 3),
        image=unit(4, 3),
        label_text=unit(4, 3),
        weak_images=unit(4, 2, 3),
        weak_valid=torch.tensor([True, True, False, True]),
    )


def test_weighted_sum_and_switches():
    batch = tiny_batch()
    scale = torch.tensor(5.0)
    full = LossConfig(text=1.0, image=0.5, augment=2.0, weak_kl=3.0)
    out = alignment_loss(full, batch, logit_scale=scale, clip_scale=10.0)
    text = info_nce(batch.audio, batch.text, 5.0)
    image = info_nce(batch.audio, batch.image, 5.0)
    aug = info_nce(batch.audio, batch.audio_aug, 5.0)
    kl = (
        weak_pair_kl_sum(
            batch.audio, batch.label_text, batch.weak_images, batch.weak_valid, 5.0, 10.0
        )
        / 3
    )  # three valid rows
    expected = text + 0.5 * image + 2.0 * aug + 3.0 * kl
    assert out["loss"].item() == pytest.approx(expected.item(), abs=1e-6)
    assert set(out) == {"loss", "text", "image", "augment", "weak_kl"}
    for name in ("text", "image", "augment", "weak_kl"):
        only = LossConfig(**{k: float(k == name) for k in ("text", "image", "augment", "weak_kl")})
        terms = alignment_loss(only, batch, logit_scale=scale, clip_scale=10.0)
        assert set(terms) == {"loss", name}
        assert terms["loss"].item() == pytest.approx(out[name].item(), abs=1e-6)


def test_all_losses_off_is_refused():
    with pytest.raises(ConfigError, match="switched off"):
        LossConfig(text=0, image=0, augment=0, weak_kl=0).validate()
    with pytest.raises(ConfigError, match=">= 0"):
        LossConfig(text=-1).validate()


def test_temperature_fixed_or_learnable():
    learn = Temperature(LossConfig(temperature=0.1))
    assert learn().item() == pytest.approx(10.0, rel=1e-6)
    assert [n for n, _ in learn.named_parameters()] == ["log_scale"]
    fixed = Temperature(LossConfig(temperature=0.1, learn_temperature=False))
    assert list(fixed.parameters()) == []
    clamped = Temperature(LossConfig(temperature=0.001, max_logit_scale=50.0))
    assert clamped().item() == pytest.approx(50.0)


def test_temperature_gets_gradient_when_learnable():
    temp = Temperature(LossConfig())
    out = alignment_loss(LossConfig(), tiny_batch(), logit_scale=temp())
    out["loss"].backward()
    assert temp.log_scale.grad is not None and temp.log_scale.grad.abs() > 0
