"""The Blocks: public endpoints, launch options, ZeroGPU wrapping."""

from __future__ import annotations

import sys
from types import SimpleNamespace

from demo import WorldCatalog, build_demo, launch_options, queue_options
from demo.layout import gpu


def test_only_edit_and_stop_are_public_endpoints(tiny):
    demo = build_demo(WorldCatalog(default=tiny))
    public = {
        fn.api_name for fn in demo.fns.values() if getattr(fn, "api_visibility", "") == "public"
    }
    assert public == {"edit", "stop"}


def test_serving_limits():
    assert queue_options()["max_size"] > 0
    options = launch_options()
    assert options["max_file_size"] and options["css_paths"] and options["theme"] is not None


def test_gpu_work_is_wrapped_only_when_spaces_is_present(monkeypatch):
    def work():
        return 1

    monkeypatch.setitem(sys.modules, "spaces", None)  # import fails
    assert gpu(work) is work
    calls = []
    fake = SimpleNamespace(GPU=lambda duration: lambda fn: calls.append(duration) or fn)
    monkeypatch.setitem(sys.modules, "spaces", fake)
    assert gpu(work, duration=60) is work and calls == [60]
