"""`python -m soundedit models`: the table, --json, --fetch, and the offline error line."""

from __future__ import annotations

import json

import pytest

from soundedit.cli import main

REGISTRY = """
[models.toy]
domain = "toys"
kind = "stylegan2"
source = "hf://owner/repo/toy.pt"
format = "rosinality"
resolution = 16
size_mb = 1.5
license = "test"

[models.world]
domain = "soundscapes"
kind = "bundle"
format = "bundle"
source = "embedded"
filename = "world"
files = ["generator.safetensors"]
"""


@pytest.fixture
def weights(tmp_path, monkeypatch):
    folder = tmp_path / "weights"
    (folder / "world").mkdir(parents=True)
    (folder / "world" / "generator.safetensors").write_bytes(b"x")
    (folder / "registry.toml").write_text(REGISTRY)
    monkeypatch.setenv("SOUNDEDIT_WEIGHTS", str(folder))
    monkeypatch.setenv("SOUNDEDIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SOUNDEDIT_OFFLINE", "1")
    monkeypatch.delenv("SOUNDEDIT_REGISTRY", raising=False)
    return folder


def test_models_table(weights, capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    header = ["NAME", "KIND", "DOMAIN", "RES", "SIZE", "STATUS", "WHERE"]
    assert out.splitlines()[0].split() == header
    toy = next(line for line in out.splitlines() if line.startswith("toy "))
    assert "missing" in toy and "put toy.pt in" in toy and "1.5 MB" in toy
    world = next(line for line in out.splitlines() if line.startswith("world "))
    assert "embedded" in world and str(weights / "world") in world
    assert "1 file(s) missing" in out
    (weights / "world" / "generator.safetensors").unlink()
    assert main(["models"]) == 0
    world = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("world"))
    assert "generator.safetensors missing in" in world


def test_models_json(weights, capsys):
    assert main(["models", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["toy"]["status"] == "missing" and rows["toy"]["folder"] == str(weights)
    assert rows["toy"]["source"] == "https://huggingface.co/owner/repo/resolve/main/toy.pt"
    assert rows["world"]["status"] == "embedded"


def test_models_fetch(weights, capsys):
    assert main(["models", "--fetch", "toy"]) == 2  # offline: one-line error, exit 2
    err = capsys.readouterr().err
    assert "toy.pt" in err and str(weights) in err and "Traceback" not in err
    (weights / "toy.pt").write_bytes(b"weights")
    assert main(["models", "--fetch", "toy"]) == 0
    assert capsys.readouterr().out.strip() == str(weights / "toy.pt")
