"""Panel 3, the guidance: sound, words or both, and the optimisation settings."""

from __future__ import annotations

import gradio as gr

from demo.page.common import instant_canvas, setting_widgets

GUIDANCE_CHOICES = [
    ("Sound only", "sound"),
    ("Text only", "text"),
    ("Sound for the layout, words for the details (style mixing)", "mix"),
    ("Sound and words blended", "blend"),
]


def panel(ui: dict) -> None:
    gr.Markdown("### 3 · Guidance")
    ui["mode"] = gr.Radio(GUIDANCE_CHOICES, value="sound", label="Guide the edit by")
    ui["text"] = gr.Textbox(
        label="Text", placeholder="e.g. heavy rain at night", visible=False, elem_id="text"
    )
    setting_widgets(ui, "guidance")  # the mix layer, shown in the mix mode
    ui["blend"] = gr.Slider(
        0,
        1,
        value=0.5,
        step=0.05,
        label="Blend (1 = only sound, 0 = only text)",
        visible=False,
        elem_id="blend",
    )
    # The instant preview again, beside the words, the blend and the hand-over layer that move it
    # (in the modes with words): the one under the volume is a screen away on a phone, and
    # scrolled off on a wide one.
    instant_canvas(ui, "instant_words", "instant-words")
    with gr.Accordion("Optimisation settings (defaults suit the world)", open=False):
        setting_widgets(ui, "optimisation")


def wire(ui: dict) -> None:
    """The words, the mix layer and the blend are shown in the modes that use them."""
    ui["mode"].change(
        _mode_visibility,
        ui["mode"],
        [ui["text"], ui["mix_layer"], ui["blend"]],
        api_visibility="private",
    )


def _mode_visibility(mode: str):
    return (
        gr.update(visible=mode != "sound"),
        gr.update(visible=mode == "mix"),
        gr.update(visible=mode == "blend"),
    )
