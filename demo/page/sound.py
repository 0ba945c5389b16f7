"""Panel 1, the sound: record or upload, the volume and the instant preview it changes, a
second sound, what the model hears, examples."""

from __future__ import annotations

import gradio as gr

from demo.handlers import INSTANT_INPUTS, INSTANT_OUTPUTS
from demo.instant import INSTANT_CONCURRENCY, INSTANT_QUEUE
from demo.page.common import gpu, instant_canvas
from demo.sound import example_label, example_sounds

# dB: the slider's range, the part of the library's (-120 … +40) where sounds go from inaudible to
# clipping; a narrower range gives each dB more of the slider to drag through.
VOLUME_DB = (-60, 20)


def panel(ui: dict) -> None:
    gr.Markdown("### 1 · Sound")
    ui["sound"] = gr.Audio(
        sources=["upload", "microphone"],
        type="filepath",
        label="Sound (record or upload)",
        elem_id="sound",
    )
    ui["gain_db"] = gr.Slider(*VOLUME_DB, value=0, step=1, label="Volume (dB)", elem_id="gain")
    # Shown once there is a sound (worlds with a mapper only), under the slider that drives it,
    # so that both are in view while dragging, on a phone too.
    instant_canvas(ui, "instant", "instant")
    with gr.Accordion("Mix in a second sound", open=False):
        ui["sound2"] = gr.Audio(
            sources=["upload", "microphone"], type="filepath", label="Second sound"
        )
        ui["mix"] = gr.Slider(0, 1, value=0.5, step=0.05, label="Mix (0 = first, 1 = second)")
    ui["heard"] = gr.Audio(
        label="What the model hears",
        interactive=False,
        type="numpy",
        elem_id="heard",
    )
    ui["heard_note"] = gr.Markdown("", elem_id="heard-note")
    _examples(ui)


def _examples(ui: dict) -> None:
    sounds = example_sounds()
    pictures = [p.with_suffix(".png") for p in sounds]
    if sounds and all(p.is_file() for p in pictures):
        # Each example sound has a picture of the scene it was synthesised from. The caption is a
        # Markdown line above, not the gallery's label, which would sit over the first row.
        gr.Markdown(
            "**Example sounds** — click one to use it (the picture is the scene it came from)",
            elem_id="examples-caption",
        )
        ui["examples"] = gr.Gallery(
            value=[(str(p), example_label(s)) for p, s in zip(pictures, sounds, strict=True)],
            label="Example sounds", show_label=False, columns=3, height="auto",
            allow_preview=False, object_fit="cover", buttons=[], interactive=False,
            elem_id="examples",
        )  # fmt: skip
        ui["examples"].select(_example_picker(sounds), None, ui["sound"], api_visibility="private")
    elif sounds:
        gr.Examples(
            examples=[[str(p)] for p in sounds],
            inputs=[ui["sound"]],
            example_labels=[example_label(p) for p in sounds],
            label="Example sounds — click one to use it",
            examples_per_page=12,
        )


def wire(ui: dict, h) -> None:
    """What the model hears, whether the world knows it, and the instant preview."""
    shaping = [ui["world"], ui["sound"], ui["sound2"], ui["mix"], ui["gain_db"]]
    shaping_events = (ui["sound"].change, ui["sound2"].change, ui["mix"].release)
    for event in (*shaping_events, ui["gain_db"].release):
        event(
            h.hear,
            shaping,
            [ui["heard"], ui["heard_note"]],
            trigger_mode="always_last",
            api_visibility="private",
            show_progress="minimal",
        )
    wire_instant(ui, h)


def wire_instant(ui: dict, h) -> None:
    """The instant previews (under the volume, and beside the words in the modes that use
    them) follow every input of the edit while it changes: the sliders and the words on each
    move (``.input``), the rest when set. One event for all of them, so that with
    ``always_last`` a dragging visitor has at most one preview being made and one waiting (the
    latest values; those in between are dropped), in a queue of its own beside Run's.
    """
    moving = ("gain_db", "mix", "blend", "mix_layer", "truncation", "text")
    set_once = ("world", "sound", "sound2", "mode", "source", "seed", "latent_file")
    triggers = [ui[n].input for n in moving if n in ui] + [ui[n].change for n in set_once]
    names_of = {ui[name]: name for name in INSTANT_INPUTS}

    def instant(values: dict):
        return h.instant({names_of[c]: v for c, v in values.items()})

    gr.on(
        triggers,
        gpu(instant, duration=20),
        set(names_of),
        [ui[n] for n in INSTANT_OUTPUTS],
        trigger_mode="always_last",
        concurrency_limit=INSTANT_CONCURRENCY,
        concurrency_id=INSTANT_QUEUE,
        show_progress="hidden",
        api_visibility="private",
    )


def _example_picker(sounds):
    def pick(evt: gr.SelectData) -> str:
        return str(sounds[evt.index])

    return pick
