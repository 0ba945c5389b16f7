"""Panel 5, the results: the pictures a run made, the interpolation slider, the downloads, the
command line and the report; and the fold on how it works."""

from __future__ import annotations

import gradio as gr

from demo.page.common import canvas

HOWTO = """\
**How it works.** An audio encoder trained to share CLIP's embedding space turns the sound into
a direction; the image's StyleGAN2 latent is optimised (Adam, W+) until CLIP sees that direction
in the picture, while a regulariser with adaptive per-layer masking keeps it near the start
(Lee et al., CVPR 2022; the hinge form is from the 2023 Robust follow-up). Style mixing takes
the coarse layers from the sound-guided latent and the fine ones from the text-guided one.

**Reproduce.** The downloads hold every setting (`settings.json`) and the command line that
repeats the edit with the `soundedit` CLI.

**From Python** (the `/edit` endpoint streams previews, then gives the image and a report):

```python
from gradio_client import Client, handle_file

client = Client("http://127.0.0.1:7860/")
image_path, report = client.predict(handle_file("rain.wav"), api_name="/edit")  # your sound

job = client.submit(handle_file("rain.wav"), world="soundscapes", seed=0, steps=100,
                    text="", mode="sound", api_name="/edit")
for image_path, progress in job:  # previews, then the final image and its report
    if "step" in progress:        # a preview's progress: {"step", "similarity", ...}
        print(progress["step"], progress["similarity"])
image_path, report = job.result()
```
"""


def panel(ui: dict) -> None:
    with gr.Column(visible=False, elem_id="results") as results:  # shown once there is a result
        _content(ui)
    ui["results"] = results
    with gr.Accordion("How it works · reproduce · use from Python", open=False):
        gr.Markdown(HOWTO)
    ui["state"] = gr.State(None)


def _content(ui: dict) -> None:
    gr.Markdown("### 5 · Results")
    with gr.Row():
        for key, label in (
            ("out_source", "Start"),
            ("out_sound", "Sound-guided"),
            ("out_text", "Text-guided"),
            ("out_mixed", "Mixed"),
        ):  # only the ones a run made are shown
            ui[key] = canvas(label, 200, visible=False, elem_id=f"result-{key[4:]}")
    with gr.Row():
        with gr.Column():
            ui["interp"] = gr.Slider(
                0,
                2,
                value=1,
                step=0.05,
                interactive=False,
                elem_id="interp",
                label="Interpolate: source (0) ↔ sound (1) ↔ text (2)",
            )
            ui["interp_image"] = canvas("Interpolated", 256)
        with gr.Column():
            ui["files"] = gr.File(label="Downloads", file_count="multiple", interactive=False)
            ui["command"] = gr.Code(
                label="Reproduce with the command line",
                language="shell",
                interactive=False,
                wrap_lines=True,
                elem_id="command",
            )
    with gr.Accordion("Report (JSON)", open=False):
        ui["report"] = gr.JSON(label="Report")


def wire(ui: dict, h) -> None:
    """The interpolation slider."""
    ui["interp"].input(
        h.interpolate,
        [ui["state"], ui["interp"]],
        ui["interp_image"],
        trigger_mode="always_last",
        api_visibility="private",
        show_progress="hidden",
        concurrency_limit=4,
    )
