"""The ``soundedit`` command line: one sub-command per task.

Each area of the library registers its own sub-commands (``register(subparsers)`` in its
``commands`` module), so this file only assembles them and turns expected errors (see
:func:`soundedit.errors.user_message`) into a one-line message and exit status 2 instead of a
stack trace.
"""

from __future__ import annotations

import argparse
import sys

from soundedit.errors import user_message


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every sub-command registered."""
    # Imported here so that `import soundedit` stays light.
    from soundedit import hub_commands
    from soundedit.edit import commands as edit_commands
    from soundedit.edit import mapper_commands
    from soundedit.gan import commands as gan_commands
    from soundedit.soundscapes import commands as soundscapes_commands
    from soundedit.train import commands as train_commands

    parser = argparse.ArgumentParser(
        prog="soundedit",
        description="Edit StyleGAN2 images with sound (library, CLI and Gradio app).",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in (
        hub_commands.register,
        edit_commands.register,
        mapper_commands.register,
        gan_commands.register,
        soundscapes_commands.register,
        train_commands.register,
    ):
        register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one sub-command; returns the process exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except Exception as e:
        message = user_message(e)
        if message is None:
            raise  # a bug: the stack trace is what a report needs
        print(f"soundedit {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"soundedit {args.command}: interrupted", file=sys.stderr)
        return 130
