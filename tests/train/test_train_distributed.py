"""Two gloo processes on one global batch give the single-process loss and gradients."""

from __future__ import annotations

import socket

import pytest
import torch
import torch.multiprocessing as mp

from tests.train import ddp_worker

pytestmark = pytest.mark.slow  # two processes train


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed missing")
def test_two_gloo_ranks_match_one_process(tmp_path):
    tower = ddp_worker.build_tower()
    features, augmented, batch = ddp_worker.global_inputs()
    loss, grads = ddp_worker.loss_and_grads(tower, tower, features, augmented, batch)

    mp.spawn(ddp_worker.run, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    for rank in range(2):
        got = torch.load(tmp_path / f"rank{rank}.pt")
        assert got["loss"] == pytest.approx(loss, abs=1e-5)
        assert set(got["grads"]) == set(grads)
        for name, grad in grads.items():
            torch.testing.assert_close(got["grads"][name], grad, atol=1e-5, rtol=0, msg=name)
