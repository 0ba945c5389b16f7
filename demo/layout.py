"""The page: layout of the Blocks and the wiring of its events to :mod:`demo.handlers`."""

from __future__ import annotations

import functools
import os

import gradio as gr

from demo.api import guard_api_inputs
from demo.form import MAX_STEPS
from demo.form import new_seed as new_seed_fn
from demo.handlers import RUN_INPUTS, RUN_OUTPUTS, WORLD_OUTPUTS, Handlers
from demo.session import start_cache_sweeper, sweep_gradio_cache
from demo.sound import example_label, example_sounds
from demo.worlds import WorldCatalog, about, describe
from soundedit.audio.shape import GAIN_DB_RANGE

TITLE = "soundedit — play a sound, watch the picture become it"
INTRO = """\
# soundedit: edit an image with a sound
Record or upload a sound (or click an example), pick a world, press **Run** and watch the picture
change step by step until it *looks like the sound*: rain makes the scene rainy, thunder brings
lightning, a crackle lights a fire. Louder sounds make stronger edits. Words can be mixed in.
"""
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
GUIDANCE_CHOICES = [
    ("Sound only", "sound"),
    ("Text only", "text"),
    ("Sound for the layout, words for the details (style mixing)", "mix"),
    ("Sound and words blended", "blend"),
]
SOURCE_CHOICES = [
    ("Random seed", "seed"),
    ("Seed, any scene", "drawn"),
    ("Latent file", "latent"),
    ("Photo (projected)", "photo"),
]
# Run brings the picture it changes into view when it is not (a phone, where the watch column
# comes after the inputs; a short window): the status line goes to the top, the pictures follow.
# Runs in the browser before start_run.
SHOW_WATCH = """() => {
    const live = document.querySelector('#live');
    const box = live && live.getBoundingClientRect();
    if (box && (box.top < 0 || box.bottom > window.innerHeight)) {
        document.querySelector('#status').scrollIntoView({block: 'start', behavior: 'smooth'});
    }
    return [];
}"""
ENGINE_QUEUE = "engine"  # one queue for everything that runs the generator heavily
# Gradio's upload/output cache: every CACHE_SWEEP[0] s, files older than CACHE_SWEEP[1] s go
# (a closed page's files go at once through demo.unload). SOUNDEDIT_CACHE_SWEEP="60,120".
CACHE_SWEEP = (600, 1800)


def cache_sweep() -> tuple[int, int]:
    """(how often, how old) for ``gr.Blocks(delete_cache=...)``; env SOUNDEDIT_CACHE_SWEEP."""
    text = os.environ.get("SOUNDEDIT_CACHE_SWEEP", "")
    try:
        every, age = (int(x) for x in text.split(","))
    except ValueError:
        return CACHE_SWEEP
    return (every, age) if every > 0 and age > 0 else CACHE_SWEEP


def default_concurrency() -> int:
    """Edits that may run at once: 1 per device unless SOUNDEDIT_CONCURRENCY says otherwise."""
    return max(1, int(os.environ.get("SOUNDEDIT_CONCURRENCY", "1")))


def gpu(fn, *, duration: int = 120):
    """Wrap GPU work for Hugging Face ZeroGPU when the ``spaces`` package is present."""
    try:
        import spaces
    except ImportError:
        return fn
    return spaces.GPU(duration=duration)(fn)


def build_demo(
    catalog: WorldCatalog | None = None,
    *,
    handlers: Handlers | None = None,
    delete_cache: tuple[int, int] | None = None,
) -> gr.Blocks:
    """The Blocks of the app. ``catalog`` lets tests and plug-ins offer their own worlds.

    ``delete_cache`` is (every, age) in seconds for Gradio's cache (default :func:`cache_sweep`).
    """
    handlers = handlers or Handlers(catalog or WorldCatalog())
    catalog = handlers.catalog
    worlds = {w.name: w for w in catalog.worlds()}
    default = catalog.default if catalog.default in worlds else next(iter(worlds), None)
    ui = _Components()

    sweep = delete_cache or cache_sweep()
    with gr.Blocks(title=TITLE, delete_cache=sweep) as demo:
        gr.Markdown(INTRO, elem_id="intro")
        # Run and the picture it changes sit together: beside the inputs on a wide screen (the
        # column stays in view while the inputs scroll), after them on a narrow one (Run then
        # scrolls the page to it).
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                with gr.Row(equal_height=False):
                    with gr.Column(min_width=280):
                        _sound_panel(ui)
                    with gr.Column(min_width=280):
                        _world_panel(ui, catalog, worlds, default)
                        _guidance_panel(ui)
            with gr.Column(scale=2, min_width=300, elem_id="watch-col"):
                _watch_panel(ui)
        _results_panel(ui)
        _api_components(ui, default)
        _wire(demo, ui, handlers, cache_age=sweep[1])
    start_cache_sweeper(demo, every=sweep[0], age=sweep[1])  # Gradio's own may stop (see there)
    guard_api_inputs(demo)  # /edit checks its raw inputs before Gradio's preprocessing
    handlers.job_files.watch(ui[name] for name in (*RUN_OUTPUTS, *API_FILE_OUTPUTS))
    return demo


