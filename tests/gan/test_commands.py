from __future__ import annotations

import json
import pickle

from soundedit.cli import main
from soundedit.gan.checkpoints import save_generator


def test_inspect_prints_the_architecture(tmp_path, tiny_generator, capsys):
    save_generator(tiny_generator, tmp_path / "g")
    assert main(["inspect", str(tmp_path / "g.safetensors")]) == 0
    out = capsys.readouterr().out
    assert "format:      safetensors" in out and "n_latent:    8" in out
    assert "4:16, 8:16, 16:8, 32:8" in out and "has mean w:  yes" in out
    assert main(["inspect", "--json", str(tmp_path / "g.json")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["resolution"] == 32 and data["n_mlp"] == 2 and data["style_dim"] == 32


def test_inspect_says_why_a_file_is_refused(tmp_path, capsys):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(b"cos\nsystem\n(V" + f"touch {marker}".encode() + b"\ntR.")
    assert main(["inspect", str(evil)]) == 2
    err = capsys.readouterr().err
    assert "refused" in err and "system" in err and not marker.exists()
    (tmp_path / "junk.pkl").write_bytes(pickle.dumps({"G_ema": 1})[:-3])
    assert main(["inspect", str(tmp_path / "junk.pkl")]) == 2
    assert "truncated" in capsys.readouterr().err
