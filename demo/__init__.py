"""The Gradio app of soundedit: layout and plain handler functions. Only app.py imports this."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from demo.layout import build_demo, default_concurrency
from demo.worlds import WorldCatalog

__all__ = ["WorldCatalog", "build_demo", "default_concurrency", "launch_options", "queue_options"]

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
CSS_PATH = ASSETS_DIR / "app.css"
MAX_FILE_SIZE = "20mb"  # uploads (sounds, photos, latents); sounds are also cut to 30 s
MAX_QUEUE = 16  # waiting edits beyond this are refused with "queue full"


def queue_options() -> dict:
    """Arguments of ``demo.queue``: a bounded backlog."""
    return {"max_size": MAX_QUEUE, "default_concurrency_limit": default_concurrency()}


def launch_options() -> dict:
    """Arguments of ``demo.launch`` besides host and port (Gradio 6 takes theme/css here)."""
    return {
        "theme": gr.themes.Soft(primary_hue="indigo", secondary_hue="amber"),
        "css_paths": [CSS_PATH] if CSS_PATH.is_file() else None,
        "max_file_size": MAX_FILE_SIZE,
        "allowed_paths": [str(ASSETS_DIR)],  # example sounds, wherever the app is started from
        "show_error": True,
    }