def _sound_panel(ui: dict) -> None:
    gr.Markdown("### 1 · Sound")
    ui["sound"] = gr.Audio(
        sources=["upload", "microphone"],
        type="filepath",
        label="Sound (record or upload)",
        elem_id="sound",
    )
    ui["gain_db"] = gr.Slider(*GAIN_DB_RANGE, value=0, step=1, label="Volume (dB)", elem_id="gain")
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


def _world_panel(ui: dict, catalog: WorldCatalog, worlds: dict, default: str | None) -> None:
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
    ui["truncation"] = gr.Slider(
        0, 1, value=0.7, step=0.05, label="Variety (truncation: lower gives tamer pictures)"
    )
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
    ui["source_image"] = _canvas("Starting image", 256, elem_id="source-image")


def _guidance_panel(ui: dict) -> None:
    gr.Markdown("### 3 · Guidance")
    ui["mode"] = gr.Radio(GUIDANCE_CHOICES, value="sound", label="Guide the edit by")
    ui["text"] = gr.Textbox(
        label="Text", placeholder="e.g. heavy rain at night", visible=False, elem_id="text"
    )
    ui["mix_layer"] = gr.Slider(
        0,
        18,
        value=9,
        step=1,
        visible=False,
        label="Hand-over layer: the sound shapes the layers below it, the words the rest",
    )
    ui["blend"] = gr.Slider(
        0, 1, value=0.5, step=0.05, label="Blend (1 = only sound, 0 = only text)", visible=False
    )
    with gr.Accordion("Optimisation settings (defaults suit the world)", open=False):
        ui["steps"] = gr.Slider(1, MAX_STEPS, value=100, step=1, label="Steps", elem_id="steps")
        ui["lr"] = gr.Number(value=0.1, label="Learning rate (0 … 10]")
        ui["lambda_reg"] = gr.Number(value=0.008, label="λ_reg (stay near the start)")
        ui["adaptive_mask"] = gr.Checkbox(value=True, label="Adaptive layer masking")
        ui["lambda_id"] = gr.Number(value=0.0, label="λ_ID (keep identity; faces)")
        ui["preview_every"] = gr.Slider(
            1, 50, value=10, step=1, label="Preview every N steps", elem_id="preview-every"
        )
        ui["guidance"] = gr.Radio(
            [("Cosine (CVPR 2022)", "cosine"), ("Hinge (Robust, 2023)", "hinge")],
            value="cosine",
            label="Guidance loss",
        )


def _watch_panel(ui: dict) -> None:
    gr.Markdown("### 4 · Run and watch")
    with gr.Row():
        ui["run"] = gr.Button("▶ Run", variant="primary", elem_id="run", min_width=100)
        ui["stop"] = gr.Button("■ Stop", variant="stop", elem_id="stop", min_width=100)
    ui["status"] = gr.Markdown("Press **Run** to start.", elem_id="status")
    ui["bar"] = gr.HTML("", elem_id="bar")
    with gr.Row(equal_height=True):  # the source and the edit side by side, at the same size
        ui["watch_source"] = _canvas("Start", WATCH_HEIGHT, elem_id="watch-source")
        ui["live"] = _canvas("Edit", WATCH_HEIGHT, elem_id="live")
    with gr.Accordion("Details", open=False, elem_id="details-fold"):
        ui["details"] = gr.Markdown(
            "The numbers behind the edit appear here while it runs.", elem_id="details"
        )


def _results_panel(ui: dict) -> None:
    with gr.Column(visible=False, elem_id="results") as results:  # shown once there is a result
        _results_content(ui)
    ui["results"] = results
    with gr.Accordion("How it works · reproduce · use from Python", open=False):
        gr.Markdown(HOWTO)
    ui["state"] = gr.State(None)


def _results_content(ui: dict) -> None:
    gr.Markdown("### 5 · Results")
    with gr.Row():
        for key, label in (
            ("out_source", "Start"),
            ("out_sound", "Sound-guided"),
            ("out_text", "Text-guided"),
            ("out_mixed", "Mixed"),
        ):  # only the ones a run made are shown
            ui[key] = _canvas(label, 200, visible=False, elem_id=f"result-{key[4:]}")
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
            ui["interp_image"] = _canvas("Interpolated", 256)
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


def _api_components(ui: dict, default_world: str | None) -> None:
    """Hidden inputs/outputs of the /edit endpoint: each input has a name and a default."""
    ui["api_world"] = gr.Textbox(value=default_world or "", visible=False, label="world")
    ui["api_seed"] = gr.Number(value=0, precision=0, visible=False, label="seed")
    ui["api_steps"] = gr.Number(value=0, precision=0, visible=False, label="steps")
    ui["api_text"] = gr.Textbox(value="", visible=False, label="text")
    ui["api_mode"] = gr.Textbox(value="sound", visible=False, label="mode")
    ui["api_image"] = gr.Image(visible=False, format="png", label="image")
    ui["api_report"] = gr.JSON(visible=False, label="report")
    ui["api_button"] = gr.Button(visible=False)


