"""``python -m soundedit soundscapes {render,compare,synth,train,examples,eval}``."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import soundfile as sf
import torch
from PIL import Image

from soundedit import strict_json
from soundedit.bundle import load_bundle
from soundedit.errors import ConfigError
from soundedit.gan.checkpoints import load_generator
from soundedit.mapper import check_mapper, load_mapper
from soundedit.soundscapes.evaluate import HELD_OUT, evaluate, format_table
from soundedit.soundscapes.evaluate_mapper import eval_mapper, format_mapper
from soundedit.soundscapes.evaluate_mic import CAPTURES
from soundedit.soundscapes.evaluate_real import MICROPHONE, edit_figures, evaluate_real, format_real
from soundedit.soundscapes.examples import write_examples, write_strip
from soundedit.soundscapes.fidelity import comparison_sheet, held_out_z, paired_images, pixel_error
from soundedit.soundscapes.mapper_data import REAL_TAKES, START_SHARE, train_world_mapper
from soundedit.soundscapes.params import INDEX, make_params, sample_params
from soundedit.soundscapes.realworld import read_clips
from soundedit.soundscapes.render import contact_sheet, render
from soundedit.soundscapes.synth import RATE, synthesize
from soundedit.soundscapes.training import audio, clip, generator, probe, recogniser

MODELS = ("probe", "generator", "clip", "audio", "recogniser", "mapper")
REAL_MODELS = ("audio", "recogniser", "mapper")  # these read --real


def register(subparsers) -> None:
    """Add the ``soundscapes`` command and its sub-commands."""
    parser = subparsers.add_parser(
        "soundscapes", help="the embedded SoundScapes world: render, synth, train, eval"
    )
    sub = parser.add_subparsers(dest="soundscapes_command", required=True, metavar="ACTION")
    _register_render_and_synth(sub)
    _register_train(sub)
    _register_examples_and_eval(sub)


def _register_render_and_synth(sub) -> None:
    p = sub.add_parser("render", help="render scenes to a PNG contact sheet")
    p.add_argument("--out", type=Path, default=Path("soundscapes.png"), help="output PNG")
    p.add_argument("--n", type=int, default=16, help="number of scenes (prior samples)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--set", nargs="*", default=[], metavar="NAME=VALUE", help="fix parameters, e.g. rain=0.8"
    )
    p.set_defaults(func=_run_render)

    p = sub.add_parser(
        "compare", help="G(z) above render(params(z)) for held-out latents, as a PNG sheet"
    )
    p.add_argument("--out", type=Path, default=Path("generator-vs-render.png"), help="output PNG")
    p.add_argument("--n", type=int, default=16, help="number of held-out latents")
    p.add_argument(
        "--seed", type=int, default=HELD_OUT + 6, help="seed of the latents (default: held out)"
    )
    p.add_argument(
        "--generator",
        type=Path,
        default=None,
        metavar="FILE",
        help="a generator .safetensors (e.g. a training snapshot; default: the committed one)",
    )
    p.set_defaults(func=_run_compare)

    p = sub.add_parser("synth", help="synthesise one scene's sound to a WAV file")
    p.add_argument("--out", type=Path, default=Path("soundscape.wav"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="NAME=VALUE",
        help="parameters, e.g. rain=0.8 night=1",
    )
    p.set_defaults(func=_run_synth)


def _register_train(sub) -> None:
    p = sub.add_parser("train", help="train the bundle's models (seeded) into weights/soundscapes/")
    p.add_argument("--model", choices=(*MODELS, "all"), default="all")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--steps", type=int, default=None, help="training steps (default: the model's own)"
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue from the committed weights (probe, generator, clip, audio), or the "
        "mapper from its last snapshot in out/mapper/soundscapes/",
    )
    p.add_argument(
        "--stop-after",
        type=int,
        default=None,
        metavar="N",
        help="generator: stop after N steps of the --steps schedule (a longer run's snapshot)",
    )
    p.add_argument(
        "--clip-features",
        type=float,
        default=0.0,
        metavar="W",
        help="generator: weight of the tiny-CLIP perceptual term (0 = pixels only)",
    )
    p.add_argument(
        "--event-weight",
        type=float,
        default=0.0,
        metavar="W",
        help="generator: weight of the error where the scene's events show (0 = none)",
    )
    p.add_argument(
        "--per-event",
        action="store_true",
        help="generator: with --event-weight, average each event's pixels on their own",
    )
    _add_generator_flags(p)
    p.add_argument(
        "--real",
        type=Path,
        default=None,
        metavar="ESC50_DIR",
        help="audio, recogniser: real recordings in the ESC-50 layout (meta/esc50.csv + audio/)",
    )
    p.add_argument(
        "--real-folds",
        type=int,
        nargs="+",
        default=[1, 2, 3],
        metavar="FOLD",
        help="folds of --real to train on (default 1 2 3; fold 4 stays held out)",
    )
    _add_mapper_options(p)
    _add_recogniser_options(p)
    p.set_defaults(func=_run_train)


def _add_mapper_options(p) -> None:
    p.add_argument(
        "--real-takes", type=int, default=REAL_TAKES, metavar="N",
        help=f"mapper: random takes of each in-world clip of --real in its bank (default "
        f"{REAL_TAKES})",
    )  # fmt: skip
    p.add_argument(
        "--start-share", type=float, default=START_SHARE, metavar="P",
        help=f"mapper: share of training sources at the world's calm start, the rest random z "
        f"(default {START_SHARE})",
    )  # fmt: skip
    p.add_argument(
        "--init-mapper", type=Path, default=None, metavar="STEM",
        help="mapper: start from this mapper's weights (a fine-tune), "
        "e.g. weights/soundscapes/mapper",
    )  # fmt: skip


def _add_recogniser_options(p) -> None:
    p.add_argument(
        "--nonsounds",
        type=int,
        default=0,
        metavar="N",
        help="recogniser, audio: N generated non-sounds of each training kind as negatives "
        "(default 0; audio needs --negatives)",
    )
    p.add_argument(
        "--real-images",
        action="store_true",
        help="audio: real in-world takes join audio<->image against renders of their event",
    )
    p.add_argument(
        "--negatives",
        type=float,
        default=0.0,
        metavar="W",
        help="audio: weight of the 'none of these' hinge on the --real clips from outside the "
        "world (and --nonsounds); default 0 (off)",
    )
    p.add_argument(
        "--microphone",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="audio: share of the takes played through a random browser microphone (default 0)",
    )
    p.add_argument(
        "--hidden",
        type=int,
        default=0,
        metavar="H",
        help="recogniser: an H-unit ReLU layer under the regression (default 0: linear)",
    )


def _register_examples_and_eval(sub) -> None:
    p = sub.add_parser(
        "examples", help="write example sounds (+ matching renders) to assets/sounds/"
    )
    p.add_argument("--out", type=Path, default=Path("assets/sounds"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--strip",
        type=Path,
        default=None,
        metavar="PNG",
        help="also edit the picture of --source-seed with every example and tile source -> result",
    )
    p.add_argument("--source-seed", type=int, default=0, help="the starting picture of --strip")
    p.set_defaults(func=_run_examples)

    p = sub.add_parser("eval", help="measure the bundle against the targets on held-out seeds")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument(
        "--seeds",
        type=int,
        default=None,
        help="held-out source seeds per edit measurement (default 10; with --real, 2 per clip, "
        "and 0 skips the real-sound edits)",
    )
    p.add_argument("--steps", type=int, default=None, help="edit steps (default: the bundle's)")
    p.add_argument(
        "--first-seed",
        type=int,
        default=None,
        metavar="SEED",
        help="first source/sound seed of the synthetic edit rows (default 100000, the reported "
        "figures); tune settings on another range, e.g. 200000",
    )
    _add_real_eval_options(p)
    p.set_defaults(func=_run_eval)


def _add_real_eval_options(p) -> None:
    """eval --real and what it measures on real recordings."""
    p.add_argument(
        "--real",
        type=Path,
        default=None,
        metavar="ESC50_DIR",
        help="measure on real recordings in the ESC-50 layout instead of the synthetic targets",
    )
    p.add_argument(
        "--folds",
        type=int,
        nargs="+",
        default=[4],
        metavar="FOLD",
        help="folds of --real to measure on (default 4, the held-out fold)",
    )
    p.add_argument(
        "--nonsounds",
        type=int,
        default=20,
        metavar="N",
        help="with --real: generated non-sounds of each kind to measure (default 20; 0 skips)",
    )
    _add_mapper_eval_options(p)
    p.add_argument(
        "--microphone",
        nargs="*",
        default=list(MICROPHONE),
        choices=sorted(CAPTURES),
        metavar="CAPTURE",
        help="with --real: the microphone path's capture chains (default room loud-floor; "
        f"known: {', '.join(sorted(CAPTURES))}; none given skips it)",
    )


def _add_mapper_eval_options(p) -> None:
    p.add_argument(
        "--only", choices=("mapper",), default=None,
        help="mapper: only the mapper's rows (instant edits, warm start; with --real its real "
        "edits), not the optimisation's",
    )  # fmt: skip
    p.add_argument(
        "--warm-seeds", type=int, default=2, metavar="N",
        help="source seeds per class of the warm-start row (default 2; each costs a cold and a "
        "warm run; 0 skips it)",
    )  # fmt: skip
    p.add_argument(
        "--mapper", type=Path, default=None, metavar="STEM",
        help="measure this mapper (e.g. a snapshot, out/mapper/soundscapes/mapper) instead of the "
        "committed one",
    )  # fmt: skip


def _parse_sets(items: list[str]) -> dict[str, float]:
    values = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            values[name] = float(value)
        except ValueError as e:
            raise ConfigError(f"--set expects NAME=VALUE with a number, got {item!r}") from e
        if not sep:
            raise ConfigError(f"--set expects NAME=VALUE, got {item!r}")
    return values


def _run_render(args) -> int:
    values = _parse_sets(args.set)
    params = sample_params(args.n, torch.Generator().manual_seed(args.seed))
    make_params(**values)  # validates the names and values
    for name, value in values.items():
        params[:, INDEX[name]] = value
    Image.fromarray(contact_sheet(render(params))).save(args.out)
    print(args.out)
    return 0


def _run_compare(args) -> int:
    if args.n < 1:
        raise ConfigError(f"--n must be at least 1, got {args.n}")
    G = (
        load_bundle("soundscapes").generator
        if args.generator is None
        else load_generator(args.generator)
    )
    fake, real = paired_images(G, held_out_z(args.n, args.seed, G.style_dim))
    columns = min(args.n, 8)
    sheet = contact_sheet(comparison_sheet(fake, real, columns=columns), columns=columns, scale=3)
    Image.fromarray(sheet).save(args.out)
    print(f"{args.out}: pixel error {pixel_error(fake, real):.3f} on these {args.n} latents")
    return 0


def _run_synth(args) -> int:
    audio = synthesize(make_params(**_parse_sets(args.set)), seed=args.seed)[0]
    sf.write(args.out, audio, RATE, subtype="PCM_16")
    print(args.out)
    return 0


def _add_generator_flags(p) -> None:
    """The generator trainer's adversarial term, snapshots and output folder."""
    p.add_argument(
        "--adversarial", type=float, default=0.0, metavar="W",
        help="generator: weight of a conditional patch discriminator's term (0 = none)",
    )  # fmt: skip
    p.add_argument(
        "--r1", type=float, default=1.0, metavar="G",
        help="generator: R1 penalty weight of the discriminator (with --adversarial)",
    )  # fmt: skip
    p.add_argument(
        "--snapshot-every", type=int, default=1000, metavar="N",
        help="generator: write the generator and the run's state every N steps (0 = never)",
    )  # fmt: skip
    p.add_argument(
        "--snapshot-dir", type=Path, default=None, metavar="DIR",
        help="generator: where snapshots go (default out/soundscapes-snapshots)",
    )  # fmt: skip
    p.add_argument(
        "--continue-from", type=Path, default=None, metavar="STATE",
        help="generator: carry on a run from its state-*.pt snapshot (same command)",
    )  # fmt: skip
    p.add_argument(
        "--out", type=Path, default=None, metavar="DIR",
        help="generator: write generator.* here instead of weights/soundscapes",
    )  # fmt: skip


