"""The front door: one import gives a user's whole path, and it works on the default world."""

from pathlib import Path

import soundedit

RAIN = Path(__file__).resolve().parents[1] / "assets" / "sounds" / "rain.wav"


def test_the_front_door_exports_the_users_path():
    names = ("load_bundle", "EditRequest", "run_edit", "run_to_end", "instant_edit", "EditResult")
    for name in (*names, "EditRun"):
        assert name in soundedit.__all__ and hasattr(soundedit, name)
    for name in ("EditReport", "PhaseReport", "Recognition", "SoundMatch"):  # the result's types
        assert name in soundedit.__all__ and hasattr(soundedit, name)


def test_the_front_door_edits_the_default_world(tmp_path):
    bundle = soundedit.load_bundle()
    request = soundedit.EditRequest.of(audio=RAIN, seed=0, steps=3)
    run = soundedit.run_edit(bundle, request)
    steps = [step.step for step in run]
    result = run.result()
    assert steps == [1, 2, 3]
    assert result.images["sound"].shape == result.images["source"].shape
    assert (result.images["sound"] != result.images["source"]).any()
    report = result.report
    assert isinstance(report, soundedit.EditReport)
    assert isinstance(run.recognition, soundedit.Recognition)
    assert report.recognition == run.recognition
    assert isinstance(report.phases["sound"], soundedit.PhaseReport) and report.main.steps == 3
    assert report.to_dict()["recognition"]["event"] == run.recognition.event
