"""The live microphone's plain functions: the bounded window, when to redraw, the mapped edit
of the window (the same as a file's), and the verdict in words."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest
import torch

from demo.handlers import Handlers
from demo.microphone import (
    FIRST_SECONDS,
    LISTENING,
    LIVE_SECONDS,
    NO_MAPPER,
    REDRAW_SECONDS,
    add_chunk,
    drawn,
    is_due,
    live_edit,
    verdict,
)
from demo.page.microphone import listener
from demo.session import Sessions
from demo.worlds import WorldCatalog
from soundedit.edit.pipeline import instant_edit
from soundedit.edit.report import Recognition
from soundedit.errors import AudioError
from soundedit.mapper import new_mapper
from soundedit.settings import EditRequest

RATE = 48_000


def chunk(seconds: float, *, seed: int = 0, channels: int = 2) -> tuple[int, np.ndarray]:
    """A browser microphone's chunk: 48 kHz int16 [n, channels]."""
    rng = np.random.default_rng(seed)
    samples = rng.integers(-8000, 8000, size=(int(seconds * RATE), channels), dtype=np.int16)
    return RATE, samples


def moving_mapper(bundle):
    """A mapper whose head is random (an untrained one changes nothing)."""
    mapper = new_mapper(bundle, hidden=32, depth=2)
    torch.manual_seed(3)
    torch.nn.init.normal_(mapper.head.weight, std=0.05)
    return mapper.eval()


def test_the_window_keeps_the_latest_seconds_in_mono():
    live = None
    for k in range(int(2 * LIVE_SECONDS / 0.5)):  # twice the window, in half seconds
        live = add_chunk(live, chunk(0.5, seed=k))
    assert live.rate == RATE and live.samples.dtype == np.float32 and live.samples.ndim == 1
    assert len(live.samples) == int(LIVE_SECONDS * RATE)
    last = chunk(0.5, seed=k)[1].astype(np.float32).mean(axis=1) / 32768.0  # channels averaged
    np.testing.assert_allclose(live.samples[-len(last) :], last, atol=1e-6)


def test_a_chunk_at_another_rate_starts_a_new_window():
    live = add_chunk(None, chunk(2.0))
    other = add_chunk(live, (16_000, np.zeros(1600, dtype=np.int16)))
    assert other.rate == 16_000 and len(other.samples) == 1600


def test_a_broken_chunk_is_refused_in_words():
    with pytest.raises(AudioError):
        add_chunk(None, (RATE, np.array([[np.nan, 0.0]])))


def test_a_picture_is_due_after_the_first_seconds_then_twice_a_second():
    short = add_chunk(None, chunk(FIRST_SECONDS / 2))
    assert not is_due(short, 100.0) and not is_due(None, 100.0)
    live = add_chunk(short, chunk(FIRST_SECONDS))
    assert is_due(live, 100.0)
    live = drawn(live, 100.0)
    assert not is_due(live, 100.0 + REDRAW_SECONDS / 2)
    assert is_due(add_chunk(live, chunk(0.1)), 100.0 + REDRAW_SECONDS)


def test_the_live_picture_is_the_instant_edit_of_the_window(make_bundle):
    bundle = make_bundle()
    assert live_edit(bundle, add_chunk(None, chunk(2.0)), seed=3).verdict == NO_MAPPER
    bundle.mapper = moving_mapper(bundle)
    assert live_edit(bundle, None, seed=3).verdict == LISTENING
    live = add_chunk(None, chunk(LIVE_SECONDS))
    view = live_edit(bundle, live, seed=3, gain_db=-6.0, truncation=0.5)
    request = EditRequest.of(audio=(live.rate, live.samples), seed=3, gain_db=-6.0, truncation=0.5)
    expected = instant_edit(bundle, request).images["sound"]
    np.testing.assert_array_equal(view.image, expected)
    source = instant_edit(bundle, request).images["source"]
    assert not np.array_equal(view.image, source)  # the mapper moved it
    assert view.seconds > 0
    short = add_chunk(None, chunk(2.0))  # a window not yet full is heard looped
    looped = (short.rate, np.concatenate([short.samples, short.samples]))
    expected = instant_edit(bundle, EditRequest.of(audio=looped, seed=3)).images["sound"]
    np.testing.assert_array_equal(live_edit(bundle, short, seed=3).image, expected)
    padded = instant_edit(bundle, EditRequest.of(audio=(short.rate, short.samples), seed=3))
    assert not np.array_equal(padded.images["sound"], expected)


def test_the_verdict_says_what_was_heard():
    bundle = SimpleNamespace(known_sounds=("rain", "wind"))
    known = Recognition(event="rain", score=0.9, threshold=0.5, known=True)
    assert verdict(bundle, known) == "Hearing **rain**"
    unknown = Recognition(event="wind", score=0.1, threshold=0.5, known=False)
    said = verdict(bundle, unknown)
    assert "none of them" in said and "closest: wind" in said
    tone = Recognition(
        "wind", 0.9, 0.5, False, signal={"kind": "tone", "description": "a steady 440 Hz tone"}
    )
    assert "a steady 440 Hz tone" in verdict(bundle, tone)
    assert verdict(bundle, None) == ""


def test_the_stream_handler_draws_when_due_and_says_a_refusal(tiny_bundle, tmp_path):
    tiny_bundle.mapper = moving_mapper(tiny_bundle)
    try:
        times = iter([10.0, 10.0, 10.0 + REDRAW_SECONDS / 2, 11.0])
        handlers = Handlers(WorldCatalog(default="tiny"), Sessions(tmp_path / "s"))
        listen = listener(handlers, clock=lambda: next(times))
        form = ("tiny", 3, 0.7, 0.0)  # world, seed, truncation, volume
        picture, said, live = listen(chunk(FIRST_SECONDS / 2), None, *form)
        assert picture == said == gr.skip()  # nothing to draw yet
        picture, said, live = listen(chunk(FIRST_SECONDS), live, *form)
        assert picture.shape == (16, 16, 3) and live.drawn_at is not None
        picture, _, live = listen(chunk(0.1), live, *form)  # at once again: not due
        assert picture == gr.skip() and live.seconds > FIRST_SECONDS
        picture, said, kept = listen((RATE, np.array([[np.nan, 0.0]])), live, *form)
        assert said.startswith("⚠️ ") and picture == gr.skip() and kept is live
    finally:
        tiny_bundle.mapper = None
