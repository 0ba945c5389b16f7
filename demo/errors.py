"""Every failure reaches the visitor as one plain sentence (gr.Error), never as a stack trace.

The library raises ValueError / FileNotFoundError subclasses whose messages already say what was
wrong and what is accepted; :func:`soundedit.errors.user_message` picks those out (the CLI uses
the same function). They are shown with server paths cut to file names (an upload lives deep in
Gradio's cache) and logged as one line. Anything else is a bug: it is logged with its traceback
on the server and the visitor gets a short, honest message.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path

import gradio as gr

from soundedit.errors import user_message

log = logging.getLogger("soundedit.app")

# An absolute path (POSIX, or Windows with a drive letter): folders, then the file name.
# (Not inside a URL: no letter, dot, slash or colon just before it.)
_SEGMENT = r"[^\s'\"/\\:;,()]+"
_PATH = re.compile(rf"(?<![\w.~/:])(?:[A-Za-z]:)?[/\\](?:{_SEGMENT}[/\\])+({_SEGMENT})")
REPO_ROOT = Path(__file__).resolve().parent.parent


def hide_paths(text: str) -> str:
    """``text`` with paths inside the repository made relative ("weights/soundscapes") and every
    other absolute path (Gradio's upload cache, a home folder) cut to its file name."""
    for root in {str(REPO_ROOT), os.path.realpath(REPO_ROOT)}:
        text = text.replace(root + os.sep, "").replace(root, ".")
    return _PATH.sub(lambda m: m.group(1), text)


def plain_message(error: BaseException) -> str | None:
    """What a visitor may read about an expected error (paths hidden), or None for a bug."""
    if isinstance(error, gr.Error):
        return str(error.message)
    message = user_message(error)
    return None if message is None else hide_paths(message)


def to_user_error(error: BaseException) -> gr.Error:
    """The gr.Error to show for ``error`` (logs one line, or the traceback of a bug)."""
    if isinstance(error, gr.Error):
        return error
    message = plain_message(error)
    if message is None:
        log.error("unexpected error in a handler", exc_info=error)
        message = hide_paths(
            f"Internal error ({type(error).__name__}: {error}). The server log has the details."
        )
    else:
        log.warning("refused: %s", message)
    return gr.Error(message, print_exception=False)


def plain_errors(fn: Callable) -> Callable:
    """Decorate a handler (function or generator) so that it raises only gr.Error."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def generator_wrapper(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except gr.Error:
                raise
            except Exception as e:
                raise to_user_error(e) from None

        return generator_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as e:
            raise to_user_error(e) from None

    return wrapper
