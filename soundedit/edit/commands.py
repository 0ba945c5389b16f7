"""The ``edit`` and ``bench`` sub-commands."""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys

import torch

from soundedit.bundle import DEFAULT_BUNDLE
from soundedit.errors import ConfigError
from soundedit.settings import MODES, resolve


def register(subparsers) -> None:
    """Add ``edit`` and ``bench`` to the CLI."""
    _register_edit(subparsers)
    _register_bench(subparsers)


# The settings the command line can override (EditConfig fields): flag help. Each becomes
# --name-with-dashes; left out, the world's default applies (soundedit.settings.resolve).
OVERRIDE_FLAGS = {
    "steps": "optimisation steps",
    "lr": "peak learning rate",
    "lambda_reg": "latent regulariser weight",
    "lambda_id": "identity loss weight (faces)",
    "truncation": "source truncation (0..1)",
    "mix_layer": "mix mode: layers [0,K) from the sound",
    "preview_every": "a preview every N steps (0 = none)",
    "adaptive_mask": "adaptive layer masking of the latent regulariser (off = plain L2)",
    "guidance": "guidance loss",
    "space": "what the edit moves: the W+ latent or the seed's z",
}
CHOICES = {"guidance": ("cosine", "hinge"), "space": ("w+", "z")}


def flag(key: str) -> str:
    """The command-line option of a request field or setting: lambda_reg -> --lambda-reg."""
    return "--" + key.replace("_", "-")


def _register_edit(subparsers) -> None:
    p = subparsers.add_parser(
        "edit",
        help="edit a generated image with a sound (and/or words)",
        description="Optimise a StyleGAN2 latent so the image matches a sound; writes "
        "source.png, edited.png, latents.safetensors and report.json to --out.",
    )
    _add_inputs(p)
    for key, help_text in OVERRIDE_FLAGS.items():
        _add_override(p, key, help_text)
    p.add_argument("--out", default="edit-output", help="output folder (default edit-output)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument(
        "--frames", action="store_true", help="also write preview frames and trajectory.gif"
    )
    p.add_argument(
        "--instant", action="store_true",
        help="the world's mapper in one forward pass instead of the optimisation",
    )  # fmt: skip
    p.add_argument(
        "--warm-start", action=argparse.BooleanOptionalAction, default=True,
        help="start the optimisation from the mapper's edit where the world has a mapper "
        "(default on)",
    )  # fmt: skip
    p.set_defaults(func=run_edit_command)


def _add_inputs(p) -> None:
    """The request's inputs: sounds, gain, mix, text, mode, world and source."""
    p.add_argument("--audio", help="sound file (wav, flac, ogg, mp3 ...)")
    p.add_argument("--audio2", help="a second sound mixed into the first")
    p.add_argument("--mix", type=_limited("mix"), help="share of --audio2 (0..1, default 0.5)")
    p.add_argument(
        "--gain-db", type=_limited("gain_db"), default=0.0,
        help=f"gain on the sound in dB ({_range('gain_db')})",
    )  # fmt: skip
    p.add_argument("--text", help="words for --mode text, mix or blend")
    p.add_argument("--mode", choices=MODES, default="sound")
    p.add_argument(
        "--blend", type=_limited("blend"), default=0.5,
        help="blend mode: weight of the sound (0..1)",
    )  # fmt: skip
    source = p.add_mutually_exclusive_group()
    source.add_argument(
        "--generator", default=DEFAULT_BUNDLE, help=f"bundle name (default {DEFAULT_BUNDLE})"
    )
    source.add_argument("--checkpoint", help="any StyleGAN2 checkpoint file (real encoders)")
    p.add_argument(
        "--seed", type=_limited("seed"), default=0, help=f"source image seed ({_range('seed')})"
    )
    start = p.add_mutually_exclusive_group()
    start.add_argument(
        "--source-latent", help="start from a latent file (W or W+; .pt, .npy, .safetensors)"
    )
    start.add_argument("--source-image", help="start from a photo projected into the generator")


