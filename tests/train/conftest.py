"""Fixtures for soundedit.train (helpers live in tests/train/helpers.py)."""

from __future__ import annotations

import pytest
import torch

from tests.train.helpers import FixedClip, TinyEncoder


@pytest.fixture
def fixed_clip() -> FixedClip:
    return FixedClip()


@pytest.fixture
def tiny_encoder() -> TinyEncoder:
    torch.manual_seed(0)
    return TinyEncoder()
