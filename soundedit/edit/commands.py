"""The ``edit`` and ``bench`` sub-commands."""

from __future__ import annotations

import argparse
import shlex
import sys

import numpy as np
import torch

from soundedit import strict_json
from soundedit.bundle import DEFAULT_BUNDLE, bundle_from_checkpoint, load_bundle
from soundedit.edit.bench import CONFIGS, run_bench
from soundedit.edit.limits import LIMITS, argparse_type
from soundedit.edit.pipeline import run_edit, write_result
from soundedit.errors import ConfigError
from soundedit.settings import MODES, STARTS, EditRequest, resolve, settings_of


def register(subparsers) -> None:
    """Add ``edit`` and ``bench`` to the CLI."""
    _register_edit(subparsers)
    _register_bench(subparsers)


# The settings the command line can override: name -> help, each as --name-with-dashes, made
# from their declarations on EditConfig (soundedit.settings); left out, the world's default
# applies (soundedit.settings.resolve).
OVERRIDE_FLAGS = {name: s.help for name, s in settings_of().items() if s.flag}
CHOICES = {name: s.choices for name, s in settings_of().items() if s.flag and s.choices}


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
    add_setting_flags(p)
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
    p.add_argument(
        "--start", choices=STARTS, default="world",
        help="a seed's source: the world's start for it (default; SoundScapes: a calm scene) "
        "or the seed's own scene as drawn",
    )  # fmt: skip
    start = p.add_mutually_exclusive_group()
    start.add_argument(
        "--source-latent", help="start from a latent file (W or W+; .pt, .npy, .safetensors)"
    )
    start.add_argument("--source-image", help="start from a photo projected into the generator")


def add_setting_flags(p, config_type=None) -> None:
    """A flag for each setting of ``config_type`` (default EditConfig) offered on the command
    line: yes/no settings as --name / --no-name, choices as choices, numbers within their
    limits."""
    for key, spec in settings_of(config_type).items():
        if not spec.flag:
            continue
        help_text = spec.help + " (default: the world's)"
        if spec.choices:
            p.add_argument(flag(key), choices=spec.choices, help=help_text)
        elif spec.limit is None:
            p.add_argument(flag(key), action=argparse.BooleanOptionalAction, help=help_text)
        else:
            p.add_argument(
                flag(key), type=argparse_type(key, spec.limit),
                help=f"{help_text}; {spec.limit.describe()}",
            )  # fmt: skip


def _limited(key: str):
    return argparse_type(key)


def _range(key: str) -> str:
    return LIMITS[key].describe()


def _register_bench(subparsers) -> None:
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
    p.add_argument(
        "--repeats", type=int, default=5, help="whole edits timed by the edit row (median)"
    )
    p.set_defaults(func=run_bench_command)


def _device(name: str) -> str:
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: CUDA is not available here; use --device cpu")
    return name


def request_from_args(args: argparse.Namespace):
    """The EditRequest of parsed ``edit`` arguments (unset overrides leave the world's)."""
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
        start=args.start,
        source_latent=args.source_latent,
        source_image=args.source_image,
        instant=getattr(args, "instant", False),
        warm_start=getattr(args, "warm_start", True),
        overrides={key: getattr(args, key) for key in OVERRIDE_FLAGS},
    )


def run_edit_command(args: argparse.Namespace) -> int:
    """Run one edit and write its files."""
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
    report = result.report
    for notice in report.notices:
        print(f"note: {notice}", file=sys.stderr)
    main = report.main
    print(
        f"similarity {main.similarity_before:+.3f} -> {main.similarity_after:+.3f} "
        f"in {report.seconds:.1f} s ({report.seconds_per_step * 1000:.0f} ms/step)"
    )
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def reproduce_command(bundle, request, *, world: str, files: dict[str, str], steps=None):
    """``python -m soundedit edit ...`` that repeats ``request`` on the world called ``world``,
    and the overrides the command line cannot express.

    Built from the request's fields: the inputs as given (files by the names in ``files``,
    request field -> file name) and each override given (the page gives only the settings the
    visitor changed). The world, seed, mode and steps (``steps``: those the run resolved; left
    out, resolved here) are always written so the command reads alone.
    """
    args = ["python", "-m", "soundedit", "edit", "--generator", world]
    for key in ("audio", "audio2", "source_latent", "source_image"):
        if key in files:
            args += [flag(key), files[key]]
    text = request.text if request.mode != "sound" else None  # the sound mode reads no words
    inputs = {"seed": request.seed, "mode": request.mode, "text": text}
    inputs["start"] = request.start if request.start != "world" else None
    inputs["gain_db"] = request.gain_db or None
    inputs["mix"] = request.mix if request.audio2 is not None else None
    inputs["blend"] = request.blend if request.mode == "blend" else None
    inputs["steps"] = steps if steps is not None else resolve(bundle, request).steps
    missing = []
    for key, value in request.given().items():
        if key == "steps":
            continue
        if key not in OVERRIDE_FLAGS:
            missing.append(key)
        elif isinstance(value, bool):  # a yes/no setting: --name or --no-name
            args.append(flag(key) if value else flag("no_" + key))
        else:
            inputs[key] = value
    args += ["--instant"] if request.instant else []
    args += [] if request.warm_start else ["--no-warm-start"]
    for key, value in inputs.items():
        if value is not None:
            args += [flag(key), _command_value(value)]
    return shlex.join(args), missing


def _command_value(value) -> str:
    """A setting as the command line writes it (numpy numbers as plain ones: 0.1, not
    np.float64(0.1))."""
    if isinstance(value, float | np.floating):
        return repr(round(float(value), 6))
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return str(int(value))
    return str(value)


def run_bench_command(args: argparse.Namespace) -> int:
    """Print the benchmark rows as JSON lines."""
    if not 1 <= args.steps <= 100:
        raise ConfigError(f"--steps must be between 1 and 100, got {args.steps}")
    if not 1 <= args.repeats <= 100:
        raise ConfigError(f"--repeats must be between 1 and 100, got {args.repeats}")
    configs = tuple(args.configs) if args.configs else CONFIGS
    rows = run_bench(
        device=_device(args.device),
        configs=configs,
        steps=args.steps,
        skip_slow=not args.configs,
        repeats=args.repeats,
    )
    for row in rows:
        print(strict_json.dumps(row), flush=True)
    return 0
