"""End to end: synthesised sound classes, a fixed tiny CLIP, zero-shot on held-out clips."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from soundedit.train import (
    LossConfig,
    TrainConfig,
    TrainItem,
    evaluate_items,
    train_audio_encoder,
    zero_shot_accuracy,
)
from tests.train.helpers import CLASSES, FixedClip, log_mel, synth

pytestmark = pytest.mark.slow  # trains an encoder for real


def make_items(clip: FixedClip, per_class: int, seed: int) -> list[TrainItem]:
    rng = np.random.default_rng(seed)
    g = torch.Generator().manual_seed(seed)
    items = []
    for i in range(per_class):
        for c, label in enumerate(CLASSES):
            noise = 0.5 * torch.randn(clip.embed_dim, generator=g)
            frame = F.normalize(clip.class_vectors[c] + noise, dim=0)  # "video frame" embedding
            items.append(
                TrainItem(
                    log_mel(synth(label, rng)),
                    label=label,
                    image_embedding=frame,
                    group=f"{seed}-{i}-{c}",
                )
            )
    return items


def tiny_audio_encoder(dim: int):
    from soundedit.encoders.audio import AudioEncoder, AudioEncoderConfig

    torch.manual_seed(0)
    config = AudioEncoderConfig(
        backbone="small_cnn", stem="timm1", embed_dim=dim, front_end="soundscapes", widths=(16, 32)
    )
    return AudioEncoder(config)


def test_zero_shot_on_held_out_synthesised_clips(tmp_path):
    torch.set_num_threads(1)
    clip = FixedClip()
    train, held_out = make_items(clip, 32, seed=1), make_items(clip, 10, seed=2)
    config = TrainConfig(
        epochs=20,
        batch_size=32,
        optimizer="adam",
        lr=3e-3,
        losses=LossConfig(text=1.0, image=0.5, augment=0.5, weak_kl=0.5, weak_pairs=4),
        text_variants=2,
        progress=False,
        out_dir=str(tmp_path / "run"),
        max_minutes=1.0,
    )
    start = time.time()
    result = train_audio_encoder(config, train, held_out, clip=clip, encoder=tiny_audio_encoder(16))
    seconds = time.time() - start
    accuracy = zero_shot_accuracy(result.encoder, clip, held_out, list(CLASSES))
    print(f"zero-shot accuracy {accuracy:.3f} after {seconds:.1f} s, {result.steps} steps")
    assert seconds < 60
    assert accuracy >= 0.9
    assert result.best_metrics["val_r1"] >= 0.9
    assert result.best_path is not None and result.best_path.is_file()
    report = evaluate_items(result.encoder, clip, held_out)
    assert report["zero_shot_accuracy"] == accuracy
    assert report["linear_probe_accuracy"] >= 0.75
