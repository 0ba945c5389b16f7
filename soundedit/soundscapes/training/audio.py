"""Training the audio encoder against the tiny CLIP with soundedit.train, on synthetic scenes
(part of them played through a recording chain) and, optionally, real in-world clips."""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from soundedit.audio.recording import DEFAULT_CHAIN, microphone_recording, simulate_recording
from soundedit.encoders.audio import load_audio_encoder, save_audio_encoder
from soundedit.encoders.clip import ClipBridge
from soundedit.errors import ConfigError
from soundedit.soundscapes.captions import captions
from soundedit.soundscapes.nonsounds import TRAIN_KINDS, make_nonsounds
from soundedit.soundscapes.params import CLASSES, dominant_class, sample_for_class, sample_params
from soundedit.soundscapes.realworld import outside_items, read_clips, real_items
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


def scene_items(n: int, *, seed: int, recorded: float = 0.0, microphone: float = 0.0) -> list:
    """``n`` training items: half prior scenes, half scenes dominated by one class (balanced).

    Each item pairs the scene's sound (16 kHz waveform), its caption, its render (the "video
    frame") and its dominant class (for the weak-pair term); the group is the scene id. A share
    ``recorded`` of the sounds is played through a random recording chain (room, microphone,
    noise, converter; the level moves by at most 2 dB so that loudness still means intensity),
    and a share ``microphone`` of the others through a random browser microphone.
    """
    g = torch.Generator().manual_seed(seed)
    focused = [sample_for_class(CLASSES[i % len(CLASSES)], 1, g, low=0.3) for i in range(n // 2)]
    params = torch.cat([sample_params(n - n // 2, g), *focused])
    sounds = synthesize(params, seed=seed)
    if recorded or microphone:
        sounds = record_some(sounds, RATE, share=recorded, seed=seed, microphone=microphone)
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


def record_some(sounds, rate: int, *, share: float, seed: int, microphone: float = 0.0):
    """``sounds`` [B, n] with a random ``share`` of rows played through a recording chain and,
    of the others, a share ``microphone`` (of all rows) through a browser microphone."""
    chain = dataclasses.replace(DEFAULT_CHAIN, level_db=(-2.0, 2.0))
    rng = np.random.default_rng([seed, 7])
    mic_rng = np.random.default_rng([seed, 11])
    out = sounds.copy()
    for i in range(len(out)):
        if rng.random() < share:
            out[i] = simulate_recording(out[i], rate, rng, chain=chain)
        elif microphone and mic_rng.random() < microphone / max(1e-9, 1 - share):
            out[i] = microphone_recording(out[i], rate, mic_rng)
    return out


REAL_FOLDS = (1, 2, 3)  # fold 4 is held out for validation (soundscapes eval --real)
REAL_VARIANTS = 12  # random takes of each real in-world clip
OUTSIDE_VARIANTS = 1  # random takes of each real clip from outside the world (negatives)
SNAPSHOT_DIR = Path("out") / "audio-snapshots"  # a run's checkpoints and resume state


@dataclass(frozen=True)
class EarOptions:
    """What the real sounds teach beyond the weak pairs (all off: the earlier runs' recipe)."""

    real_images: bool = False  # real takes join audio<->image against renders of their event
    negatives: float = 0.0  # weight of the "none of these" hinge (outside clips, non-sounds)
    nonsounds: int = 0  # generated non-sounds of each training kind as negatives
    microphone: float = 0.0  # share of the takes played through a browser microphone

    def args(self) -> str:
        """The command-line options that reproduce these settings."""
        out = " --real-images" if self.real_images else ""
        out += f" --negatives {self.negatives:g}" if self.negatives else ""
        out += f" --nonsounds {self.nonsounds}" if self.nonsounds else ""
        return out + (f" --microphone {self.microphone:g}" if self.microphone else "")


def train_audio(
    *,
    seed: int = 0,
    steps: int = 1500,
    n_items: int = 2000,
    real: Path | None = None,
    real_folds: tuple[int, ...] = REAL_FOLDS,
    resume: bool = False,
    ears: EarOptions = EarOptions(),
    log: Log = print,
) -> Path:
    """Train the audio encoder with soundedit.train (all four losses) against the tiny CLIP.

    With ``resume`` it continues from the committed encoder at half the learning rate (after
    the tiny CLIP was itself resumed, so that the two spaces stay close).

    ``real`` is a folder in the ESC-50 layout: its in-world clips of ``real_folds`` join the
    synthetic scenes (audio<->text, self-supervised and weak-pair terms; see realworld.py).
    ``ears`` adds the audio<->image term for them, the outside clips of ``real_folds`` and
    generated non-sounds of the training kinds as "none of these" negatives, and browser
    microphone takes. Snapshots go to out/audio-snapshots/seed<seed>-steps<steps>[-resume]/;
    a stopped run with the same command continues from there.
    """
    if (ears.negatives or ears.nonsounds) and not (ears.negatives and (real or ears.nonsounds)):
        raise ConfigError(
            "--negatives W needs negatives (--real clips from outside the world or --nonsounds "
            "N), and --nonsounds needs --negatives W > 0"
        )
    start = time.time()
    torch.manual_seed(seed)
    clip = ClipBridge.from_file(WEIGHTS_DIR / "clip")
    train_items = scene_items(n_items, seed=seed, recorded=0.6, microphone=ears.microphone)
    train_items += real_training_items(real, real_folds, seed=seed, ears=ears, log=log)
    val_items = scene_items(128, seed=50_000 + seed)
    log(f"audio: {len(train_items)} training items made in {time.time() - start:.0f}s")
    config = _audio_config(
        seed=seed, steps=steps, n_train=len(train_items), resume=resume, negative=ears.negatives
    )
    encoder = load_audio_encoder(WEIGHTS_DIR / "audio_encoder").train() if resume else None
    history = previous_runs(WEIGHTS_DIR / "audio_encoder") if resume else []
    result = train_audio_encoder(
        config, train_items, val_items, clip=clip, encoder=encoder, log=log
    )
    extra = real_args(real, real_folds) + ears.args()
    meta = {
        "command": train_command("audio", seed, steps, resume=resume, extra=extra),
        "seconds": round(time.time() - start, 1),
        "history": history,
        "last_epoch": result.history[-1] if result.history else {},
        "losses": "text + image + augment + weak_kl (soundedit.train)"
        + (f" + negative hinge x{ears.negatives:g}" if ears.negatives else ""),
        "real_audio": REAL_AUDIO_NOTE if real is not None else None,
    }
    encoder = result.encoder
    if ears.real_images or ears.negatives:
        # The validation R@1 ranks synthetic captions only, and falls as real takes and
        # negatives take a larger share of the batch; the annealed last epoch is kept.
        encoder = load_audio_encoder(Path(config.out_dir) / "last")
        meta["kept"] = "the last epoch (not the best validation R@1)"
    return save_audio_encoder(encoder.eval(), WEIGHTS_DIR / "audio_encoder", meta)


def real_training_items(
    real: Path | None, real_folds: tuple[int, ...], *, seed: int, ears: EarOptions, log: Log
) -> list:
    """The real takes (and, with ``ears.negatives``, the negatives) of :func:`train_audio`."""
    items = []
    if real is not None:
        roles = ("event", "outside") if ears.negatives else ("event",)
        clips = read_clips(real, folds=real_folds, roles=roles)
        items += real_items(
            clips,
            variants=REAL_VARIANTS,
            seed=seed,
            images=ears.real_images,
            microphone=ears.microphone,
        )
        n_inside = sum(1 for c in clips if c.event)
        log(f"audio: {n_inside} real in-world clips x {REAL_VARIANTS} takes from {real}")
        if ears.negatives:
            outside = outside_items(
                clips, variants=OUTSIDE_VARIANTS, seed=seed + 5, microphone=ears.microphone
            )
            items += outside
            log(f"audio: {len(outside)} takes of real clips from outside the world (negatives)")
    if ears.nonsounds:
        generated = make_nonsounds(TRAIN_KINDS, per_kind=ears.nonsounds, seed=60_000 + seed)
        items += [
            TrainItem(audio=(RATE, x), group=f"nonsound-{kind}-{i}", negative=True)
            for i, (kind, x) in enumerate(generated)
        ]
        log(f"audio: {len(generated)} generated non-sounds of {len(TRAIN_KINDS)} kinds (negatives)")
    return items


def _audio_config(
    *, seed: int, steps: int, n_train: int, resume: bool, negative: float = 0.0, batch: int = 64
):
    """The audio encoder's TrainConfig: all four losses (and the negatives' hinge when
    ``negative`` > 0), AdamW, cosine, half lr when resumed; snapshots under out/."""
    return TrainConfig(
        out_dir=str(SNAPSHOT_DIR / f"seed{seed}-steps{steps}{'-resume' if resume else ''}"),
        encoder=dict(AUDIO_ENCODER_CONFIG),
        epochs=max(1, math.ceil(steps / (n_train // batch))),
        max_steps=steps,
        batch_size=batch,
        optimizer="adamw",
        lr=1e-3 if resume else 2e-3,
        weight_decay=1e-4,
        schedule="cosine",
        warmup_steps=50,
        losses=LossConfig(text=1.0, image=1.0, augment=1.0, weak_kl=1.0, negative=negative),
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