def by_name(fn, ui: dict, names: tuple[str, ...]):
    """``fn(form, request)`` as a Gradio handler of the set of components ``names``: Gradio
    hands their values over as a dict by component, ``fn`` gets it by name."""
    names_of = {ui[name]: name for name in names}

    @functools.wraps(fn)
    def handler(values: dict, request: gr.Request):
        yield from fn({names_of[c]: v for c, v in values.items()}, request=request)

    return handler, set(names_of)


def _wire(demo: gr.Blocks, ui: dict, h: Handlers, *, cache_age: int) -> None:
    _wire_sound(ui, h)
    _wire_world(demo, ui, h)
    _wire_run(ui, h)
    _wire_results(ui, h)
    _wire_api(ui, h)

    def end_session(request: gr.Request):
        """A page closed: its own folders go, and with them Gradio's files past their age."""
        h.end_session(request)
        sweep_gradio_cache(demo, age=cache_age)

    demo.unload(end_session)


def _wire_sound(ui: dict, h: Handlers) -> None:
    """The sound panel: what the model hears, and whether the world knows it."""
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


def _wire_world(demo: gr.Blocks, ui: dict, h: Handlers) -> None:
    """The world panel: the world's settings, the starting image, the source widgets."""
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
    ui["new_seed"].click(new_seed_fn, None, ui["seed"], api_visibility="private")
    source_events = (ui["seed"].change, ui["truncation"].release, ui["latent_file"].change)
    for event in (*source_events, ui["photo"].change):
        event(**show_source)
    ui["source"].change(
        _source_visibility,
        ui["source"],
        [ui["seed"], ui["new_seed"], ui["truncation"], ui["latent_file"], ui["photo"]],
        api_visibility="private",
    ).then(**show_source)
    ui["mode"].change(
        _mode_visibility,
        ui["mode"],
        [ui["text"], ui["mix_layer"], ui["blend"]],
        api_visibility="private",
    )


def _wire_run(ui: dict, h: Handlers) -> None:
    """Run and Stop.

    Run is greyed out while its edit runs (or waits in the queue), so one click = one edit.
    after_run makes it usable again however the run ended: Gradio 6's page runs a `.then` only
    after a success (not after an error, whatever its docs say), so it is wired to `.failure`
    as well; if both ever fire, the second call changes nothing.
    """
    run, run_inputs = by_name(h.run, ui, RUN_INPUTS)
    running = (
        ui["run"]
        .click(h.start_run, None, ui["run"], api_visibility="private", queue=False, js=SHOW_WATCH)
        .then(
            gpu(run),
            run_inputs,
            [ui[n] for n in RUN_OUTPUTS],
            api_visibility="private",
            concurrency_limit=default_concurrency(),
            concurrency_id=ENGINE_QUEUE,
            show_progress="minimal",
        )
    )
    after = {
        "fn": h.after_run,
        "inputs": ui["status"],
        "outputs": [ui["run"], ui["status"]],
        "api_visibility": "private",
        "queue": False,
    }
    running.then(**after)
    running.failure(**after)
    ui["stop"].click(h.stop, None, ui["status"], api_name="stop", concurrency_limit=None)


def _wire_results(ui: dict, h: Handlers) -> None:
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


def _wire_api(ui: dict, h: Handlers) -> None:
    """The /edit endpoint: only the sound is needed, every other input has a default."""
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


API_FILE_OUTPUTS = ("api_image",)  # the /edit outputs that Gradio writes as files
WATCH_HEIGHT = 240  # px: the watched pair, beside Run (a 512 px picture shrinks, never blurs)


def _canvas(label: str, height: int, **kwargs) -> gr.Image:
    """An output picture (PNG, not editable) of the page."""
    return gr.Image(
        label=label, interactive=False, format="png", height=height, elem_classes="canvas", **kwargs
    )


class _Components(dict):
    """name -> component; refuses to reuse a name (two widgets must never share one)."""

    def __setitem__(self, key, value):
        if key in self:
            raise KeyError(f"component name {key!r} used twice")
        super().__setitem__(key, value)


def _example_picker(sounds):
    def pick(evt: gr.SelectData) -> str:
        return str(sounds[evt.index])

    return pick


def _source_visibility(source: str):
    seed = source in ("seed", "drawn")
    return (
        gr.update(visible=seed),
        gr.update(visible=seed),
        gr.update(visible=seed),
        gr.update(visible=source == "latent"),
        gr.update(visible=source == "photo"),
    )


def _mode_visibility(mode: str):
    return (
        gr.update(visible=mode != "sound"),
        gr.update(visible=mode == "mix"),
        gr.update(visible=mode == "blend"),
    )
