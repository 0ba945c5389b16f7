"""Panel 2, the world and the starting image: the world, its state, the source (a seed, a
latent file or a photo) and the picture the edit starts from."""

from __future__ import annotations

import gradio as gr

from demo.form import new_seed
from demo.handlers import WORLD_OUTPUTS
from demo.page.common import canvas, setting_widgets
from demo.worlds import WorldCatalog, about, describe

SOURCE_CHOICES = [
    ("Random seed", "seed"),
    ("Seed, any scene", "drawn"),
    ("Latent file", "latent"),
    ("Photo (projected)", "photo"),
]


def panel(ui: dict, catalog: WorldCatalog, worlds: dict, default: str | None) -> None:
    gr.Markdown("### 2 · World and starting image")
    ui["world"] = gr.Dropdown(
        choices=[(w.label, w.name) for w in worlds.values()],
        value=default,
        label="World",
        elem_id="world",
    )
    status = describe(worlds[default]) if default else "No worlds are installed."
    ui["world_status"] = gr.Markdown(status, elem_id="world-status")
    with gr.Accordion("About this world", open=False, elem_id="world-about-fold"):
        ui["world_about"] = gr.Markdown(
            about(worlds[default]) if default else "", elem_id="world-about"
        )
    ui["source"] = gr.Radio(SOURCE_CHOICES, value="seed", label="Start from")
    with gr.Row():
        # no minimum/maximum here: the handler checks the range shared with the CLI and says so
        ui["seed"] = gr.Number(value=0, precision=0, label="Seed (0 … 4294967295)")
        ui["new_seed"] = gr.Button("New random", scale=0, min_width=120)
    setting_widgets(ui, "start")  # the truncation
    ui["latent_file"] = gr.File(
        label="Latent file (.pt, .npy, .safetensors: W or W+)",
        file_types=[".pt", ".pth", ".npy", ".safetensors"],
        type="filepath",
        visible=False,
    )
    # gr.File, not gr.Image: gr.Image would decode the upload before our size check (a 420 kB
    # PNG can unpack to 2 GB) and would answer a bad file with "Could not preprocess ...".
    ui["photo"] = gr.File(
        label="Photo to project (PNG, JPEG, WebP …)",
        file_types=["image"],
        type="filepath",
        visible=False,
        elem_id="photo",
    )
    ui["source_image"] = canvas("Starting image", 256, elem_id="source-image")


def wire(demo: gr.Blocks, ui: dict, h) -> None:
    """The world's settings, the starting image, the source widgets."""
    source_inputs = [
        ui["world"], ui["source"], ui["seed"], ui["truncation"], ui["latent_file"], ui["photo"]
    ]  # fmt: skip
    show_source = {
        "fn": h.show_source,
        "inputs": source_inputs,
        "outputs": ui["source_image"],
        "api_visibility": "private",
        "trigger_mode": "always_last",
        "show_progress": "minimal",
    }
    world_event = {
        "fn": h.select_world,
        "inputs": ui["world"],
        "outputs": [ui[n] for n in WORLD_OUTPUTS],
        "api_visibility": "private",
    }
    # Worlds whose weights arrived since the server started become ready on a page reload.
    demo.load(
        lambda: gr.update(choices=h.catalog.choices()),
        None,
        ui["world"],
        api_visibility="private",
        queue=False,
    ).then(**world_event).then(**show_source)
    ui["world"].input(**world_event).then(**show_source)
    ui["new_seed"].click(new_seed, None, ui["seed"], api_visibility="private")
    source_events = (ui["seed"].change, ui["truncation"].release, ui["latent_file"].change)
    for event in (*source_events, ui["photo"].change):
        event(**show_source)
    ui["source"].change(
        _source_visibility,
        ui["source"],
        [ui["seed"], ui["new_seed"], ui["truncation"], ui["latent_file"], ui["photo"]],
        api_visibility="private",
    ).then(**show_source)


def _source_visibility(source: str):
    seed = source in ("seed", "drawn")
    return (
        gr.update(visible=seed),
        gr.update(visible=seed),
        gr.update(visible=seed),
        gr.update(visible=source == "latent"),
        gr.update(visible=source == "photo"),
    )
