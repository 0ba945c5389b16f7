"""The SoundScapes mapper: its bank of targets and its training command.

The bank holds unit embeddings of the world's CLIP space, computed once and cached
(``out/mapper/soundscapes/bank.safetensors``):

- the world's own sounds through the committed audio encoder: every class alone at random
  intensities and gains (-24..+0 dB, so the mapper learns loudness), pairs of classes mixed,
  and scenes drawn from the prior;
- real clips of ESC-50 folds 1-3 (never fold 4, the held-out report fold) as random takes
  (``takes`` of each in-world clip): random windows, gains -24..0 dB, half of them through a
  simulated recording chain;
- captions of scenes drawn from the prior and the class prompts, through the tiny CLIP text
  tower.

The trainer blends bank targets pairwise on the fly (sound with sound, sound with words) and
draws most sources at the world's calm start (:func:`~soundedit.soundscapes.bundle.calm_start`,
through the bundle's ``start`` hook), the rest as drawn. A run can fine-tune a trained mapper
(``init``); its json records the mapper it started from.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from soundedit.bundle import load_bundle
from soundedit.config import to_dict
from soundedit.edit.mapper_training import MapperTraining, train_mapper
from soundedit.encoders.audio import embed_sound
from soundedit.errors import ConfigError
from soundedit.mapper import LatentMapper, load_mapper, save_mapper
from soundedit.soundscapes.bundle import weights_dir
from soundedit.soundscapes.captions import CLASS_PROMPTS, captions
from soundedit.soundscapes.params import CLASSES, INDEX, make_params, sample_params
from soundedit.soundscapes.realworld import read_clips, real_takes
from soundedit.soundscapes.synth import RATE, synthesize
from soundedit.weights_io import load_record, load_weights, save_weights, weight_paths

OUT_DIR = Path("out/mapper/soundscapes")  # bank cache, snapshots and the resumable state
HELD_OUT_FOLD = 4  # the real-sound report fold: never in the bank
REAL_TAKES = 8  # random takes of each in-world real clip in the bank
START_SHARE = 0.7  # share of training sources at the world's calm start (the rest: random z)
BANK_KIND = "mapper_bank"
Log = Callable[[str], None]


def synthetic_scenes(per_class: int, rng: torch.Generator) -> torch.Tensor:
    """Scenes [N, P]: each class alone at a random intensity, pairs mixed, prior draws."""
    rows = []
    for name in CLASSES:
        for value in (0.15 + 0.85 * torch.rand(per_class, generator=rng)).tolist():
            rows.append(make_params(**{name: value}))
    for _ in range(per_class * len(CLASSES) // 2):
        a, b = torch.randperm(len(CLASSES), generator=rng)[:2].tolist()
        va, vb = (0.3 + 0.7 * torch.rand(2, generator=rng)).tolist()
        rows.append(make_params(**{CLASSES[a]: va, CLASSES[b]: vb}))
    rows.append(sample_params(per_class * 2, rng))
    params = torch.cat(rows)
    # Lightning comes with some rain, as the world draws it.
    lightning = params[:, INDEX["lightning"]] > 0
    params[lightning, INDEX["rain"]] = params[lightning, INDEX["rain"]].clamp(min=0.2)
    return params


def synthetic_targets(audio_encoder, *, per_class: int, seed: int) -> torch.Tensor:
    """Embeddings [N, D] of the world's sounds at random gains (-24..+0 dB)."""
    rng = torch.Generator().manual_seed(seed)
    params = synthetic_scenes(per_class, rng)
    gains = np.random.default_rng(seed).uniform(-24.0, 0.0, len(params))
    sounds = synthesize(params, seed=seed)
    rows = [
        embed_sound(audio_encoder, (RATE, sound * np.float32(10 ** (gain / 20))))
        for sound, gain in zip(sounds, gains, strict=True)
    ]
    return torch.cat(rows).float()


def real_targets(
    audio_encoder, folder: Path, *, folds: tuple[int, ...], seed: int, takes: int = REAL_TAKES
) -> torch.Tensor:
    """Embeddings [N, D] of ``takes`` random takes of each in-world clip of ``folds`` (fold 4
    refused)."""
    if HELD_OUT_FOLD in folds:
        raise ConfigError(f"fold {HELD_OUT_FOLD} is the held-out report fold; train on 1-3")
    if takes < 1:
        raise ConfigError(f"real takes per clip must be 1 or more, got {takes}")
    clips = read_clips(folder, folds=folds, roles=("event",))
    takes = real_takes(clips, variants=takes, seed=seed)
    return torch.cat([embed_sound(audio_encoder, (RATE, x)) for _, x in takes]).float()


@torch.no_grad()
def caption_targets(clip, *, n: int, seed: int) -> torch.Tensor:
    """Embeddings [n + 8, D] of captions of prior scenes and of the class prompts."""
    params = sample_params(n, torch.Generator().manual_seed(seed))
    texts = captions(params, seed=seed) + list(CLASS_PROMPTS.values())
    return torch.cat([clip.embed_text(texts[i : i + 64]) for i in range(0, len(texts), 64)])


