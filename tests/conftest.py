"""Suite-wide fixtures and marker handling.

Area fixtures (tiny seeded models, sound corpora) live in ``tests/<area>/conftest.py``.
"""

from __future__ import annotations

import shutil

import pytest
import torch


def pytest_collection_modifyitems(config, items):
    skip_gpu = pytest.mark.skip(reason="needs CUDA")
    skip_browser = pytest.mark.skip(reason="needs Debian's chromium (installed by .ci/run)")
    has_cuda = torch.cuda.is_available()
    has_chromium = shutil.which("chromium") is not None
    for item in items:
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(skip_gpu)
        if "browser" in item.keywords and not has_chromium:
            item.add_marker(skip_browser)


@pytest.fixture
def torch_generator() -> torch.Generator:
    """A seeded CPU random generator: every test result is reproducible."""
    return torch.Generator().manual_seed(1234)
