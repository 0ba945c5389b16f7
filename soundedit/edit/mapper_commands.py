"""``python -m soundedit train-mapper``: a latent mapper for any world (GPU-sized for real
generators; the SoundScapes world has its own, ``soundscapes train --model mapper``)."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

from soundedit.bundle import load_bundle
from soundedit.edit.mapper_training import MapperTraining, embedding_bank, sound_files, train_mapper
from soundedit.errors import ConfigError
from soundedit.hub import get_weights_dir
from soundedit.mapper import save_mapper


def register(subparsers) -> None:
    """Add the ``train-mapper`` command."""
    p = subparsers.add_parser(
        "train-mapper",
        help="train a latent mapper (instant edits, warm starts) for a world",
        description="Trains M(latent, target) with the edit's own objective over random seeds "
        "and targets from --sounds and --captions; snapshots and the resumable state go to "
        "--out, the mapper to --weights (name it in the registry entry's mapper field).",
    )
    p.add_argument("--generator", required=True, help="bundle name (registry or registered)")
    p.add_argument("--sounds", type=Path, help="folder of sounds whose embeddings are targets")
    p.add_argument("--captions", type=Path, help="text file, one caption (a target) a line")
    p.add_argument("--steps", type=int, default=20_000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None, help="default out/mapper/GENERATOR")
    p.add_argument("--weights", type=Path, default=None, help="default weights/GENERATOR-mapper")
    p.add_argument("--resume", action="store_true", help="continue from --out's last snapshot")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.set_defaults(func=run_train_mapper)


def run_train_mapper(args) -> int:
    """Build the bank, train, write the mapper; prints its path."""
    if not 1 <= args.steps <= 10_000_000 or not 1 <= args.batch <= 4096:
        raise ConfigError("--steps must be 1 or more and --batch between 1 and 4096")
    bundle = load_bundle(args.generator, device=args.device)
    sounds = sound_files(args.sounds) if args.sounds else []
    texts = _captions(args.captions) if args.captions else []
    bank = embedding_bank(bundle, sounds, texts)
    out = args.out or Path("out/mapper") / args.generator
    weights = args.weights or get_weights_dir() / f"{args.generator}-mapper"
    training = MapperTraining(steps=args.steps, batch=args.batch, lr=args.lr, seed=args.seed)
    meta = {"command": command_line(args, out, weights), "bank": len(bank)}
    start = time.time()
    mapper = train_mapper(
        bundle,
        bank,
        out,
        training=training,
        resume=args.resume,
        meta=meta,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    meta.update(seconds=round(time.time() - start, 1), step=args.steps)
    print(save_mapper(mapper, weights, meta))
    return 0


def _captions(path: Path) -> list[str]:
    if not path.is_file():
        raise FileNotFoundError(f"captions file {path} does not exist")
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def command_line(args, out: Path, weights: Path) -> str:
    """The command that repeats this run (stored in the mapper's json)."""
    words = ["python", "-m", "soundedit", "train-mapper", "--generator", args.generator]
    for flag, value in (("--sounds", args.sounds), ("--captions", args.captions)):
        words += [flag, str(value)] if value else []
    words += ["--steps", str(args.steps), "--batch", str(args.batch), "--lr", repr(args.lr)]
    words += ["--seed", str(args.seed), "--out", str(out), "--weights", str(weights)]
    return shlex.join(words + ["--device", args.device])
