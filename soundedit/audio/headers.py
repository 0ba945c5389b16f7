"""Headers that lie: what is wrong with them in words, and a repaired copy where one is safe.

Some writers leave a WAV, AIFF or AU header that does not match the data after it: a data size
from before the recording was cut, 0xFFFFFFFF from a stream, a frame count far beyond the file.
Other players read such files by trusting the bytes that are there; :func:`repair` does the same
(the sizes are set to what the file holds) so libsndfile can read them too. :func:`problem`
names a fault no repair can fix (a sample rate of 0 Hz: at what speed would it play?).
"""

from __future__ import annotations

import struct

_UNKNOWN_AU_SIZE = 0xFFFFFFFF  # the AU format's own "size not known: read to the end"


def problem(data: bytes) -> str | None:
    """What is wrong with a header that cannot be repaired, in words, or None."""
    fmt = _riff_chunk(data, b"fmt ")
    if fmt is not None and len(data) >= fmt + 16:
        channels, rate = struct.unpack_from("<HI", data, fmt + 2)
        if rate == 0:
            return "its header gives a sample rate of 0 Hz, so it has no speed to play at"
        if channels == 0:
            return "its header says it has no channels"
    if data[:4] == b".snd" and len(data) >= 24:
        rate, channels = struct.unpack_from(">II", data, 16)
        if rate == 0:
            return "its header gives a sample rate of 0 Hz, so it has no speed to play at"
        if channels == 0:
            return "its header says it has no channels"
    return None


def repair(data: bytes) -> bytes | None:
    """``data`` with its WAV / AU / AIFF sizes set to what the file holds, or None when it is
    none of these or nothing needs changing."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        fixed = _repair_riff(bytearray(data))
    elif data[:4] == b".snd" and len(data) >= 24:
        fixed = bytearray(data)
        fixed[8:12] = struct.pack(">I", _UNKNOWN_AU_SIZE)
    elif data[:4] == b"FORM" and data[8:12] in (b"AIFF", b"AIFC"):
        fixed = _repair_aiff(bytearray(data))
    else:
        return None
    return bytes(fixed) if fixed is not None and fixed != data else None


def _riff_chunk(data: bytes, name: bytes) -> int | None:
    """Offset of the body of the RIFF chunk ``name`` (little-endian sizes), or None.

    The chunks are walked by their sizes; when a damaged size jumps past ``name``, the marker
    is searched for, as forgiving players do.
    """
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    at = 12
    while at + 8 <= len(data):
        size = struct.unpack_from("<I", data, at + 4)[0]
        if data[at : at + 4] == name:
            return at + 8
        at += 8 + size + (size & 1)
    found = data.find(name, 12)
    return found + 8 if found >= 0 and found + 8 <= len(data) else None


def _repair_riff(data: bytearray) -> bytearray | None:
    """A plain WAV of the 'fmt ' and 'data' chunks, sized to the samples the file holds (other
    chunks, whose sizes may be what is damaged, are left out)."""
    raw = bytes(data)
    fmt, body = _riff_chunk(raw, b"fmt "), _riff_chunk(raw, b"data")
    if fmt is None or body is None or body <= fmt:
        return None
    fmt_size = min(struct.unpack_from("<I", raw, fmt - 4)[0], 40, body - 8 - fmt)
    if fmt_size < 16:
        return None
    held = len(raw) - body
    held -= held % 2 if held > 1 else 0  # whole 16-bit words at least: frames are cut later
    chunks = b"fmt " + struct.pack("<I", fmt_size) + raw[fmt : fmt + fmt_size]
    chunks += b"data" + struct.pack("<I", held) + raw[body : body + held]
    return bytearray(b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks)


def _repair_aiff(data: bytearray) -> bytearray | None:
    """Clamp the SSND size and COMM's frame count of an AIFF to the sound data present."""
    comm = ssnd = None
    at = 12
    while at + 8 <= len(data):
        name, size = bytes(data[at : at + 4]), struct.unpack_from(">I", data, at + 4)[0]
        comm = at + 8 if name == b"COMM" else comm
        ssnd = at + 8 if name == b"SSND" else ssnd
        at += 8 + size + (size & 1)
    if comm is None or ssnd is None or len(data) < comm + 8:
        return None
    channels, _, bits = struct.unpack_from(">HIH", data, comm)
    frame_bytes = max(channels, 1) * max((bits + 7) // 8, 1)
    offset = struct.unpack_from(">I", data, ssnd)[0]
    frames = max(len(data) - (ssnd + 8 + offset), 0) // frame_bytes
    struct.pack_into(">I", data, comm + 2, frames)
    struct.pack_into(">I", data, ssnd - 4, 8 + offset + frames * frame_bytes)
    struct.pack_into(">I", data, 4, len(data) - 8)
    return data
