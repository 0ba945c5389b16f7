"""train-audio, classify and eval-audio through the real command line on tiny models."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pytest
import soundfile as sf
import torch

from soundedit.cli import main

TINY_CLIP = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 16, "layers": 1, "width": 32, "patch_size": 8, "head_width": 16},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}
RATE = 16000


@dataclass(frozen=True)
class ClipRecord:
    embed_dim: int
    vision_cfg: dict = field(default_factory=dict)
    text_cfg: dict = field(default_factory=dict)


def tone(path, freq: float, seed: int):
    rng = np.random.default_rng(seed)
    t = np.arange(RATE // 2) / RATE
    x = 0.3 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(t.size)
    sf.write(path, x.astype(np.float32), RATE)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """Sounds, a manifest with one missing file, an ESC-50 folder and a saved tiny CLIP."""
    from soundedit.encoders.clip import ClipBridge
    from soundedit.weights_io import save_weights

    root = tmp_path_factory.mktemp("cli")
    torch.manual_seed(0)
    clip = ClipBridge.from_config(TINY_CLIP)
    save_weights(
        root / "clip", clip.model.state_dict(), kind="open_clip", config=ClipRecord(**TINY_CLIP)
    )
    rows = ["audio,label"]
    for i in range(8):
        label = ("low", "high")[i % 2]
        tone(root / f"s{i}.wav", 200 if label == "low" else 3000, i)
        rows.append(f"s{i}.wav,{label}")
    rows.append("missing.wav,low")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    esc = root / "esc"
    (esc / "audio").mkdir(parents=True)
    (esc / "meta").mkdir()
    meta = ["filename,fold,target,category,esc10,src_file,take"]
    for i in range(10):
        label = ("low", "high")[i % 2]
        tone(esc / "audio" / f"1-{i}-A-0.wav", 200 if label == "low" else 3000, 100 + i)
        meta.append(f"1-{i}-A-0.wav,{1 + i // 5},{i % 2},{label},False,{i},A")
    (esc / "meta" / "esc50.csv").write_text("\n".join(meta) + "\n")
    config = {
        "encoder": {
            "backbone": "small_cnn",
            "stem": "timm1",
            "embed_dim": 16,
            "front_end": "soundscapes",
            "widths": [8, 16],
        },
        "clip": str(root / "clip.safetensors"),
        "train_data": {"path": str(root / "manifest.csv")},
        "out_dir": str(root / "run"),
        "epochs": 1,
        "batch_size": 4,
        "progress": False,
        "losses": {"image": 0.0},
    }
    (root / "train.json").write_text(json.dumps(config))
    return root


def test_train_audio_then_classify_and_eval(workspace, capsys):
    assert main(["train-audio", "--config", str(workspace / "train.json"), "--device", "cpu"]) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["steps"] == 2 and summary["last_path"].endswith("last.safetensors")
    assert "1 skipped" in err and "missing.wav" in err
    encoder = str(workspace / "run" / "last")
    meta = json.loads((workspace / "run" / "last.json").read_text())["meta"]
    assert meta["clip_source"].endswith("clip.safetensors")

    (workspace / "junk.wav").write_bytes(b"junk")
    files = [str(workspace / "s0.wav"), str(workspace / "junk.wav")]
    code = main(["classify", "--encoder", encoder, "--labels", "low, high", *files])
    lines = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    assert code == 1 and len(lines) == 2
    assert lines[0]["file"] == files[0] and lines[0]["label"] in ("low", "high")
    assert set(lines[0]["scores"]) == {"low", "high"}
    assert sum(lines[0]["scores"].values()) == pytest.approx(1.0, abs=1e-4)
    assert "error" in lines[1]

    assert (
        main(["eval-audio", "--encoder", encoder, "--dataset", str(workspace / "esc"), "--json"])
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["items"] == 10 and report["classes"] == 2
    assert 0.0 <= report["zero_shot_accuracy"] <= 1.0
    assert report["linear_probe_protocol"] == "2-fold"


def test_bad_arguments_are_one_line_errors(workspace, capsys):
    assert main(["classify", "--encoder", "nope", "--labels", "a,b", "x.wav"]) == 2
    assert "neither a checkpoint pair" in capsys.readouterr().err
    assert main(["classify", "--encoder", "nope", "--labels", "a", "x.wav"]) == 2
    assert "at least two names" in capsys.readouterr().err
    bad = workspace / "bad.json"
    bad.write_text(json.dumps({"epochs": 1, "lossses": {}}))
    assert main(["train-audio", "--config", str(bad)]) == 2
    assert "unknown setting(s) lossses" in capsys.readouterr().err
    off = workspace / "off.json"
    off.write_text(json.dumps({"losses": {"text": 0, "image": 0, "augment": 0}}))
    assert main(["train-audio", "--config", str(off)]) == 2
    assert "every loss is switched off" in capsys.readouterr().err
