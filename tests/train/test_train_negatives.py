"""Negative items ("none of these"): the hinge, how the other terms leave them out, and training."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from soundedit.errors import ConfigError
from soundedit.train import LossConfig, TrainConfig, TrainItem, train_audio_encoder
from soundedit.train.evaluate import embed_features
from soundedit.train.losses import LossBatch, alignment_loss, info_nce, negative_hinge
from tests.train.helpers import FixedClip, TinyEncoder, log_mel, synth

BASE = TrainConfig(
    epochs=1, batch_size=4, progress=False, text_variants=2, optimizer="adam", lr=1e-3
)


def unit(*shape: int, seed: int) -> torch.Tensor:
    return F.normalize(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)), dim=-1)


def test_negative_hinge_by_hand():
    negatives = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    targets = torch.tensor([[0.6, 0.8], [1.0, 0.0]])
    positive = torch.tensor([0.9, 0.5])
    # cosines [[0.6, 1.0], [0.8, 0.0]] against positive - margin = [0.7, 0.3]: over by
    # [[0, 0.7], [0.1, 0]]; each negative's worst: 0.7 and 0.1 -> mean 0.4
    assert negative_hinge(negatives, targets, positive, 0.2).item() == pytest.approx(0.4)
    assert negative_hinge(negatives, targets, positive + 1.0, 0.2).item() == 0.0


def test_negatives_sit_out_the_text_and_image_terms_and_feel_the_hinge():
    audio, text, image = unit(6, 8, seed=0), unit(6, 8, seed=1), unit(6, 8, seed=2)
    negative = torch.tensor([False, True, False, False, True, False])
    text_ids = torch.tensor([0, -1, 1, 2, -1, 3])
    image_ids = torch.tensor([0, -1, 1, -1, -1, 2])  # row 3: a world sound without a picture
    batch = LossBatch(
        audio=audio, text=text, text_ids=text_ids, image=image, image_ids=image_ids,
        negative=negative,
    )  # fmt: skip
    config = LossConfig(augment=0.0, negative=2.0, negative_margin=0.3)
    scale = torch.tensor(10.0)
    got = alignment_loss(config, batch, logit_scale=scale)
    keep_t, keep_i = text_ids >= 0, image_ids >= 0
    want_text = info_nce(audio[keep_t], text[keep_t], scale, keys=text_ids[keep_t])
    want_image = info_nce(audio[keep_i], image[keep_i], scale, keys=image_ids[keep_i])
    keep_t, keep_i = keep_t & ~negative, keep_i & ~negative
    targets = torch.cat([text[keep_t], image[keep_i]])  # the world's captions and pictures
    positive = torch.cat(
        [(audio[keep_t] * text[keep_t]).sum(1), (audio[keep_i] * image[keep_i]).sum(1)]
    )
    want_negative = F.relu(audio[negative] @ targets.T - positive + 0.3).max(1).values.mean()
    assert torch.allclose(got["text"], want_text)
    assert torch.allclose(got["image"], want_image)
    assert torch.allclose(got["negative"], want_negative)
    assert torch.allclose(got["loss"], want_text + want_image + 2.0 * want_negative)


def test_a_batch_without_negatives_has_no_hinge():
    audio, text = unit(4, 8, seed=0), unit(4, 8, seed=1)
    batch = LossBatch(
        audio=audio, text=text, text_ids=torch.arange(4), negative=torch.zeros(4, dtype=bool)
    )
    got = alignment_loss(
        LossConfig(image=0.0, augment=0.0, negative=1.0), batch, logit_scale=torch.tensor(10.0)
    )
    assert "negative" not in got and torch.allclose(got["loss"], got["text"])


def test_the_margin_is_checked():
    with pytest.raises(ConfigError, match="negative_margin"):
        LossConfig(negative=1.0, negative_margin=-0.1).validate()


def items(n: int, *, negatives: int = 0, seed: int = 0) -> list[TrainItem]:
    g = torch.Generator().manual_seed(seed)
    out = [
        TrainItem(
            torch.randn(1, 16, 16, generator=g),
            label=("hum", "hiss")[i % 2],
            image=torch.rand(3, 8, 8, generator=g) * 2 - 1,
            group=f"v{i}",
        )
        for i in range(n)
    ]
    out += [
        TrainItem(torch.randn(1, 16, 16, generator=g), group=f"n{i}", negative=True)
        for i in range(negatives)
    ]
    return out


def test_negative_items_need_the_hinge(fixed_clip, tiny_encoder):
    config = dataclasses.replace(BASE, losses=LossConfig(weak_kl=1.0, weak_pairs=2))
    with pytest.raises(ConfigError, match="losses.negative is 0"):
        train_audio_encoder(config, items(8, negatives=2), clip=fixed_clip, encoder=tiny_encoder)


def test_only_negatives_are_refused(fixed_clip, tiny_encoder):
    config = dataclasses.replace(BASE, losses=LossConfig(negative=1.0))
    with pytest.raises(ConfigError, match="all 4 training items are negatives"):
        train_audio_encoder(config, items(0, negatives=4), clip=fixed_clip, encoder=tiny_encoder)


def test_negatives_train_beside_every_term(fixed_clip, tiny_encoder):
    config = dataclasses.replace(
        BASE, epochs=2, losses=LossConfig(weak_kl=1.0, weak_pairs=2, negative=1.0)
    )
    result = train_audio_encoder(
        config, items(8, negatives=4), clip=fixed_clip, encoder=tiny_encoder
    )
    assert result.steps == 6
    assert all(np.isfinite(h["loss"]) for h in result.history)
    assert any("loss_negative" in h for h in result.history)


def sounds(labels, per_label: int, seed: int) -> list[torch.Tensor]:
    rng = np.random.default_rng(seed)
    return [log_mel(synth(label, rng)) for _ in range(per_label) for label in labels]


@pytest.mark.slow
def test_the_hinge_keeps_unseen_negatives_away_from_the_world():
    """Clicks are the negatives: with the hinge, held-out clicks end far below the world's own
    sounds on every class prompt; without it they sit about as close as those sounds."""
    torch.set_num_threads(1)
    clip = FixedClip()
    world = ("hum", "whistle", "hiss")
    train = [
        TrainItem(x, label=world[i % 3], group=f"w{i}")
        for i, x in enumerate(sounds(world, 24, seed=1))
    ]
    negatives = [
        TrainItem(x, group=f"n{i}", negative=True)
        for i, x in enumerate(sounds(["clicks"], 24, seed=2))
    ]
    held_out = torch.stack(sounds(["clicks"], 16, seed=3))
    held_world = torch.stack(sounds(world, 8, seed=4))
    prompts = clip.embed_text(list(world))

    def closest(weight: float) -> tuple[float, float]:
        torch.manual_seed(0)
        config = TrainConfig(
            epochs=60,
            batch_size=24,
            optimizer="adam",
            lr=1e-2,
            text_variants=1,
            progress=False,
            losses=LossConfig(text=1.0, image=0.0, augment=0.0, negative=weight),
        )
        data = train + negatives if weight else train
        encoder = train_audio_encoder(config, data, clip=clip, encoder=TinyEncoder()).encoder
        far = (embed_features(encoder, held_out) @ prompts.T).max(1).values.mean().item()
        near = (embed_features(encoder, held_world) @ prompts.T).max(1).values.mean().item()
        return far, near

    with_hinge, world_with = closest(4.0)
    without, world_without = closest(0.0)
    print(
        f"negatives {with_hinge:.3f} / {without:.3f}; world {world_with:.3f} / {world_without:.3f}"
    )
    # the hinge is relative: held-out clicks end well below the world's own sounds
    assert world_with - with_hinge > 0.3 and world_without - without < 0.2
    assert world_with > 0.5  # the world's own sounds still find their class
