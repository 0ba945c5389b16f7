"""What several panels share: the output picture, the named components, the settings widgets,
the engine's queue."""

from __future__ import annotations

import dataclasses
import os

import gradio as gr

from demo.words import INSTANT_LABEL
from soundedit.settings import EditConfig, Setting, settings_of

ENGINE_QUEUE = "engine"  # one queue for everything that runs the generator heavily
WATCH_HEIGHT = 240  # px: the watched pair, beside Run (a 512 px picture shrinks, never blurs)
INSTANT_HEIGHT = 200  # px: an instant preview, beside the controls that move it


class Components(dict):
    """name -> component; refuses to reuse a name (two widgets must never share one)."""

    def __setitem__(self, key, value):
        if key in self:
            raise KeyError(f"component name {key!r} used twice")
        super().__setitem__(key, value)


def canvas(label: str, height: int, **kwargs) -> gr.Image:
    """An output picture (PNG, not editable) of the page."""
    return gr.Image(
        label=label, interactive=False, format="png", height=height, elem_classes="canvas", **kwargs
    )


def instant_canvas(ui: dict, key: str, elem_id: str) -> None:
    """An instant preview (``ui[key]``) and its caption line above it (``ui[key + "_note"]``),
    both hidden until there is something to show. The caption is a line of its own because a
    label or buttons on the picture would hide part of it."""
    ui[f"{key}_note"] = gr.Markdown("", visible=False, elem_id=f"{elem_id}-note")
    ui[key] = canvas(
        INSTANT_LABEL, INSTANT_HEIGHT, visible=False, elem_id=elem_id, show_label=False,
        buttons=[], alt_text=INSTANT_LABEL,
    )  # fmt: skip


def setting_widgets(ui: dict, panel: str, config_type: type | None = None) -> None:
    """The widgets of the settings that ``panel`` offers, in their declared order, each at its
    declared default (the world's own settings replace them once it is picked)."""
    fields = {f.name: f for f in dataclasses.fields(config_type or EditConfig)}
    for name, spec in settings_of(config_type).items():
        if spec.page is not None and spec.page.panel == panel:
            ui[name] = setting_widget(spec, fields[name].default)


def setting_widget(spec: Setting, default):
    """The widget of one setting: a radio for a choice, a checkbox for a yes/no, a slider for a
    number with a page range, else a number box."""
    page = spec.page
    extra = {"elem_id": page.elem_id} if page.elem_id else {}
    if not page.visible:
        extra["visible"] = False
    if spec.choices:
        options = [(page.choice_labels.get(c, c), c) for c in spec.choices]
        return gr.Radio(options, value=default, label=page.label, **extra)
    if spec.limit is None:
        return gr.Checkbox(value=default, label=page.label, **extra)
    if page.slider:
        low, high, step = page.slider
        value = (low + high) // 2 if default is None else default  # None: worked out per world
        return gr.Slider(low, high, value=value, step=step, label=page.label, **extra)
    return gr.Number(value=default, label=page.label, **extra)


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
