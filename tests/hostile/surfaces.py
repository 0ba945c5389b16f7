"""The surfaces a hostile input is tried on, for the new corpus files: the CLI as a person runs
it, and the check every message must pass (one line, no Python or decoder internals)."""

from __future__ import annotations

import contextlib
import io
import re

from soundedit.cli import main as cli_main

from .conftest import WORLD

# words a person must never read: Python reprs and tracebacks, libsndfile's C names, Gradio's
LEAKS = (
    "Traceback",
    "np.",
    "tensor(",
    "<gradio",
    " object at 0x",
    "SF_INFO",
    "psf_",
    "Internal error",
    "Could not preprocess",
    "didn't receive enough",
    "weights_only",
    "out of memory",
    "resize storage",
    "DefaultCPUAllocator",
)


def run_cli(argv: list[str]) -> tuple[int, str]:
    """(exit status, stderr) of ``soundedit ARGV``."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = cli_main(argv)
        except SystemExit as e:  # argparse refuses with status 2
            status = e.code
    return status, err.getvalue()


def edit_argv(out, *extra: str, steps: int = 1) -> list[str]:
    """``edit`` on the hostile world with ``extra`` options."""
    return ["edit", "--generator", WORLD, "--steps", str(steps), "--out", str(out), *extra]


def assert_plain(message: str, *patterns: str) -> None:
    """One line that holds every pattern and none of :data:`LEAKS`."""
    assert message and "\n" not in message.strip(), message
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in: {message}"
    for leak in LEAKS:
        assert leak not in message, f"{leak!r} in: {message}"


def cli_refusal(argv: list[str], *patterns: str) -> str:
    """Run the CLI, which must refuse with exit status 2 and a plain last error line."""
    status, stderr = run_cli(argv)
    assert status == 2, f"exit {status}: {stderr}"
    lines = [line for line in stderr.splitlines() if "error" in line]
    assert lines, stderr
    assert_plain(lines[-1], *patterns)
    return lines[-1]
