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
    from soundedit.soundscapes.nonsounds import HELD_OUT_KINDS, KINDS, available

    args = ["soundscapes", "eval", "--real", str(esc50_folder), "--seeds", "0"]
    assert main([*args, "--nonsounds", "2", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    by_kind = results["nonsound_by_kind"]
    assert set(by_kind) == {k for k in KINDS if available(k)} and results["nonsound_per_kind"] == 2
    for kind, row in by_kind.items():
        assert row["held_out"] == (kind in HELD_OUT_KINDS)
        assert row["known"] <= row["recogniser"] and row["known"] <= 1 - row["refused"]
        assert all(v in (0.0, 0.5, 1.0) for k, v in row.items() if k != "held_out")
    assert by_kind["tone"]["refused"] == 1.0 or by_kind["tone"]["known"] == 0.0
    assert 0 <= results["nonsound_known"] <= 1 and 0 <= results["nonsound_known_held_out"] <= 1
    assert (
        results["folds"] == [4] and results["clips_inside"] == 2 and results["clips_outside"] == 1
    )
    assert set(results["confusion"]) == {"rain", "lightning"} and 0 <= results["auroc"] <= 1
    microphone = results["microphone"]
    assert list(microphone) == ["room", "loud-floor"] and microphone["room"]["clips"] == 2
    assert results["microphone_heard"] == microphone["room"]["heard_right"] / 2
    assert 0 <= microphone["room"]["files_right"] <= 2
    assert main([*args, "--nonsounds", "1"]) == 0
    table = capsys.readouterr().out
    assert "| real in-world zero-shot accuracy (7 events) | >= 0.85 |" in table
    assert "| generated non-sounds accepted as known, all kinds | 0 |" in table
    assert "non-sounds known (recogniser alone), per kind; * never fitted on: " in table
    assert "microphone path (room): " in table and "microphone path (loud-floor): " in table
    assert main([*args, "--nonsounds", "0", "--microphone", "--json"]) == 0
    skipped = json.loads(capsys.readouterr().out)
    assert "nonsound_by_kind" not in skipped and "microphone" not in skipped
    assert main([*args, "--nonsounds", "-1"]) == 2