def _add_override(p, key: str, help_text: str) -> None:
    help_text += " (default: the world's)"
    if key == "adaptive_mask":
        p.add_argument(flag(key), action=argparse.BooleanOptionalAction, help=help_text)
    elif key in CHOICES:
        p.add_argument(flag(key), choices=CHOICES[key], help=help_text)
    else:
        p.add_argument(flag(key), type=_limited(key), help=f"{help_text}; {_range(key)}")


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


def request_from_args(args: argparse.Namespace):
    """The EditRequest of parsed ``edit`` arguments (unset overrides leave the world's)."""
    from soundedit.settings import EditRequest

    if args.mix is not None and not args.audio2:
        raise ConfigError("--mix needs --audio2 (the sound to mix in)")
    return EditRequest(
        audio=args.audio,
        audio2=args.audio2,
        mix=0.5 if args.mix is None else args.mix,
        gain_db=args.gain_db,
        text=args.text,
        mode=args.mode,
        blend=args.blend,
        seed=args.seed,
        source_latent=args.source_latent,
        source_image=args.source_image,
        instant=getattr(args, "instant", False),
        warm_start=getattr(args, "warm_start", True),
        overrides={key: getattr(args, key) for key in OVERRIDE_FLAGS},
    )


def run_edit_command(args: argparse.Namespace) -> int:
    """Run one edit and write its files."""
    from soundedit.bundle import bundle_from_checkpoint, load_bundle
    from soundedit.edit.pipeline import run_edit, write_result

    request = request_from_args(args)
    device = _device(args.device)
    if args.checkpoint:
        bundle = bundle_from_checkpoint(args.checkpoint, device=device)
    else:
        bundle = load_bundle(args.generator, device=device)
    run = run_edit(bundle, request)
    for step in run:
        if step.step == 1 or step.step % 10 == 0 or step.step == step.total:
            print(
                f"{step.phase} step {step.step}/{step.total}  similarity "
                f"{step.similarity:+.3f}  loss {step.losses['total']:.4f}",
                file=sys.stderr,
            )
    result = run.result()
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


def reproduce_command(bundle, request, *, world: str, files: dict[str, str]):
    """``python -m soundedit edit ...`` that repeats ``request`` on the world called ``world``,
    and the overrides the command line cannot express.

    Built from the request's fields: the inputs as given (files by the names in ``files``,
    request field -> file name), and each override that differs from the world's resolved
    default (a mix layer equal to half the layers needs no flag).
    The world, seed, mode and (resolved) steps are always written so the command reads alone.
    """
    args = ["python", "-m", "soundedit", "edit", "--generator", world]
    for key in ("audio", "audio2", "source_latent", "source_image"):
        if key in files:
            args += [flag(key), files[key]]
    inputs = {"seed": request.seed, "mode": request.mode, "text": request.text}
    inputs["gain_db"] = request.gain_db or None
    inputs["mix"] = request.mix if request.audio2 is not None else None
    inputs["blend"] = request.blend if request.mode == "blend" else None
    inputs["steps"] = resolve(bundle, request).steps
    defaults = resolve(bundle, dataclasses.replace(request, overrides={}))  # what a flag changes
    missing = []
    for key, value in request.given().items():
        if key == "steps" or value == getattr(defaults, key, None):
            continue
        if key not in OVERRIDE_FLAGS:
            missing.append(key)
        elif key == "adaptive_mask":
            args.append(flag(key) if value else "--no-adaptive-mask")
        else:
            inputs[key] = value
    args += ["--instant"] if request.instant else []
    args += [] if request.warm_start else ["--no-warm-start"]
    for key, value in inputs.items():
        if value is not None:
            args += [flag(key), repr(round(value, 6)) if isinstance(value, float) else str(value)]
    return shlex.join(args), missing


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
