"""The README's examples run as written: every ```bash line and every ```python block.

Each bash line runs through the real CLI in a subprocess, from a temporary folder that holds
links to the checkout's files (so ``--out out/rain`` and the default ``edit-output`` land in the
temporary folder, and ``assets/sounds/rain.wav`` is the committed file). The Python blocks run
the same way; the ``gradio_client`` block talks to ``python app.py`` served on 127.0.0.1 in the
port range 7871-7879. Edits are kept short by ``SOUNDEDIT_MAX_STEPS`` (README: "Quick tries"),
never by changing the text; nothing is downloaded (``SOUNDEDIT_OFFLINE=1``).

A line is left out only by one of the rules in ``SKIP_RULES``, and the test prints which rule
left out which line. Everything else must run and exit 0.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
MAX_STEPS = "10"  # every edit: the app streams a preview every max(1, steps // 10) steps
APP_URL = "http://127.0.0.1:7860/"  # the README's address; the test's server is in 7871-7879
PORTS = range(7871, 7880)
INPUT_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".pt", ".pth", ".pkl", ".safetensors", ".npy")
NOT_SHIPPED = ("runs/", "data/", "../shared/", "ESC50_DIR")  # made or fetched by a person


# ---- the README's examples ---------------------------------------------------------------------


def code_blocks(text: str) -> list[tuple[str, str, int]]:
    """(language, code, first line number) of every fenced block."""
    pattern = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
    return [(m[1], m[2], text.count("\n", 0, m.start()) + 2) for m in pattern.finditer(text)]


def bash_lines() -> list[tuple[int, str]]:
    """(line number, command) of every line of every ```bash block."""
    lines = []
    for language, code, first in code_blocks(README.read_text(encoding="utf-8")):
        if language == "bash":
            lines += [(first + i, ln) for i, ln in enumerate(code.splitlines()) if ln.strip()]
    return lines


def python_blocks() -> list[tuple[int, str]]:
    blocks = code_blocks(README.read_text(encoding="utf-8"))
    return [(first, code) for language, code, first in blocks if language == "python"]


def _weights_named(words: list[str]) -> list[str]:
    """Real weights a line needs: a registry --generator, or a file under weights/ not shipped."""
    from soundedit.hub import entry_status, load_registry

    needed = [w for w in words if w.startswith("weights/") and not (REPO / w).exists()]
    for flag, value in zip(words, words[1:], strict=False):
        if flag == "--generator" and value in load_registry():
            status = entry_status(value)
            if status.state == "missing":
                needed.append(status.message.split(" is not")[0])
    return needed


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


SKIP_RULES = (  # (name, why a line matching it is not run here or ever)
    ("installs", "installs packages into a virtual environment",
     lambda line, words: "pip install" in line or "-m venv" in line),
    ("trains", "trains a model for hours (and --resume would overwrite the committed weights)",
     lambda line, words: "torchrun" in words or "train" in words or "train-audio" in words),
    ("runs tests", "runs tests: the suite runs them itself",
     lambda line, words: "pytest" in words),
    ("needs data", "needs recordings, datasets or training runs a person provides",
     lambda line, words: any(w.startswith(NOT_SHIPPED) for w in words)),
    ("needs real weights", "needs real weights that are not on this machine (offline)",
     lambda line, words: bool(_weights_named(words))),
    ("needs CUDA", "the line is marked CUDA only and this machine has no CUDA",
     lambda line, words: "cuda" in words and not _cuda()),
)  # fmt: skip


def skip_rule(line: str) -> str | None:
    """The first rule that leaves ``line`` out, as "name: why", or None (the line runs)."""
    words = shlex.split(line, comments=True)
    for name, why, matches in SKIP_RULES:
        if matches(line, words):
            return f"{name}: {why}"
    return None


# ---- running them ------------------------------------------------------------------------------


@pytest.fixture
def workdir(tmp_path) -> Path:
    """A temporary folder that looks like the checkout (links), where outputs land."""
    for item in REPO.iterdir():
        if item.name not in (".git", "out", "edit-output") and not item.name.startswith("."):
            (tmp_path / item.name).symlink_to(item)
    return tmp_path


def example_env(workdir: Path) -> dict[str, str]:
    """`python` is this interpreter; short edits; no downloads; one thread."""
    bin_dir = workdir / ".bin"
    bin_dir.mkdir(exist_ok=True)
    python = bin_dir / "python"
    if not python.exists():  # a script, not a link: a venv's python finds its venv from its path
        python.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
        python.chmod(0o755)
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(REPO),
        "SOUNDEDIT_MAX_STEPS": MAX_STEPS,
        "SOUNDEDIT_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


def run_example(command: list[str], workdir: Path, timeout: int = 600) -> str:
    done = subprocess.run(
        command, cwd=workdir, env=example_env(workdir), capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip
    assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_every_example_runs_or_is_left_out_by_a_listed_rule():
    lines, blocks = bash_lines(), python_blocks()
    assert len(lines) >= 15 and len(blocks) == 3  # the README's examples were found
    blocks_all = code_blocks(README.read_text(encoding="utf-8"))
    for language, code, first in [b for b in blocks_all if b[0] not in ("bash", "python")]:
        # e.g. the source tree: no command hides in an unnamed block
        assert language == "" and "python" not in code and "$ " not in code, f"README.md:{first}"
    print("\nREADME examples left out, and why:")
    run = 0
    for number, line in lines:
        rule = skip_rule(line)
        print(f"  README.md:{number}: {'runs' if rule is None else rule}: {line[:70]}")
        run += rule is None
        if "cuda" in shlex.split(line, comments=True):  # CUDA-only lines say so on the line
            assert "CUDA only" in line or rule.startswith("needs data"), f"README.md:{number}"
    for rule in ("needs data", "installs", "trains", "runs tests"):
        assert any((skip_rule(line) or "").startswith(rule) for _, line in lines), rule
    assert run >= 5  # the SoundScapes edits and the inspect line run everywhere


def test_every_file_a_runnable_line_names_is_committed():
    """A quick check of what the slow run would find: the paths the lines that run name."""
    for number, line in bash_lines():
        if skip_rule(line) is None:
            for word in shlex.split(line, comments=True):
                if word.startswith(("assets/", "weights/")) or word.endswith(INPUT_SUFFIXES):
                    assert (REPO / word).exists(), f"README.md:{number}: {word} does not exist"


@pytest.mark.slow
@pytest.mark.parametrize(
    "number, line", [(n, ln) for n, ln in bash_lines() if skip_rule(ln) is None], ids=str
)
def test_bash_line_runs(number, line, workdir):
    run_example(["bash", "-c", line], workdir)
    words = shlex.split(line, comments=True)
    if "edit" in words:  # the edit wrote its pictures and report where the line says
        out = workdir / (words[words.index("--out") + 1] if "--out" in words else "edit-output")
        assert (out / "edited.png").is_file() and (out / "report.json").is_file()


@pytest.mark.slow
def test_library_block_runs(workdir):
    (number, code), = [(n, c) for n, c in python_blocks() if "write_result" in c]
    out = run_example([sys.executable, "-c", code], workdir)
    assert "steps=10" in out  # resolve() printed the settings, capped for the test
    assert (workdir / "out" / "rain" / "edited.png").is_file()


@pytest.mark.slow
def test_instant_edit_block_runs(workdir):
    (number, code), = [(n, c) for n, c in python_blocks() if "instant_edit" in c]
    code += "\nprint(result.report.mapper, result.images['sound'].shape)\n"
    out = run_example([sys.executable, "-c", code], workdir)
    assert "{'instant': True, 'warm_start': False} (64, 64, 3)" in out


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port in 7871-7879 for the app")


@pytest.fixture
def served_app(workdir):
    """``python app.py`` on a free port of 7871-7879, as the README starts it."""
    port = free_port()
    log = open(workdir / "app.log", "w")  # noqa: SIM115 -- closed below
    app = subprocess.Popen(
        [sys.executable, "app.py", "--port", str(port)], cwd=workdir, env=example_env(workdir),
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(360):
            assert app.poll() is None, (workdir / "app.log").read_text()[-3000:]
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                time.sleep(0.5)
        yield url
    finally:
        app.terminate()
        app.wait(timeout=30)
        log.close()


@pytest.mark.slow
def test_gradio_client_block_runs(workdir, served_app):
    (number, code), = [(n, c) for n, c in python_blocks() if "gradio_client" in c]
    assert code.count(APP_URL) == 1
    print(f"\nREADME.md:{number}: the app's address {APP_URL} is the test server's {served_app}")
    script = code.replace(APP_URL, served_app) + "\nprint('final', report['steps'])\n"
    out = run_example([sys.executable, "-c", script], workdir)
    printed = [line.split() for line in out.splitlines() if line[:1].isdigit()]
    assert [int(step) for step, _ in printed] == [5, 10]  # a preview every 50 // 10 steps
    assert out.strip().splitlines()[-1] == f"final {MAX_STEPS}"
