"""The tiny world of the app tests, registered for the corpus as "tiny-hostile".

The builder is the one in tests/demo/conftest.py (loaded by path: the test folders are not
packages), so the corpus edits exactly the world the app tests serve.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from soundedit.bundle import clear_cache, register_bundle

WORLD = "tiny-hostile"


def _demo_conftest():
    path = Path(__file__).resolve().parents[1] / "demo" / "conftest.py"
    spec = importlib.util.spec_from_file_location("soundedit_tests_demo_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


demo_helpers = _demo_conftest()


@pytest.fixture(scope="session")
def hostile_bundle():
    """The tiny bundle, registered as WORLD for the library, the CLI and the app."""
    bundle = demo_helpers.make_tiny_bundle(WORLD)
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
    port = demo_helpers.free_port()
    demo.launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
        **launch_options(),
    )
    yield f"http://127.0.0.1:{port}/", demo, handlers
    demo.close()
