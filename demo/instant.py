"""The instant preview: the world's mapper edit of what the page holds now, made again on every
move of a slider (volume, mix, blend) and every word typed.

:func:`instant_preview` is the one call: a loaded bundle and an EditRequest in, the picture as
the page shows it (or one plain sentence saying why there is none) out. It runs
:func:`soundedit.instant_edit` (one forward pass of the mapper, no optimisation), the same
edit that a Run starts from, so Run refines what the preview shows. :func:`preview_request`
turns the page's form into that request, or into nothing while the visitor has not given what
the mode needs yet (no sound, no words): a preview that is not asked for says nothing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from demo.errors import plain_message
from demo.form import build_request, only_changes, world_settings
from demo.results import main_image_key, on_screen
from demo.words import INSTANT_NEEDS_SEED, sentence
from soundedit.edit.pipeline import instant_edit
from soundedit.edit.report import EditReport
from soundedit.settings import EditRequest

INSTANT_QUEUE = "instant"  # the page's queue of instant previews, beside the engine's (Run)
INSTANT_CONCURRENCY = 2  # previews made at once, whoever asked (each page: one, and one waiting)


@dataclasses.dataclass(frozen=True)
class InstantPreview:
    """What the page shows for one instant edit."""

    image: np.ndarray | None  # uint8 [H, W, 3], enlarged for the page (results.on_screen)
    note: str = ""  # why there is no picture, in one plain sentence ("" with a picture)
    # the instant edit's report: its notices (a sound made silent by the gain, one the world
    # does not know), its recognition, what the world measured (probe_edited)
    report: EditReport | None = None


def has_mapper(bundle) -> bool:
    """Whether the world has an instant edit (a mapper)."""
    return getattr(bundle, "mapper", None) is not None


def preview_request(form: dict[str, Any]) -> EditRequest | None:
    """The request of the page's form (field name -> value, as Run reads it), or None while the
    mode's first input is missing: a sound in the sound modes, words in the text mode.

    Raises:
        ValueError: in the page's words, as Run would (a blend with no words, a bad seed …).
    """
    mode = form.get("mode") or "sound"
    if mode != "text" and form.get("sound") is None:
        return None
    if mode == "text" and not (form.get("text") or "").strip():
        return None
    return build_request(form)


def instant_preview(bundle, request: EditRequest | None) -> InstantPreview:
    """The instant edit of ``request`` in ``bundle`` as the page shows it.

    Never raises for a visitor's input: an edit the mapper cannot make (a photo to project, a
    latent file in a world whose mapper moves z) or a refused input gives no picture and the
    sentence that says why. A world without a mapper, or no request, gives neither. What the
    edit noticed about the sound is in the report's notices (the page says it elsewhere).

    Args:
        bundle: a loaded world (``WorldCatalog.get``); its ``mapper`` makes the edit.
        request: what to edit, as for :func:`soundedit.instant_edit` (an ``audio`` may be a
            path or Gradio's ``(rate, int16 array)``); None: nothing to show yet.
    """
    if request is None or not has_mapper(bundle):
        return InstantPreview(None)
    if not _mapper_can_start_from(bundle, request):
        return InstantPreview(None, INSTANT_NEEDS_SEED)
    request = only_changes(request, world_settings(bundle))
    try:
        result = instant_edit(bundle, request)
    except Exception as e:  # the library's expected errors are shown, a bug goes on up
        message = plain_message(e)
        if message is None:
            raise
        return InstantPreview(None, sentence(message))
    images = result.images
    return InstantPreview(on_screen(images[main_image_key(images)]), "", result.report)


def _mapper_can_start_from(bundle, request: EditRequest) -> bool:
    """A photo needs its projection first (a Run's work); a z mapper needs a seed."""
    if request.source_image is not None:
        return False
    return request.source_latent is None or bundle.mapper.config.space != "z"
