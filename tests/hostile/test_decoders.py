"""Sound files whose headers lie, through the library and the CLI: read as other players read
them where the data is there, else refused in words (what is wrong, what is accepted), never in
libsndfile's own text."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from soundedit.audio.headers import problem, repair
from soundedit.audio.io import load_sound
from soundedit.errors import AudioError, user_message

from .corpus import FORMATS, RATE, noise
from .surfaces import assert_plain, cli_refusal, edit_argv, run_cli

TONE = noise(0.5)


def _write(path: Path, fmt: str, patch, subtype: str | None = None) -> Path:
    sf.write(str(path), TONE, RATE, format=fmt, subtype=subtype)
    data = bytearray(path.read_bytes())
    patch(data)
    path.write_bytes(bytes(data))
    return path


def _at(data: bytearray, name: bytes) -> int:
    return data.find(name)


def _wav_rate(value):
    return lambda d: d.__setitem__(slice(24, 28), struct.pack("<I", value))


def _wav_channels_0(d):
    d[22:24] = struct.pack("<H", 0)


def _wav_bits_0(d):
    d[34:36] = struct.pack("<H", 0)


def _wav_format_tag(d):
    d[20:22] = struct.pack("<H", 0x1234)


def _wav_data_beyond(d):
    at = _at(d, b"data")
    d[at + 4 : at + 8] = struct.pack("<I", 0xFFFFFFF0)


def _wav_riff_beyond(d):
    d[4:8] = struct.pack("<I", 0xFFFFFFF0)


def _au_size_beyond(d):
    d[8:12] = struct.pack(">I", 0x7FFFFFF0)


def _au_rate_0(d):
    d[16:20] = struct.pack(">I", 0)


def _aiff_frames_beyond(d):
    at = _at(d, b"COMM")
    d[at + 10 : at + 14] = struct.pack(">I", 10**9)


def _aiff_ssnd_beyond(d):
    at = _at(d, b"SSND")
    d[at + 4 : at + 8] = struct.pack(">I", 0xFFFFFFF0)


def _list_chunk_of_size(size: int):
    """A LIST chunk before the data whose size is wrong: walking the chunks misses 'data'."""

    def patch(d):
        at = _at(d, b"data")
        d[at:at] = b"LIST" + struct.pack("<I", size) + b"INFO"

    return patch


def _cut_in_half(d):
    del d[len(d) // 2 :]


def _caf_data_beyond(d):
    at = _at(d, b"data")
    d[at + 4 : at + 12] = struct.pack(">q", 10**12)


READABLE = {  # header lies, data is there: read like other players do
    "wav-data-size-beyond-file": ("s.wav", "WAV", _wav_data_beyond, "PCM_16"),
    "wav-float-data-size-beyond": ("s.wav", "WAV", _wav_data_beyond, "FLOAT"),
    "wav-riff-size-beyond-file": ("s.wav", "WAV", _wav_riff_beyond, "PCM_16"),
    "au-size-beyond-file": ("s.au", "AU", _au_size_beyond, "PCM_16"),
    "aiff-frames-beyond-file": ("s.aiff", "AIFF", _aiff_frames_beyond, "PCM_16"),
    "aiff-ssnd-size-beyond-file": ("s.aiff", "AIFF", _aiff_ssnd_beyond, "PCM_16"),
    "wav-cut-in-half": ("s.wav", "WAV", _cut_in_half, "PCM_16"),
    "wav-list-chunk-beyond-file": ("s.wav", "WAV", _list_chunk_of_size(0x7FFFFFF0), "PCM_16"),
    "wav-list-chunk-size-wrong": ("s.wav", "WAV", _list_chunk_of_size(100_000), "PCM_16"),
}
REFUSED = {  # name: (file, format, patch, subtype, regex of what is wrong)
    "wav-rate-0": ("s.wav", "WAV", _wav_rate(0), "PCM_16", r"sample rate of 0 Hz"),
    "au-rate-0": ("s.au", "AU", _au_rate_0, "PCM_16", r"sample rate of 0 Hz"),
    "wav-channels-0": ("s.wav", "WAV", _wav_channels_0, "PCM_16", r"no channels"),
    "wav-bits-0": ("s.wav", "WAV", _wav_bits_0, "PCM_16", r"an encoding we cannot decode"),
    "wav-unknown-format-tag": (
        "s.wav",
        "WAV",
        _wav_format_tag,
        "PCM_16",
        r"(format header|encoding we cannot decode)",
    ),
    "wav-rate-7": ("s.wav", "WAV", _wav_rate(7), "PCM_16", r"sample rate of 7 Hz"),
    "flac-cut-in-half": ("s.flac", "FLAC", _cut_in_half, None, r"FLAC data is damaged"),
    "caf-data-beyond-file": ("s.caf", "CAF", _caf_data_beyond, None, r"damaged"),
}


@pytest.mark.parametrize("name", sorted(READABLE))
@pytest.mark.parametrize("source", ["path", "bytes"])
def test_library_reads_a_file_whose_header_overstates_its_data(name, source, tmp_path):
    filename, fmt, patch, subtype = READABLE[name]
    path = _write(tmp_path / filename, fmt, patch, subtype)
    sound = load_sound(str(path) if source == "path" else path.read_bytes())
    assert sound.rate == RATE and 0.2 <= sound.seconds <= 0.5
    assert np.isfinite(sound.samples).all() and not sound.silent


@pytest.mark.parametrize("name", sorted(READABLE))
def test_cli_edits_with_a_file_whose_header_overstates_its_data(name, hostile_bundle, tmp_path):
    filename, fmt, patch, subtype = READABLE[name]
    path = _write(tmp_path / filename, fmt, patch, subtype)
    status, stderr = run_cli(edit_argv(tmp_path / "out", "--audio", str(path)))
    assert status == 0, stderr


@pytest.mark.parametrize("name", sorted(REFUSED))
@pytest.mark.parametrize("source", ["path", "bytes"])
def test_library_names_what_is_wrong_with_a_lying_header(name, source, tmp_path):
    filename, fmt, patch, subtype, wrong = REFUSED[name]
    path = _write(tmp_path / filename, fmt, patch, subtype)
    with pytest.raises(AudioError) as caught:
        load_sound(str(path) if source == "path" else path.read_bytes())
    accepted = r"1000-384000 Hz" if "rate-7" in name else FORMATS
    assert_plain(user_message(caught.value), wrong, accepted)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_cli_names_what_is_wrong_with_a_lying_header(name, hostile_bundle, tmp_path):
    filename, fmt, patch, subtype, wrong = REFUSED[name]
    path = _write(tmp_path / filename, fmt, patch, subtype)
    cli_refusal(edit_argv(tmp_path / "out", "--audio", str(path)), wrong)


def test_a_sound_header_with_rate_0_is_a_problem_no_repair_fixes(tmp_path):
    path = _write(tmp_path / "s.wav", "WAV", _wav_rate(0), "PCM_16")
    assert "0 Hz" in problem(path.read_bytes())


@pytest.mark.parametrize("data", [b"", b"RIFF", b"RIFF\x00\x00\x00\x00WAVE", b".snd", b"FORM"])
def test_headers_too_short_to_repair_are_left_alone(data):
    assert repair(data) is None and problem(data) is None


def test_a_correct_header_needs_no_repair(tmp_path):
    path = tmp_path / "s.wav"
    sf.write(str(path), TONE, RATE, subtype="PCM_16")
    assert repair(path.read_bytes()) is None
