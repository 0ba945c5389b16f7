"""The live microphone panel: stream the microphone, and the picture follows the last seconds
of sound (the world's mapped edit, :mod:`demo.microphone`), about twice a second."""

from __future__ import annotations

import time

import gradio as gr

from demo.errors import plain_message, to_user_error
from demo.form import clamp_seed
from demo.microphone import LISTENING, add_chunk, drawn, is_due, live_edit
from demo.page.common import WATCH_HEIGHT, canvas

STREAM_EVERY = 0.5  # s: what the event asks for (Gradio 6's page sends a chunk every 0.1 s)
TIME_LIMIT = 600  # s: one live session at most (Start again to go on)
# The sound as the microphone hears it: a browser's default capture is tuned for calls, and its
# noise suppression takes rain, wind and the sea for noise (through Chromium's, a real rain
# recording came out 6-13 dB quieter per band after its first half second, its texture gated,
# and was heard as lightning or birds). Gradio asks for {audio: true}; the page asks for the
# same microphone with echo cancellation, noise suppression and automatic gain off (a device
# the visitor picked is kept). Runs in the browser when the page loads.
RAW_MICROPHONE = """() => {
    const devices = navigator.mediaDevices;
    if (!devices || devices.__rawMicrophone) return [];
    const raw = {echoCancellation: false, noiseSuppression: false, autoGainControl: false};
    const ask = devices.getUserMedia.bind(devices);
    devices.getUserMedia = (wanted) => {
        const audio = wanted && wanted.audio;
        if (!audio) return ask(wanted);
        return ask({...wanted, audio: audio === true ? raw : {...raw, ...audio}});
    };
    devices.__rawMicrophone = true;
    return [];
}"""
INTRO = (
    "Press the microphone's record button and make a sound (or hold a phone playing rain to "
    "it): the picture follows the last few seconds of what it hears, without pressing **Run**."
)


def panel(ui: dict) -> None:
    """The live fold: the streamed microphone, the picture it draws, the verdict."""
    fold = "Live microphone: the picture follows what it hears"
    with gr.Accordion(fold, open=False, elem_id="mic-fold"):
        gr.Markdown(INTRO)
        ui["mic_live"] = gr.Audio(
            sources=["microphone"],
            type="numpy",
            streaming=True,
            label="Live microphone",
            elem_id="mic-live",
        )
        ui["mic_picture"] = canvas("Live picture", WATCH_HEIGHT, elem_id="mic-picture")
        ui["mic_verdict"] = gr.Markdown("", elem_id="mic-verdict")
        ui["mic_state"] = gr.State(None)  # the latest seconds of sound (a LiveSound)


def wire(demo: gr.Blocks, ui: dict, h) -> None:
    """Each streamed chunk redraws the picture; a new recording starts a new window. Every
    microphone of the page records the raw sound (``RAW_MICROPHONE``)."""
    demo.load(None, None, None, js=RAW_MICROPHONE, queue=False, api_visibility="private")
    ui["mic_live"].start_recording(
        _start,
        None,
        [ui["mic_state"], ui["mic_verdict"]],
        api_visibility="private",
        queue=False,
        show_progress="hidden",
    )
    inputs = ["mic_live", "mic_state", "world", "seed", "truncation", "gain_db"]
    ui["mic_live"].stream(
        listener(h),
        [ui[n] for n in inputs],
        [ui["mic_picture"], ui["mic_verdict"], ui["mic_state"]],
        stream_every=STREAM_EVERY,
        time_limit=TIME_LIMIT,
        api_visibility="private",
        show_progress="hidden",
        concurrency_limit=4,  # one forward pass each: light enough to run beside an edit
    )


def _start():
    return None, LISTENING


def listener(h, *, clock=time.monotonic):
    """The stream handler: the chunk joins the session's window; the window is edited when a
    redraw is due (:func:`demo.microphone.is_due`).

    A sound the library refuses (a broken chunk) is said in the verdict and the stream goes
    on; anything else is a bug and ends it with the usual plain error. ``clock`` gives the
    time in seconds (tests pass their own).
    """

    def listen(chunk, live, world, seed, truncation, gain_db):
        if chunk is None:
            return gr.skip(), gr.skip(), live
        try:
            live, now = add_chunk(live, chunk), clock()
            if not is_due(live, now):
                return gr.skip(), gr.skip(), live
            live = drawn(live, now)
            view = live_edit(
                h.bundle(world), live, seed=clamp_seed(seed), gain_db=float(gain_db or 0.0),
                truncation=truncation,
            )  # fmt: skip
        except Exception as e:
            message = plain_message(e)
            if message is None:
                raise to_user_error(e) from None
            return gr.skip(), "⚠️ " + message, live
        picture = gr.skip() if view.image is None else view.image
        return picture, view.verdict, live

    return listen
