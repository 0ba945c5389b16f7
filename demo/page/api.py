"""The /edit endpoint's hidden inputs and outputs, and its wiring."""

from __future__ import annotations

import gradio as gr

from demo.page.common import ENGINE_QUEUE, default_concurrency, gpu

API_FILE_OUTPUTS = ("api_image",)  # the /edit outputs that Gradio writes as files


def panel(ui: dict, default_world: str | None) -> None:
    """Hidden inputs/outputs of the /edit endpoint: each input has a name and a default."""
    ui["api_world"] = gr.Textbox(value=default_world or "", visible=False, label="world")
    ui["api_seed"] = gr.Number(value=0, precision=0, visible=False, label="seed")
    ui["api_steps"] = gr.Number(value=0, precision=0, visible=False, label="steps")
    ui["api_text"] = gr.Textbox(value="", visible=False, label="text")
    ui["api_mode"] = gr.Textbox(value="sound", visible=False, label="mode")
    ui["api_image"] = gr.Image(visible=False, format="png", label="image")
    ui["api_report"] = gr.JSON(visible=False, label="report")
    ui["api_button"] = gr.Button(visible=False)


def wire(ui: dict, h) -> None:
    """/edit: only the sound is needed, every other input has a default."""
    inputs = ["sound", "api_world", "api_seed", "api_steps", "api_text", "api_mode"]
    ui["api_button"].click(
        gpu(h.api_edit),
        [ui[n] for n in inputs],
        [ui["api_image"], ui["api_report"]],
        api_name="edit",
        api_description=(
            "Edit an image with a sound. Inputs: sound file; optional: world name (default "
            "the app's), seed (0), steps (0 = the world's default), text (for text/mix/blend), "
            "mode (sound|text|mix|blend). Streams (preview image, progress JSON); the last "
            "output is (final image, report JSON)."
        ),
        concurrency_limit=default_concurrency(),
        concurrency_id=ENGINE_QUEUE,
    )
