"""The world picker: states, plain descriptions, models loaded once per process."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from demo.worlds import WorldCatalog, describe


def _infos():
    return [
        SimpleNamespace(
            name="soundscapes",
            title="SoundScapes",
            domain="soundscapes",
            status="missing",
            message="weights are not in weights/soundscapes yet",
        ),
        SimpleNamespace(name="toy", title="Toy", domain="toy", status="ready", message=""),
    ]


def test_states_and_labels():
    catalog = WorldCatalog(_infos, lambda name, device: object(), default="soundscapes")
    choices = dict((value, label) for label, value in catalog.choices())
    assert choices["toy"] == "Toy"
    assert "weights missing" in choices["soundscapes"]
    text = describe(catalog.world("soundscapes"))
    assert "weights missing" in text and "weights/soundscapes" in text


def test_unknown_world_lists_the_known_ones():
    catalog = WorldCatalog(_infos, lambda name, device: object(), default="toy")
    with pytest.raises(ValueError, match="soundscapes, toy"):
        catalog.world("mars")


def test_each_world_loads_once_even_under_concurrency():
    calls = []

    def load(name, device):
        calls.append(name)
        time.sleep(0.05)
        return object()

    catalog = WorldCatalog(_infos, load, default="toy")
    got = []
    threads = [threading.Thread(target=lambda: got.append(catalog.get("toy"))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["toy"] and len({id(b) for b in got}) == 1
    assert catalog.is_loaded("toy")


def test_library_catalog_lists_soundscapes_first():
    catalog = WorldCatalog()
    assert catalog.default == "soundscapes"
    assert catalog.worlds()[0].name == "soundscapes"
