"""Every case of the hostile corpus against the library and the CLI.

A refused case must end in an expected error (one that :func:`soundedit.errors.user_message`
turns into a message, never a bug's traceback) whose text holds every regex of the case: what
was wrong and what is accepted. A valid case must edit and give finite, non-degenerate results.
No pickle in the corpus may run its code.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest

from soundedit.cli import main as cli_main
from soundedit.errors import user_message

from .conftest import WORLD
from .corpus import ODD_PHOTOS, all_cases

pytestmark = pytest.mark.slow  # the whole corpus through the library and the CLI

CASES = all_cases()
STEPS = 2


def _ids(cases):
    return [c.id for c in cases]


def run_library(case, folder: Path):
    """(error or None, report or None) for the case through the library."""
    from soundedit.bundle import load_bundle
    from soundedit.edit.pipeline import run_to_end
    from soundedit.settings import EditRequest

    args = case.make(folder)
    try:
        if case.kind == "checkpoint":
            from soundedit.gan.checkpoints import load_generator

            load_generator(args["checkpoint"])
            return None, None
        request = EditRequest.of(**{"steps": STEPS, **args["request"]})
        return None, run_to_end(load_bundle(WORLD), request).report.to_dict()
    except Exception as e:  # the test judges what came out
        return e, None
    finally:
        _assert_nothing_ran(args)


def run_cli(case, folder: Path):
    """(exit status, stderr, report or None) for the case through ``soundedit.cli.main``."""
    args = case.make(folder)
    out = folder / "out"
    if case.kind == "checkpoint":
        argv = ["inspect", args["checkpoint"]]
    else:
        argv = ["edit", "--generator", WORLD, "--steps", str(STEPS), "--out", str(out)]
        argv += args["cli"]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = cli_main(argv)
        except SystemExit as e:  # argparse refuses with status 2
            status = e.code
    _assert_nothing_ran(args)
    report = out / "report.json"
    return status, err.getvalue(), json.loads(report.read_text()) if report.is_file() else None


def _assert_nothing_ran(args: dict) -> None:
    marker = args.get("marker")
    assert marker is None or not Path(marker).exists(), "a pickle in the corpus ran its code"


def assert_clear(message: str, case) -> None:
    """The message is one line, holds every expected regex and shows no Python internals."""
    assert message, f"{case.id}: empty message"
    for pattern in case.expect:
        assert re.search(pattern, message), f"{case.id}: {pattern!r} not in: {message}"
    for leak in ("Traceback", "weights_only", "Error opening", "Could not preprocess"):
        assert leak not in message, f"{case.id}: {leak!r} in: {message}"


def assert_sane(report: dict, case) -> None:
    """A valid case's edit: finite similarities and losses (never a silent NaN)."""
    values = [report["similarity_before"], report["similarity_after"], *report["losses"].values()]
    assert all(math.isfinite(v) for v in values), f"{case.id}: {values}"


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_library(case, hostile_bundle, tmp_path):
    error, report = run_library(case, tmp_path)
    if not case.expect:
        assert error is None, f"{case.id}: a valid input was refused: {error!r}"
        if report is not None:
            assert_sane(report, case)
        return
    assert error is not None, f"{case.id}: accepted, but should be refused"
    message = user_message(error)
    assert message is not None, f"{case.id}: an unexpected {type(error).__name__}: {error}"
    assert_clear(message, case)


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_cli(case, hostile_bundle, tmp_path):
    status, stderr, report = run_cli(case, tmp_path)
    if not case.expect:
        assert status == 0, f"{case.id}: a valid input was refused: {stderr}"
        if case.kind != "checkpoint":
            assert_sane(report, case)
        return
    assert status == 2, f"{case.id}: exit {status}: {stderr}"
    lines = [line for line in stderr.splitlines() if "error" in line]
    assert lines, f"{case.id}: no error line in: {stderr}"
    assert_clear(lines[-1], case)


def test_the_corpus_is_large_and_covers_every_kind():
    kinds = {c.kind for c in CASES}
    assert len(CASES) >= 150, len(CASES)
    assert {"sound", "setting", "latent", "checkpoint", "photo", "text"} <= kinds
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("name", sorted(ODD_PHOTOS))
def test_odd_but_valid_photos_load_as_real_pictures(name, tmp_path):
    """CMYK, 16-bit, RGBA, palette and greyscale photos are read, not refused or whitened."""
    from soundedit.edit.project import load_image

    write, filename = ODD_PHOTOS[name]
    path = tmp_path / filename
    write(path)
    image = load_image(str(path), 16)
    assert image.shape == (1, 3, 16, 16) and bool(image.isfinite().all())
    assert -1.0 <= float(image.min()) and float(image.max()) <= 1.0
    if name == "16-bit-png":  # a ramp: not clipped to white
        assert float(image.std()) > 0.2


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_sound_is_named(tmp_path):
    from soundedit.audio.io import load_sound

    path = tmp_path / "locked.wav"
    import soundfile as sf

    sf.write(str(path), np.zeros(1600, dtype=np.float32), 16000)
    path.chmod(0)
    with pytest.raises(ValueError, match="locked.wav"):
        load_sound(str(path))
