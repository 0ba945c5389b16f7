"""The page: its panels (:mod:`demo.page`) put together, and their events wired to
:mod:`demo.handlers`."""

from __future__ import annotations

import os

import gradio as gr

from demo.api import guard_api_inputs
from demo.handlers import RUN_OUTPUTS, Handlers
from demo.page import api, guidance, microphone, results, sound, watch, world
from demo.page.common import Components, default_concurrency, gpu
from demo.session import start_cache_sweeper, sweep_gradio_cache
from demo.worlds import WorldCatalog

__all__ = ["build_demo", "cache_sweep", "default_concurrency", "gpu"]

TITLE = "soundedit — play a sound, watch the picture become it"
INTRO = """\
# soundedit: edit an image with a sound
Record or upload a sound (or click an example), pick a world, press **Run** and watch the picture
change step by step until it *looks like the sound*: rain makes the scene rainy, thunder brings
lightning, a crackle lights a fire. Louder sounds make stronger edits. Words can be mixed in.
"""
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
    ui = Components()

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
                        sound.panel(ui)
                    with gr.Column(min_width=280):
                        world.panel(ui, catalog, worlds, default)
                        guidance.panel(ui)
            with gr.Column(scale=2, min_width=300, elem_id="watch-col"):
                watch.panel(ui)
                microphone.panel(ui)
        results.panel(ui)
        api.panel(ui, default)
        _wire(demo, ui, handlers, cache_age=sweep[1])
    start_cache_sweeper(demo, every=sweep[0], age=sweep[1])  # Gradio's own may stop (see there)
    guard_api_inputs(demo)  # /edit checks its raw inputs before Gradio's preprocessing
    handlers.job_files.watch(ui[name] for name in (*RUN_OUTPUTS, *api.API_FILE_OUTPUTS))
    return demo


def _wire(demo: gr.Blocks, ui: dict, h: Handlers, *, cache_age: int) -> None:
    sound.wire(ui, h)
    world.wire(demo, ui, h)
    guidance.wire(ui)
    watch.wire(ui, h)
    microphone.wire(demo, ui, h)
    results.wire(ui, h)
    api.wire(ui, h)

    def end_session(request: gr.Request):
        """A page closed: its own folders go, and with them Gradio's files past their age."""
        h.end_session(request)
        sweep_gradio_cache(demo, age=cache_age)

    demo.unload(end_session)
