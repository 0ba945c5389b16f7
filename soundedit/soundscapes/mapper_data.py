"""The SoundScapes mapper: its bank of targets and its training command.

The bank holds unit embeddings of the world's CLIP space, computed once and cached
(``out/mapper/soundscapes/bank.safetensors``):

- the world's own sounds through the committed audio encoder: every class alone at random
  intensities and gains (-24..+0 dB, so the mapper learns loudness), pairs of classes mixed,
  and scenes drawn from the prior;
- real clips of ESC-50 folds 1-3 (never fold 4, the held-out report fold) as random takes:
  random windows and gains, some through a simulated recording chain;
- captions of scenes drawn from the prior and the class prompts, through the tiny CLIP text
  tower.

The trainer blends bank targets pairwise on the fly (sound with sound, sound with words).
"""

from __future__ import annotations

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
from soundedit.mapper import save_mapper
from soundedit.soundscapes.bundle import weights_dir
from soundedit.soundscapes.captions import CLASS_PROMPTS, captions
from soundedit.soundscapes.params import CLASSES, INDEX, make_params, sample_params
from soundedit.soundscapes.realworld import read_clips, real_takes
from soundedit.soundscapes.synth import RATE, synthesize
from soundedit.weights_io import load_weights, save_weights

OUT_DIR = Path("out/mapper/soundscapes")  # bank cache, snapshots and the resumable state
HELD_OUT_FOLD = 4  # the real-sound report fold: never in the bank
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


def real_targets(audio_encoder, folder: Path, *, folds: tuple[int, ...], seed: int) -> torch.Tensor:
    """Embeddings [N, D] of random takes of the real clips of ``folds`` (fold 4 refused)."""
    if HELD_OUT_FOLD in folds:
        raise ConfigError(f"fold {HELD_OUT_FOLD} is the held-out report fold; train on 1-3")
    clips = read_clips(folder, folds=folds, roles=("event",))
    takes = real_takes(clips, variants=2, seed=seed)
    return torch.cat([embed_sound(audio_encoder, (RATE, x)) for _, x in takes]).float()


@torch.no_grad()
def caption_targets(clip, *, n: int, seed: int) -> torch.Tensor:
    """Embeddings [n + 8, D] of captions of prior scenes and of the class prompts."""
    params = sample_params(n, torch.Generator().manual_seed(seed))
    texts = captions(params, seed=seed) + list(CLASS_PROMPTS.values())
    return torch.cat([clip.embed_text(texts[i : i + 64]) for i in range(0, len(texts), 64)])


def build_bank(
    bundle, *, real: Path | None, folds=(1, 2, 3), per_class: int = 48, seed: int = 0, log=print
) -> torch.Tensor:
    """The world's target bank [N, D] (unit rows; see the module docstring)."""
    parts = [synthetic_targets(bundle.audio_encoder, per_class=per_class, seed=seed)]
    log(f"mapper bank: {len(parts[0])} synthesised sounds")
    if real is not None:
        parts.append(real_targets(bundle.audio_encoder, Path(real), folds=folds, seed=seed))
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


def cached_bank(bundle, *, real: Path | None, folds, seed: int, out_dir: Path, log) -> torch.Tensor:
    """The bank from ``out_dir/bank`` when it was built with the same inputs, else built now."""
    source = BankSource(str(real) if real else None, tuple(folds), seed)
    path = out_dir / "bank"
    if (out_dir / "bank.json").is_file():
        tensors, record = load_weights(path, kind=BANK_KIND)
        if record["config"] == to_dict(source):
            return tensors["bank"]
    bank = build_bank(bundle, real=real, folds=folds, seed=seed, log=log)
    save_weights(path, {"bank": bank}, kind=BANK_KIND, config=source)
    return bank


def train_world_mapper(
    *,
    seed: int = 0,
    steps: int = 20_000,
    resume: bool = False,
    real: Path | None = None,
    real_folds: tuple[int, ...] = (1, 2, 3),
    out_dir: Path = OUT_DIR,
    weights: Path | None = None,
    log: Log = print,
) -> Path:
    """Train the SoundScapes mapper (snapshots in ``out_dir``) and write it to ``weights``
    (default: the shipped ``weights/soundscapes/mapper``); returns the safetensors path."""
    bundle = load_bundle("soundscapes")
    bank = cached_bank(bundle, real=real, folds=real_folds, seed=seed, out_dir=out_dir, log=log)
    command = f"python -m soundedit soundscapes train --model mapper --seed {seed} --steps {steps}"
    if real is not None:
        command += f" --real {real} --real-folds {' '.join(map(str, real_folds))}"
    meta = {"command": command, "bank": len(bank)}
    start = time.time()
    training = MapperTraining(steps=steps, seed=seed)
    mapper = train_mapper(
        bundle, bank, out_dir, training=training, resume=resume, meta=meta, log=log
    )
    meta["seconds"] = round(time.time() - start, 1)
    return save_mapper(mapper, weights or weights_dir() / "mapper", {**meta, "step": steps})