def _generator_kwargs(args) -> dict:
    return {
        "stop_after": args.stop_after,
        "clip_features": args.clip_features,
        "event_weight": args.event_weight,
        "per_event": args.per_event,
        "adversarial": args.adversarial,
        "r1": args.r1,
        "snapshot_every": args.snapshot_every,
        "snapshot_dir": args.snapshot_dir,
        "continue_from": args.continue_from,
        "out": args.out,
    }


def _run_train(args) -> int:
    trainers = {
        "probe": probe.train_probe,
        "generator": generator.train_generator,
        "clip": clip.train_clip,
        "audio": audio.train_audio,
        "recogniser": recogniser.train_recogniser,
        "mapper": train_world_mapper,
    }
    models = MODELS if args.model == "all" else (args.model,)
    for model in models:
        start = time.time()
        kwargs = {"seed": args.seed}
        if args.steps is not None:
            kwargs["steps"] = args.steps
        if args.resume and model != "recogniser":
            kwargs["resume"] = True
        if model == "generator":
            kwargs.update(_generator_kwargs(args))
        if model in REAL_MODELS:
            kwargs.update(real=args.real, real_folds=tuple(args.real_folds))
        if model == "mapper":
            kwargs.update(
                real_takes=args.real_takes, start_share=args.start_share, init=args.init_mapper
            )
        if model == "recogniser":
            kwargs.update(nonsounds=args.nonsounds, hidden=args.hidden)
        if model == "audio":
            kwargs["ears"] = _ear_options(args)
        path = trainers[model](**kwargs, log=_log)
        print(f"{model}: wrote {path} in {time.time() - start:.0f} s", flush=True)
    return 0


