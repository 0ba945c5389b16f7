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
