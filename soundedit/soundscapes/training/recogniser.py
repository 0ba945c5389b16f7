"""Fitting the open-set recogniser (recognise.py) on the committed audio encoder's embeddings
of real in-world clips, synthetic scenes, real clips from outside the world and non-sounds."""

from __future__ import annotations

import time
from pathlib import Path

import torch

from soundedit.audio.features import compute_features_batch
from soundedit.encoders.audio import load_audio_encoder
from soundedit.encoders.clip import ClipBridge
from soundedit.errors import ConfigError
from soundedit.soundscapes.captions import CLASS_PROMPTS
from soundedit.soundscapes.nonsounds import TRAIN_KINDS, make_nonsounds
from soundedit.soundscapes.realworld import CLIP_SAMPLES, read_clips, real_takes
from soundedit.soundscapes.recognise import ACCEPT, fit_recogniser, save_recogniser
from soundedit.soundscapes.training.audio import REAL_AUDIO_NOTE, REAL_FOLDS, real_args, scene_items
from soundedit.soundscapes.training.fit import WEIGHTS_DIR, Log, train_command
from soundedit.train.evaluate import embed_features


def train_recogniser(
    *,
    seed: int = 0,
    steps: int = 0,
    real: Path | None = None,
    real_folds: tuple[int, ...] = REAL_FOLDS,
    nonsounds: int = 0,
    hidden: int = 0,
    log: Log = print,
) -> Path:
    """Fit the open-set recogniser (recognise.py) on the committed audio encoder's embeddings.

    Positives: the real in-world clips of ``real_folds`` (each whole and as 3 random takes) and
    1,024 synthetic scenes; negatives: the real clips from outside the world (whole + 1 take)
    and ``nonsounds`` generated non-sounds of each training kind (nonsounds.py; the held-out
    kinds are never fitted on), each kind in one fold of the cross-validation. The score is a
    logistic regression on the embedding, or on a ``hidden``-unit ReLU layer when > 0.
    ``steps`` is unused (an L-BFGS fit); it is accepted so that ``train --model all`` can pass
    one value to every model.
    """
    if real is None:
        raise ConfigError(
            "the recogniser needs real recordings: pass --real with a folder in the ESC-50 "
            "layout (meta/esc50.csv + audio/)"
        )
    extra = _recogniser_args(nonsounds, hidden)
    start = time.time()
    data = recogniser_data(real, real_folds=real_folds, seed=seed, nonsounds=nonsounds)
    model, figures = fit_recogniser(**data, hidden=hidden, seed=seed)
    meta = {
        "command": train_command("recogniser", seed, 0).replace(" --steps 0", "")
        + real_args(real, real_folds)
        + extra,
        "seconds": round(time.time() - start, 1),
        "threshold": round(float(model.threshold), 4),
        "threshold_rule": (
            f"accepts {ACCEPT:.0%} of the out-of-fold real in-world scores (cross-validation "
            f"over folds {', '.join(map(str, figures['folds']))})"
        ),
        "out_of_fold": {k: round(v, 4) for k, v in figures.items() if k != "folds"},
        "fit": {
            "real_inside": len(data["inside"]),
            "synthetic": len(data["synthetic"]),
            "real_outside": len(data["outside"]),
        },
        "real_audio": REAL_AUDIO_NOTE,
    }
    if nonsounds:
        meta["fit"].update(nonsounds=len(data["nonsounds"]), nonsound_kinds=sorted(TRAIN_KINDS))
    if hidden:
        meta["score"] = f"logistic regression on a {hidden}-unit ReLU layer (Adam)"
    log(f"recogniser: threshold {meta['threshold']}, {meta['threshold_rule']}")
    log(f"recogniser: out of fold {meta['out_of_fold']}")
    return save_recogniser(model, WEIGHTS_DIR / "recogniser", meta)


def _recogniser_args(nonsounds: int, hidden: int) -> str:
    """The command-line options of a recogniser fit (checked: neither may be below 0)."""
    if nonsounds < 0 or hidden < 0:
        raise ConfigError(
            f"--nonsounds and --hidden must be 0 or more, got {nonsounds} and {hidden}"
        )
    return (f" --nonsounds {nonsounds}" if nonsounds else "") + (
        f" --hidden {hidden}" if hidden else ""
    )


def recogniser_data(
    real: Path, *, real_folds: tuple[int, ...], seed: int, nonsounds: int = 0
) -> dict:
    """The keyword arguments of ``fit_recogniser``: the committed encoder's embeddings of
    every positive and negative of :func:`train_recogniser`, with their folds."""
    encoder = load_audio_encoder(WEIGHTS_DIR / "audio_encoder")
    clip = ClipBridge.from_file(WEIGHTS_DIR / "clip")
    clips = read_clips(real, folds=real_folds)
    inside = _whole_and_takes([c for c in clips if c.event], takes=3, seed=seed + 1)
    outside = _whole_and_takes([c for c in clips if c.event is None], takes=1, seed=seed + 2)
    synthetic = scene_items(1024, seed=70_000 + seed, recorded=0.6)
    generated = make_nonsounds(TRAIN_KINDS, per_kind=nonsounds, seed=80_000 + seed)
    kind_fold = {k: real_folds[i % len(real_folds)] for i, k in enumerate(sorted(TRAIN_KINDS))}
    with torch.no_grad():
        prompts = clip.embed_text(list(CLASS_PROMPTS.values())).float()
    return {
        "prompts": prompts,
        "inside": embed_sounds(encoder, [x for _, x in inside]),
        "inside_folds": [c.fold for c, _ in inside],
        "outside": embed_sounds(encoder, [x for _, x in outside]),
        "outside_folds": [c.fold for c, _ in outside],
        "synthetic": embed_sounds(encoder, [it.audio[1] for it in synthetic]),
        "nonsounds": embed_sounds(encoder, [x for _, x in generated]) if generated else None,
        "nonsound_folds": [kind_fold[k] for k, _ in generated],
    }


def _whole_and_takes(clips: list, *, takes: int, seed: int) -> list:
    """(clip, 4 s float32) pairs: each clip's centre 4 s and ``takes`` random takes of it."""
    whole = []
    for c in clips:
        start = max(0, (len(c.samples) - CLIP_SAMPLES) // 2)
        whole.append((c, c.samples[start : start + CLIP_SAMPLES]))
    return whole + real_takes(clips, variants=takes, seed=seed)


def embed_sounds(encoder, sounds: list, *, rate: int = 16_000) -> torch.Tensor:
    """Unit embeddings [N, D] of float sounds at ``rate`` through the encoder's front end."""
    return embed_features(encoder, compute_features_batch(sounds, encoder.front_end, rate=rate))
