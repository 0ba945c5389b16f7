"""``python app.py --bench``: how long a visitor waits for the result, next to the edit itself.

One process, one world, the same sound and settings (the world's defaults, as the page sets
them when the world is picked). For each repeat it times:

- ``edit_s``: the library's edit alone (``run_to_end``), what ``soundscapes eval`` reports;
- ``page_final_s``: the page's Run handler from the click to the view that carries the final
  picture, each picture of every view turned into the PNG file Gradio sends (the component's
  own ``postprocess``);
- ``page_done_s``: to the last view (downloads written: PNGs, latents, animation, settings).

The browser's own work (receiving and decoding a few PNGs) is not in these figures.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import numpy as np

from demo.form import world_settings
from demo.handlers import RUN_INPUTS, RUN_OUTPUTS, WORLD_OUTPUTS, Handlers
from demo.session import Sessions
from demo.worlds import WorldCatalog
from soundedit.edit.pipeline import run_to_end
from soundedit.settings import EditRequest

SOUND = Path(__file__).resolve().parent.parent / "assets" / "sounds" / "rain.wav"
PICTURES = ("watch_source", "live", "out_source", "out_sound", "out_text", "out_mixed")


def page_form(handlers: Handlers, world: str, sound: Path, seed: int) -> dict:
    """The Run form as a visitor leaves it: the world's settings, a sound, guidance by sound."""
    handlers.bundle(world)  # loaded first, so that picking the world reports no progress
    picked = dict(zip(WORLD_OUTPUTS, handlers.select_world(world), strict=True))
    form = {name: picked[name] for name in WORLD_OUTPUTS if name in RUN_INPUTS}
    form.update(
        sound=str(sound), sound2=None, mix=0.5, gain_db=0.0, world=world, source="seed",
        seed=seed, latent_file=None, photo=None, mode="sound", text=None, blend=0.5,
        mix_layer=picked["mix_layer"]["value"],
    )  # fmt: skip
    return form


def time_page(
    world: str | None = None,
    *,
    sound: Path = SOUND,
    repeats: int = 3,
    device: str = "cpu",
    catalog: WorldCatalog | None = None,
) -> Iterator[dict]:
    """One JSON-ready row per repeat (after a warm-up edit), then the medians and their ratio."""
    catalog = catalog or WorldCatalog(device=device)
    world = world or catalog.default
    with tempfile.TemporaryDirectory() as folder:
        handlers = Handlers(catalog, Sessions(Path(folder) / "sessions"))
        bundle = handlers.bundle(world)
        png = gr.Image(format="png")
        run_to_end(bundle, EditRequest(audio=str(sound), seed=0))  # warm-up
        rows = []
        for i in range(repeats):
            start = time.perf_counter()
            run_to_end(bundle, EditRequest(audio=str(sound), seed=i + 1))
            edit = time.perf_counter() - start
            final, done = _time_run(handlers, page_form(handlers, world, sound, i + 1), png, i)
            rows.append({"world": world, "repeat": i, "edit_s": edit, "page_final_s": final,
                         "page_done_s": done})  # fmt: skip
            yield {k: round(v, 3) if isinstance(v, float) else v for k, v in rows[-1].items()}
        medians = {k: statistics.median(r[k] for r in rows) for k in rows[0] if k.endswith("_s")}
        yield {
            "world": world,
            "steps": world_settings(bundle)["steps"],  # what a run left to the world uses
            "repeats": repeats,
            **{f"median_{k}": round(v, 3) for k, v in medians.items()},
            "page_final_over_edit": round(medians["page_final_s"] / medians["edit_s"], 3),
        }


def _time_run(handlers: Handlers, form: dict, png: gr.Image, i: int) -> tuple[float, float]:
    """Seconds from the click to the final picture, and to the last view of the run."""
    final = None
    start = time.perf_counter()
    for values in handlers.run(form, request=SimpleNamespace(session_hash=f"bench-{i}")):
        view = dict(zip(RUN_OUTPUTS, values, strict=True))
        for name in PICTURES:
            if _picture(view[name]) is not None:
                png.postprocess(_picture(view[name]))  # the PNG file Gradio would send
        if final is None and _picture(view["out_source"]) is not None:
            final = time.perf_counter() - start
    return final, time.perf_counter() - start


def _picture(value) -> np.ndarray | None:
    """The picture of a Run output: the array itself, or the value of an update (the result
    row's pictures come with their visibility)."""
    value = value.get("value") if isinstance(value, dict) else value
    return value if isinstance(value, np.ndarray) else None
