"""``soundscapes eval --real`` on a tiny folder in the ESC-50 layout made by the tests."""

import json

import pytest

from soundedit.soundscapes.bundle import weights_status

pytestmark = [
    pytest.mark.slow,  # the committed weights, edits at the world's length
    pytest.mark.skipif(not weights_status()[0], reason=weights_status()[1]),
]


def test_eval_real_prints_its_table_and_json(esc50_folder, capsys):
    from soundedit.cli import main

    assert main(["soundscapes", "eval", "--real", str(esc50_folder), "--seeds", "0", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert (
        results["folds"] == [4] and results["clips_inside"] == 2 and results["clips_outside"] == 1
    )
    assert set(results["confusion"]) == {"rain", "lightning"} and 0 <= results["auroc"] <= 1
    assert main(["soundscapes", "eval", "--real", str(esc50_folder), "--seeds", "0"]) == 0
    assert "| real in-world zero-shot accuracy (7 events) | >= 0.85 |" in capsys.readouterr().out
