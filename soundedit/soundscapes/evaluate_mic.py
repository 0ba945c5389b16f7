"""The microphone path: real clips played into a browser microphone, heard as the page hears
them (``soundscapes eval --real DIR`` reports it; tests/soundscapes/test_real_audio.py guards it).

Fourteen in-world clips of the held-out fold (the first :data:`PER_EVENT` of each event, in the
dataset's order) are played in a room and captured as a browser hands a recording to the app,
then heard through the page's own path:

1. **capture** (:func:`browser_capture`, one :class:`BrowserCapture`): resampled to 48 kHz,
   played at ``level_db``, a reverberant room, AGC-like level changes (a smooth random gain
   that swings within +-``agc_db`` every ``agc_seconds``), two channels with slightly different
   gains and their own noise floor (pink, ``noise_floor_db`` dBFS RMS), 16-bit samples;
2. **the page** (:func:`heard_on_the_page`): the capture as the WAV file a browser recording
   arrives as, shaped exactly as an edit shapes it (:func:`~soundedit.edit.targets.shape_sound`:
   channels averaged, integers to float), the signal check, the world's audio encoder (its front
   end resamples to 16 kHz) and recogniser: what the page then says ("Heard as rain").

A clip is heard right when the world names its event and calls it known; the same clips as
16-bit files at their own 16 kHz are the figure to match (``files_right``). :data:`CAPTURES`
names the chains measured: ``room`` (a quiet room, the default) and ``loud-floor`` (a -30 dBFS
white floor, the chain of the first microphone tests); any other chain, such as one from
:mod:`soundedit.audio.recording`, can be passed as a function.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import soundfile
from scipy import signal

from soundedit.audio.io import resample
from soundedit.audio.recording import reverb
from soundedit.audio.signal import check_signal
from soundedit.edit.report import Notices, Recognition
from soundedit.edit.targets import recognise_sound, shape_sound, sound_embedding
from soundedit.errors import ConfigError
from soundedit.soundscapes.params import CLASSES
from soundedit.soundscapes.realworld import RATE, RealClip

PER_EVENT = 2  # clips of each event played through the microphone
MIC_SEED = 70_000  # seeds the rooms, floors and gain swings (clip k uses MIC_SEED + k)
Capture = Callable[[np.ndarray, int, np.random.Generator], tuple[int, np.ndarray]]


@dataclass(frozen=True)
class BrowserCapture:
    """One way a sound reaches the page through a browser microphone (see the module doc)."""

    rate: int = 48_000  # what the browser records at
    level_db: float = -6.0  # the sound's level into the room, against its own
    rt60: float = 0.4  # the room's reverb time in seconds
    wet: float = 0.35  # reverb mix (0 dry)
    noise_floor_db: float = -50.0  # the room's and the microphone's noise, dBFS RMS
    pink_floor: bool = True  # the floor's colour: pink (room tone) or white (hiss)
    agc_db: float = 6.0  # AGC-like gain swings within +-agc_db (0: a steady level)
    agc_seconds: float = 1.0  # time between two of the gain's random targets
    channel_db: float = 1.0  # the second channel is up to this much quieter

    def __post_init__(self):
        if self.rate < 8_000 or self.rt60 <= 0 or not 0 <= self.wet <= 1:
            raise ConfigError(
                f"browser capture: rate {self.rate} (>= 8000), rt60 {self.rt60} (> 0), wet "
                f"{self.wet} (0..1) out of range"
            )
        if self.agc_db < 0 or self.agc_seconds <= 0 or self.channel_db < 0:
            raise ConfigError("browser capture: agc_db and channel_db >= 0, agc_seconds > 0")


CAPTURES = {
    "room": BrowserCapture(),
    "loud-floor": BrowserCapture(noise_floor_db=-30.0, pink_floor=False, agc_db=0.0),
}


def browser_capture(
    samples: np.ndarray, rate: int, rng: np.random.Generator, chain: BrowserCapture
) -> tuple[int, np.ndarray]:
    """``samples`` (float [n] at ``rate``) as a browser records them: ``(chain.rate, int16
    [m, 2])``."""
    x = resample(np.asarray(samples, dtype=np.float32), rate, chain.rate).astype(np.float64)
    x = x * _gain(chain.level_db)
    x = reverb(x, chain.rate, rt60=chain.rt60, wet=chain.wet, rng=rng)
    x = x * gain_swings(len(x), chain.rate, rng, db=chain.agc_db, every=chain.agc_seconds)
    channels = []
    for gain in (1.0, _gain(-rng.uniform(0.0, chain.channel_db))):
        floor = noise_floor(len(x), rng, pink=chain.pink_floor) * _gain(chain.noise_floor_db)
        channels.append(x * gain + floor)
    stereo = np.clip(np.stack(channels, axis=1), -1.0, 1.0 - 1 / 32768)  # [m, 2]
    return chain.rate, np.round(stereo * 32768).astype(np.int16)


def gain_swings(n: int, rate: int, rng: np.random.Generator, *, db: float, every: float):
    """A smooth gain [n]: random targets within +-``db`` dB every ``every`` s, joined by
    straight lines in dB (an automatic gain control chasing the level)."""
    if db == 0:
        return np.ones(n)
    knots = np.arange(0.0, n / rate + every, every)  # [k] s
    targets_db = rng.uniform(-db, db, size=len(knots))
    return _gain(np.interp(np.arange(n) / rate, knots, targets_db))


def noise_floor(n: int, rng: np.random.Generator, *, pink: bool) -> np.ndarray:
    """Noise [n] of RMS 1: pink (-3 dB per octave, Kellet's filter) or white."""
    noise = rng.standard_normal(n)
    if pink:
        b = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
        a = [1.0, -2.494956002, 2.017265875, -0.522189400]
        noise = signal.lfilter(b, a, noise)
    return noise / (np.sqrt(np.mean(noise**2)) + 1e-12)


def heard_on_the_page(bundle, recording: tuple[int, np.ndarray]) -> Recognition:
    """What the page says of a browser recording ``(rate, int16 [m, channels])``: decoded from
    the WAV file it arrives as and shaped as every edit shapes a sound."""
    rate, samples = recording
    wav = io.BytesIO()
    soundfile.write(wav, samples, rate, format="WAV", subtype="PCM_16")
    shaped = shape_sound(wav.getvalue())
    non_sound = check_signal(shaped.samples, shaped.rate)
    return recognise_sound(bundle, sound_embedding(bundle, shaped), Notices(), non_sound)


def microphone_clips(inside: list[RealClip], per_event: int = PER_EVENT) -> list[RealClip]:
    """The fixed choice: the first ``per_event`` clips of each event, events in world order."""
    chosen = []
    for event in CLASSES:
        chosen += [c for c in inside if c.event == event][:per_event]
    return chosen


def microphone_figures(
    bundle, inside: list[RealClip], *, capture: str | Capture = "room", seed: int = MIC_SEED
) -> dict:
    """How many of :func:`microphone_clips` the page hears right through ``capture`` (a name
    of :data:`CAPTURES` or a function ``(samples, rate, rng) -> (rate, int16 [m, c])``)."""
    record = _capture(capture)
    clips = microphone_clips(inside)
    rows = []
    for k, clip in enumerate(clips):
        rng = np.random.default_rng(seed + k)
        heard = heard_on_the_page(bundle, record(clip.samples, RATE, rng))
        rows.append(
            {"clip": clip.name, "event": clip.event, "heard": heard.event, "known": heard.known}
        )
    right = sum(r["heard"] == r["event"] and r["known"] for r in rows)
    as_files = [heard_on_the_page(bundle, (RATE, _int16(c.samples))) for c in clips]
    return {
        "capture": capture if isinstance(capture, str) else getattr(capture, "__name__", "custom"),
        "heard_right": right,
        "event_right": sum(r["heard"] == r["event"] for r in rows),
        "clips": len(rows),
        "files_right": sum(
            h.event == c.event and h.known for h, c in zip(as_files, clips, strict=True)
        ),
        "by_clip": rows,
    }


def _int16(samples: np.ndarray) -> np.ndarray:
    """A clip as a 16-bit file holds it."""
    return np.round(np.clip(samples, -1.0, 1.0 - 1 / 32768) * 32768).astype(np.int16)


def _capture(capture: str | Capture) -> Capture:
    if callable(capture):
        return capture
    if capture not in CAPTURES:
        raise ConfigError(
            f"unknown microphone capture {capture!r}; known: {', '.join(sorted(CAPTURES))}"
        )
    chain = CAPTURES[capture]
    return lambda samples, rate, rng: browser_capture(samples, rate, rng, chain)


def format_microphone(figures: dict) -> str:
    """One line: "microphone path (room): 11 of 14 heard right (11 by event alone; as files:
    11); missed: …"."""
    missed = [
        f"{r['event']}→{r['heard']}{'' if r['known'] else ' (unknown)'}"
        for r in figures["by_clip"]
        if not (r["heard"] == r["event"] and r["known"])
    ]
    return (
        f"microphone path ({figures['capture']}): {figures['heard_right']} of {figures['clips']}"
        f" heard right ({figures['event_right']} by event alone; as files: "
        f"{figures['files_right']})" + (f"; missed: {', '.join(missed)}" if missed else "")
    )


def _gain(db):
    return 10.0 ** (np.asarray(db, dtype=np.float64) / 20.0)


__all__ = [
    "CAPTURES",
    "BrowserCapture",
    "browser_capture",
    "format_microphone",
    "heard_on_the_page",
    "microphone_clips",
    "microphone_figures",
]
