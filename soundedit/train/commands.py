"""The ``train-audio``, ``classify`` and ``eval-audio`` sub-commands."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import torch

from soundedit import strict_json
from soundedit.bundle import bundle_names, load_bundle
from soundedit.config import load_file
from soundedit.encoders.audio import load_audio_encoder
from soundedit.encoders.clip import ClipBridge
from soundedit.errors import ConfigError, SoundEditError
from soundedit.train.config import TrainConfig
from soundedit.train.data import LAYOUTS, TrainItem, compute_item_features, load_items
from soundedit.train.evaluate import (
    DEFAULT_TEMPLATES,
    class_embeddings,
    embed_features,
    evaluate_items,
    format_report,
    zero_shot_scores,
)
from soundedit.train.loop import train_audio_encoder
from soundedit.weights_io import load_record, weight_paths


def register(subparsers) -> None:
    """Add ``train-audio``, ``classify`` and ``eval-audio`` to the CLI."""
    p = subparsers.add_parser(
        "train-audio",
        help="train an audio encoder into a CLIP space",
        description="Train an audio encoder with the papers' losses from a JSON/TOML config "
        "(soundedit.train.TrainConfig); checkpoints best/last/state go to out_dir.",
    )
    p.add_argument("--config", required=True, help="JSON or TOML TrainConfig file")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda if any)")
    p.set_defaults(func=run_train)

    p = subparsers.add_parser(
        "classify",
        help="zero-shot classify sound files with an aligned audio encoder",
        description="Print one JSON line per file: file, label, scores.",
    )
    _encoder_args(p)
    p.add_argument("--labels", required=True, help='comma-separated class names: "rain,fire,birds"')
    p.add_argument("files", nargs="+", help="sound files")
    p.set_defaults(func=run_classify)

    p = subparsers.add_parser(
        "eval-audio",
        help="zero-shot and linear-probe accuracy on a labelled dataset",
        description="Evaluate an aligned audio encoder on ESC-50, UrbanSound8K, or a manifest.",
    )
    _encoder_args(p)
    p.add_argument("--dataset", required=True, help="dataset folder or manifest file")
    p.add_argument("--layout", default="auto", choices=LAYOUTS)
    p.add_argument("--folds", help="ESC-50 / UrbanSound8K folds to use, e.g. 1,2,3 (default all)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run_eval)


def _encoder_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--encoder",
        required=True,
        help="audio encoder checkpoint (NAME.safetensors + NAME.json) or a bundle name",
    )
    p.add_argument(
        "--clip",
        help="CLIP to compare with: open_clip name, our .safetensors pair, or a config json "
        "(default: the one stored in the encoder's checkpoint / bundle)",
    )
    p.add_argument("--clip-pretrained", default=None, help="open_clip pretrained tag or file")
    p.add_argument(
        "--templates",
        default=None,
        help="prompt templates separated by '|', each with {} "
        f"(default {'|'.join(DEFAULT_TEMPLATES)})",
    )
    p.add_argument("--device", default="cpu")


def load_clip(spec: str, pretrained: str | None = None, *, device: str = "cpu") -> Any:
    """A ClipBridge from an open_clip name (+ pretrained tag), a weights pair, or a config json."""
    path = Path(spec)
    if path.suffix == ".json" and path.is_file():
        return ClipBridge.from_config(path, device=device)
    if path.is_file() or path.with_name(path.name + ".safetensors").is_file():
        return ClipBridge.from_file(path, device=device)
    return ClipBridge.from_pretrained(spec, pretrained or "openai", device=device)


def load_encoder_and_clip(args: argparse.Namespace) -> tuple[Any, Any]:
    """The audio encoder named by ``--encoder`` and the CLIP it is aligned to."""
    tensor_path, json_path = weight_paths(args.encoder)
    if tensor_path.is_file() and json_path.is_file():
        encoder = load_audio_encoder(tensor_path, device=args.device)
        meta = load_record(tensor_path).get("meta", {})
        spec = args.clip or meta.get("clip_source")
        if not spec:
            raise ConfigError(
                f"{json_path} does not say which CLIP it is aligned to; pass --clip "
                "(an open_clip name such as ViT-B-32, or a CLIP weights file)"
            )
        pretrained = args.clip_pretrained or meta.get("clip_pretrained")
        return encoder, load_clip(spec, pretrained, device=args.device)
    if args.encoder not in bundle_names():
        raise ConfigError(
            f"--encoder {args.encoder!r} is neither a checkpoint pair ({tensor_path.name} + "
            f"{json_path.name}) nor a bundle; bundles: {', '.join(bundle_names())}"
        )
    bundle = load_bundle(args.encoder, device=args.device)
    clip = (
        load_clip(args.clip, args.clip_pretrained, device=args.device) if args.clip else bundle.clip
    )
    return bundle.audio_encoder, clip


def _templates(args: argparse.Namespace) -> tuple[str, ...]:
    if not args.templates:
        return DEFAULT_TEMPLATES
    templates = tuple(t.strip() for t in args.templates.split("|") if t.strip())
    if not templates or any("{}" not in t for t in templates):
        raise ConfigError(f"--templates: each template needs '{{}}', got {args.templates!r}")
    return templates


def run_classify(args: argparse.Namespace) -> int:
    """Zero-shot classify each file; one JSON line per file (an "error" key when unreadable)."""
    labels = [x.strip() for x in args.labels.split(",") if x.strip()]
    if len(labels) < 2:
        raise ConfigError(
            f'--labels needs at least two names separated by commas, got "{args.labels}"'
        )
    encoder, clip = load_encoder_and_clip(args)
    classes = class_embeddings(clip, labels, _templates(args))
    failed = 0
    for file in args.files:
        try:
            features, skipped = compute_item_features([TrainItem(file)], encoder.front_end)
            if skipped:
                raise ConfigError(skipped[0][1])
            scores = zero_shot_scores(embed_features(encoder, features[0][None]), classes)[0]
            best = int(scores.argmax())
            line = {
                "file": file,
                "label": labels[best],
                "scores": {lab: round(float(s), 6) for lab, s in zip(labels, scores, strict=True)},
            }
        except (SoundEditError, OSError) as e:
            failed += 1
            line = {"file": file, "error": str(e)}
        print(strict_json.dumps(line), flush=True)
    return 1 if failed else 0


def run_eval(args: argparse.Namespace) -> int:
    """Zero-shot + linear-probe report on a labelled dataset."""
    folds = None
    if args.folds:
        try:
            folds = tuple(int(x) for x in args.folds.split(","))
        except ValueError as e:
            raise ConfigError(f"--folds must be comma-separated numbers, got {args.folds!r}") from e
    try:
        data = load_items(args.dataset, layout=args.layout, folds=folds)
    except FileNotFoundError as e:
        raise ConfigError(str(e)) from e
    print(data.report(), file=sys.stderr)
    encoder, clip = load_encoder_and_clip(args)
    report = evaluate_items(encoder, clip, data.items, templates=_templates(args))
    report["skipped"] += len(data.skipped)
    print(strict_json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def run_train(args: argparse.Namespace) -> int:
    """Train from a config file; prints one line per epoch and where the checkpoints are."""
    config = load_file(TrainConfig, args.config)
    config.validate()
    if config.train_data is None:
        raise ConfigError(f"{args.config}: train_data is missing ([train_data] path = ...)")
    if not config.out_dir:
        raise ConfigError(f"{args.config}: out_dir is missing (where checkpoints are written)")
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda"):
        device = f"cuda:{os.environ.get('LOCAL_RANK', '0')}" if device == "cuda" else device
    sets = []
    for data in (config.train_data, config.val_data):
        if data is None:
            sets.append(None)
            continue
        try:
            found = load_items(data.path, layout=data.layout, split=data.split, folds=data.folds)
        except FileNotFoundError as e:
            raise ConfigError(str(e)) from e
        print(found.report(), file=sys.stderr)
        sets.append(found.items)
    clip = load_clip(config.clip, config.clip_pretrained, device=device)
    meta = {"clip_source": config.clip, "clip_pretrained": config.clip_pretrained}
    result = train_audio_encoder(
        config,
        sets[0],
        sets[1],
        clip=clip,
        device=device,
        meta=meta,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    summary = {
        "steps": result.steps,
        "seconds": round(result.seconds, 1),
        "best": result.best_metrics,
        "best_path": str(result.best_path) if result.best_path else None,
        "last_path": str(result.last_path) if result.last_path else None,
        "skipped": len(result.skipped),
    }
    print(strict_json.dumps(summary))
    return 0
