"""The ``inspect`` sub-command: what a StyleGAN2 checkpoint is, or why it was refused."""

from __future__ import annotations

import argparse

from soundedit import strict_json
from soundedit.gan.checkpoints import describe, read_checkpoint


def register(subparsers) -> None:
    """Add ``inspect`` to the CLI."""
    p = subparsers.add_parser(
        "inspect",
        help="describe a StyleGAN2 checkpoint (format, resolution, layers) without running it",
        description="Read a rosinality .pt, NVIDIA or TensorFlow pickle, or soundedit "
        ".safetensors/.json generator through the safe readers and print its format, "
        "resolution, n_mlp, style_dim, channel table, n_latent and whether it carries a mean w. "
        "A refused or unreadable file exits with status 2 and says why.",
    )
    p.add_argument("path", help="checkpoint file")
    p.add_argument("--json", action="store_true", help="print JSON instead of a summary")
    p.set_defaults(func=run_inspect)


def run_inspect(args: argparse.Namespace) -> int:
    summary = describe(read_checkpoint(args.path))
    if args.json:
        print(strict_json.dumps(summary, indent=2))
        return 0
    channels = ", ".join(f"{res}:{c}" for res, c in summary["channels"].items())
    cm = summary["channel_multiplier"]
    lines = [
        f"file:        {args.path}",
        f"format:      {summary['format']}",
        f"resolution:  {summary['resolution']}",
        f"style_dim:   {summary['style_dim']}",
        f"n_mlp:       {summary['n_mlp']}",
        f"n_latent:    {summary['n_latent']}",
        f"channels:    {channels}" + (f"  (channel multiplier {cm})" if cm else "  (explicit)"),
        f"has mean w:  {'yes' if summary['has_mean_w'] else 'no'}"
        + (f" ({summary['mean_w']})" if "mean_w" in summary else ""),
    ]
    for key in ("source", "class_name", "note"):
        if key in summary:
            lines.append(f"{key + ':':<13}{summary[key]}")
    print("\n".join(lines))
    return 0
