"""The loop: checks before training, gradients, schedule, checkpoints and resume."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F

from soundedit.errors import ConfigError
from soundedit.train import LossConfig, TrainConfig, TrainItem, train_audio_encoder
from soundedit.train.batches import FeatureBank, make_batch, weak_candidates
from soundedit.train.cache import build_clip_cache
from soundedit.train.loop import AudioTower, compute_loss, learning_rate
from soundedit.train.losses import Temperature
from tests.tolerances import assert_unit
from tests.train.helpers import TinyEncoder

BASE = TrainConfig(
    epochs=1, batch_size=4, progress=False, text_variants=2, optimizer="adam", lr=1e-3
)


def items(n: int = 8, *, labels=True, images="tensor", seed=0) -> list[TrainItem]:
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n):
        label = ("hum", "hiss")[i % 2] if labels else None
        image = torch.rand(3, 8, 8, generator=g) * 2 - 1 if images == "tensor" else None
        out.append(
            TrainItem(torch.randn(1, 16, 16, generator=g), label=label, image=image, group=f"v{i}")
        )
    return out


def test_gradients_reach_only_the_audio_encoder(fixed_clip, tiny_encoder):
    config = dataclasses.replace(BASE, losses=LossConfig(weak_kl=1.0, weak_pairs=2))
    data = items()
    cache = build_clip_cache(data, fixed_clip, config, device=torch.device("cpu"))
    tower = AudioTower(tiny_encoder, Temperature(config.losses))
    bank = FeatureBank([it.audio for it in data])
    batch = make_batch(
        torch.arange(4), 0, 0, bank, cache, weak_candidates(data), config, torch.device("cpu")
    )
    terms = compute_loss(
        tower, *batch, config, logit_scale=tower.temperature(), clip_scale=cache.clip_scale
    )
    assert set(terms) == {"loss", "text", "image", "augment", "weak_kl"}
    terms["loss"].backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in tower.parameters())
    assert all(p.grad is None for p in fixed_clip.parameters())


def test_each_loss_can_be_switched_off(fixed_clip):
    for off in ("text", "image", "augment"):
        torch.manual_seed(0)
        config = dataclasses.replace(BASE, losses=dataclasses.replace(LossConfig(), **{off: 0.0}))
        result = train_audio_encoder(
            config, items(), clip=fixed_clip, encoder=TinyEncoder(), log=lambda _: None
        )
        assert f"loss_{off}" not in result.history[0]
        assert result.steps == 2


def test_all_losses_off_is_refused(fixed_clip, tiny_encoder):
    off = LossConfig(text=0, image=0, augment=0, weak_kl=0)
    with pytest.raises(ConfigError, match="every loss is switched off"):
        train_audio_encoder(
            dataclasses.replace(BASE, losses=off), items(), clip=fixed_clip, encoder=tiny_encoder
        )


def test_missing_labels_with_kl_fail_before_training(fixed_clip, tiny_encoder):
    config = dataclasses.replace(BASE, losses=LossConfig(weak_kl=1.0))
    data = [dataclasses.replace(it, text="a caption") for it in items(labels=False)]
    before = [p.detach().clone() for p in tiny_encoder.parameters()]
    with pytest.raises(ConfigError, match="no label but losses.weak_kl is on"):
        train_audio_encoder(config, data, clip=fixed_clip, encoder=tiny_encoder)
    assert all(torch.equal(a, b) for a, b in zip(before, tiny_encoder.parameters(), strict=True))


def test_missing_images_with_image_loss_are_refused(fixed_clip, tiny_encoder):
    with pytest.raises(ConfigError, match="has an image but losses.image is on"):
        train_audio_encoder(BASE, items(images=None), clip=fixed_clip, encoder=tiny_encoder)


def test_embedding_size_mismatch_is_refused(fixed_clip):
    with pytest.raises(ConfigError, match="outputs 8-d embeddings .* embed_dim 16"):
        train_audio_encoder(BASE, items(), clip=fixed_clip, encoder=TinyEncoder(embed_dim=8))


def test_empty_dataset_is_refused(fixed_clip, tiny_encoder, tmp_path):
    with pytest.raises(ConfigError, match="dataset is empty"):
        train_audio_encoder(BASE, [], clip=fixed_clip, encoder=tiny_encoder)
    unreadable = [TrainItem(tmp_path / "bad.wav", label="x") for _ in range(2)]
    (tmp_path / "bad.wav").write_bytes(b"junk")

    class WithFrontEnd(TinyEncoder):
        front_end = "soundscapes"

    config = dataclasses.replace(BASE, losses=LossConfig(image=0))
    with pytest.raises(ConfigError, match="all 2 items were unreadable"):
        train_audio_encoder(config, unreadable, clip=fixed_clip, encoder=WithFrontEnd())


def test_unreadable_items_are_skipped_and_counted(fixed_clip, tmp_path):
    (tmp_path / "bad.wav").write_bytes(b"junk")

    class WithFrontEnd(TinyEncoder):
        front_end = "soundscapes"

    import numpy as np

    good = [
        TrainItem((16000, np.full(4000, 0.01 * i, np.float32)), label=("a", "b")[i % 2])
        for i in range(4)
    ]
    config = dataclasses.replace(BASE, losses=LossConfig(image=0))
    lines = []
    result = train_audio_encoder(
        config,
        good + [TrainItem(tmp_path / "bad.wav", label="a")],
        clip=fixed_clip,
        encoder=WithFrontEnd(),
        log=lines.append,
    )
    assert len(result.skipped) == 1 and "bad.wav" in result.skipped[0][0]
    assert any("1 items skipped" in line for line in lines)


def test_cosine_cyclic_schedule_restarts():
    config = dataclasses.replace(BASE, lr=1.0, min_lr=0.0, cycle_steps=4)
    lrs = [learning_rate(s, config, 10, 100) for s in range(9)]
    assert lrs[0] == 1.0 and lrs[4] == 1.0 and lrs[8] == 1.0
    assert lrs[2] == pytest.approx(0.5) and lrs[1] == pytest.approx(
        0.5 * (1 + math.cos(math.pi / 4))
    )
    warm = dataclasses.replace(config, warmup_steps=2)
    assert learning_rate(0, warm, 10, 100) == 0.5
    one = dataclasses.replace(config, schedule="cosine")
    assert learning_rate(100, one, 10, 100) == pytest.approx(0.0)


def test_checkpoints_and_resume(fixed_clip, tmp_path):
    from soundedit.encoders.audio import AudioEncoder, AudioEncoderConfig, load_audio_encoder
    from soundedit.weights_io import load_weights

    def encoder():
        torch.manual_seed(0)
        cfg = AudioEncoderConfig(
            backbone="small_cnn", stem="timm1", embed_dim=16, front_end="soundscapes", widths=(8,)
        )
        return AudioEncoder(cfg)

    config = dataclasses.replace(BASE, epochs=2, out_dir=str(tmp_path / "run"))
    full = train_audio_encoder(
        config, items(), items(seed=1), clip=fixed_clip, encoder=encoder(), log=lambda _: None
    )
    assert full.steps == 4 and full.best_path.is_file() and full.last_path.is_file()
    _, record = load_weights(full.last_path, kind="audio_encoder")
    meta = record["meta"]
    assert meta["clip"] == "fixed-clip" and meta["embed_dim"] == 16
    assert meta["front_end"] == "soundscapes" and meta["backbone"] == "small_cnn"
    assert "val_r1" in meta and record["config"]["embed_dim"] == 16
    loaded = load_audio_encoder(full.best_path)
    x = torch.randn(2, 1, 16, 16)
    torch.testing.assert_close(loaded.embed(x), full.encoder.embed(x))

    # stop after one epoch, then resume to two: same weights as the uninterrupted run
    half_dir = tmp_path / "half"
    half = dataclasses.replace(config, epochs=1, out_dir=str(half_dir))
    train_audio_encoder(half, items(), items(seed=1), clip=fixed_clip, encoder=encoder())
    resumed = train_audio_encoder(
        dataclasses.replace(half, epochs=2),
        items(),
        items(seed=1),
        clip=fixed_clip,
        encoder=encoder(),
        log=lambda _: None,
    )
    assert resumed.steps == 4 and len(resumed.history) == 2
    last = load_audio_encoder(resumed.last_path)
    reference = load_audio_encoder(full.last_path)
    for (name, a), (_, b) in zip(
        last.state_dict().items(), reference.state_dict().items(), strict=True
    ):
        torch.testing.assert_close(a, b, msg=name)


def test_batch_size_larger_than_dataset_is_refused(fixed_clip, tiny_encoder):
    with pytest.raises(ConfigError, match="batch_size 16"):
        train_audio_encoder(
            dataclasses.replace(BASE, batch_size=16), items(), clip=fixed_clip, encoder=tiny_encoder
        )


def test_unit_outputs():
    tower = AudioTower(TinyEncoder(), Temperature(LossConfig()))
    out = tower(torch.randn(3, 1, 16, 16))
    assert_unit(out)
    assert F.normalize(out, dim=-1).shape == (3, 16)


def test_cached_features_are_read_per_batch(fixed_clip, tmp_path):
    import numpy as np
    import soundfile as sf

    class WithFrontEnd(TinyEncoder):
        front_end = "soundscapes"

    data = []
    for i in range(4):
        path = tmp_path / f"s{i}.wav"
        sf.write(path, np.full(4000, 0.01 * (i + 1), np.float32), 16000)
        data.append(TrainItem(path, label=("a", "b")[i % 2]))
    cache = tmp_path / "cache"
    config = dataclasses.replace(BASE, losses=LossConfig(image=0), cache_dir=str(cache))
    result = train_audio_encoder(config, data, data, clip=fixed_clip, encoder=WithFrontEnd())
    assert result.steps == 1 and len(list(cache.glob("*.safetensors"))) == 4
    bank = FeatureBank(sorted(cache.glob("*.safetensors")))
    assert bank.data is None and bank.get(torch.tensor([0, 2])).shape == (2, 1, 64, 251)
    assert bank.all().shape == (4, 1, 64, 251)


def test_self_supervised_only_needs_no_text_or_images(fixed_clip, tiny_encoder):
    config = dataclasses.replace(BASE, losses=LossConfig(text=0, image=0, augment=1.0))
    bare = [TrainItem(it.audio) for it in items()]
    result = train_audio_encoder(config, bare, bare, clip=fixed_clip, encoder=tiny_encoder)
    assert result.steps == 2 and set(result.history[0]) >= {"loss", "loss_augment"}
    assert "val_r1" not in result.history[0]


@pytest.mark.gpu
def test_amp_on_cuda_trains_and_keeps_float32_weights(fixed_clip):
    torch.manual_seed(0)
    config = dataclasses.replace(BASE, epochs=2, amp=True)
    result = train_audio_encoder(
        config, items(), items(seed=1), clip=fixed_clip, encoder=TinyEncoder(), device="cuda"
    )
    assert result.steps == 4 and math.isfinite(result.history[-1]["loss"])
    assert all(p.dtype == torch.float32 and p.is_cuda for p in result.encoder.parameters())


def test_items_without_images_train_with_the_image_term_on_the_paired_rows(
    fixed_clip, tiny_encoder
):
    data = items()
    half = [it if i % 2 else dataclasses.replace(it, image=None) for i, it in enumerate(data)]
    result = train_audio_encoder(BASE, half, clip=fixed_clip, encoder=tiny_encoder)
    assert result.steps > 0 and all(math.isfinite(h["loss"]) for h in result.history)


def test_the_image_term_leaves_out_rows_without_a_paired_image():
    from soundedit.train.losses import LossBatch, LossConfig, alignment_loss, info_nce

    g = torch.Generator().manual_seed(0)
    audio = torch.nn.functional.normalize(torch.randn(6, 8, generator=g), dim=-1)
    image = torch.nn.functional.normalize(torch.randn(6, 8, generator=g), dim=-1)
    ids = torch.tensor([0, -1, 2, -1, 4, 5])
    batch = LossBatch(audio=audio, image=image, image_ids=ids)
    config = LossConfig(text=0.0, image=1.0, augment=0.0, weak_kl=0.0)
    got = alignment_loss(config, batch, logit_scale=torch.tensor(10.0))["image"]
    keep = ids >= 0
    want = info_nce(audio[keep], image[keep], torch.tensor(10.0), keys=ids[keep])
    assert torch.allclose(got, want)
