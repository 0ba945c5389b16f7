"""Every failure reaches the visitor as one plain sentence (gr.Error), never as a stack trace.

The library raises ValueError / FileNotFoundError subclasses whose messages already say what was
wrong and what is accepted; those are shown verbatim. Anything else is a bug: it is logged with
its traceback on the server and the visitor gets a short, honest message.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable

import gradio as gr

log = logging.getLogger("soundedit.app")


def to_user_error(error: BaseException) -> gr.Error:
    """The gr.Error to show for ``error``."""
    if isinstance(error, gr.Error):
        return error
    if isinstance(error, (ValueError, FileNotFoundError, PermissionError)):
        return gr.Error(str(error) or type(error).__name__)
    if isinstance(error, MemoryError):
        return gr.Error("Out of memory: try fewer steps or a smaller world.")
    log.error("unexpected error in a handler", exc_info=error)
    return gr.Error(
        f"Internal error ({type(error).__name__}: {error}). The server log has the details."
    )


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
                raise to_user_error(e) from e

        return generator_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as e:
            raise to_user_error(e) from e

    return wrapper
