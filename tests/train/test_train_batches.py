"""The batches: which items can stand in as weakly paired images."""

from __future__ import annotations

import torch

from soundedit.train import TrainItem
from soundedit.train.batches import weak_candidates


def test_weak_candidates_come_from_other_groups():
    image = torch.zeros(3, 8, 8)
    data = [
        TrainItem(None, label="a", group="v1", image=image),
        TrainItem(None, label="a", group="v1", image=image),
        TrainItem(None, label="a", group="v2", image=image),
        TrainItem(None, label="b", group="v3", image=image),
    ]
    found = [w.tolist() for w in weak_candidates(data)]
    assert found == [[2], [2], [0, 1], []]


def test_weak_candidates_are_items_with_an_image():
    image = torch.zeros(3, 8, 8)
    data = [
        TrainItem(None, label="a", group="real-1"),  # a real clip: no image of its own
        TrainItem(None, label="a", group="scene-1", image=image),
        TrainItem(None, label="a", group="real-2"),
    ]
    assert [w.tolist() for w in weak_candidates(data)] == [[1], [], [1]]