def build_bank(
    bundle,
    *,
    real: Path | None,
    folds=(1, 2, 3),
    takes: int = REAL_TAKES,
    per_class: int = 48,
    seed: int = 0,
    log=print,
) -> torch.Tensor:
    """The world's target bank [N, D] (unit rows; see the module docstring)."""
    parts = [synthetic_targets(bundle.audio_encoder, per_class=per_class, seed=seed)]
    log(f"mapper bank: {len(parts[0])} synthesised sounds")
    if real is not None:
        encoder = bundle.audio_encoder
        parts.append(real_targets(encoder, Path(real), folds=folds, seed=seed, takes=takes))
        log(f"mapper bank: {len(parts[-1])} takes of real clips (folds {list(folds)})")
    parts.append(caption_targets(bundle.clip, n=per_class * len(CLASSES), seed=seed).float())
    log(f"mapper bank: {len(parts[-1])} captions")
    bank = torch.nn.functional.normalize(torch.cat(parts).cpu(), dim=-1)
    return bank


@dataclass(frozen=True)
class BankSource:
    """What a cached bank was built from (it is rebuilt when this differs)."""

    real: str | None  # the ESC-50 folder of the real takes, or None
    folds: tuple[int, ...]  # its folds in the bank
    seed: int  # seeds the sounds, takes and captions
    takes: int = REAL_TAKES  # random takes of each in-world real clip


def cached_bank(
    bundle, *, real: Path | None, folds, seed: int, out_dir: Path, log, takes: int = REAL_TAKES
) -> torch.Tensor:
    """The bank from ``out_dir/bank`` when it was built with the same inputs (a
    :class:`BankSource`), else built now and cached."""
    source = BankSource(str(real) if real else None, tuple(folds), seed, takes)
    path = out_dir / "bank"
    if (out_dir / "bank.json").is_file():
        tensors, record = load_weights(path, kind=BANK_KIND)
        if record["config"] == to_dict(source):
            return tensors["bank"]
        log("mapper bank: the cached bank was built from other inputs; building it again")
    bank = build_bank(bundle, real=real, folds=folds, takes=takes, seed=seed, log=log)
    save_weights(path, {"bank": bank}, kind=BANK_KIND, config=source)
    return bank


def train_world_mapper(
    *,
    seed: int = 0,
    steps: int = 20_000,
    resume: bool = False,
    real: Path | None = None,
    real_folds: tuple[int, ...] = (1, 2, 3),
    real_takes: int = REAL_TAKES,
    start_share: float = START_SHARE,
    init: Path | None = None,
    out_dir: Path = OUT_DIR,
    weights: Path | None = None,
    log: Log = print,
) -> Path:
    """Train the SoundScapes mapper (snapshots in ``out_dir``) and write it to ``weights``
    (default: the shipped ``weights/soundscapes/mapper``); returns the safetensors path.

    ``init`` (a mapper's path without suffix) starts from its weights: a fine-tune, recorded
    in the json with the start mapper's digest and step.
    """
    if not 0 <= start_share <= 1:
        raise ConfigError(f"the share of sources at the world's start is 0..1, got {start_share}")
    bundle = load_bundle("soundscapes")
    bank = cached_bank(
        bundle, real=real, folds=real_folds, takes=real_takes, seed=seed, out_dir=out_dir, log=log
    )
    command = (
        f"python -m soundedit soundscapes train --model mapper --seed {seed} --steps {steps}"
        f" --start-share {start_share:g}"
    )
    if real is not None:
        folds = " ".join(map(str, real_folds))
        command += f" --real {real} --real-folds {folds} --real-takes {real_takes}"
    meta = {"command": command, "bank": len(bank)}
    start_mapper = None
    if init is not None:
        start_mapper, meta["init"] = fine_tune_start(Path(init))
        meta["command"] += f" --init-mapper {init}"
        log(f"mapper: fine-tuning {init} (its step {meta['init']['step']})")
    start = time.time()
    training = MapperTraining(steps=steps, seed=seed, start_share=start_share)
    mapper = train_mapper(
        bundle,
        bank,
        out_dir,
        training=training,
        resume=resume,
        init=start_mapper,
        meta=meta,
        log=log,
    )
    meta["seconds"] = round(time.time() - start, 1)
    return save_mapper(mapper, weights or weights_dir() / "mapper", {**meta, "step": steps})


def fine_tune_start(stem: Path) -> tuple[LatentMapper, dict]:
    """The mapper a fine-tune starts from, and what its json records of it (path, sha256 of
    the weights, the step and command that trained it)."""
    mapper = load_mapper(stem)
    info = load_record(stem).get("meta", {})
    digest = hashlib.sha256(weight_paths(stem)[0].read_bytes()).hexdigest()
    return mapper, {
        "path": str(stem),
        "sha256": digest,
        "step": info.get("step"),
        "command": info.get("command"),
    }
