"""The live microphone: the last few seconds of a streamed microphone, edited at once.

Gradio streams the microphone as short chunks (``(rate, int16 [n] or [n, channels])``; Gradio 6
sends one every 0.1 s, whatever the event's ``stream_every``). :func:`add_chunk` keeps the latest
:data:`LIVE_SECONDS` of them in the session (a :class:`LiveSound`: bounded, whatever the
stream's length); once :data:`REDRAW_SECONDS` have passed since the last picture (:func:`is_due`),
:func:`live_edit` hears that window exactly as a file is heard (the pipeline's own decoding and
shaping: channels averaged, the volume applied, the world's front end resampling) and draws the
world's mapped edit of it (:func:`soundedit.instant_edit`, one forward pass), with the verdict in
plain words. Between redraws a chunk only joins the window, which takes a millisecond. The
page sends the newest chunk when the last one is answered, so on a busy server some chunks
never arrive and the window spans a little more than its seconds; rain, wind or a fire are
heard the same through such holes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from soundedit.audio.io import load_sound
from soundedit.audio.shape import fit_length
from soundedit.edit.pipeline import instant_edit
from soundedit.edit.report import Recognition, non_sound_message, unknown_sound_message
from soundedit.settings import EditRequest

LIVE_SECONDS = 4.0  # the window the picture follows (the SoundScapes front end reads 4 s)
REDRAW_SECONDS = 0.5  # a new picture at most this often (about twice a second)
FIRST_SECONDS = 1.5  # no picture before this much sound (a shorter window is mostly padding)
NO_MAPPER = (
    "This world has no mapper, so it cannot follow the microphone live: record a sound and "
    "press **Run** instead."
)
LISTENING = "Listening…"


@dataclass(frozen=True, eq=False)
class LiveSound:
    """The latest seconds of a microphone stream: mono float32 samples at the stream's rate."""

    rate: int  # the stream's sample rate in Hz (the browser's: often 48 kHz)
    samples: np.ndarray  # float32 [n], n <= LIVE_SECONDS * rate, the newest last
    drawn_at: float | None = None  # time.monotonic() of the last picture (None: none yet)

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


def add_chunk(live: LiveSound | None, chunk, *, seconds: float = LIVE_SECONDS) -> LiveSound:
    """``live`` with ``chunk`` (Gradio's ``(rate, array)``) appended, cut to its last
    ``seconds``; a chunk at another rate starts a new window.

    Raises:
        AudioError: the chunk is not a sound (the message says what is accepted).
    """
    sound = load_sound(chunk)  # the page's decoding: integers to [-1, 1), channels averaged
    keep = max(1, int(round(seconds * sound.rate)))
    if live is None or live.rate != sound.rate:
        return LiveSound(sound.rate, sound.samples[-keep:])
    samples = np.concatenate([live.samples, sound.samples])[-keep:]  # [n] bounded by keep
    return dataclasses.replace(live, samples=samples)


def is_due(live: LiveSound | None, now: float, *, every: float = REDRAW_SECONDS) -> bool:
    """Whether ``live`` should be drawn at ``now`` (``time.monotonic()``): enough sound for a
    first picture, and ``every`` seconds since the last one (:func:`drawn` marks a picture)."""
    if live is None or live.seconds < FIRST_SECONDS:
        return False
    return live.drawn_at is None or now - live.drawn_at >= every


def drawn(live: LiveSound, now: float) -> LiveSound:
    """``live`` with a picture drawn at ``now``."""
    return dataclasses.replace(live, drawn_at=now)


@dataclass(frozen=True)
class LiveView:
    """What the live panel shows for one window of sound."""

    image: np.ndarray | None  # uint8 [H, W, 3]: the mapped edit (None before enough sound)
    verdict: str  # Markdown: "Hearing **rain**", or why the world does not know the sound
    seconds: float  # the edit's own time (0 when none ran)


def live_edit(
    bundle, live: LiveSound | None, *, seed: int, gain_db: float = 0.0, **settings
) -> LiveView:
    """The world's instant edit of the sound in ``live`` from ``seed``'s start (``settings``:
    EditConfig fields such as ``truncation``), or a view that says why there is none. A window
    not yet full is looped to its length: the front end would pad it with silence, and the
    first seconds of rain would be heard as a short sound in a quiet room."""
    if getattr(bundle, "mapper", None) is None:
        return LiveView(None, NO_MAPPER, 0.0)
    if live is None or live.seconds < FIRST_SECONDS:
        return LiveView(None, LISTENING, 0.0)
    window = fit_length(live.samples, int(round(LIVE_SECONDS * live.rate)), mode="loop")
    request = EditRequest.of(audio=(live.rate, window), seed=seed, gain_db=gain_db, **settings)
    result = instant_edit(bundle, request)
    report = result.report
    return LiveView(result.images["sound"], verdict(bundle, report.recognition), report.seconds)


def verdict(bundle, recognition: Recognition | None) -> str:
    """Plain words for what the world heard: "Hearing **rain**", a non-sound or an unknown
    sound (the edit's own notices), or "" for a world without a recogniser."""
    if recognition is None:
        return ""
    if recognition.signal is not None:
        return "⚠️ " + non_sound_message(bundle, recognition.signal["description"])
    if not recognition.known:
        return "⚠️ " + unknown_sound_message(bundle, recognition, scores=False)
    return f"Hearing **{recognition.event}**"
