"""The ``edit`` and ``bench`` sub-commands."""

from __future__ import annotations

import argparse
import json
import sys

import torch

from soundedit.bundle import DEFAULT_BUNDLE
from soundedit.errors import ConfigError


def register(subparsers) -> None:
    """Add ``edit`` and ``bench`` to the CLI."""
    _register_edit(subparsers)
    _register_bench(subparsers)


def _register_edit(subparsers) -> None:
    p = subparsers.add_parser(
        "edit",
        help="edit a generated image with a sound (and/or words)",
        description="Optimise a StyleGAN2 latent so the image matches a sound; writes "
        "source.png, edited.png, latents.safetensors and report.json to --out.",
    )
    p.add_argument("--audio", help="sound file (wav, flac, ogg, mp3 ...)")
    p.add_argument("--audio2", help="a second sound mixed into the first")
    p.add_argument("--mix", type=_limited("mix"), help="share of --audio2 (0..1, default 0.5)")
    p.add_argument(
        "--gain-db",
        type=_limited("gain_db"),
        default=0.0,
        help=f"gain on the sound in dB ({_range('gain_db')})",
    )
    p.add_argument("--text", help="words for --mode text, mix or blend")
    p.add_argument("--mode", choices=("sound", "text", "mix", "blend"), default="sound")
    p.add_argument(
        "--mix-layer",
        type=_limited("mix_layer"),
        help="mix mode: layers [0,K) from the sound",
    )
    p.add_argument(
        "--blend",
        type=_limited("blend"),
        default=0.5,
        help="blend mode: weight of the sound (0..1)",
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument(
        "--generator", default=DEFAULT_BUNDLE, help=f"bundle name (default {DEFAULT_BUNDLE})"
    )
    source.add_argument("--checkpoint", help="any StyleGAN2 checkpoint file (real encoders)")
    p.add_argument(
        "--seed",
        type=_limited("seed"),
        default=0,
        help=f"source image seed ({_range('seed')})",
    )
    p.add_argument(
        "--steps",
        type=_limited("steps"),
        help=f"optimisation steps ({_range('steps')}; bundle default)",
    )
    p.add_argument("--lr", type=_limited("lr"), help="peak learning rate (bundle default)")
    p.add_argument(
        "--lambda-reg",
        type=_limited("lambda_reg"),
        help="latent regulariser weight (bundle default)",
    )
    p.add_argument(
        "--truncation",
        type=_limited("truncation"),
        help="source truncation (0..1; bundle default)",
    )
    p.add_argument(
        "--lambda-id",
        type=_limited("lambda_id"),
        help="identity loss weight (faces; bundle default)",
    )
    p.add_argument(
        "--adaptive-mask",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="adaptive layer masking of the latent regulariser (default on; off = plain L2)",
    )
    p.add_argument("--guidance", choices=("cosine", "hinge"), help="guidance loss (bundle default)")
    p.add_argument(
        "--space",
        choices=("w+", "z"),
        help="what the edit moves: the W+ latent or the seed's z (bundle default)",
    )
    start = p.add_mutually_exclusive_group()
    start.add_argument(
        "--source-latent", help="start from a latent file (W or W+; .pt, .npy, .safetensors)"
    )
    start.add_argument("--source-image", help="start from a photo projected into the generator")
    p.add_argument("--out", default="edit-output", help="output folder (default edit-output)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument(
        "--frames", action="store_true", help="also write preview frames and trajectory.gif"
    )
    p.set_defaults(func=run_edit_command)


def _limited(key: str):
    from soundedit.edit.limits import argparse_type

    return argparse_type(key)


def _range(key: str) -> str:
    from soundedit.edit.limits import LIMITS

    return LIMITS[key].describe()


def _register_bench(subparsers) -> None:
    from soundedit.edit.bench import CONFIGS

    p = subparsers.add_parser(
        "bench",
        help="time one edit step per generator configuration (JSON lines)",
        description="Random weights; prints one JSON line per measurement.",
    )
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument(
        "--configs",
        nargs="+",
        choices=CONFIGS,
        help="configurations (default all; 1024 is skipped on CPU unless named here)",
    )
    p.add_argument("--steps", type=int, default=3, help="timed steps per row (after a warm-up)")
    p.set_defaults(func=run_bench_command)


def _device(name: str) -> str:
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: CUDA is not available here; use --device cpu")
    return name


def run_edit_command(args: argparse.Namespace) -> int:
    """Run one edit and write its files."""
    from soundedit.bundle import bundle_from_checkpoint, load_bundle
    from soundedit.edit.pipeline import EditRequest, run_edit, write_result

    if args.mix is not None and not args.audio2:
        raise ConfigError("--mix needs --audio2 (the sound to mix in)")
    device = _device(args.device)
    if args.checkpoint:
        bundle = bundle_from_checkpoint(args.checkpoint, device=device)
    else:
        bundle = load_bundle(args.generator, device=device)
    request = EditRequest(
        audio=args.audio,
        audio2=args.audio2,
        mix=0.5 if args.mix is None else args.mix,
        gain_db=args.gain_db,
        text=args.text,
        mode=args.mode,
        mix_layer=args.mix_layer,
        blend=args.blend,
        seed=args.seed,
        truncation=args.truncation,
        steps=args.steps,
        lr=args.lr,
        lambda_reg=args.lambda_reg,
        lambda_id=args.lambda_id,
        adaptive_mask=args.adaptive_mask,
        source_latent=args.source_latent,
        source_image=args.source_image,
        guidance=args.guidance,
        space=args.space,
    )
    result = None
    for progress in run_edit(bundle, request):
        step = progress.step
        if step.step == 1 or step.step % 10 == 0 or progress.result is not None:
            print(
                f"{progress.phase} step {step.step}/{step.total}  similarity "
                f"{step.similarity:+.3f}  loss {step.losses['total']:.4f}",
                file=sys.stderr,
            )
        result = progress.result
    paths = write_result(result, args.out, animation=args.frames, frames=args.frames)
    for notice in result.report["notices"]:
        print(f"note: {notice}", file=sys.stderr)
    report = result.report
    print(
        f"similarity {report['similarity_before']:+.3f} -> {report['similarity_after']:+.3f} "
        f"in {report['seconds']:.1f} s ({report['seconds_per_step'] * 1000:.0f} ms/step)"
    )
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def run_bench_command(args: argparse.Namespace) -> int:
    """Print the benchmark rows as JSON lines."""
    from soundedit.edit.bench import CONFIGS, run_bench

    if not 1 <= args.steps <= 100:
        raise ConfigError(f"--steps must be between 1 and 100, got {args.steps}")
    configs = tuple(args.configs) if args.configs else CONFIGS
    rows = run_bench(
        device=_device(args.device), configs=configs, steps=args.steps, skip_slow=not args.configs
    )
    for row in rows:
        print(json.dumps(row), flush=True)
    return 0
