"""The page's words: plain by default, every number under Details with what it means."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

from demo.words import (
    finish_details,
    finish_text,
    goal,
    measured_changes,
    outcome,
    progress_bar,
    running_details,
    running_text,
)
from soundedit import EditReport, PhaseReport, Recognition, SoundMatch

RAIN = Recognition("rain", 0.74, 0.19, True)
SOUND_RUN = PhaseReport(0.19, 0.513, steps=100, losses={"total": 0.51}, layer_mask=None,
                        seconds=4.71)  # fmt: skip
SOURCE = {"rain": 0.0, "snow": 0.3, "layout": 0.5}
EDITED = {"rain": 1.0, "snow": 0.05, "layout": 0.41}


def sound_report(**fields):
    report = EditReport(
        bundle="soundscapes",
        mode="sound",
        settings={},
        seed=0,
        steps=100,
        seconds=4.71,
        steps_run=100,
        phases={"sound": SOUND_RUN},
        source={"kind": "seed", "seed": 0},
        resolution=64,
        device="cpu",
        notices=(),
        stopped_at=None,
        recognition=RAIN,
        sound_match=SoundMatch(0.51, 0.33, True),
        probe={"source": SOURCE, "sound": EDITED},
    )
    return dataclasses.replace(report, **fields)


def test_done_says_in_plain_words_what_the_picture_now_shows():
    assert finish_text(sound_report()) == "**Done** in 4.7 s — the picture now shows rain."
    # no recogniser: what the world's measure saw rise most
    assert outcome(sound_report(recognition=None)) == "the picture now shows more rain"
    # neither hook: plain words all the same
    plain = sound_report(recognition=None, probe=None)
    assert outcome(plain) == "the picture now follows the sound"
    unknown = sound_report(recognition=dataclasses.replace(RAIN, known=False))
    assert "does not know the sound" in outcome(unknown)
    weak = sound_report(sound_match=SoundMatch(0.1, 0.33, False))
    assert "changed little" in outcome(weak)
    words = outcome(sound_report(mode="text"), text="  heavy   rain at night ")
    assert words == "the picture now follows your words “heavy rain at night”"
    mixed = outcome(sound_report(mode="mix"), text="a snowy night")
    assert mixed == "the picture now shows rain, with your words “a snowy night”"
    stopped = finish_text(sound_report(stopped_at=37))
    assert stopped.startswith("**Stopped** at step 37 of 100 in 4.7 s")


def test_no_number_in_the_plain_words_and_each_one_explained_under_details():
    text = finish_text(sound_report())
    assert not any(word in text for word in ("0.5", "loss", "similarity", "probe"))
    details = finish_details(sound_report())
    assert "Similarity to the sound: 0.190 at the start → 0.513 at the end (CLIP cosine" in details
    assert "Final loss 0.5100" in details and "100 steps, 0.05 s per step on cpu" in details
    assert "Heard as rain (score 0.74; the world knows a sound from 0.19 up)" in details
    assert "change from the start: rain +1.00, snow -0.25, layout -0.09." in details


def test_running_words_follow_the_recognised_event_or_the_words():
    assert goal("sound", mode="sound", recognition=RAIN) == "Adding rain"
    assert goal("sound", mode="sound", recognition=dataclasses.replace(RAIN, known=False)) == (
        "Following the sound"
    )
    assert goal("sound", mode="sound", recognition=None) == "Following the sound"
    assert goal("text", mode="mix", recognition=RAIN, text="x" * 60).endswith("…”")
    step = SimpleNamespace(step=40, total=100, phase="sound", losses={"total": 0.5})
    assert running_text(step, goal="Adding rain") == "**Adding rain…** step 40 of 100"
    assert running_text(step, goal="Adding rain", part=(1, 2)).endswith("(part 1 of 2)")
    details = running_details(step, seconds=2.0, shown=(40, 0.3125))
    assert "0.05 s per step" in details and "Loss 0.5000" in details
    assert "picture shown (step 40) to the sound: 0.312" in details
    assert "Similarity" not in running_details(step, seconds=2.0, shown=None)


def test_measured_changes_and_the_progress_bar():
    probe = {"source": {"a": 0.25}, "sound": {"a": 0.75}}
    assert measured_changes(sound_report(probe=probe)) == {"a": 0.5}
    assert measured_changes(sound_report(probe=None)) == {}
    assert 'value="40"' in progress_bar(0.4) and 'value="100"' in progress_bar(7.0)
    assert 'value="0"' in progress_bar(-1.0)
