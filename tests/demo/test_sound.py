"""The sound panel: an int16 preview whose level follows the volume slider; example sounds."""

from __future__ import annotations

import numpy as np
import pytest

from demo.sound import example_label, example_sounds, preview_sound, sound_notices, to_int16


def test_int16_conversion_clips_instead_of_rescaling():
    samples = np.array([0.0, 0.5, -0.5, 2.0, -2.0], np.float32)
    assert to_int16(samples).tolist() == [0, 16384, -16384, 32767, -32767]


def test_preview_is_int16_and_follows_the_volume(sound_file):
    rate, loud = preview_sound(sound_file, None, 0.5, 0.0)
    _, quiet = preview_sound(sound_file, None, 0.5, -12.0)
    assert loud.dtype == np.int16 and quiet.dtype == np.int16 and rate > 0
    ratio = np.abs(quiet).max() / np.abs(loud).max()
    assert ratio == pytest.approx(10 ** (-12 / 20), rel=0.05)


def test_preview_mixes_in_the_second_sound(sound_files):
    _, only_first = preview_sound(sound_files[0], sound_files[1], 0.0, 0.0)
    _, mixed = preview_sound(sound_files[0], sound_files[1], 0.5, 0.0)
    _, alone = preview_sound(sound_files[0], None, 0.5, 0.0)
    n = min(len(only_first), len(alone))
    assert np.abs(only_first[:n].astype(int) - alone[:n]).max() <= 1
    assert not np.array_equal(mixed[:n], alone[:n])


def test_clipping_is_noticed(sound_file):
    from soundedit.audio.io import load_sound
    from soundedit.audio.shape import apply_gain

    sound = load_sound(sound_file)
    assert not any("clips" in note for note in sound_notices(apply_gain(sound, 0.0)))
    loud = apply_gain(sound, 40.0)
    assert loud.clipped > 0
    assert any(f"{loud.clipped} samples" in note for note in sound_notices(loud))


def test_no_sound_no_preview():
    assert preview_sound(None, None, 0.5, 0.0) is None


def test_long_sounds_are_cut_with_a_notice(long_sound_file):
    from soundedit.audio.io import load_sound

    notes = sound_notices(load_sound(long_sound_file))
    assert any("only the first" in note for note in notes)


def test_example_sounds_are_found_and_labelled(tmp_path):
    (tmp_path / "heavy_rain-2.wav").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("")
    found = example_sounds(tmp_path)
    assert [p.name for p in found] == ["heavy_rain-2.wav"]
    assert example_label(found[0]) == "heavy rain 2"
    assert example_sounds(tmp_path / "missing") == []
