"""Panel 4, run and watch: Run, Stop, the status line, the progress bar and the picture as it
changes."""

from __future__ import annotations

import functools

import gradio as gr

from demo.handlers import RUN_INPUTS, RUN_OUTPUTS
from demo.page.common import ENGINE_QUEUE, WATCH_HEIGHT, canvas, default_concurrency, gpu

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


def panel(ui: dict) -> None:
    gr.Markdown("### 4 · Run and watch")
    with gr.Row():
        ui["run"] = gr.Button("▶ Run", variant="primary", elem_id="run", min_width=100)
        ui["stop"] = gr.Button("■ Stop", variant="stop", elem_id="stop", min_width=100)
    ui["status"] = gr.Markdown("Press **Run** to start.", elem_id="status")
    ui["bar"] = gr.HTML("", elem_id="bar")
    with gr.Row(equal_height=True):  # the source and the edit side by side, at the same size
        ui["watch_source"] = canvas("Start", WATCH_HEIGHT, elem_id="watch-source")
        ui["live"] = canvas("Edit", WATCH_HEIGHT, elem_id="live")
    with gr.Accordion("Details", open=False, elem_id="details-fold"):
        ui["details"] = gr.Markdown(
            "The numbers behind the edit appear here while it runs.", elem_id="details"
        )


def by_name(fn, ui: dict, names: tuple[str, ...]):
    """``fn(form, request)`` as a Gradio handler of the set of components ``names``: Gradio
    hands their values over as a dict by component, ``fn`` gets it by name."""
    names_of = {ui[name]: name for name in names}

    @functools.wraps(fn)
    def handler(values: dict, request: gr.Request):
        yield from fn({names_of[c]: v for c, v in values.items()}, request=request)

    return handler, set(names_of)


def wire(ui: dict, h) -> None:
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
