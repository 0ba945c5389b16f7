"""The tiny world of the app tests, registered for the corpus as "tiny-hostile".

The builder is the suite's one (tests/conftest.py), so the corpus edits exactly the world the
app tests serve.
"""

from __future__ import annotations

import socket

import pytest

from soundedit.bundle import clear_cache, register_bundle

WORLD = "tiny-hostile"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def hostile_bundle(make_bundle):
    """The tiny bundle, registered as WORLD for the library, the CLI and the app."""
    bundle = make_bundle(WORLD)
    register_bundle(WORLD, lambda device: bundle, title="Tiny hostile world", domain="test")
    yield bundle
    clear_cache(WORLD)


CACHE_SWEEP = (2, 6)  # seconds: Gradio's cache is swept often, so 50 jobs show it staying bounded


@pytest.fixture(scope="session")
def hostile_app(hostile_bundle, tmp_path_factory):
    """The app serving the tiny world on a free port: yields (url, demo, handlers)."""
    from demo import WorldCatalog, build_demo, launch_options, queue_options
    from demo.handlers import Handlers
    from demo.session import Sessions

    handlers = Handlers(WorldCatalog(default=WORLD), Sessions(tmp_path_factory.mktemp("sessions")))
    demo = build_demo(handlers=handlers, delete_cache=CACHE_SWEEP)
    demo.queue(**queue_options())
    port = free_port()
    demo.launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
        **launch_options(),
    )
    yield f"http://127.0.0.1:{port}/", demo, handlers
    demo.close()
