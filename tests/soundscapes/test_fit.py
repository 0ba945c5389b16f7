"""The SoundScapes trainers' shared fit loop: schedule, continuation, progress and snapshots."""

import itertools

import pytest
import torch

from soundedit.soundscapes.training.fit import Progress, Snapshots, cosine_lr, fit


def run(start=0, stop=None, every=0):
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.SGD([w], lr=0.0)
    lrs, lines, saved = [], [], []

    def loss_fn(x):
        lrs.append(opt.param_groups[0]["lr"])
        return ((w - x) ** 2).sum()

    batches = (torch.full((3,), float(i)) for i in itertools.count(start))
    fit(
        opt, loss_fn, batches, steps=6, schedule=lambda step: 0.1 * (step + 1),
        progress=Progress("toy", lines.append, every=4), start=start, stop=stop,
        snapshots=Snapshots(every, saved.append),
    )  # fmt: skip
    return w.detach(), lrs, [line.split()[2] for line in lines], saved


def test_each_step_runs_at_its_scheduled_rate_and_reports_first_every_and_last():
    _, lrs, shown, saved = run()
    assert lrs == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    assert shown == ["0/6", "4/6", "5/6"] and saved == []


def test_snapshots_fall_before_the_end_and_a_stop_ends_early():
    _, lrs, shown, saved = run(stop=5, every=2)
    assert len(lrs) == 5 and shown == ["0/6", "4/6"] and saved == [2, 4]
    assert run(every=3)[3] == [3]  # none after the last step


def test_a_continued_run_takes_up_the_schedule_where_it_stopped():
    _, lrs, _, _ = run(start=4)
    assert lrs == pytest.approx([0.5, 0.6])


def test_the_schedule_warms_up_then_decays_to_five_percent():
    lrs = [cosine_lr(step, 1000, 1.0) for step in range(1000)]
    assert lrs[0] == pytest.approx(0.01) and lrs[99] == pytest.approx(1.0)
    assert all(a >= b for a, b in itertools.pairwise(lrs[99:]))
    assert lrs[-1] == pytest.approx(0.05, abs=1e-4)
