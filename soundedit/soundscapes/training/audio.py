"""Training the audio encoder against the tiny CLIP with soundedit.train, on synthetic scenes
(part of them played through a recording chain) and, optionally, real in-world clips."""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import numpy as np
import torch

from soundedit.audio.recording import DEFAULT_CHAIN, simulate_recording
from soundedit.encoders.audio import load_audio_encoder, save_audio_encoder
from soundedit.encoders.clip import ClipBridge
from soundedit.soundscapes.captions import captions
from soundedit.soundscapes.params import CLASSES, dominant_class, sample_for_class, sample_params
from soundedit.soundscapes.realworld import read_clips, real_items
from soundedit.soundscapes.render import render
from soundedit.soundscapes.synth import RATE, synthesize
from soundedit.soundscapes.training.clip import CLIP_CONFIG
from soundedit.soundscapes.training.fit import WEIGHTS_DIR, Log, previous_runs, train_command
from soundedit.train import LossConfig, TrainConfig, TrainItem, train_audio_encoder

AUDIO_ENCODER_CONFIG: dict = {
    "backbone": "small_cnn",
    "stem": "timm1",
    "embed_dim": CLIP_CONFIG["embed_dim"],
    "front_end": "soundscapes",
    "widths": (32, 64, 128, 256),
}


def scene_items(n: int, *, seed: int, recorded: float = 0.0) -> list:
    """``n`` training items: half prior scenes, half scenes dominated by one class (balanced).

    Each item pairs the scene's sound (16 kHz waveform), its caption, its render (the "video
    frame") and its dominant class (for the weak-pair term); the group is the scene id. A share
    ``recorded`` of the sounds is played through a random recording chain (room, microphone,
    noise, converter; the level moves by at most 2 dB so that loudness still means intensity).
    """
    g = torch.Generator().manual_seed(seed)
    focused = [sample_for_class(CLASSES[i % len(CLASSES)], 1, g, low=0.3) for i in range(n // 2)]
    params = torch.cat([sample_params(n - n // 2, g), *focused])
    sounds = synthesize(params, seed=seed)
    if recorded:
        sounds = record_some(sounds, RATE, share=recorded, seed=seed)
    texts = captions(params, seed=seed)
    labels = dominant_class(params)
    images = torch.cat([render(chunk) for chunk in params.split(256)])
    return [
        TrainItem(
            audio=(RATE, sounds[i]),
            text=texts[i],
            label=labels[i],
            image=images[i],
            group=f"scene-{seed}-{i}",
        )
        for i in range(n)
    ]


def record_some(sounds, rate: int, *, share: float, seed: int):
    """``sounds`` [B, n] with a random ``share`` of rows played through a recording chain."""
    chain = dataclasses.replace(DEFAULT_CHAIN, level_db=(-2.0, 2.0))
    rng = np.random.default_rng([seed, 7])
    out = sounds.copy()
    for i in range(len(out)):
        if rng.random() < share:
            out[i] = simulate_recording(out[i], rate, rng, chain=chain)
    return out


REAL_FOLDS = (1, 2, 3)  # fold 4 is held out for validation (soundscapes eval --real)
REAL_VARIANTS = 12  # random takes of each real in-world clip


def train_audio(
    *,
    seed: int = 0,
    steps: int = 1500,
    n_items: int = 2000,
    real: Path | None = None,
    real_folds: tuple[int, ...] = REAL_FOLDS,
    resume: bool = False,
    log: Log = print,
) -> Path:
    """Train the audio encoder with soundedit.train (all four losses) against the tiny CLIP.

    With ``resume`` it continues from the committed encoder at half the learning rate (after
    the tiny CLIP was itself resumed, so that the two spaces stay close).

    ``real`` is a folder in the ESC-50 layout: its in-world clips of ``real_folds`` join the
    synthetic scenes (audio<->text, self-supervised and weak-pair terms; see realworld.py).
    """
    start = time.time()
    torch.manual_seed(seed)
    clip = ClipBridge.from_file(WEIGHTS_DIR / "clip")
    train_items = scene_items(n_items, seed=seed, recorded=0.6)
    if real is not None:
        clips = read_clips(real, folds=real_folds, roles=("event",))
        train_items += real_items(clips, variants=REAL_VARIANTS, seed=seed)
        log(f"audio: {len(clips)} real in-world clips x {REAL_VARIANTS} takes from {real}")
    val_items = scene_items(128, seed=50_000 + seed)
    log(f"audio: {len(train_items)} training items made in {time.time() - start:.0f}s")
    config = _audio_config(seed=seed, steps=steps, n_train=len(train_items), resume=resume)
    encoder = load_audio_encoder(WEIGHTS_DIR / "audio_encoder").train() if resume else None
    history = previous_runs(WEIGHTS_DIR / "audio_encoder") if resume else []
    result = train_audio_encoder(
        config, train_items, val_items, clip=clip, encoder=encoder, log=log
    )
    extra = real_args(real, real_folds)
    meta = {
        "command": train_command("audio", seed, steps, resume=resume, extra=extra),
        "seconds": round(time.time() - start, 1),
        "history": history,
        "last_epoch": result.history[-1] if result.history else {},
        "losses": "text + image + augment + weak_kl (soundedit.train)",
        "real_audio": REAL_AUDIO_NOTE if real is not None else None,
    }
    return save_audio_encoder(result.encoder.eval(), WEIGHTS_DIR / "audio_encoder", meta)


def _audio_config(*, seed: int, steps: int, n_train: int, resume: bool, batch: int = 64):
    """The audio encoder's TrainConfig: all four losses, AdamW, cosine, half lr when resumed."""
    return TrainConfig(
        encoder=dict(AUDIO_ENCODER_CONFIG),
        epochs=max(1, math.ceil(steps / (n_train // batch))),
        max_steps=steps,
        batch_size=batch,
        optimizer="adamw",
        lr=1e-3 if resume else 2e-3,
        weight_decay=1e-4,
        schedule="cosine",
        warmup_steps=50,
        losses=LossConfig(text=1.0, image=1.0, augment=1.0, weak_kl=1.0),
        seed=seed,
        progress=False,
        val_every=5,
    )


REAL_AUDIO_NOTE = (
    "trained on real recordings from ESC-50 (K. J. Piczak, ACM Multimedia 2015; CC BY-NC 3.0): "
    "these weights are for non-commercial use"
)


def real_args(real: Path | None, folds: tuple[int, ...]) -> str:
    if real is None:
        return ""
    return f" --real ESC50_DIR --real-folds {' '.join(map(str, folds))}"