def _ear_options(args) -> audio.EarOptions:
    """The audio encoder's real-sound options from the command line (checked)."""
    if args.negatives < 0 or args.nonsounds < 0 or not 0 <= args.microphone <= 0.4:
        raise ConfigError(
            f"--negatives and --nonsounds must be 0 or more and --microphone within [0, 0.4]; "
            f"got {args.negatives:g}, {args.nonsounds} and {args.microphone:g}"
        )
    return audio.EarOptions(
        real_images=args.real_images,
        negatives=args.negatives,
        nonsounds=args.nonsounds,
        microphone=args.microphone,
    )


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _run_examples(args) -> int:
    for path in write_examples(args.out, seed=args.seed):
        print(path)
    if args.strip is not None:
        print(write_strip(args.out, args.strip, seed=args.source_seed))
    return 0


def _run_eval(args) -> int:
    bundle = _eval_bundle(args.mapper)
    if args.only == "mapper":
        return _run_mapper_eval(args, bundle)
    if args.real is not None:
        seeds = 2 if args.seeds is None else args.seeds
        results = evaluate_real(
            args.real,
            folds=tuple(args.folds),
            seeds=seeds,
            edits=seeds > 0,
            nonsounds=args.nonsounds,
            microphone=tuple(args.microphone),
            log=_log,
            bundle=bundle,
        )
        print(strict_json.dumps(results, indent=2) if args.json else format_real(results))
        return 0
    base = HELD_OUT if args.first_seed is None else args.first_seed
    seeds = args.seeds or 10
    # The optimisation's rows run cold: its own figures, with or without a mapper.
    results = evaluate(
        seeds=seeds, steps=args.steps, base=base, log=_log, bundle=bundle, warm_start=False
    )
    if bundle.mapper is not None:
        results["mapper"] = eval_mapper(
            bundle, seeds=seeds, warm_seeds=args.warm_seeds, base=base, log=_log
        )
    print(strict_json.dumps(results, indent=2) if args.json else format_table(results))
    return 0


def _eval_bundle(mapper: Path | None):
    """The world's bundle, with the mapper at ``mapper`` in place of the committed one."""
    bundle = load_bundle("soundscapes")
    if mapper is None:
        return bundle
    loaded = load_mapper(mapper, device=bundle.device)
    check_mapper(bundle, loaded)
    return dataclasses.replace(bundle, mapper=loaded)


def _run_mapper_eval(args, bundle) -> int:
    """Only the mapper's rows: instant edits and warm starts, or with --real its real edits."""
    if bundle.mapper is None:
        raise ConfigError("the world has no mapper to measure; train one or give --mapper STEM")
    if args.real is not None:
        seeds = 2 if args.seeds is None else args.seeds
        inside = [c for c in read_clips(args.real, folds=tuple(args.folds)) if c.event is not None]
        results = edit_figures(bundle, inside, seeds=seeds, log=_log, instant=True)
    else:
        base = HELD_OUT if args.first_seed is None else args.first_seed
        seeds = args.seeds or 10
        results = eval_mapper(bundle, seeds=seeds, warm_seeds=args.warm_seeds, base=base, log=_log)
    print(strict_json.dumps(results, indent=2) if args.json else format_mapper(results))
    return 0


__all__ = ["register"]
