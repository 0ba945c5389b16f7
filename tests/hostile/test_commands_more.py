"""The rest of issue 13's commands: classify on a huge float WAV, the app's port, the seed range.

In-process: ``soundedit.cli.main`` and ``app.parse_args`` / ``app.check_port_free``.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import socket

import numpy as np
import pytest
import soundfile as sf

import app
from soundedit.cli import main as cli_main

from .conftest import WORLD
from .corpus import noise


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli_main(argv)
        except SystemExit as e:
            status = e.code
    return status, out.getvalue(), err.getvalue()


def test_classify_never_answers_nan_for_a_huge_float_wav(hostile_bundle, tmp_path):
    x = noise(0.5)
    full = (x / np.max(np.abs(x))).astype(np.float32)  # peaks at exactly 1
    plain, huge = tmp_path / "plain.wav", tmp_path / "huge.wav"
    sf.write(str(plain), full, 16000, subtype="FLOAT")
    # x 2**100 (about 1.3e30) and the loader's division by that peak are exact in float32
    sf.write(str(huge), full * 2.0**100, 16000, subtype="FLOAT")
    argv = ["classify", "--encoder", WORLD, "--labels", "rain,fire,birds", str(plain), str(huge)]
    status, out, err = run(argv)
    assert status == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    scores = [line["scores"] for line in lines]
    assert all(math.isfinite(v) for s in scores for v in s.values())
    assert lines[0]["label"] == lines[1]["label"]  # the same sound, whatever its scale
    assert scores[1] == scores[0]  # the loader hands the encoder the very same samples


@pytest.mark.parametrize("seed", ["-1", "4294967296", "1180591620717411303424"])
def test_the_cli_refuses_the_seeds_the_api_refuses(seed, capsys):
    from soundedit.edit.limits import check_value

    with pytest.raises(ValueError, match=r"seed must be a whole number in \[0, 4294967295\]"):
        check_value("seed", int(seed))  # the library, the page and the API
    status, _, err = run(["edit", "--seed", seed])
    assert status == 2
    assert "argument --seed: must be a whole number in [0, 4294967295]" in err


@pytest.mark.parametrize("port", ["99999", "0", "-1", "http"])
def test_the_app_refuses_an_impossible_port(port, capsys):
    with pytest.raises(SystemExit) as caught:
        app.parse_args(["--port", port])
    assert caught.value.code == 2
    assert "argument --port: must be a whole number in [1, 65535]" in capsys.readouterr().err


def test_a_bad_port_in_the_environment_is_named(monkeypatch, capsys):
    monkeypatch.setenv("SOUNDEDIT_PORT", "seventy")
    with pytest.raises(SystemExit):
        app.parse_args([])
    assert "got 'seventy'" in capsys.readouterr().err


def test_a_port_in_use_is_one_plain_line(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as caught:
            app.check_port_free("127.0.0.1", port)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"port {port} on 127.0.0.1 is already in use" in err
    assert "--port" in err and "Traceback" not in err


def test_the_gpu_check_stops_at_once_without_cuda():
    import subprocess
    import sys
    from pathlib import Path

    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA machine runs the whole check (scripts/gpu_check.sh) instead")
    script = Path(__file__).resolve().parents[2] / "scripts" / "gpu_check.sh"
    done = subprocess.run(
        ["bash", str(script)],
        env={"PYTHON": sys.executable, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "no CUDA device is visible" in done.stderr
